"""The sandbox forum's approval queue and watched words over HTTP, as Discourse's
`NewPostManager`, `PostsController#create`/`#pending` and `ReviewableQueuedPost` have them."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_DISCOURSE_GRANULAR_KEY,
    Sandbox,
)
from docsgap.sandbox.seed import load_demo_data

BOT = SANDBOX_DISCOURSE_API_USERNAME
TEXT = "Thanks for the report! We opened a documentation issue for this page."


def as_user(username: str, key: str = SANDBOX_DISCOURSE_API_KEY) -> dict[str, str]:
    return {"Api-Key": key, "Api-Username": username}


def post(sandbox: Sandbox, raw: str = TEXT, *, user: str = BOT, topic_id: int = 1001,
         **form: Any) -> requests.Response:
    return requests.post(f"{sandbox.forum_url}/posts.json", headers=as_user(user), timeout=5,
                         data={"raw": raw, "topic_id": topic_id, **form})


def pending(sandbox: Sandbox, username: str = BOT, *, headers: dict[str, str] | None = None
            ) -> requests.Response:
    return requests.get(f"{sandbox.forum_url}/posts/{username}/pending.json", timeout=5,
                        headers=as_user(BOT) if headers is None else headers)


def posts_by(sandbox: Sandbox, topic_id: int, username: str) -> list[str]:
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == topic_id)
    return [p["raw"] for p in topic["posts"] if p["username"] == username]


@pytest.fixture
def queueing(sandbox: Sandbox) -> Sandbox:
    """Only trust level 3 posts without approval (the bot is at 2)."""
    sandbox.forum_settings.approve_unless_allowed_groups = ["trust_level_3"]
    return sandbox


def test_a_queued_reply_answers_enqueued_and_is_listed_as_pending(queueing: Sandbox) -> None:
    answer = post(queueing)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"action", "pending_post", "pending_count", "success"}
    assert (body["action"], body["pending_count"], body["success"]) == ("enqueued", 1, True)
    assert body["pending_post"]["raw"] == TEXT and body["pending_post"]["created_at"]
    assert TEXT not in posts_by(queueing, 1001, BOT)
    [item] = pending(queueing).json()["pending_posts"]
    assert item["id"] == body["pending_post"]["id"]
    assert (item["raw_text"], item["topic_id"], item["username"]) == (TEXT, 1001, BOT)
    assert item["topic_url"].startswith(queueing.forum_url) and item["topic_url"].endswith("/1001")


def test_the_same_payload_within_two_minutes_is_queued_once(queueing: Sandbox) -> None:
    first, second = post(queueing).json(), post(queueing).json()
    assert first == second
    assert len(pending(queueing).json()["pending_posts"]) == 1


@pytest.mark.parametrize(("headers", "username", "status"), [
    ({}, BOT, 403),  # login required
    (as_user("mkovacs"), BOT, 404),  # someone else's queue
    (as_user("claire_mod"), BOT, 200),  # staff may read anyone's
    (as_user(BOT, SANDBOX_DISCOURSE_GRANULAR_KEY), BOT, 403),  # no granular scope covers it
    (as_user(BOT), "nobody-here", 404),
])
def test_who_may_read_a_pending_list(
    queueing: Sandbox, headers: dict[str, str], username: str, status: int
) -> None:
    post(queueing)
    answer = pending(queueing, username, headers=headers)
    assert answer.status_code == status
    if status == 200:
        assert [p["username"] for p in answer.json()["pending_posts"]] == [BOT]


def test_a_moderator_approves_or_rejects_through_the_control_api(queueing: Sandbox) -> None:
    kept = post(queueing).json()["pending_post"]["id"]
    dropped = post(queueing, TEXT + " Second.", topic_id=1003).json()["pending_post"]["id"]
    queueing.update_topic(1001, closed=True)  # approval creates the post all the same
    control = f"{queueing.base_url}/_sandbox/forum/pending"

    approved = requests.post(f"{control}/{kept}/approve", timeout=5)
    rejected = requests.post(f"{control}/{dropped}/reject", timeout=5)
    again = requests.post(f"{control}/{kept}/reject", timeout=5)

    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert rejected.json()["status"] == "rejected"
    assert again.status_code == 400
    assert posts_by(queueing, 1001, BOT) == [TEXT]
    assert TEXT + " Second." not in posts_by(queueing, 1003, BOT)
    assert pending(queueing).json() == {"pending_posts": []}


@pytest.mark.parametrize(("settings", "user", "queued"), [
    ({"approve_post_count": 50}, "jtorres", True),  # trust level 1, few posts
    ({"approve_post_count": 50}, BOT, False),  # trust level 2
    ({"watched_words": {"require_approval": ["document*"]}}, BOT, True),
    ({"watched_words": {"require_approval": ["docu"]}}, BOT, False),  # whole words only
    ({"approve_unless_allowed_groups": ["trust_level_3"]}, "claire_mod", False),  # staff
    ({"approve_unless_allowed_groups": ["trust_level_3", "docs-team"]}, BOT, False),
])
def test_when_a_post_waits_for_approval(
    sandbox: Sandbox, settings: dict[str, Any], user: str, queued: bool
) -> None:
    sandbox.forum_settings.update(settings)
    body = post(sandbox, user=user).json()
    assert (body.get("action") == "enqueued") is queued
    assert (TEXT in posts_by(sandbox, 1001, user)) is not queued


def test_a_category_that_requires_reply_approval_queues_all_but_staff(sandbox: Sandbox) -> None:
    category = next(t for t in sandbox.state()["topics"] if t["id"] == 1001)["category_id"]
    sandbox.forum.categories[category]["require_reply_approval"] = True
    assert post(sandbox).json()["action"] == "enqueued"
    assert post(sandbox, user="claire_mod").json()["topic_id"] == 1001


@pytest.mark.parametrize(("words", "raw", "message"), [
    (["hack"], "A hack that works around the docs gap, ok?",
     "Sorry, you can't post the word 'hack'; it's not allowed."),
    (["hack", "crap*"], "This crappy HACK works around the docs gap.",
     "Sorry, you can't post that. Not allowed: HACK, crappy."),
])
def test_a_blocked_word_is_a_422_before_the_queue_and_the_memo_keeps_it(
    queueing: Sandbox, words: list[str], raw: str, message: str
) -> None:
    queueing.forum_settings.watched_words = {"block": words}
    refused = post(queueing, raw)
    assert refused.status_code == 422
    assert refused.json() == {"action": "create_post", "errors": [message]}
    assert pending(queueing).json() == {"pending_posts": []}
    queueing.forum_settings.watched_words = {}
    assert post(queueing, raw).status_code == 422  # the same payload: the memoized answer
    assert post(queueing, raw, user="claire_mod").status_code == 200  # staff are exempt


@pytest.mark.parametrize(("raw", "message"), [
    ("x" * 20 + " abcdefg " * 10, "Body is too long (maximum is 80 characters)"),
    ("aaa bbb aaa bbb aaa bbb aaa", "Body seems unclear, is it a complete sentence?"),
    ("too short", "Body is too short (minimum is 20 characters)"),
])
@pytest.mark.parametrize("queued", [False, True])
def test_length_and_entropy_are_checked_queued_or_not(
    sandbox: Sandbox, raw: str, message: str, queued: bool
) -> None:
    sandbox.forum_settings.max_post_length = 80
    if queued:
        sandbox.forum_settings.approve_unless_allowed_groups = ["trust_level_3"]
    refused = post(sandbox, raw)
    assert refused.status_code == 422 and refused.json()["errors"] == [message]
    assert not sandbox.state()["queued_posts"]


def test_a_seed_sets_the_queue_rules() -> None:
    data = load_demo_data()
    data["forum"]["settings"] = {"watched_words": {"require_approval": ["thanks"]}}
    category = next(t for t in data["forum"]["topics"] if t["id"] == 1003)["category_id"]
    for c in data["forum"]["categories"]:
        c["require_reply_approval"] = c["id"] == category
    with Sandbox(data) as seeded:
        assert post(seeded, topic_id=1001).json()["action"] == "enqueued"  # the word
        assert "id" in post(seeded, "A plain reply about the page.", topic_id=1001).json()
        assert post(seeded, "Another plain reply, on the page.", topic_id=1003).json()[
            "action"] == "enqueued"  # the category
        seeded.reset()  # the seed's rules survive a reset; its queue does not
        assert seeded.state()["queued_posts"] == []
        assert seeded.forum_settings.watched_words == {"require_approval": ["thanks"]}
