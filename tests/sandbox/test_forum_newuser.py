"""The sandbox forum's rules for new users and slow mode over HTTP, as Discourse has them
(`PostValidator`, `Post#has_host_spam?`, `PostCreator#valid?`, `Post#limit_posts_per_day`,
`User#new_user?`): what a bot account at trust level 0 meets on forum.gitlab.com."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from docsgap.doctor.forum import _bot_user
from docsgap.doctor.report import Status
from docsgap.errors import RateLimitedError, WriteRejectedError
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.discourse_checks import DiscourseChecks
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.sandbox.wire import iso, time_left
from tests.sandbox.clock import Clock

BOT = SANDBOX_DISCOURSE_API_USERNAME
TEXT = "Thanks for the report! We track this in a documentation issue now."


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[Sandbox, Clock]]:
    clock = Clock()
    with Sandbox(now=clock) as sandbox:
        yield sandbox, clock


@pytest.fixture
def forum(clocked: tuple[Sandbox, Clock]) -> Sandbox:
    sandbox, _ = clocked
    sandbox.reset()
    return sandbox


@pytest.fixture
def clock(clocked: tuple[Sandbox, Clock]) -> Clock:
    return clocked[1]


def post(sandbox: Sandbox, raw: str = TEXT, *, user: str = BOT, topic_id: int | None = 1001,
         **form: Any) -> requests.Response:
    data: dict[str, Any] = {"raw": raw, **form}
    if topic_id is not None:
        data["topic_id"] = topic_id
    return requests.post(f"{sandbox.forum_url}/posts.json", timeout=5, data=data,
                         headers={"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": user})


def level(sandbox: Sandbox, trust_level: int, *, user: str = BOT, **fields: Any) -> None:
    found = sandbox.forum.user(user)
    assert found is not None
    found.update(trust_level=trust_level, **fields)


def links(n: int, host: str = "docs.gitlab.com") -> str:
    return TEXT + "\n\n" + "\n".join(f"See https://{host}/page{i} for this." for i in range(n))


def test_a_trust_level_0_post_may_hold_two_links_and_staff_or_level_1_any(forum: Sandbox,
                                                                          clock: Clock) -> None:
    level(forum, 0)
    assert post(forum, links(2)).status_code == 200
    clock.now += 600
    refused = post(forum, links(3, "example.com"), topic_id=1002)
    assert refused.status_code == 422
    assert refused.json() == {"action": "create_post",
                              "errors": ["Sorry, new users can only put 2 links in a post."]}
    forum.forum_settings.newuser_max_links = 0
    assert post(forum, links(1, "example.org"), topic_id=1002).json()["errors"] == [
        "Sorry, new users can't put links in posts."]
    level(forum, 1)
    assert post(forum, links(5, "example.net"), topic_id=1002).status_code == 200


def test_a_onebox_counts_once_and_mentions_are_not_links(forum: Sandbox) -> None:
    level(forum, 0)
    raw = f"{TEXT}\n\nhttps://docs.gitlab.com/ci/yaml/\n\nAsk @mkovacs or see https://x.org/a"
    assert post(forum, raw).status_code == 200


def test_mentions_are_capped_by_trust_level(forum: Sandbox, clock: Clock) -> None:
    level(forum, 0)
    three = f"{TEXT} @mkovacs @jtorres @lena_h"
    assert post(forum, three).json()["errors"] == [
        "Sorry, new users can only mention 2 users in a post."]
    level(forum, 1)
    clock.now += 121  # the API memo keeps a 422 for 120 s too
    assert post(forum, three).status_code == 200
    clock.now += 600
    eleven = TEXT + " " + " ".join(f"@someone{i}" for i in range(11))
    assert post(forum, eleven, topic_id=1002).json()["errors"] == [
        "Sorry, you can only mention 10 users in a post."]


def test_all_of_a_posts_faults_come_in_one_answer(forum: Sandbox) -> None:
    level(forum, 0)
    forum.forum_settings.min_post_length = 100
    refused = post(forum, "Too short: @a @b @c https://a.io https://b.io https://c.io")
    assert refused.json()["errors"] == [
        "Body is too short (minimum is 100 characters)",
        "Sorry, new users can only mention 2 users in a post.",
        "Sorry, new users can only put 2 links in a post."]


def test_trust_level_0_gets_three_replies_in_a_topic_until_someone_answers(
    forum: Sandbox, clock: Clock
) -> None:
    level(forum, 0)
    for n in range(3):
        clock.now += 600
        assert post(forum, f"{TEXT} Reply number {n}.").status_code == 200
    clock.now += 600
    refused = post(forum, f"{TEXT} Reply number 3.")
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        "We're sorry, but new users are temporarily limited to 3 replies in the same topic.",
        "No more than 3 consecutive replies are allowed. Please edit your previous reply, or "
        "wait for someone to reply to you."]
    forum.add_post(1001, "@docsgap-bot thanks, that helps a lot here.", username="mkovacs")
    clock.now += 121
    assert post(forum, f"{TEXT} Reply number 3.").status_code == 200


def test_a_fourth_post_in_a_row_is_refused_to_any_non_staff_user(forum: Sandbox,
                                                                  clock: Clock) -> None:
    for n in range(3):
        clock.now += 600
        assert post(forum, f"{TEXT} In a row, {n}.").status_code == 200
    clock.now += 600
    assert post(forum, f"{TEXT} In a row, 3.").json()["errors"] == [
        "No more than 3 consecutive replies are allowed. Please edit your previous reply, or "
        "wait for someone to reply to you."]
    assert post(forum, f"{TEXT} From staff.", user="claire_mod").status_code == 200
    clock.now += 600
    assert post(forum, f"{TEXT} In a row, 3.").status_code == 200


def test_a_host_linked_in_two_earlier_posts_is_host_spam_at_trust_level_0(
    forum: Sandbox, clock: Clock
) -> None:
    level(forum, 0)
    for topic in (1001, 1002):
        clock.now += 600
        assert post(forum, links(1, "gitlab.com"), topic_id=topic).status_code == 200
    clock.now += 600
    refused = post(forum, links(1, "gitlab.com"), topic_id=1003)
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["Sorry you cannot post a link to that host."]
    forum.forum_settings.allowed_spam_host_domains = ["gitlab.com"]
    clock.now += 121
    assert post(forum, links(1, "gitlab.com"), topic_id=1003).status_code == 200


def test_slow_mode_refuses_a_second_reply_too_soon_but_not_staff(forum: Sandbox,
                                                                 clock: Clock) -> None:
    forum.forum.topics[1001]["slow_mode_seconds"] = 3600
    assert post(forum).status_code == 200
    clock.now += 1800
    refused = post(forum, TEXT + " More.")
    assert (refused.status_code, refused.json()["errors"]) == (422, ["This topic is in slow mode."])
    assert post(forum, TEXT + " From staff.", user="claire_mod").status_code == 200
    clock.now += 1801
    assert post(forum, TEXT + " More.").status_code == 200


def test_first_day_replies_run_out_with_the_limiters_own_429(forum: Sandbox,
                                                             clock: Clock) -> None:
    level(forum, 1, created_at=iso(clock.now - 3600))
    forum.forum_settings.max_replies_in_first_day = 2
    for n in range(2):
        clock.now += 600
        assert post(forum, f"{TEXT} Day one, reply {n}.", topic_id=1001 + n).status_code == 200
    clock.now += 600
    refused = post(forum, f"{TEXT} Day one, reply 2.", topic_id=1003)
    assert refused.status_code == 429
    body = refused.json()
    wait = 86400 - 1200
    assert body["extras"] == {"wait_seconds": wait, "time_left": "23 hours"}
    assert body["error_type"] == "rate_limit"
    assert "maximum number of replies a new user can create on their first day" in \
        body["errors"][0] and "Please wait 23 hours" in body["errors"][0]
    assert refused.headers["Retry-After"] == str(wait)
    assert "Discourse-Rate-Limit-Error-Code" not in refused.headers
    level(forum, 2)
    assert post(forum, f"{TEXT} Day one, reply 2.", topic_id=1003).status_code == 200


def test_new_users_wait_the_new_user_interval_on_their_first_day(forum: Sandbox,
                                                                 clock: Clock) -> None:
    forum.forum_settings.create_post_interval = 5
    forum.forum_settings.new_user_create_post_interval = 30
    level(forum, 1, created_at=iso(clock.now - 3600))
    assert post(forum).status_code == 200
    clock.now += 10
    refused = post(forum, TEXT + " Again.", topic_id=1002)
    assert refused.status_code == 429 and refused.json()["extras"]["wait_seconds"] == 20


@pytest.mark.parametrize(("wait", "words"), [(3, "a few seconds"), (59, "59 seconds"),
                                             (3599, "59 minutes"), (7000, "1 hour")])
def test_time_left_is_worded_as_the_rate_limiter_does(wait: int, words: str) -> None:
    assert time_left(wait) == words


# --- docsgap's forum adapter against these rules ---------------------------------------------

def adapter(sandbox: Sandbox, waits: list[float] | None = None) -> DiscourseForum:
    return DiscourseForum(sandbox.forum_url, BOT, SANDBOX_DISCOURSE_API_KEY, timeout=5,
                          sleep=(waits if waits is not None else []).append)


def bot_posts(sandbox: Sandbox) -> int:
    return sum(p["username"] == BOT for t in sandbox.state()["topics"] for p in t["posts"])


def test_a_refused_reply_says_what_the_rule_is_and_what_to_do(forum: Sandbox) -> None:
    level(forum, 0)
    before = bot_posts(forum)
    with pytest.raises(WriteRejectedError) as refused:
        adapter(forum).reply(1001, links(3))
    message = str(refused.value)
    assert refused.value.status == 422
    assert "Sorry, new users can only put 2 links in a post" in message
    assert "trust level 0" in message and "2 links a post" in message
    assert "raise the bot's trust level" in (refused.value.hint or "")
    assert bot_posts(forum) == before


def test_host_spam_and_slow_mode_refusals_are_explained(forum: Sandbox, clock: Clock) -> None:
    level(forum, 0)
    forum.forum_settings.newuser_spam_host_threshold = 1
    with pytest.raises(WriteRejectedError, match="allowed_spam_host_domains"):
        adapter(forum).reply(1001, links(1))
    level(forum, 2)
    forum.forum.topics[1002]["slow_mode_seconds"] = 600
    adapter(forum).reply(1002, TEXT)
    clock.now += 60
    with pytest.raises(WriteRejectedError, match="slow mode .*a later run retries the reply"):
        adapter(forum).reply(1002, TEXT + " Again.")


def test_the_first_day_limit_fails_the_reply_and_holds_the_runs_later_replies(
    forum: Sandbox
) -> None:
    level(forum, 0)
    forum.forum_settings.max_replies_in_first_day = 1
    waits: list[float] = []
    bot = adapter(forum, waits)
    bot.reply(1001, TEXT)
    with pytest.raises(RateLimitedError) as limited:
        bot.reply(1002, TEXT + " Second.")
    assert "maximum number of replies a new user can create on their first day" in \
        str(limited.value)
    assert "max_replies_in_first_day" in str(limited.value) and waits == []
    assert limited.value.retry_after is not None and limited.value.retry_after > 80000
    forum.clear_requests()
    with pytest.raises(RateLimitedError, match="not asked again this run"):
        bot.reply(1003, TEXT + " Third.")
    assert not [r for r in forum.requests_log() if r.get("method") == "POST"]


def test_doctor_reads_the_bots_post_count_and_names_the_first_day_cap(forum: Sandbox) -> None:
    level(forum, 1)
    probe = DiscourseChecks(forum.forum_url, BOT, SANDBOX_DISCOURSE_API_KEY, timeout=5)
    fresh = probe.user(BOT)
    assert fresh is not None and fresh.post_count == 0
    status, detail, _ = _bot_user(fresh, BOT, read_only=False)
    assert status is Status.OK and "caps its replies at 10 in its first 24 hours" in detail
    adapter(forum).reply(1001, TEXT)
    posted = probe.user(BOT)
    assert posted is not None and posted.post_count == 1
    assert "first 24 hours" not in _bot_user(posted, BOT, read_only=False)[1]
    status, detail, hint = _bot_user(dataclasses.replace(posted, trust_level=0), BOT, False)
    assert status is Status.WARN and "2 links" in detail and "trust level to 1" in (hint or "")
