"""The Discourse adapter and the approval queue: what `POST /posts.json` answers when a reply
waits for a moderator, and finding docsgap's own queued reply again in
`/posts/{username}/pending.json` (`PostsController#pending`)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from docsgap.compose import marker
from docsgap.errors import AuthError, NotFoundError, PayloadError, WriteRejectedError
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.interface import QueuedReply
from tests.adapters.conftest import DISCOURSE_JSON, FORUM

REPLY = f"{FORUM}/posts"
PENDING = f"{FORUM}/posts/docsgap-bot/pending.json"
BODY = f"Tracked in a docs issue.\n\n{marker('reply:t42:abc')}"


def pending_item(item_id: int, topic_id: int | None, raw: str,
                 username: str = "docsgap-bot") -> dict[str, Any]:
    """One `PendingPostSerializer` item."""
    return {"id": item_id, "avatar_template": "/a/{size}.png", "category_id": 39,
            "created_at": "2026-01-05T12:00:00.000Z", "created_by_id": 2, "name": username,
            "raw_text": raw, "title": "A topic", "topic_id": topic_id,
            "topic_url": f"{FORUM}/t/a-topic/{topic_id}", "username": username}


def pending_requests(rsps: responses.RequestsMock) -> int:
    return sum(1 for c in rsps.calls if "/pending.json" in str(c.request.url))


@pytest.mark.parametrize(("body", "expected"), [
    ({"action": "enqueued", "pending_count": 1, "success": True}, None),  # older Discourse
    ({"action": "enqueued", "pending_post": {"id": "77", "raw": "x"}}, 77),
    ({"action": "enqueued", "pending_post": None}, None),
])
def test_an_enqueued_answer_is_a_queued_reply(
    rsps: responses.RequestsMock, forum: DiscourseForum, body: dict[str, Any],
    expected: int | None,
) -> None:
    rsps.post(REPLY, json=body, content_type=DISCOURSE_JSON)
    assert forum.reply(42, BODY) == QueuedReply(expected, 42, f"{FORUM}/t/42")


@pytest.mark.parametrize("body", [
    {"action": "enqueued", "pending_post": {"id": True}},
    {"action": "enqueued", "pending_post": {"id": 1.5}},
    {"action": "create_post", "success": True},  # neither a post nor queued: never "post 0"
    {"success": True},
])
def test_an_answer_that_is_neither_a_post_nor_queued_is_a_payload_error(
    rsps: responses.RequestsMock, forum: DiscourseForum, body: dict[str, Any]
) -> None:
    rsps.post(REPLY, json=body, content_type=DISCOURSE_JSON)
    with pytest.raises(PayloadError, match="POST /posts.json"):
        forum.reply(42, BODY)


def test_the_own_queued_reply_is_found_by_its_marker_and_only_that(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(PENDING, content_type=DISCOURSE_JSON, json={"pending_posts": [
        pending_item(9, 42, "someone copied it " + marker("reply:t42:abc"), "mallory"),
        pending_item(8, 43, BODY),  # another topic
        pending_item(7, None, BODY),  # a new topic
        pending_item(6, 42, f"Edited by a reviewer.\n\n{marker('reply:t42:abc')}"),
    ]})

    assert forum.queued_reply(42, BODY) == QueuedReply(6, 42, f"{FORUM}/t/42")
    assert forum.queued_reply(44, BODY) is None
    assert forum.queued_reply(42, "Other words, " + marker("reply:t42:zzz")) is None
    assert pending_requests(rsps) == 1  # read once per adapter


def test_a_reply_queued_this_run_is_found_without_reading_the_list_again(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(PENDING, json={"pending_posts": []}, content_type=DISCOURSE_JSON)
    rsps.post(REPLY, json={"action": "enqueued", "pending_post": {"id": 5}},
              content_type=DISCOURSE_JSON)
    assert forum.queued_reply(42, BODY) is None

    forum.reply(42, BODY)

    assert forum.queued_reply(42, BODY) == QueuedReply(5, 42, f"{FORUM}/t/42")
    assert pending_requests(rsps) == 1


@pytest.mark.parametrize(("status", "error"), [(403, AuthError), (404, NotFoundError)])
def test_a_refused_pending_list_is_an_error_every_time_but_asked_once(
    rsps: responses.RequestsMock, forum: DiscourseForum, status: int,
    error: type[Exception],
) -> None:
    rsps.get(PENDING, status=status, content_type=DISCOURSE_JSON,
             json={"errors": ["You are not permitted to view the requested resource."],
                   "error_type": "invalid_access"})
    for _ in range(2):
        with pytest.raises(error):
            forum.queued_reply(42, BODY)
    assert pending_requests(rsps) == 1


@pytest.mark.parametrize("body", [
    {"pending_posts": {"id": 1}}, {"pending_posts": [{"id": "x", "topic_id": 42}]},
    {"pending_posts": [{"id": 1, "topic_id": 42, "raw_text": 5}]}, {"posts": []},
])
def test_a_misshapen_pending_list_is_a_payload_error(
    rsps: responses.RequestsMock, forum: DiscourseForum, body: dict[str, Any]
) -> None:
    rsps.get(PENDING, json=body, content_type=DISCOURSE_JSON)
    with pytest.raises(PayloadError, match="pending.json"):
        forum.queued_reply(42, BODY)


def test_an_anonymous_adapter_has_no_queue_to_ask(rsps: responses.RequestsMock) -> None:
    assert DiscourseForum(FORUM).queued_reply(42, BODY) is None
    assert pending_requests(rsps) == 0


@pytest.mark.parametrize("message", [
    "Sorry, you can't post the word 'hack'; it's not allowed.",
    "Body is too long (maximum is 32000 characters)",
    "Body seems unclear, is it a complete sentence?",
])
def test_a_blocked_word_or_a_length_is_a_refused_write_with_discourse_s_words(
    rsps: responses.RequestsMock, forum: DiscourseForum, message: str
) -> None:
    rsps.post(REPLY, status=422, content_type=DISCOURSE_JSON,
              json={"action": "create_post", "errors": [message]})
    with pytest.raises(WriteRejectedError) as raised:
        forum.reply(42, BODY)
    assert message in str(raised.value)
    assert raised.value.status == 422
