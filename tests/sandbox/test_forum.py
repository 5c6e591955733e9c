"""DiscourseForum (pydiscourse) against the loopback sandbox: the latest-posts stream, long
topics read in full, replies, auth failures, 429 wait hints and 5xx/timeout faults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from docsgap.cli.doctor_cmd import forum_probe, tracker_probe
from docsgap.demo import demo_config
from docsgap.doctor import Status, run_doctor
from docsgap.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.forum.discourse import DiscourseForum
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_DISCOURSE_GRANULAR_KEY,
    Sandbox,
)
from tests.sandbox.conftest import paths
from tests.streamwalk import walk_stream

ADMIN = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": SANDBOX_DISCOURSE_API_USERNAME}
REPLY = "Thanks for the report! We opened a documentation issue for this page."
DOCS_TEAM = 61
"""The read-restricted category the bot may see (it is in the docs-team group)."""


def regular_posts(sandbox: Sandbox, *, categories: set[int] | None = None) -> list[dict[str, Any]]:
    """The seed's posts `/posts.json` lists: regular, neither deleted nor hidden, in the
    public categories plus `categories`."""
    state = sandbox.state()
    public = {c["id"] for c in state["categories"] if not c["read_restricted"]}
    shown = public | (categories or set())
    return [p for t in state["topics"] for p in t["posts"]
            if p["post_type"] == 1 and t["category_id"] in shown and not p["deleted_at"]
            and not p["hidden"]]


def test_the_stream_walk_walks_every_page_of_the_latest_posts_stream(
    sandbox: Sandbox, forum: DiscourseForum
) -> None:
    posts = regular_posts(sandbox, categories={DOCS_TEAM})  # the bot is in docs-team
    changed = walk_stream(forum, None, max_pages=10)

    assert changed.complete
    assert changed.newest_post_id == max(int(str(p["id"])) for p in posts)
    public = {t["id"] for t in sandbox.state()["topics"] if t["category_id"] not in (60, 61)}
    assert set(changed.topic_ids) == public
    # The docs team's category is visible to the bot but read-restricted: said, not read.
    assert changed.withheld == ((1041, "category 61 is read-restricted"),)
    served = paths(sandbox, "forum")
    pages = -(-len(posts) // 50)
    assert served[0] == "/posts.json"
    assert served[1] == "/categories.json?include_subcategories=true"  # read once
    latest = [p for p in served if p.startswith("/posts.json")]
    assert all(p.startswith("/posts.json?before=") for p in latest[1:])
    assert len(latest) in (pages, pages + 1)  # a final empty page when the count divides


def test_the_stream_walk_with_a_cursor_reads_only_what_is_new(
    sandbox: Sandbox, forum: DiscourseForum
) -> None:
    cursor = walk_stream(forum, None, max_pages=10).newest_post_id
    added = sandbox.add_post(1013, "Same thing happened to us on Friday, retry did not help.",
                             username="emily.qa")
    sandbox.clear_requests()

    changed = walk_stream(forum, cursor, max_pages=3)

    assert changed.topic_ids == (1013,)
    assert changed.newest_post_id == added["id"]
    assert changed.complete
    assert paths(sandbox, "forum") == ["/posts.json"]


def test_the_stream_walk_stops_at_max_pages_and_says_so(forum: DiscourseForum) -> None:
    changed = walk_stream(forum, 1, max_pages=1)
    assert not changed.complete
    assert len(changed.topic_ids) > 5


def test_anonymous_reads_skip_staff_only_categories(sandbox: Sandbox) -> None:
    anonymous = DiscourseForum(sandbox.forum_url)
    changed = walk_stream(anonymous, None, max_pages=10)
    assert 1036 not in changed.topic_ids
    assert 1041 not in changed.topic_ids
    assert changed.newest_post_id == max(int(str(p["id"])) for p in regular_posts(sandbox))
    with pytest.raises(NotFoundError):
        anonymous.thread(1036)


def test_long_topic_is_read_in_full_in_chunks_of_20(
    sandbox: Sandbox, forum: DiscourseForum
) -> None:
    for n in range(24):  # 26 seeded posts + 24 = 50: first chunk of 20, then 20 + 10
        sandbox.add_post(1007, f"Extra message number {n} in this thread.", username="nora-ci")
    sandbox.clear_requests()

    thread = forum.thread(1007)

    assert [p.number for p in thread.posts] == list(range(1, 51))
    assert "subset rule" in (thread.posts[19].raw or "")
    assert thread.posts[-1].raw == "Extra message number 23 in this thread."
    served = [p for p in paths(sandbox, "forum") if not p.startswith("/categories")]
    assert served[0] == "/t/1007/1.json?include_raw=true"
    assert [p.count("post_ids%5B%5D=") for p in served[1:]] == [20, 10]


def test_thread_carries_tags_closed_flag_and_staff(forum: DiscourseForum) -> None:
    closed = forum.thread(1028)
    assert closed.closed
    assert closed.posts[-1].post_type == 3  # the "closed" small action
    ignored = forum.thread(1029)
    assert "docsgap-ignore" in ignored.tags
    answered = forum.thread(1004)
    assert answered.posts[1].staff
    assert answered.posts[1].username == "gitlab-team"


def test_reply_lands_in_the_topic(sandbox: Sandbox, forum: DiscourseForum) -> None:
    ref = forum.reply(1001, REPLY, reply_to_post_number=1)

    topic = next(t for t in sandbox.state()["topics"] if t["id"] == 1001)
    last = topic["posts"][-1]
    assert (ref.id, ref.number) == (last["id"], last["post_number"]) == (ref.id, 5)
    assert ref.url == f"{sandbox.forum_url}/t/{topic['slug']}/1001/5"
    assert last["username"] == "docsgap-bot"
    assert last["raw"] == REPLY
    assert last["reply_to_post_number"] == 1
    assert paths(sandbox, "forum", "POST") == ["/posts"]  # pydiscourse posts form data here


def test_identical_reply_within_two_minutes_returns_the_first_post(
    sandbox: Sandbox, forum: DiscourseForum
) -> None:
    first = forum.reply(1001, REPLY)
    second = forum.reply(1001, REPLY)
    assert first == second
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == 1001)
    assert sum(p["raw"] == REPLY for p in topic["posts"]) == 1


def test_replies_refused_for_closed_topics_and_short_bodies(
    sandbox: Sandbox, forum: DiscourseForum
) -> None:
    # A closed topic is a write refusal (422), not a credentials problem.
    with pytest.raises(WriteRejectedError) as closed:
        forum.reply(1028, REPLY)
    assert closed.value.status == 422
    assert "closed or deleted" in str(closed.value)
    with pytest.raises(WriteRejectedError, match="too short"):
        forum.reply(1001, "ok thanks")


@pytest.mark.parametrize(
    ("key", "username"),
    [("not-the-key", SANDBOX_DISCOURSE_API_USERNAME), (SANDBOX_DISCOURSE_API_KEY, "nobody")],
)
def test_wrong_credentials_are_an_auth_error(sandbox: Sandbox, key: str, username: str) -> None:
    with pytest.raises(AuthError) as failed:
        DiscourseForum(sandbox.forum_url, username, key).thread(1001)
    assert failed.value.status == 403
    body = requests.get(f"{sandbox.forum_url}/t/1001.json", timeout=5,
                        headers={"Api-Key": key, "Api-Username": username}).json()
    assert body["error_type"] == "invalid_access"


def test_429_wait_hint_is_honoured_then_the_read_succeeds(
    sandbox: Sandbox, forum: DiscourseForum, sleeps: list[float]
) -> None:
    sandbox.add_fault("forum", status=429, wait_seconds=7, count=2, path_regex=r"^/posts\.json")
    changed = walk_stream(forum, None, max_pages=1)
    assert changed.topic_ids
    assert sleeps == [8.0, 8.0]  # extras.wait_seconds + 1
    assert [r["status"] for r in sandbox.requests_log()][:3] == [429, 429, 200]


def test_per_ip_429_is_plain_text_with_retry_after(
    sandbox: Sandbox, forum: DiscourseForum, sleeps: list[float]
) -> None:
    sandbox.add_fault("forum", status=429, kind="ip", wait_seconds=9)
    response = requests.get(f"{sandbox.forum_url}/latest.json", timeout=5)
    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Retry-After"] == "9"
    assert response.headers["Discourse-Rate-Limit-Error-Code"] == "ip_10_secs_limit"
    sandbox.add_fault("forum", status=429, kind="ip", wait_seconds=4)
    forum.thread(1002)
    assert sleeps == [5.0]


def test_shared_admin_key_bucket_runs_out(
    sandbox: Sandbox, forum: DiscourseForum, sleeps: list[float]
) -> None:
    sandbox.forum_settings.admin_api_per_minute = 4  # three topics and the category list
    for topic_id in (1001, 1002, 1003):
        forum.thread(topic_id)
    with pytest.raises(RateLimitedError):
        forum.thread(1004)
    assert sleeps
    assert 59 <= sleeps[0] <= 62
    limited = requests.get(f"{sandbox.forum_url}/t/1004.json", headers=ADMIN, timeout=5)
    assert limited.status_code == 429
    body = limited.json()
    assert body["error_type"] == "rate_limit"
    assert int(limited.headers["Retry-After"]) == body["extras"]["wait_seconds"] > 0
    assert limited.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
    assert requests.get(f"{sandbox.forum_url}/t/1004.json", timeout=5).status_code == 200


def test_5xx_reads_are_retried_but_writes_are_not(
    sandbox: Sandbox, forum: DiscourseForum, sleeps: list[float]
) -> None:
    sandbox.add_fault("forum", status=502, method="GET")
    assert forum.thread(1002).id == 1002
    assert sleeps == [1.0]
    sandbox.add_fault("forum", status=503, method="POST")
    with pytest.raises(UnavailableError):
        forum.reply(1002, REPLY)
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == 1002)
    assert all(p["username"] != "docsgap-bot" for p in topic["posts"])


def test_timeouts_and_writes_that_land_after_the_client_gave_up(sandbox: Sandbox) -> None:
    impatient = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                               SANDBOX_DISCOURSE_API_KEY, timeout=0.2, transient_retries=0)
    sandbox.add_fault("forum", kind="timeout", delay=0.6)
    with pytest.raises(UnavailableError):
        impatient.thread(1002)
    sandbox.add_fault("forum", kind="slow", delay=0.6, method="POST")
    with pytest.raises(UnavailableError):
        impatient.reply(1002, REPLY)
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == 1002)
    assert topic["posts"][-1]["raw"] == REPLY  # the write landed: reruns must check first


def test_wire_details_pydiscourse_depends_on(sandbox: Sandbox) -> None:
    latest = requests.get(f"{sandbox.forum_url}/posts.json", timeout=5)
    assert latest.headers["Content-Type"] == "application/json; charset=utf-8"
    wrong_slug = requests.get(f"{sandbox.forum_url}/t/not-the-slug/1001.json",
                              allow_redirects=False, timeout=5)
    assert wrong_slug.status_code == 301
    assert wrong_slug.content == b""
    assert wrong_slug.headers["Location"].startswith(f"{sandbox.forum_url}/t/rules-changes-")
    missing = requests.get(f"{sandbox.forum_url}/t/999999.json", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error_type"] == "not_found"


def test_latest_topics_pages_pinned_first(sandbox: Sandbox) -> None:
    first = requests.get(f"{sandbox.forum_url}/latest.json", timeout=5).json()["topic_list"]
    assert first["topics"][0]["pinned"]
    assert len(first["topics"]) == 30
    assert first["more_topics_url"] == "/forum/latest?no_definitions=true&page=1"
    second = requests.get(f"{sandbox.forum_url}/latest.json?page=1", timeout=5).json()
    assert 0 < len(second["topic_list"]["topics"]) < 30
    assert "more_topics_url" not in second["topic_list"]


def test_session_and_user_endpoints(sandbox: Sandbox) -> None:
    me = requests.get(f"{sandbox.forum_url}/session/current.json", headers=ADMIN, timeout=5)
    assert me.json()["current_user"]["username"] == SANDBOX_DISCOURSE_API_USERNAME
    assert me.json()["current_user"]["admin"] is False  # the bot is a member, not staff
    assert me.json()["current_user"]["staff"] is False
    anonymous = requests.get(f"{sandbox.forum_url}/session/current.json", timeout=5)
    assert (anonymous.status_code, anonymous.content) == (404, b"")
    user = requests.get(f"{sandbox.forum_url}/u/nora-ci.json", timeout=5).json()["user"]
    assert user["username"] == "nora-ci"
    assert user["post_count"] > 5
    assert requests.get(f"{sandbox.forum_url}/u/nobody-here.json", timeout=5).status_code == 404


@pytest.mark.parametrize(("key", "kind"), [(SANDBOX_DISCOURSE_API_KEY, "acts as docsgap-bot"),
                                           (SANDBOX_DISCOURSE_GRANULAR_KEY, "granular key")])
def test_doctor_accepts_a_global_or_a_granular_key(
    sandbox: Sandbox, tmp_path: Path, key: str, kind: str
) -> None:
    cfg = replace(demo_config(sandbox, tmp_path), source="test")
    cfg = replace(cfg, forum=replace(cfg.forum, api_key=key))
    report = run_doctor(lambda: cfg, forum=forum_probe, tracker=tracker_probe)
    checks = {c.name: c for c in report.checks}
    assert checks["forum api key"].status is Status.OK, checks["forum api key"]
    assert kind in checks["forum api key"].detail
    assert checks["forum bot user"].status is Status.OK
    assert "trust level 2" in checks["forum bot user"].detail
    wrong = replace(cfg, forum=replace(cfg.forum, api_key="not-a-key"))
    refused = run_doctor(lambda: wrong, forum=forum_probe, tracker=tracker_probe)
    assert {c.name: c.status for c in refused.checks}["forum api key"] is Status.FAIL
