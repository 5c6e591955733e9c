"""The sandbox answers `search=` on issues as GitLab's PostgreSQL full-text search does (words
and prefixes, English stems, long runs not indexed, tags unwrapped or, on older releases,
dropped whole), and on merge requests as its trigram `ILIKE` search does."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from docsgap.sandbox import SANDBOX_GITLAB_TOKEN, Sandbox
from docsgap.sandbox.gitlab.search import parse, query

TOKEN = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}
LONG_PATH = "doc/administration/geo/replication/troubleshooting/synchronization"


def api(sandbox: Sandbox, rest: str) -> str:
    return f"{sandbox.gitlab_url}/api/v4/projects/gitlab-org%2Fgitlab{rest}"


def open_issue(sandbox: Sandbox, title: str, description: str) -> int:
    made = requests.post(api(sandbox, "/issues"), headers=TOKEN, timeout=5,
                         json={"title": title, "description": description})
    assert made.status_code == 201, made.text
    iid: int = made.json()["iid"]
    return iid


def found(sandbox: Sandbox, search: str, **params: Any) -> set[int]:
    got = requests.get(api(sandbox, "/issues"), timeout=5, headers=TOKEN,
                       params={"search": search, "per_page": 100, **params})
    assert got.status_code == 200, got.text
    return {i["iid"] for i in got.json()}


@pytest.fixture
def issue(sandbox: Sandbox) -> int:
    return open_issue(
        sandbox, "Runner failures when configuring the cache",
        f"Forum thread t1011 says the page {LONG_PATH}.md is wrong.\n\n"
        "<!-- docsgap:key=issue:t1011:missing:ci/yaml -->\n")


def test_words_match_by_prefix_and_stem_not_inside_words(sandbox: Sandbox, issue: int) -> None:
    assert issue in found(sandbox, "failure")
    assert issue in found(sandbox, "fail")  # a prefix of the indexed word
    assert issue in found(sandbox, "configured caching")  # stems: configur, cach
    assert issue in found(sandbox, "t101")  # prefixes are supersets: t101 ~ t1011
    assert issue not in found(sandbox, "ailure")  # a substring is not a word
    assert issue not in found(sandbox, "failure zebra")  # every word must match


def test_runs_of_fifty_letters_digits_or_slashes_are_not_indexed(
        sandbox: Sandbox, issue: int) -> None:
    assert len(LONG_PATH) >= 50
    assert issue not in found(sandbox, LONG_PATH)
    assert issue not in found(sandbox, "troubleshooting")  # the whole run went
    assert issue in found(sandbox, "ci/yaml")  # a short path is one indexed word


def test_marker_found_by_its_words_only_where_tags_are_unwrapped(
        sandbox: Sandbox, issue: int) -> None:
    marker = "<!-- docsgap:key=issue:t1011:missing:ci/yaml -->"
    assert issue in found(sandbox, marker)
    assert issue in found(sandbox, marker.replace("t1011", "t10"))  # superset by prefix
    sandbox.gitlab.search_mode = "raw"  # older releases index the raw description
    assert issue not in found(sandbox, marker)
    assert issue in found(sandbox, "t1011")  # the visible text is still indexed


def test_in_title_searches_the_title_only(sandbox: Sandbox, issue: int) -> None:
    assert issue in found(sandbox, "runner", **{"in": "title"})
    assert issue not in found(sandbox, "forum", **{"in": "title"})
    assert issue in found(sandbox, "forum", **{"in": "description"})


def test_merge_request_search_is_ilike_with_all_words_in_one_field(sandbox: Sandbox) -> None:
    mrs = requests.get(api(sandbox, "/merge_requests"), timeout=5,
                       params={"state": "all", "per_page": 100}).json()
    mr = mrs[0]
    title_word = max(mr["title"].split(), key=len)
    inner = title_word[1:-1].lower()
    got = requests.get(api(sandbox, "/merge_requests"), timeout=5,
                       params={"state": "all", "search": inner, "per_page": 100}).json()
    assert mr["iid"] in {m["iid"] for m in got}  # ILIKE '%inner%'


def test_parser_and_query_follow_postgresql() -> None:
    # Checked against PostgreSQL 15's to_tsvector('english', ...) and to_tsquery.
    lexemes = [lex for lex, _ in parse("Missing docs for ci/yaml/_index.md at "
                                       "https://docs.gitlab.com/ci/ and e-mail")]
    assert lexemes == ["miss", "doc", None, "ci/yaml/_index.md", None,
                       "docs.gitlab.com/ci/", "docs.gitlab.com", "/ci/", None,
                       "e-mail", "e", "mail"]
    assert [lex for lex, _ in parse("<!-- docsgap:key=x --> a<b>c</b>")] == [None, "c"]
    assert query('missing "forum thread" 12 the') == [
        [(("miss", 0, True),)],
        [(("12", 0, True),), (("-12", 0, True),)],
        [(("forum", 0, False), ("thread", 1, False))],
    ]
