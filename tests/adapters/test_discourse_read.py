"""DiscourseForum reads over `responses`: the latest-posts walk, long topics, tags, auth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from docsgap.budget import Budget
from docsgap.errors import NotFoundError, RateLimitedError
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.interface import Forum
from tests.adapters.conftest import (
    DISCOURSE_JSON,
    FORUM,
    d_latest,
    d_posts,
    d_topic,
    query,
    without_categories,
)
from tests.streamwalk import walk_stream

POSTS = f"{FORUM}/posts.json"


def page(first: int, count: int, topic_of: dict[int, int] | None = None) -> dict[str, object]:
    """`count` posts with ids first, first-1, ...; topic = id // 10 unless overridden."""
    topic_of = topic_of or {}
    ids = range(first, first - count, -1)
    return d_latest([(i, topic_of.get(i, i // 10)) for i in ids])


def test_adapter_conforms_to_the_protocol(forum: DiscourseForum) -> None:
    conforming: Forum = forum
    assert conforming.base_url == FORUM


def test_the_stream_walk_walks_pages_down_to_the_cursor(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(POSTS, json=page(1150, 50), content_type=DISCOURSE_JSON)
    rsps.get(POSTS, json=page(1100, 50), content_type=DISCOURSE_JSON)
    rsps.get(POSTS, json=page(1050, 50), content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, 1020, max_pages=10)

    befores = [query(c).get("before") for c in without_categories(rsps.calls)]
    assert befores == [None, ["1101"], ["1051"]]
    assert changed.newest_post_id == 1150
    assert changed.complete is True
    # Distinct topics, most recent first, none below the cursor (1020 -> topic 102 ends it).
    assert changed.topic_ids == tuple(range(115, 101, -1))
    assert forum.requests_made == 4  # and the category list, once


def test_the_stream_walk_skips_non_regular_posts(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    body = d_latest([(60, 6), (59, 5), (58, 4)])
    body["latest_posts"][1]["post_type"] = 3  # small action ("closed the topic")
    rsps.get(POSTS, json=body, content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, 57, max_pages=3)

    assert changed.topic_ids == (6, 4)
    assert changed.newest_post_id == 60


def test_first_run_reads_at_most_max_pages(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    for first in (500, 450, 400):
        rsps.get(POSTS, json=page(first, 50), content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, None, max_pages=2)

    assert len(without_categories(rsps.calls)) == 2
    assert changed.newest_post_id == 500
    assert changed.topic_ids[0] == 50
    assert changed.topic_ids[-1] == 40
    assert changed.complete is True  # a first run reads a window by design


def test_cursor_not_reached_within_max_pages_is_incomplete(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    for first in (500, 450, 400):
        rsps.get(POSTS, json=page(first, 50), content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, 100, max_pages=2)

    assert changed.complete is False
    assert changed.newest_post_id == 500
    assert len(without_categories(rsps.calls)) == 2


def test_nothing_new_keeps_the_cursor_and_an_empty_forum_ends_the_walk(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(POSTS, json=page(80, 3), content_type=DISCOURSE_JSON)
    assert walk_stream(forum, 80, max_pages=4).topic_ids == ()
    assert walk_stream(forum, 80, max_pages=4).newest_post_id == 80

    rsps.get(POSTS, json={"latest_posts": []}, content_type=DISCOURSE_JSON)
    empty = walk_stream(DiscourseForum(FORUM), None, max_pages=4)
    assert empty.topic_ids == ()


def test_long_topic_reads_every_post_in_chunks_of_20(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(f"{FORUM}/t/77/1.json", json=d_topic(77, 45), content_type=DISCOURSE_JSON)
    rsps.get(
        f"{FORUM}/t/77/posts.json",
        json=d_posts(77, list(range(1020, 1040))),
        content_type=DISCOURSE_JSON,
    )
    rsps.get(
        f"{FORUM}/t/77/posts.json",
        json=d_posts(77, list(range(1040, 1045))),
        content_type=DISCOURSE_JSON,
    )

    thread = forum.thread(77)

    first, second, third = without_categories(rsps.calls)
    assert query(first) == {"include_raw": ["true"]}
    assert query(second)["post_ids[]"] == [str(i) for i in range(1020, 1040)]
    assert query(third)["post_ids[]"] == [str(i) for i in range(1040, 1045)]
    assert query(second)["include_raw"] == query(third)["include_raw"] == ["true"]
    assert [p.number for p in thread.posts] == list(range(1, 46))
    assert len({p.id for p in thread.posts}) == 45
    assert thread.posts[44].raw == "post 45 of topic 77"
    assert thread.url == f"{FORUM}/t/cache-key-per-branch/77"
    assert thread.tags == ("ci-cd", "caching")  # tag objects {id, name, slug}
    assert thread.category_id == 39
    assert thread.last_posted_at == datetime(2025, 3, 19, 17, 2, 11, 4000, tzinfo=UTC)
    assert thread.posts[0].created_at.tzinfo is not None


def test_short_topic_needs_one_request_and_posts_come_out_in_order(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    topic = d_topic(8, 3, tags=["helm", "kubernetes"], closed=True)
    topic["post_stream"]["posts"].reverse()
    topic["post_stream"]["posts"][0].update(staff=False, moderator=True)
    rsps.get(f"{FORUM}/t/8/1.json", json=topic, content_type=DISCOURSE_JSON)

    thread = forum.thread(8)

    assert len(without_categories(rsps.calls)) == 1
    assert thread.tags == ("helm", "kubernetes")  # older Discourse: plain strings
    assert thread.closed is True
    assert [p.number for p in thread.posts] == [1, 2, 3]
    assert [p.staff for p in thread.posts] == [False, False, True]


def test_anonymous_reads_send_no_api_headers(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FORUM}/t/5/1.json", json=d_topic(5, 1), content_type=DISCOURSE_JSON)

    DiscourseForum(FORUM).thread(5)

    headers = rsps.calls[0].request.headers
    assert "Api-Key" not in headers
    assert "Api-Username" not in headers


def test_authenticated_reads_send_both_headers(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(f"{FORUM}/t/5/1.json", json=d_topic(5, 1), content_type=DISCOURSE_JSON)

    forum.thread(5)

    headers = rsps.calls[0].request.headers
    assert headers["Api-Key"] == "k3y-for-tests"
    assert headers["Api-Username"] == "docsgap-bot"


def test_budget_stops_the_walk_before_sending(rsps: responses.RequestsMock) -> None:
    budget = Budget({"forum": 2})
    forum = DiscourseForum(FORUM, budget=budget, sleep=lambda s: None)
    rsps.get(f"{FORUM}/t/77/1.json", json=d_topic(77, 45), content_type=DISCOURSE_JSON)
    rsps.get(
        f"{FORUM}/t/77/posts.json",
        json=d_posts(77, list(range(1020, 1040))),
        content_type=DISCOURSE_JSON,
    )

    with pytest.raises(RateLimitedError, match="budget"):
        forum.thread(77)

    assert len(without_categories(rsps.calls)) == 2
    assert budget.used["forum"] == 2


def test_a_public_read_proves_the_category_without_the_list(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(f"{FORUM}/t/77/1.json", json=d_topic(77, 25), content_type=DISCOURSE_JSON)
    rsps.get(f"{FORUM}/t/77/posts.json", json=d_posts(77, list(range(1020, 1025))),
             content_type=DISCOURSE_JSON)

    read = forum.read_topic(77, public=True)

    assert [c.request.url.split("?")[0] for c in rsps.calls] == [
        f"{FORUM}/t/77/1.json", f"{FORUM}/t/77/posts.json"]  # no /categories.json
    assert not [c for c in rsps.calls if "Api-Key" in c.request.headers]
    assert read.thread.withheld is None and len(read.thread.posts) == 25


@pytest.mark.parametrize("status", [403, 404])
def test_a_topic_the_public_cannot_read_is_read_with_the_key(
    rsps: responses.RequestsMock, forum: DiscourseForum, status: int
) -> None:
    """A login-required forum answers the public 403, a private topic 404: the key's read and
    the category list then decide, as in a scheduled scan."""
    rsps.get(f"{FORUM}/t/5/1.json", status=status, json={"errors": ["no"]},
             content_type=DISCOURSE_JSON)
    rsps.get(f"{FORUM}/t/5/1.json", json=d_topic(5, 1), content_type=DISCOURSE_JSON)

    read = forum.read_topic(5, public=True)

    keyed = ["Api-Key" in c.request.headers for c in rsps.calls]
    assert keyed == [False, True, True]  # the topic twice, then the category list
    assert rsps.calls[2].request.url.startswith(f"{FORUM}/categories.json")
    assert read.thread.withheld is None


def test_without_a_key_a_topic_the_public_cannot_read_is_not_found(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{FORUM}/t/5/1.json", status=404, json={"errors": ["no"]},
             content_type=DISCOURSE_JSON)
    with pytest.raises(NotFoundError):
        DiscourseForum(FORUM).read_topic(5, public=True)
    assert len(rsps.calls) == 1


def test_a_refused_key_on_the_stream_warns_that_it_may_be_wrong(
    rsps: responses.RequestsMock, forum: DiscourseForum, caplog: pytest.LogCaptureFixture
) -> None:
    """Discourse answers a wrong key as it answers a granular key without `posts:list` (the
    same 403), and the public stream then reads fine: a dry run with a mistyped key went on
    anonymously, exit 0, with a warning that spoke of a granular key only."""
    refused = {"errors": ["You are not permitted to view the requested resource. The API "
                          "username or key is invalid."], "error_type": "invalid_access"}
    rsps.get(POSTS, json=refused, status=403, content_type=DISCOURSE_JSON)
    rsps.get(POSTS, json=page(1150, 5), content_type=DISCOURSE_JSON)

    with caplog.at_level("WARNING", logger="docsgap"):
        forum.latest_posts(None)

    assert "Api-Key" not in rsps.calls[1].request.headers  # the public read
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "or a wrong key or username (`docsgap doctor` tells which)" in warning
