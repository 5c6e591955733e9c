"""DiscourseForum failure paths: auth, 404, 429 wait hints, 5xx, malformed bodies, replies."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses

from docsgap.budget import Budget
from docsgap.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.interface import QueuedReply
from tests.adapters.conftest import DISCOURSE_JSON, FORUM, d_topic, fixture
from tests.streamwalk import walk_stream

TOPIC = f"{FORUM}/t/42/1.json"
REPLY = f"{FORUM}/posts"


def error(key: str) -> Any:
    """One body from the Discourse error fixtures."""
    return fixture("discourse_errors.json", key)


@pytest.mark.parametrize(
    ("status", "body", "expected", "hint"),
    [
        (401, "bad_key", AuthError, "DOCSGAP_DISCOURSE_API_KEY"),
        (403, "invalid_access", AuthError, "DOCSGAP_DISCOURSE_API_USERNAME"),
        (404, "not_found", NotFoundError, None),
        (410, "not_found", NotFoundError, None),
    ],
)
def test_read_errors_map_to_docsgap_errors(
    rsps: responses.RequestsMock,
    forum: DiscourseForum,
    status: int,
    body: str,
    expected: type[Exception],
    hint: str | None,
) -> None:
    rsps.get(TOPIC, json=error(body), status=status, content_type=DISCOURSE_JSON)

    with pytest.raises(expected) as info:
        forum.thread(42)

    assert getattr(info.value, "status", None) == status
    assert error(body)["errors"][0] in str(info.value)
    if hint:
        assert hint in (getattr(info.value, "hint", None) or "")
    assert len(rsps.calls) == 1  # 4xx is never retried


def test_429_json_wait_seconds_then_success(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float], budget: Budget
) -> None:
    rsps.get(
        TOPIC,
        json=error("rate_limit_json"),
        status=429,
        content_type=DISCOURSE_JSON,
        headers={"Retry-After": "99"},
    )
    rsps.get(TOPIC, json=d_topic(42, 2), content_type=DISCOURSE_JSON)

    thread = forum.thread(42)

    assert thread.id == 42
    assert sleeps == [18.0]  # extras.wait_seconds (17) wins over Retry-After, plus 1 s
    assert budget.used["forum"] == 3 == forum.requests_made  # and the category list


def test_429_plain_text_uses_retry_after(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    rsps.get(
        TOPIC,
        body=error("rate_limit_text"),
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "4", "Discourse-Rate-Limit-Error-Code": "ip_10_secs_limit"},
    )
    rsps.get(TOPIC, json=d_topic(42, 2), content_type=DISCOURSE_JSON)

    forum.thread(42)

    assert sleeps == [5.0]


def test_429_json_without_extras_does_not_crash(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    # pydiscourse alone raises KeyError('extras') on this search-limiter shape.
    rsps.get(TOPIC, json=error("rate_limit_search"), status=429, content_type=DISCOURSE_JSON)
    rsps.get(TOPIC, json=d_topic(42, 2), content_type=DISCOURSE_JSON)

    forum.thread(42)

    assert sleeps == [11.0]  # no hint at all: the 10 s default plus 1 s


def test_429_http_date_retry_after_is_understood(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    rsps.get(
        TOPIC,
        body="slow down",
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
    )
    rsps.get(TOPIC, json=d_topic(42, 2), content_type=DISCOURSE_JSON)

    forum.thread(42)

    assert sleeps == [1.0]  # a date in the past means "now" (plus the 1 s margin)


def test_429_exhausted_raises_rate_limited(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    rsps.get(TOPIC, json=error("rate_limit_json"), status=429, content_type=DISCOURSE_JSON)

    with pytest.raises(RateLimitedError) as info:
        forum.thread(42)

    assert info.value.retry_after == 18.0
    assert len(rsps.calls) == 4  # 1 try + 3 retries
    assert sleeps == [18.0, 18.0, 18.0]


def test_429_stops_when_the_run_would_wait_too_long(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    forum = DiscourseForum(FORUM, max_wait=30, sleep=sleeps.append)
    rsps.get(TOPIC, body="x", status=429, content_type="text/plain", headers={"Retry-After": "600"})

    with pytest.raises(RateLimitedError, match="exceed") as info:
        forum.thread(42)

    assert info.value.retry_after == 601.0
    assert sleeps == []
    assert len(rsps.calls) == 1


def test_wait_allowance_is_shared_by_every_call_of_the_run(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    forum = DiscourseForum(FORUM, max_wait=40, sleep=sleeps.append)
    rsps.get(TOPIC, json=error("rate_limit_json"), status=429, content_type=DISCOURSE_JSON)
    rsps.get(TOPIC, json=d_topic(42, 1), content_type=DISCOURSE_JSON)
    rsps.get(TOPIC, json=error("rate_limit_json"), status=429, content_type=DISCOURSE_JSON)
    rsps.get(TOPIC, json=error("rate_limit_json"), status=429, content_type=DISCOURSE_JSON)

    forum.thread(42)  # waits 18 s
    with pytest.raises(RateLimitedError, match="exceed"):
        forum.thread(42)  # 18 s more fits (36), a third wait would not (54 > 40)

    assert sleeps == [18.0, 18.0]


def test_budget_spent_before_the_first_request(rsps: responses.RequestsMock) -> None:
    forum = DiscourseForum(FORUM, budget=Budget({"forum": 0}))

    with pytest.raises(RateLimitedError, match="budget"):
        forum.thread(42)

    assert len(rsps.calls) == 0


def test_get_5xx_is_retried_then_succeeds(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    rsps.get(TOPIC, body="<html>502</html>", status=502, content_type="text/html")
    rsps.get(TOPIC, json=d_topic(42, 1), content_type=DISCOURSE_JSON)

    assert forum.thread(42).id == 42
    assert sleeps == [1.0]


def test_get_5xx_persisting_is_unavailable(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(TOPIC, body="busy", status=503, content_type="text/plain")

    with pytest.raises(UnavailableError) as info:
        forum.thread(42)

    assert info.value.status == 503
    assert len(rsps.calls) == 3  # 1 try + 2 transient retries


def test_connection_failure_is_unavailable(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(TOPIC, body=requests.ConnectionError("connection refused"))

    with pytest.raises(UnavailableError, match="unreachable"):
        forum.thread(42)


def test_url_without_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="forum.url"):
        DiscourseForum("forum.test").thread(1)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"post_stream": {}}', "application/json"),  # pydiscourse wants the exact charset
        ("<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html"),
        ("", "text/html"),  # pydiscourse returns None for empty non-JSON bodies
        ('{"post_stream": {"posts": [], ', DISCOURSE_JSON),  # truncated JSON
        ('{"id": 42, "title": "t"}', DISCOURSE_JSON),  # no post_stream
        (
            '{"id": 42, "title": "t", "post_stream": {"posts": [{"id": 1}], "stream": [1]}}',
            DISCOURSE_JSON,
        ),  # post without created_at / post_number
        ('["not", "an", "object"]', DISCOURSE_JSON),
    ],
)
def test_malformed_topic_is_a_payload_error(
    rsps: responses.RequestsMock, forum: DiscourseForum, body: str, content_type: str
) -> None:
    rsps.get(TOPIC, body=body, content_type=content_type)

    with pytest.raises(PayloadError):
        forum.thread(42)


def test_malformed_latest_posts_is_a_payload_error(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(f"{FORUM}/posts.json", json={"latest_posts": [{"id": 3}]}, content_type=DISCOURSE_JSON)

    with pytest.raises(PayloadError, match="/posts.json"):
        walk_stream(forum, None, max_pages=1)


@pytest.mark.parametrize("content_type", [DISCOURSE_JSON, "text/html"])
def test_latest_posts_not_found_is_a_wrong_forum_url(
    rsps: responses.RequestsMock, forum: DiscourseForum, content_type: str
) -> None:
    # Found walking the README: forum.url with a wrong path stopped as "Discourse: not found
    # (404): Not Found", exit 6 (unavailable), naming neither the setting nor the URL.
    rsps.get(f"{FORUM}/posts.json", status=404, body="Not Found", content_type=content_type)

    with pytest.raises(ConfigError, match=f"forum.url '{FORUM}' is not a Discourse site") as info:
        walk_stream(forum, None, max_pages=1)

    assert "home page" in (info.value.hint or "")


@pytest.mark.parametrize(("url", "home"), [
    ("https://forum.example.com/latest", "https://forum.example.com"),
    ("https://example.com/forum/c/docs/5", "https://example.com/forum"),
    ("https://forum.example.com/T/some-title/123", "https://forum.example.com"),
])
def test_a_forum_url_copied_from_a_page_names_the_home_page(
    rsps: responses.RequestsMock, url: str, home: str
) -> None:
    rsps.get(f"{url}/posts.json", status=404, body="Not Found", content_type="text/html")

    with pytest.raises(ConfigError, match="is not a Discourse site") as info:
        DiscourseForum(url).latest_posts(None)

    assert f"try forum.url = '{home}'" in (info.value.hint or "")


def test_a_forum_url_that_is_no_page_of_a_forum_gets_the_plain_hint(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(f"{FORUM}/posts.json", status=404, body="Not Found", content_type="text/html")
    with pytest.raises(ConfigError) as info:
        forum.latest_posts(None)
    assert "home page" in (info.value.hint or "") and "try forum.url" not in (info.value.hint or "")


def test_redirect_is_not_followed_and_names_the_target(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.get(TOPIC, status=301, headers={"Location": "https://forum.example.org/t/42.json"})

    with pytest.raises(PayloadError) as info:
        forum.thread(42)

    assert "forum.example.org" in str(info.value)
    assert "forum.url" in (info.value.hint or "")
    assert len(rsps.calls) == 1


# --- replies ------------------------------------------------------------------------------------


def test_reply_posts_the_form_and_returns_a_ref(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    created = fixture("discourse_created_post.json")
    created.update(id=7001, topic_id=42, post_number=13)
    rsps.post(REPLY, json=created, content_type=DISCOURSE_JSON)

    ref = forum.reply(42, "Thanks! Tracked in a docs issue.", reply_to_post_number=2)

    assert (ref.id, ref.topic_id, ref.number) == (7001, 42, 13)
    assert ref.url == f"{FORUM}/t/cache-key-per-branch/42/13"
    sent = str(rsps.calls[0].request.body)
    assert "topic_id=42" in sent
    assert "reply_to_post_number=2" in sent
    assert "raw=Thanks%21+Tracked" in sent


def test_reply_queued_for_approval_returns_a_queued_reply_not_a_post(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.post(REPLY, json=error("enqueued"), content_type=DISCOURSE_JSON)

    ref = forum.reply(42, "Thanks!")

    assert ref == QueuedReply(812, 42, f"{FORUM}/t/42")


@pytest.mark.parametrize(("status", "body"), [(422, "closed_topic"), (422, "unprocessable")])
def test_refused_reply_is_write_rejected(
    rsps: responses.RequestsMock, forum: DiscourseForum, status: int, body: str
) -> None:
    rsps.post(REPLY, json=error(body), status=status, content_type=DISCOURSE_JSON)

    with pytest.raises(WriteRejectedError) as info:
        forum.reply(42, "Thanks!")

    assert error(body)["errors"][0] in str(info.value)
    assert info.value.status == status


def test_reply_with_a_bad_key_is_an_auth_error(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.post(REPLY, json=error("bad_key"), status=401, content_type=DISCOURSE_JSON)

    with pytest.raises(AuthError):
        forum.reply(42, "Thanks!")


@pytest.mark.parametrize(
    "failure",
    [
        {"body": "oops", "status": 500, "content_type": "text/plain"},
        {"body": requests.ConnectionError("reset by peer")},
        {"body": requests.ReadTimeout("read timed out")},
    ],
)
def test_reply_is_never_retried(
    rsps: responses.RequestsMock, forum: DiscourseForum, failure: dict[str, Any]
) -> None:
    rsps.post(REPLY, **failure)

    with pytest.raises(UnavailableError):
        forum.reply(42, "Thanks!")

    assert len(rsps.calls) == 1


def test_reply_429_is_retried_because_nothing_was_written(
    rsps: responses.RequestsMock, forum: DiscourseForum, sleeps: list[float]
) -> None:
    created = fixture("discourse_created_post.json")
    created.update(id=7002, topic_id=42, post_number=14)
    rsps.post(REPLY, json=error("rate_limit_json"), status=429, content_type=DISCOURSE_JSON)
    rsps.post(REPLY, json=created, content_type=DISCOURSE_JSON)

    assert forum.reply(42, "Thanks!").id == 7002
    assert sleeps == [18.0]


def test_reply_body_not_json_is_a_payload_error(
    rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    rsps.post(REPLY, body="<html>ok?</html>", content_type="text/html")

    with pytest.raises(PayloadError):
        forum.reply(42, "Thanks!")
