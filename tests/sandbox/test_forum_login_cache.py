"""The sandbox forum as a `login_required` site (anonymous JSON is a 403 `not_logged_in`, the
session route excepted) and its anonymous cache (a topic, list or category answer kept for a
minute once asked twice, never for a keyed request)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from docsgap.errors import AuthError
from docsgap.forum.discourse import DiscourseForum
from docsgap.forum.discourse_http import LoginRequired
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    Sandbox,
    load_demo_data,
)
from tests.sandbox.clock import Clock

ADMIN = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": SANDBOX_DISCOURSE_API_USERNAME}
TOPIC = 1033


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture(scope="module")
def server(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock) as sandbox:
        yield sandbox


def get(sandbox: Sandbox, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{sandbox.forum_url}{path}", headers=headers, timeout=5)


def post_ids(response: requests.Response) -> list[int]:
    data: dict[str, Any] = response.json()
    return [int(p["id"]) for p in data["post_stream"]["posts"]]


# --- login_required ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/posts.json", "/latest.json", "/categories.json",
                                  "/site.json", "/about.json", "/u/docsgap-bot.json",
                                  f"/t/{TOPIC}/posts.json?post_ids[]=1", "/posts/5001.json"])
def test_login_required_refuses_anonymous_json_with_403_not_logged_in(
        sandbox: Sandbox, path: str) -> None:
    sandbox.forum_settings.login_required = True
    response = get(sandbox, path)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"errors": ["You need to be logged in to do that."],
                               "error_type": "not_logged_in"}
    assert get(sandbox, path, **ADMIN).status_code in (200, 404)


def test_the_topic_view_refusal_carries_its_error_page_in_extras(sandbox: Sandbox) -> None:
    sandbox.forum_settings.login_required = True
    body = get(sandbox, f"/t/{TOPIC}/1.json").json()
    assert body["error_type"] == "not_logged_in"
    assert set(body["extras"]) == {"title", "html", "group"}
    assert post_ids(get(sandbox, f"/t/{TOPIC}/1.json", **ADMIN))


def test_login_required_keeps_the_session_route_and_unknown_routes(sandbox: Sandbox) -> None:
    sandbox.forum_settings.login_required = True
    session = get(sandbox, "/session/current.json")
    assert (session.status_code, session.content) == (404, b"")
    assert get(sandbox, "/no/such/route.json").status_code == 404
    refused = requests.post(f"{sandbox.forum_url}/posts.json", timeout=5,
                            data={"topic_id": TOPIC, "raw": "x" * 30})
    assert refused.status_code == 403 and refused.json()["error_type"] == "not_logged_in"


def test_a_wrong_key_is_still_invalid_access_on_a_login_required_site(
        sandbox: Sandbox) -> None:
    sandbox.forum_settings.login_required = True
    response = get(sandbox, "/latest.json", **{"Api-Key": "wrong", "Api-Username": "x"})
    assert response.status_code == 403
    assert response.json()["error_type"] == "invalid_access"


def test_login_required_from_the_seed_and_the_sandbox_option(sandbox: Sandbox) -> None:
    data = load_demo_data()
    data["forum"]["settings"] = {"login_required": True}
    with Sandbox(data) as seeded, Sandbox(login_required=True) as option:
        for site in (seeded, option):
            assert get(site, "/latest.json").status_code == 403
            assert get(site, "/latest.json", **ADMIN).status_code == 200
            site.reset()
            assert get(site, "/latest.json").status_code == 403
    assert get(sandbox, "/latest.json").status_code == 200  # off by default


# --- the anonymous cache -----------------------------------------------------------------


def cache_on(sandbox: Sandbox, threshold: int = 2) -> None:
    sandbox.forum_settings.anon_cache_seconds = 60.0
    sandbox.forum_settings.anon_cache_store_threshold = threshold


def add_reply(sandbox: Sandbox) -> int:
    return int(sandbox.add_post(TOPIC, "A reply written after the page was cached.",
                                username=SANDBOX_DISCOURSE_API_USERNAME)["id"])


def test_an_anonymous_topic_read_after_a_write_can_be_a_minute_stale(
        sandbox: Sandbox, clock: Clock) -> None:
    cache_on(sandbox)
    path = f"/t/{TOPIC}/1.json?include_raw=true"
    first, second = get(sandbox, path), get(sandbox, path)
    assert first.headers["X-Discourse-Cached"] == "skip"  # asked once: not stored
    assert second.headers["X-Discourse-Cached"] == "store"
    new = add_reply(sandbox)

    stale = get(sandbox, path)
    assert stale.headers["X-Discourse-Cached"] == "true"
    assert [e["cached"] for e in sandbox.requests_log()] == [False, False, True]
    assert new not in post_ids(stale) and new not in stale.json()["post_stream"]["stream"]
    keyed = get(sandbox, path, **ADMIN)  # an API key bypasses the cache
    assert "X-Discourse-Cached" not in keyed.headers and new in post_ids(keyed)
    other = get(sandbox, f"/t/{TOPIC}/1.json")  # another URI is another key
    assert new in post_ids(other)

    clock.now += 59
    assert new not in post_ids(get(sandbox, path))
    clock.now += 2
    fresh = get(sandbox, path)
    assert new in post_ids(fresh) and fresh.headers["X-Discourse-Cached"] == "skip"


def test_a_threshold_of_one_stores_the_first_answer(sandbox: Sandbox) -> None:
    cache_on(sandbox, threshold=1)
    assert get(sandbox, "/latest.json").headers["X-Discourse-Cached"] == "store"
    assert get(sandbox, "/latest.json").headers["X-Discourse-Cached"] == "true"


@pytest.mark.parametrize("path", ["/posts.json", f"/t/{TOPIC}/posts.json?post_number=1&asc=true",
                                  "/posts/5001.json", "/site.json"])
def test_actions_without_discourse_expires_in_are_never_cached(
        sandbox: Sandbox, path: str) -> None:
    cache_on(sandbox, threshold=1)
    get(sandbox, path)
    assert "X-Discourse-Cached" not in get(sandbox, path).headers


def test_errors_and_a_cache_of_zero_seconds_store_nothing(sandbox: Sandbox) -> None:
    cache_on(sandbox, threshold=1)
    assert get(sandbox, "/t/99999/1.json").status_code == 404
    assert "X-Discourse-Cached" not in get(sandbox, "/t/99999/1.json").headers
    sandbox.forum_settings.anon_cache_seconds = 0
    get(sandbox, "/latest.json")
    assert "X-Discourse-Cached" not in get(sandbox, "/latest.json").headers


def test_reset_forgets_the_cache(sandbox: Sandbox) -> None:
    cache_on(sandbox, threshold=1)
    get(sandbox, f"/t/{TOPIC}/1.json")
    sandbox.reset()
    cache_on(sandbox, threshold=1)
    assert get(sandbox, f"/t/{TOPIC}/1.json").headers["X-Discourse-Cached"] == "store"


def test_discourse_limits_turn_the_one_minute_cache_on() -> None:
    with Sandbox(discourse_limits=True) as limited:
        assert limited.forum_settings.anon_cache_seconds == 60.0
        assert limited.forum_settings.anon_cache_store_threshold == 2


# --- what the forum adapter makes of it --------------------------------------------------


def test_only_not_logged_in_reads_as_a_login_required_forum(sandbox: Sandbox) -> None:
    """An anonymous read refused for another reason (here Discourse's `invalid_access`) stays
    a plain refusal; `not_logged_in` names the forum and says to set the key."""
    public = DiscourseForum(sandbox.forum_url, timeout=5)
    sandbox.add_fault("forum", status=403, path_regex=r"^/t/")
    with pytest.raises(AuthError) as refused:
        public.read_topic(TOPIC, public=True)
    assert not isinstance(refused.value, LoginRequired)
    sandbox.forum_settings.login_required = True
    with pytest.raises(LoginRequired) as closed:
        public.read_topic(TOPIC, public=True)
    assert "requires login" in str(closed.value)
    assert closed.value.hint and "DOCSGAP_DISCOURSE_API_KEY" in closed.value.hint
