"""Posts and topics docsgap must not use come back withheld, whatever the key could read:
payload flags (`deleted_at`, `hidden`, `cooked_hidden`, `user_deleted`), topic flags (deleted,
private message) and the category list (read-restricted or unlisted categories)."""

from __future__ import annotations

import pytest
import responses

from docsgap.compose import find_markers, marker
from docsgap.forum.discourse import DiscourseForum
from tests.adapters.conftest import DISCOURSE_JSON, FORUM, d_latest, d_topic
from tests.streamwalk import walk_stream

TOPIC = f"{FORUM}/t/42/1.json"
SECRET = "token glpat-SECRET in my config"


def topic_with(second: dict[str, object], **over: object) -> dict[str, object]:
    topic = d_topic(42, 2, **over)
    topic["post_stream"]["posts"][1].update(second)  # type: ignore[index]
    return topic


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        ({"deleted_at": "2025-05-01T10:00:00.000Z"}, "deleted by a moderator"),
        ({"hidden": True}, "hidden after flags"),
        ({"hidden": True, "cooked_hidden": True}, "hidden after flags"),
        ({"user_deleted": True}, "withdrawn by its author"),
    ],
)
def test_flagged_posts_are_withheld_without_their_text(
    rsps: responses.RequestsMock, forum: DiscourseForum, flags: dict[str, object], why: str
) -> None:
    body = {"raw": SECRET, "cooked": f"<p>{SECRET}</p>", **flags}
    rsps.get(TOPIC, json=topic_with(body), content_type=DISCOURSE_JSON)

    thread = forum.thread(42)

    first, second = thread.posts
    assert first.withheld is None and first.raw
    assert second.withheld == why
    assert (second.raw, second.cooked) == (None, "")


def test_a_withheld_post_keeps_docsgaps_own_marker(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    ours = f"Tracked in a docs issue. {marker('reply:sig-1')}"
    body = {"raw": ours, "username": "docsgap-bot", "deleted_at": "2025-05-01T10:00:00Z"}
    rsps.get(TOPIC, json=topic_with(body), content_type=DISCOURSE_JSON)

    post = forum.thread(42).posts[1]

    assert post.withheld and find_markers(post.raw or "") == ["reply:sig-1"]
    assert "Tracked" not in (post.raw or "")


@pytest.mark.parametrize(
    ("topic", "why"),
    [
        ({"deleted_at": "2025-05-01T10:00:00Z"}, "topic deleted by a moderator"),
        ({"archetype": "private_message"}, "a private message"),
        ({"category_id": 60}, "category 60 is read-restricted"),
        ({"category_id": 77}, "category 77 is not listed (not public)"),
    ],
)
def test_whole_topics_are_withheld(
    rsps: responses.RequestsMock, forum: DiscourseForum, topic: dict[str, object], why: str
) -> None:
    rsps.get(TOPIC, json=d_topic(42, 2, title=SECRET, **topic), content_type=DISCOURSE_JSON)

    thread = forum.thread(42)

    assert thread.withheld == why
    assert SECRET not in thread.title
    assert all(p.withheld == why and p.cooked == "" for p in thread.posts)


def test_subcategories_are_known(rsps: responses.RequestsMock, forum: DiscourseForum) -> None:
    rsps.get(TOPIC, json=d_topic(42, 1, category_id=40), content_type=DISCOURSE_JSON)
    assert forum.thread(42).withheld is None


def test_the_scan_skips_flagged_items_and_reports_restricted_topics(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    page = d_latest([(60, 6), (59, 5), (58, 4), (57, 3)])
    page["latest_posts"][0]["user_deleted"] = True
    page["latest_posts"][2]["category_id"] = 60
    rsps.get(f"{FORUM}/posts.json", json=page, content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, 56, max_pages=2)

    assert changed.topic_ids == (5, 3)
    assert changed.withheld == ((4, "category 60 is read-restricted"),)
    assert changed.newest_post_id == 60

