"""The sandbox forum answers as real Discourse does where a kinder answer would hide a docsgap
bug: deleted, hidden and withdrawn posts; read-restricted categories; granular API keys; the
posting rules (memo, `unique_posts_mins`, length, intervals, closed topics, whispers); 422s,
400 `invalid_parameters`, `/about.json`, `/posts/{id}.json` and serving from the root.
Raw HTTP with `requests`, so nothing in docsgap softens the answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from docsgap.sandbox import (
    SANDBOX_DISCOURSE_ADMIN_USERNAME,
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_DISCOURSE_GRANULAR_KEY,
    Sandbox,
)
from tests.sandbox.clock import Clock

BOT = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": SANDBOX_DISCOURSE_API_USERNAME}
ADMIN = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": SANDBOX_DISCOURSE_ADMIN_USERNAME}
GRANULAR = {"Api-Key": SANDBOX_DISCOURSE_GRANULAR_KEY,
            "Api-Username": SANDBOX_DISCOURSE_API_USERNAME}
REPLY = "Thanks, we opened a documentation issue for this page."


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def limited_server(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock, discourse_limits=True) as sandbox:
        yield sandbox


@pytest.fixture
def limited(limited_server: Sandbox) -> Sandbox:
    """A sandbox with every Discourse limit on and a clock the test moves."""
    limited_server.reset()
    return limited_server


def get(sandbox: Sandbox, path: str, headers: dict[str, str] | None = None) -> Any:
    return requests.get(f"{sandbox.forum_url}{path}", headers=headers or {}, timeout=5)


def post(sandbox: Sandbox, data: dict[str, Any], headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{sandbox.forum_url}/posts.json", data=data, headers=headers, timeout=5)


def post_id(sandbox: Sandbox, topic_id: int, number: int) -> int:
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == topic_id)
    return int(topic["posts"][number - 1]["id"])


# --- moderation states ---------------------------------------------------------------------


def test_deleted_posts_reach_staff_with_deleted_at_and_nobody_else(sandbox: Sandbox) -> None:
    deleted = post_id(sandbox, 1038, 2)
    view = get(sandbox, "/t/1038.json", ADMIN).json()
    # TopicView hides deleted replies from staff behind `has_deleted` ...
    assert view["has_deleted"] is True
    assert deleted not in view["post_stream"]["stream"]
    # ... but shows them on request, and by id, with deleted_at and the text.
    shown = get(sandbox, "/t/1038.json?show_deleted=true&include_raw=1", ADMIN).json()
    again = next(p for p in shown["post_stream"]["posts"] if p["id"] == deleted)
    assert again["deleted_at"] and "glrt-SANDBOX-LEAKED" in again["raw"]
    by_ids = get(sandbox, f"/t/1038/posts.json?post_ids[]={deleted}&include_raw=1", ADMIN)
    [one] = by_ids.json()["post_stream"]["posts"]
    assert one["deleted_at"] and one["deleted_by"]["username"] == "claire_mod"
    single = get(sandbox, f"/posts/{deleted}.json", ADMIN).json()
    assert single["deleted_at"] and "glrt-SANDBOX-LEAKED" in single["raw"]
    # A member and the public never see it.
    assert get(sandbox, f"/posts/{deleted}.json", BOT).status_code == 404
    member = get(sandbox, f"/t/1038/posts.json?post_ids[]={deleted}", BOT).json()
    assert member["post_stream"]["posts"] == []
    assert get(sandbox, "/t/1038.json", BOT).json()["has_deleted"] is False
    latest = get(sandbox, "/posts.json", ADMIN).json()["latest_posts"]
    assert deleted not in [p["id"] for p in latest]


def test_a_deleted_topic_is_readable_by_staff_only(sandbox: Sandbox) -> None:
    sandbox.moderate_post(post_id(sandbox, 1010, 1), "delete")
    staff = get(sandbox, "/t/1010.json?include_raw=1", ADMIN).json()
    assert staff["deleted_at"]
    assert staff["post_stream"]["posts"][0]["deleted_at"]
    assert get(sandbox, "/t/1010.json", BOT).status_code == 404
    assert 1010 not in [p["topic_id"] for p in get(sandbox, "/posts.json", ADMIN).json()[
        "latest_posts"]]


def test_hidden_posts_keep_their_text_for_staff_only(sandbox: Sandbox) -> None:
    hidden = post_id(sandbox, 1039, 2)
    staff = get(sandbox, f"/t/1039/posts.json?post_ids[]={hidden}&include_raw=1", ADMIN).json()
    [seen] = staff["post_stream"]["posts"]
    assert seen["hidden"] is True and "FLAGGED-HIDDEN" in seen["raw"]
    assert "cooked_hidden" not in seen
    member = get(sandbox, "/t/1039.json?include_raw=1", BOT).json()["post_stream"]["posts"][1]
    assert member["hidden"] is True and member["cooked_hidden"] is True
    assert "temporarily hidden" in member["cooked"] and "raw" not in member
    author = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": "marco_r"}
    own = get(sandbox, "/t/1039.json?include_raw=1", author).json()["post_stream"]["posts"][1]
    assert "see your messages" in own["cooked"] and "FLAGGED-HIDDEN" in own["raw"]
    # `/posts.json` lists visible posts only.
    assert hidden not in [p["id"] for p in get(sandbox, "/posts.json", ADMIN).json()[
        "latest_posts"]]


def test_withdrawn_posts_carry_user_deleted_and_lose_their_text(sandbox: Sandbox) -> None:
    withdrawn = post_id(sandbox, 1040, 2)
    for headers in (ADMIN, BOT, {}):
        post = get(sandbox, "/t/1040.json?include_raw=1", headers).json()[
            "post_stream"]["posts"][1]
        assert post["user_deleted"] is True
        assert post["raw"] == "(post deleted by author)"
    listed = get(sandbox, "/posts.json").json()["latest_posts"]
    assert withdrawn in [p["id"] for p in listed]  # still listed: not deleted yet


def test_read_restricted_categories_are_for_their_groups_and_admins(sandbox: Sandbox) -> None:
    def categories(headers: dict[str, str]) -> dict[int, bool]:
        body = get(sandbox, "/site.json", headers).json()
        return {c["id"]: c["read_restricted"] for c in body["categories"]}

    assert categories(ADMIN)[60] is True and categories(ADMIN)[61] is True
    assert 60 not in categories(BOT) and categories(BOT)[61] is True  # bot is in docs-team
    assert 61 not in categories({})
    moderator = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": "claire_mod"}
    assert 60 in categories(moderator) and 61 not in categories(moderator)
    assert get(sandbox, "/t/1041.json").status_code == 404
    assert get(sandbox, "/t/1041.json", BOT).status_code == 200
    nested = get(sandbox, "/categories.json?include_subcategories=true", ADMIN).json()
    assert {c["id"] for c in nested["category_list"]["categories"]} >= {60, 61}


# --- API keys, errors, site info -------------------------------------------------------------


def test_a_granular_key_reaches_only_what_its_scopes_name(sandbox: Sandbox) -> None:
    assert get(sandbox, "/t/1001.json", GRANULAR).status_code == 200
    assert get(sandbox, "/t/1001/posts.json?post_ids[]=1", GRANULAR).status_code == 200
    for path in ("/posts.json", "/session/current.json", "/site.json", "/about.json",
                 "/categories.json", "/u/docsgap-bot.json"):
        refused = get(sandbox, path, GRANULAR)
        assert refused.status_code == 403, path
        assert refused.json()["error_type"] == "invalid_access"
    assert post(sandbox, {"topic_id": 1001, "raw": REPLY}, GRANULAR).status_code == 200


def test_posting_in_a_closed_or_unknown_topic_is_a_422(sandbox: Sandbox) -> None:
    for topic_id in (1028, 999999):
        refused = post(sandbox, {"topic_id": topic_id, "raw": REPLY}, BOT)
        assert refused.status_code == 422
        body = refused.json()
        assert body["action"] == "create_post" and "error_type" not in body
        assert "closed or deleted" in body["errors"][0]
    # Admins may post in closed topics (and trust level 4 users, and moderators).
    assert post(sandbox, {"topic_id": 1028, "raw": REPLY}, ADMIN).status_code == 200
    leader = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": "claire_mod"}
    assert post(sandbox, {"topic_id": 1028, "raw": REPLY + " (2)"}, leader).status_code == 200


def test_members_may_not_whisper(sandbox: Sandbox) -> None:
    refused = post(sandbox, {"topic_id": 1001, "raw": REPLY, "whisper": "true"}, BOT)
    assert refused.status_code == 403
    assert refused.json()["error_type"] == "invalid_access"
    assert post(sandbox, {"topic_id": 1001, "raw": REPLY, "whisper": "true"},
                ADMIN).status_code == 200


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "per_page=0", "per_page=x"])
def test_bad_query_parameters_are_a_400_invalid_parameters(
    sandbox: Sandbox, query: str
) -> None:
    refused = get(sandbox, f"/latest.json?{query}")
    assert refused.status_code == 400
    assert refused.json()["error_type"] == "invalid_parameters"


def test_about_json_and_single_posts(sandbox: Sandbox) -> None:
    about = get(sandbox, "/about.json").json()["about"]
    assert about["title"] and about["version"]
    assert "claire_mod" in [u["username"] for u in about["moderators"]]
    first = post_id(sandbox, 1001, 1)
    single = get(sandbox, f"/posts/{first}.json").json()
    assert single["post_url"].startswith("/forum/t/rules-changes-example-from-the-docs")
    assert single["post_url"].endswith("/1001/1")
    assert single["posts_count"] == 4
    assert single["raw"]


def test_the_forum_can_be_served_from_the_root() -> None:
    with Sandbox(forum_path="") as sandbox:
        assert sandbox.forum_url == sandbox.base_url
        latest = requests.get(f"{sandbox.base_url}/posts.json", timeout=5).json()
        assert latest["latest_posts"][0]["post_url"].startswith("/t/")
        listing = requests.get(f"{sandbox.base_url}/latest.json", timeout=5).json()
        assert listing["topic_list"]["more_topics_url"].startswith("/latest?")
        assert requests.get(f"{sandbox.base_url}/forum/posts.json", timeout=5).status_code == 404
        issues = requests.get(f"{sandbox.gitlab_url}/api/v4/projects/1/issues", timeout=5)
        assert issues.status_code != 404 or "message" in issues.json()


# --- posting rules with the limits on -------------------------------------------------------


def test_same_body_returns_the_first_post_then_is_refused_as_too_similar(
    limited: Sandbox, clock: Clock
) -> None:
    first = post(limited, {"topic_id": 1001, "raw": REPLY}, BOT).json()
    clock.now += 30
    memo = post(limited, {"topic_id": 1001, "raw": REPLY}, BOT).json()
    assert memo["id"] == first["id"]  # the 120 s memo answers with the same post
    clock.now += 150  # past the memo, within unique_posts_mins (5 minutes)
    again = post(limited, {"topic_id": 1001, "raw": REPLY}, BOT)
    assert again.status_code == 422
    assert again.json()["errors"] == ["Body is too similar to what you posted recently"]
    clock.now += 300
    assert post(limited, {"topic_id": 1001, "raw": REPLY}, BOT).status_code == 200
    # Staff are exempt from the unique check.
    clock.now += 10
    post(limited, {"topic_id": 1002, "raw": REPLY}, ADMIN)
    clock.now += 200
    assert post(limited, {"topic_id": 1002, "raw": REPLY}, ADMIN).status_code == 200


def test_create_post_interval_and_the_admin_api_bucket(limited: Sandbox, clock: Clock) -> None:
    assert post(limited, {"topic_id": 1001, "raw": REPLY}, BOT).status_code == 200
    clock.now += 2
    limited_again = post(limited, {"topic_id": 1002, "raw": REPLY + "!"}, BOT)
    assert limited_again.status_code == 429
    assert "Discourse-Rate-Limit-Error-Code" not in limited_again.headers
    assert limited_again.json()["extras"] == {"wait_seconds": 3, "time_left": "a few seconds"}
    assert limited_again.json()["errors"] == [
        "You\u2019re replying a bit too quickly. Please wait a few seconds before trying again."]
    clock.now += 3
    assert post(limited, {"topic_id": 1002, "raw": REPLY + "!"}, BOT).status_code == 200
    newcomer = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": "marco_r"}  # TL0
    clock.now += 60
    assert post(limited, {"topic_id": 1003, "raw": REPLY}, newcomer).status_code == 200
    clock.now += 10
    assert post(limited, {"topic_id": 1004, "raw": REPLY + "?"}, newcomer).json()[
        "extras"]["wait_seconds"] == 20
    # Every keyed request shares one bucket of 60 a minute.
    clock.now += 120
    statuses = [get(limited, "/t/1001.json", BOT).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    assert get(limited, "/t/1001.json").status_code == 200  # anonymous: not that bucket
