"""DiscourseForum on the truthful sandbox: what a staff key sees but docsgap must not use comes
back withheld; granular keys work; the older `/posts.json` paging is walked past empty pages;
Discourse's posting rules (interval, `unique_posts_mins`) do not fail or duplicate a reply;
and the site served from the root works like one under a prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.errors import AuthError, WriteRejectedError
from docsgap.forum.discourse import DiscourseForum
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_ADMIN_USERNAME,
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_DISCOURSE_GRANULAR_KEY,
    Sandbox,
)
from tests.sandbox.clock import Clock
from tests.sandbox.conftest import paths
from tests.streamwalk import walk_stream

REPLY = "Thanks for the report! We opened a documentation issue for this page."
SECRETS = ("glrt-SANDBOX-LEAKED", "FLAGGED-HIDDEN", "WITHDRAWN-DO-NOT", "RESTRICTED-DO-NOT")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> Iterator[Sandbox]:
    """Every Discourse limit on, on a clock that the adapter's waits move."""
    with Sandbox(now=clock, discourse_limits=True) as sandbox:
        yield sandbox


def staff_reader(sandbox: Sandbox) -> DiscourseForum:
    return DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_ADMIN_USERNAME,
                          SANDBOX_DISCOURSE_API_KEY, timeout=5, sleep=lambda s: None)


def text_of(forum: DiscourseForum, topic_id: int) -> str:
    thread = forum.thread(topic_id)
    return thread.title + "".join(f"{p.raw or ''}{p.cooked}" for p in thread.posts)


def test_a_staff_key_gets_flagged_posts_withheld_without_their_text(sandbox: Sandbox) -> None:
    staff = staff_reader(sandbox)
    hidden = staff.thread(1039)
    assert hidden.withheld is None
    assert [(p.number, p.withheld) for p in hidden.posts] == [
        (1, None), (2, "hidden after flags"), (3, None)]
    assert hidden.posts[1].cooked == "" and hidden.posts[1].raw is None
    withdrawn = staff.thread(1040).posts[1]
    assert withdrawn.withheld == "withdrawn by its author" and withdrawn.cooked == ""
    for topic_id in (1038, 1039, 1040):
        assert not any(secret in text_of(staff, topic_id) for secret in SECRETS)


def test_a_deleted_topic_and_a_restricted_category_are_withheld_whole(sandbox: Sandbox) -> None:
    staff = staff_reader(sandbox)
    sandbox.moderate_post(int(sandbox.state()["topics"][10]["posts"][0]["id"]), "delete")
    deleted = staff.thread(1010)
    assert deleted.withheld == "topic deleted by a moderator"
    assert all(p.withheld and not p.cooked for p in deleted.posts)
    restricted = staff.thread(1041)
    assert restricted.withheld == "category 61 is read-restricted"
    assert "RESTRICTED" not in text_of(staff, 1041)
    assert staff.thread(1036).withheld == "category 60 is read-restricted"
    changed = walk_stream(staff, None, max_pages=10)
    assert dict(changed.withheld) == {1036: "category 60 is read-restricted",
                                      1041: "category 61 is read-restricted"}
    assert not {1036, 1041} & set(changed.topic_ids)


def test_withheld_posts_never_become_evidence(sandbox: Sandbox) -> None:
    detector = Detector(load_rules())
    staff = staff_reader(sandbox)
    for topic_id in (1039, 1040, 1041):
        verdict = detector.detect_thread(staff.thread(topic_id))
        assert not any(secret in e.text for s in verdict.signals for e in s.evidence
                       for secret in SECRETS)
    skipped = dict(detector.detect_thread(staff.thread(1039)).skipped_posts)
    assert skipped[2] == "hidden after flags"


def test_a_granular_key_reads_and_replies(sandbox: Sandbox) -> None:
    forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_GRANULAR_KEY, timeout=5)
    changed = walk_stream(forum, None, max_pages=10)
    assert 1001 in changed.topic_ids
    # No scope covers /posts.json or the category list: those were read anonymously, so the
    # docs team's restricted category (the bot may see it) is not even listed.
    assert 1041 not in changed.topic_ids and not changed.withheld
    assert forum.thread(1001).posts[0].raw
    assert forum.reply(1001, REPLY).number == 5
    posts = [r for r in sandbox.requests_log() if r["path"].startswith("/posts.json")]
    assert [r["status"] for r in posts[:2]] == [403, 200]  # asked with the key once only


def test_a_bad_key_or_missing_write_scope_is_an_auth_error(sandbox: Sandbox) -> None:
    with pytest.raises(AuthError):
        DiscourseForum(sandbox.forum_url, "docsgap-bot", "not-a-key").thread(1001)
    sandbox.forum.api_keys["read-only"] = {"username": "docsgap-bot", "scopes": ["topics:read"]}
    reader = DiscourseForum(sandbox.forum_url, "docsgap-bot", "read-only", timeout=5)
    assert reader.thread(1001).id == 1001
    with pytest.raises(AuthError) as refused:
        reader.reply(1001, REPLY)
    assert refused.value.status == 403 and "topics:write" in (refused.value.hint or "")


def test_older_discourse_paging_is_walked_past_empty_pages(sandbox: Sandbox) -> None:
    forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_API_KEY, timeout=5)
    cursor = walk_stream(forum, None, max_pages=10).newest_post_id
    assert cursor is not None
    older = sandbox.add_post(1013, "We see the same behaviour on our merge trains too.",
                             username="emily.qa")
    for n in range(60):  # a burst of spam, hidden by flags: a whole empty id window
        spam = sandbox.add_post(1025, f"Buy cheap followers now, offer number {n}!",
                                username="marco_r")
        sandbox.moderate_post(spam["id"], "hide")
    newest = sandbox.add_post(1002, "Our jobs still clone with depth 20 after the upgrade.",
                              username="nora-ci")
    sandbox.forum_settings.legacy_latest_posts = True
    sandbox.clear_requests()

    older_forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                                 SANDBOX_DISCOURSE_API_KEY, timeout=5)
    changed = walk_stream(older_forum, cursor, max_pages=10)

    assert changed.topic_ids == (1002, 1013)
    assert changed.complete and changed.newest_post_id == newest["id"]
    befores = [p for p in paths(sandbox, "forum") if p.startswith("/posts.json")]
    assert len(befores) <= 4, befores
    assert older["id"] > cursor


def test_a_rerun_within_unique_posts_mins_finds_its_reply(
    limited: Sandbox, clock: Clock
) -> None:
    forum = DiscourseForum(limited.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_API_KEY, timeout=5, sleep=clock.sleep)
    body = REPLY + "\n\n<!-- docsgap:key=reply:test -->"
    first = forum.reply(1001, body)
    clock.now += 150  # past the 120 s memo, within unique_posts_mins
    again = forum.reply(1001, body)
    assert again == first
    topic = next(t for t in limited.state()["topics"] if t["id"] == 1001)
    assert sum(p["raw"] == body for p in topic["posts"]) == 1
    # The same body refused in a topic where it is not: still a refusal, not a success.
    clock.now += 10
    with pytest.raises(WriteRejectedError, match="too similar"):
        forum.reply(1003, body)


def test_the_create_post_interval_is_waited_out(limited: Sandbox, clock: Clock) -> None:
    forum = DiscourseForum(limited.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_API_KEY, timeout=5, sleep=clock.sleep)
    forum.reply(1001, REPLY)
    second = forum.reply(1002, REPLY + " Second thread.")
    assert second.number == 4
    assert clock.slept == [6.0]  # wait_seconds 5, plus one


def test_a_forum_served_from_the_root_reads_and_replies_the_same() -> None:
    with Sandbox(forum_path="") as sandbox:
        forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                               SANDBOX_DISCOURSE_API_KEY, timeout=5)
        assert 1001 in walk_stream(forum, None, max_pages=10).topic_ids
        thread = forum.thread(1001)
        assert thread.url.startswith(f"{sandbox.base_url}/t/")
        ref = forum.reply(1001, REPLY)
        assert ref.url == f"{sandbox.base_url}/t/{thread.slug}/1001/{ref.number}"
