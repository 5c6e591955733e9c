"""Seeded fuzzing of the Discourse payload parsers: the shared samples (CONTRACTS §F) with keys
dropped, values nulled or of another type, huge, negative or non-finite numbers, odd dates,
emptied lists and nested junk must each come out as a well-typed value or as `PayloadError`
(exit 6), never as another exception and never as a value that breaks later (a number in
`raw`, a category id that is an object, an id SQLite cannot store). Deterministic: a fixed seed
and a fixed number of cases, so a failure reproduces with its index."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
import responses

from docsgap.errors import ExitCode, PayloadError
from docsgap.forum import discourse_payload as dp
from docsgap.forum.discourse import DiscourseForum
from docsgap.models import Post, Thread
from tests.conftest import SHARED
from tests.streamwalk import walk_stream
from tests.unit.mutate import GARBAGE, mutants, tally

SAMPLES = SHARED / "api" / "samples"
pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared is absent")]
CASES = 300
INT64 = range(-(2**63), 2**63)
BASE = "https://forum.test"


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / f"discourse-{name}.json").read_text(encoding="utf-8"))


def _check_post(post: Post) -> None:
    """A parsed post is what `models.Post` says, so scan, state and detect can use it."""
    for n in (post.id, post.topic_id, post.number, post.post_type):
        assert type(n) is int and n in INT64, post
    assert isinstance(post.username, str) and isinstance(post.cooked, str), post
    assert post.raw is None or isinstance(post.raw, str), post
    assert post.created_at.tzinfo is not None, post


def _check_thread(thread: Thread) -> None:
    assert type(thread.id) is int and thread.id in INT64
    assert thread.category_id is None or type(thread.category_id) is int
    assert thread.accepted_answer is None or type(thread.accepted_answer) is int
    assert all(isinstance(t, str) for t in thread.tags)
    for post in thread.posts:
        _check_post(post)


def _topic(data: Any) -> None:
    head, posts, stream = dp.parse("/t/1.json", dp.topic_head, data)
    assert all(type(i) is int and i in INT64 for i in stream)
    _check_thread(dp.parse("/t/1.json", dp.build_thread, BASE, head, posts, None))


def _posts(data: Any) -> None:
    for p in dp.parse("/t/1/posts.json", dp.post_list, data):
        assert type(p["id"]) is int and p["id"] in INT64


def _latest(data: Any) -> None:
    for item in dp.parse("/posts.json", dp.latest_items, data, lambda _c: None):
        _check_post(item.post)
        assert item.category_id is None or type(item.category_id) is int
    dp.parse("/posts.json", dp.split_newer, data, 5000)


def _created(data: Any) -> None:
    ref = dp.parse("POST /posts.json", dp.post_ref, BASE, 1, data)
    assert all(type(n) is int and n in INT64 for n in (ref.id, ref.topic_id, ref.number))


PARSERS: dict[str, tuple[str, Callable[[Any], None]]] = {
    "topic": ("topic", _topic),
    "topic-posts": ("topic-posts", _posts),
    "latest-posts": ("latest-posts", _latest),
    "create-post": ("create-post-response", _created),
}


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_mutated_payload_parses_or_is_a_payload_error(kind: str) -> None:
    name, check = PARSERS[kind]
    sample = _sample(name)
    check(sample)  # the unmutated sample parses
    outcomes = tally(check, mutants(sample, random.Random(f"forum-{kind}-20261207"), CASES))
    # Not vacuous: the mutations reach the parser's checks, and most leave it usable.
    assert outcomes["rejected"] > 0.05 * CASES, outcomes
    assert outcomes["parsed"] > 0.3 * CASES, outcomes


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_whole_body_of_the_wrong_shape_is_a_payload_error(kind: str) -> None:
    _, check = PARSERS[kind]
    for body in GARBAGE:
        with pytest.raises(PayloadError):
            check(body)


# --- escapes the fuzz found (each failed before its fix) ----------------------------------------


def _latest_with(**post: Any) -> dict[str, Any]:
    data = _sample("latest-posts")
    data["latest_posts"][0].update(post)
    return data


@pytest.mark.parametrize("value", [math.inf, -math.inf, 2**64, -(2**63) - 1, True, 1.5])
def test_id_that_is_not_a_storable_integer_is_a_payload_error(value: Any) -> None:
    """Python's JSON reads `Infinity`: `int(inf)` raised OverflowError, which `parse` let out;
    2**64 parsed and later broke the SQLite insert of the post."""
    with pytest.raises(PayloadError, match="payload from /posts.json"):
        _latest(_latest_with(id=value))


def test_date_that_leaves_the_calendar_in_utc_is_a_payload_error() -> None:
    """`0001-01-01T00:00:00+01:00` is a valid ISO date whose UTC time is before year 1:
    `astimezone` raised OverflowError."""
    with pytest.raises(PayloadError, match="OverflowError"):
        _latest(_latest_with(created_at="0001-01-01T00:00:00+01:00"))


@pytest.mark.parametrize("value", [0, [], {"a": 1}, True])
def test_raw_that_is_not_text_is_a_payload_error(value: Any) -> None:
    """A non-string `raw` used to pass into `Post.raw`, where the scanner's `len(post.raw)`
    and the held-posts insert failed with TypeError / sqlite3 errors."""
    with pytest.raises(PayloadError, match="expected a string"):
        _latest(_latest_with(raw=value))


def test_category_id_that_is_not_an_integer_is_a_payload_error() -> None:
    """`category_id: {}` used to land in `Thread.category_id`, then in SQLite."""
    data = _sample("topic")
    data["category_id"] = {"id": 3}
    with pytest.raises(PayloadError):
        _topic(data)


def test_payload_error_exits_with_the_upstream_code() -> None:
    assert PayloadError("x").exit_code is ExitCode.UPSTREAM


# --- truncated bodies, through pydiscourse ------------------------------------------------------


def test_truncated_topic_body_is_a_payload_error() -> None:
    """A body cut anywhere (a dropped connection behind a proxy that still says 200) ends as
    `PayloadError` from the adapter, whichever cut it was."""
    text = (SAMPLES / "discourse-topic.json").read_text(encoding="utf-8")
    cuts = random.Random("forum-cuts").sample(range(len(text) - 1), 12)
    with responses.RequestsMock() as mock:
        for cut in cuts:
            mock.get(f"{BASE}/t/42/1.json", body=text[:cut],
                     content_type="application/json; charset=utf-8")
            forum = DiscourseForum(BASE, sleep=lambda _s: None, transient_retries=0)
            with pytest.raises(PayloadError):
                forum.read_topic(42)


# --- the whole adapter: topic, its other posts and the category list, through pydiscourse -------

ADAPTER_CASES = 60
CT = "application/json; charset=utf-8"


def test_mutated_answers_through_the_adapter_read_or_are_payload_errors() -> None:
    """Each case mutates the category list, the topic and its second chunk of posts at once;
    the stream walk and `read_topic` (with and without posts held) must return or raise
    `PayloadError`, also where the adapter reads the payload outside `parse`."""
    topic, posts, latest = _sample("topic"), _sample("topic-posts"), _sample("latest-posts")
    cats = {"category_list": {"categories": [
        {"id": c, "read_restricted": c == 7, "subcategory_list": [{"id": 100 + c}]}
        for c in range(1, 30)]}}
    tid = topic["id"]
    outcomes = {"read": 0, "rejected": 0}
    streams = zip(mutants(cats, random.Random("fc"), ADAPTER_CASES),
                  mutants(topic, random.Random("ft"), ADAPTER_CASES),
                  mutants(posts, random.Random("fp"), ADAPTER_CASES), strict=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE}/posts.json", json=latest, content_type=CT)
        for url in ("/categories.json", f"/t/{tid}/1.json", f"/t/{tid}/posts.json"):
            mock.get(f"{BASE}{url}", json={}, content_type=CT)
        # Held posts the topic no longer shows are looked up: moved to another topic.
        mock.get(re.compile(rf"{re.escape(BASE)}/posts/\d+\.json"), json={"topic_id": tid + 1},
                 content_type=CT)
        for n, ((c, _), (t, done), (p, _)) in enumerate(streams):
            mock.replace(responses.GET, f"{BASE}/categories.json", json=c, content_type=CT)
            mock.replace(responses.GET, f"{BASE}/t/{tid}/1.json", json=t, content_type=CT)
            mock.replace(responses.GET, f"{BASE}/t/{tid}/posts.json", json=p, content_type=CT)
            forum = DiscourseForum(BASE, "docsgap-bot", "k3y", sleep=lambda _s: None)
            for have in (None, (), (1, 2)):
                try:
                    if have is None:
                        walk_stream(forum, None, max_pages=1)
                    else:
                        _check_thread(forum.read_topic(tid, have).thread)
                    outcomes["read"] += 1
                except PayloadError:
                    outcomes["rejected"] += 1
                except Exception as exc:  # noqa: BLE001 - the fuzz reports any escape
                    pytest.fail(f"case {n} ({'; '.join(done)}): {type(exc).__name__}: {exc}")
    assert outcomes["read"] > 0 and outcomes["rejected"] > 0, outcomes
