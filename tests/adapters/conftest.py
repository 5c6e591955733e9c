"""Fixtures for the adapter tests: payload builders from tests/adapters/fixtures, a `responses`
mock, and both adapters pointed at base URLs with a path prefix (as the sandbox serves them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from docsgap.budget import Budget
from docsgap.forum.discourse import DiscourseForum
from docsgap.tracker.gitlab import GitLabTracker

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORUM = "http://forum.test/forum"
GITLAB = "http://gitlab.test/gitlab"
PROJECT = "docs-team/handbook"
API = f"{GITLAB}/api/v4/projects/docs-team%2Fhandbook"
DISCOURSE_JSON = "application/json; charset=utf-8"


@cache
def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture(name: str, key: str | None = None) -> Any:
    """A fresh copy of a fixture file (or of one key of it)."""
    data = _load(name)
    return copy.deepcopy(data[key] if key else data)


def fixture_dict(name: str, key: str | None = None) -> dict[str, Any]:
    """`fixture` when the value is a JSON object."""
    data = fixture(name, key)
    assert isinstance(data, dict)
    return data


# --- Discourse payloads -------------------------------------------------------------------------


def d_post(post_id: int, topic_id: int, number: int, **over: Any) -> dict[str, Any]:
    """A post as `/t/{id}.json`, `/t/{id}/posts.json` and `/posts.json` return it."""
    post = fixture_dict("discourse_post.json")
    post.update(id=post_id, topic_id=topic_id, post_number=number)
    post["raw"] = f"post {number} of topic {topic_id}"
    post.update(over)
    return post


def d_latest(ids_and_topics: list[tuple[int, int]], **over: Any) -> dict[str, Any]:
    """A `/posts.json` page: (post id, topic id) pairs, newest first."""
    posts = []
    for post_id, topic_id in ids_and_topics:
        post = d_post(post_id, topic_id, 1, topic_title=f"Topic {topic_id}", category_id=39)
        post.update(excerpt="…", truncated=False, post_url=f"/t/t{topic_id}/{topic_id}/1")
        post.update(over)
        posts.append(post)
    return {"latest_posts": posts}


def d_topic(
    topic_id: int, n_posts: int, *, first_id: int = 1000, shown: int = 20, **over: Any
) -> dict[str, Any]:
    """`/t/{id}.json`: `shown` posts in `post_stream.posts`, every id in `stream`."""
    topic = fixture_dict("discourse_topic.json")
    ids = [first_id + i for i in range(n_posts)]
    topic["post_stream"] = {
        "posts": [d_post(ids[i], topic_id, i + 1) for i in range(min(shown, n_posts))],
        "stream": ids,
    }
    topic.update(id=topic_id, posts_count=n_posts, highest_post_number=n_posts)
    topic.update(over)
    return topic


def d_posts(topic_id: int, ids: list[int], first_id: int = 1000) -> dict[str, Any]:
    """`/t/{id}/posts.json` for the given post ids (post_number follows the id)."""
    posts = [d_post(i, topic_id, i - first_id + 1) for i in ids]
    return {"post_stream": {"posts": posts}, "id": topic_id}


# --- GitLab payloads ----------------------------------------------------------------------------


def gl_issue(iid: int, **over: Any) -> dict[str, Any]:
    """An issue of PROJECT."""
    issue = fixture_dict("gitlab_issue.json")
    issue.update(id=880000 + iid, iid=iid, web_url=f"{GITLAB}/{PROJECT}/-/issues/{iid}")
    issue["references"] = {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{PROJECT}#{iid}"}
    issue.update(over)
    return issue


def gl_mr(iid: int, **over: Any) -> dict[str, Any]:
    """A merge request of PROJECT."""
    mr = fixture_dict("gitlab_merge_request.json")
    mr.update(id=990000 + iid, iid=iid, reference=f"!{iid}")
    mr["web_url"] = f"{GITLAB}/{PROJECT}/-/merge_requests/{iid}"
    mr["references"] = {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{PROJECT}!{iid}"}
    mr.update(over)
    return mr


def gl_note(note_id: int, body: str, **over: Any) -> dict[str, Any]:
    """A note on an issue of PROJECT."""
    note = fixture_dict("gitlab_note.json")
    note.update(id=note_id, body=body)
    note.update(over)
    return note


def query(call: Any) -> dict[str, list[str]]:
    """The query string of a recorded `responses` call."""
    return parse_qs(urlsplit(call.request.url).query)


def path(call: Any) -> str:
    """The (still percent-encoded) path of a recorded call."""
    return str(urlsplit(call.request.url).path)


# --- fixtures ------------------------------------------------------------------------------------


CATEGORIES = f"{FORUM}/categories.json"
PUBLIC_CATEGORIES = {"category_list": {"categories": [
    {"id": 39, "name": "Community", "read_restricted": False, "subcategory_list": [
        {"id": 40, "name": "Show and tell", "read_restricted": False}]},
    {"id": 60, "name": "Staff", "read_restricted": True},
]}}
"""What `/categories.json?include_subcategories=true` says; the adapter reads it once."""


def without_categories(calls: Any) -> list[Any]:
    """Recorded calls other than the adapter's one category-list read."""
    return [c for c in calls if path(c) != "/forum/categories.json"]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every HTTP request must be mocked; unused mocks are fine (error paths skip some). The
    category list is mocked for every test (the fixture topics are in public category 39)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CATEGORIES, json=PUBLIC_CATEGORIES, content_type=DISCOURSE_JSON)
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    """Seconds the adapters asked to sleep (nothing really sleeps)."""
    return []


@pytest.fixture
def budget() -> Budget:
    """An unlimited budget that still counts requests."""
    return Budget()


@pytest.fixture
def forum(sleeps: list[float], budget: Budget) -> DiscourseForum:
    """An authenticated adapter on a Discourse served under a path prefix."""
    return DiscourseForum(FORUM, "docsgap-bot", "k3y-for-tests", budget=budget, sleep=sleeps.append)


@pytest.fixture
def gl_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """python-gitlab's retry sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("gitlab.utils.time.sleep", recorded.append)
    return recorded


@pytest.fixture
def tracker(gl_sleeps: list[float], budget: Budget) -> GitLabTracker:
    """A token-authenticated adapter on a GitLab served under a path prefix."""
    return GitLabTracker(GITLAB, PROJECT, token="glpat-tests", budget=budget)
