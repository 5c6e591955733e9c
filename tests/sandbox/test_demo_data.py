"""The shipped demo seed covers what the demo and the tests rely on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from docsgap.sandbox import (
    SANDBOX_CI_JOB_TOKEN,
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_GITLAB_READONLY_TOKEN,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    load_demo_data,
)

DOCS_LINK = re.compile(r"https://docs\.gitlab\.com/\S+")


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return load_demo_data()


def texts(topic: dict[str, Any]) -> str:
    return "\n".join(p["raw"] for p in topic["posts"])


def test_forum_shape(demo: dict[str, Any]) -> None:
    topics = demo["forum"]["topics"]
    assert len(topics) >= 30
    assert len({t["id"] for t in topics}) == len(topics)
    assert sum(len(t["posts"]) > 20 for t in topics) >= 2
    assert any(t.get("closed") for t in topics)
    assert any("docsgap-ignore" in t.get("tags", []) for t in topics)
    assert any(t.get("pinned") for t in topics)
    assert any(t.get("accepted_answer") for t in topics)
    users = {u["username"] for u in demo["forum"]["users"]}
    assert all(p["user"] in users for t in topics for p in t["posts"])
    assert demo["forum"]["api_keys"][0]["key"] == SANDBOX_DISCOURSE_API_KEY


def test_docs_links_come_in_every_historical_form(demo: dict[str, Any]) -> None:
    links = {m.group(0).rstrip(".,)") for t in demo["forum"]["topics"]
             for m in DOCS_LINK.finditer(texts(t))}
    assert any("/ee/" in u for u in links)
    assert any(re.search(r"docs\.gitlab\.com/\d+\.\d+/", u) for u in links)
    assert any(u.endswith(".html") or ".html#" in u for u in links)
    assert any("#" in u and "/ee/" not in u for u in links)
    assert len(links) >= 25


def test_a_thread_already_links_an_existing_issue(demo: dict[str, Any]) -> None:
    iids = {i["iid"] for p in demo["gitlab"]["projects"] for i in p["issues"]}
    issue_url = re.compile(r"\{\{gitlab_url\}\}/gitlab-org/gitlab/-/issues/(\d+)")
    linked = [int(m.group(1)) for t in demo["forum"]["topics"]
              for m in issue_url.finditer(texts(t))]
    assert linked
    assert set(linked) <= iids


def test_gitlab_shape(demo: dict[str, Any]) -> None:
    project = demo["gitlab"]["projects"][0]
    assert project["path_with_namespace"] == SANDBOX_PROJECT
    docs = [i for i in project["issues"] if "documentation" in i["labels"]]
    assert len(docs) >= 15
    assert any(i["state"] == "closed" and "won't do" in i["labels"] for i in docs)
    assert any(i["state"] == "closed" and not {"won't do", "duplicate"} & set(i["labels"])
               for i in docs)
    assert any("documentation" not in i["labels"] for i in project["issues"])
    mrs = project["merge_requests"]
    assert sum(m["state"] == "opened" and "documentation" in m["labels"] for m in mrs) >= 2
    branches = {b["name"] for b in project["branches"]}
    assert all(m["source_branch"] in branches for m in mrs if m["state"] == "opened")
    assert sum(path.startswith("doc/") for path in project["files"]) >= 5
    tokens = {t["token"] for t in demo["gitlab"]["tokens"]}
    assert {SANDBOX_GITLAB_TOKEN, SANDBOX_GITLAB_READONLY_TOKEN, SANDBOX_CI_JOB_TOKEN} <= tokens


def test_some_threads_duplicate_existing_issues_by_page(demo: dict[str, Any]) -> None:
    issue_pages = {m.group(0).split("#")[0].rstrip("/.")
                   for i in demo["gitlab"]["projects"][0]["issues"]
                   for m in DOCS_LINK.finditer(i["description"])}
    thread_pages = {m.group(0).split("#")[0].rstrip("/.")
                    for t in demo["forum"]["topics"] for m in DOCS_LINK.finditer(texts(t))}
    assert len(issue_pages & thread_pages) >= 5
