"""GitLabTracker reads over `responses`: Link pagination, keyset fallback, marker search, notes,
files, and the error mapping for reads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

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
)
from docsgap.tracker.gitlab import GitLabTracker
from docsgap.tracker.interface import Tracker
from tests.adapters.conftest import (
    API,
    GITLAB,
    PROJECT,
    fixture,
    gl_issue,
    gl_mr,
    gl_note,
    path,
    query,
)

ISSUES = f"{API}/issues"
MRS = f"{API}/merge_requests"


def link(url: str, cursor: str) -> dict[str, str]:
    return {"Link": f'<{url}?cursor={cursor}&per_page=100>; rel="next"'}


def test_adapter_conforms_to_the_protocol(tracker: GitLabTracker) -> None:
    conforming: Tracker = tracker
    assert conforming.project == PROJECT


def test_doc_items_follows_link_pages_with_keyset_then_lists_mrs(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(ISSUES, json=[gl_issue(i) for i in range(1, 101)], headers=link(ISSUES, "a"))
    rsps.get(ISSUES, json=[gl_issue(i) for i in range(101, 201)], headers=link(ISSUES, "b"))
    rsps.get(ISSUES, json=[gl_issue(i) for i in range(201, 251)])
    rsps.get(MRS, json=[gl_mr(7, state="merged", merged_at="2025-02-07T10:00:00Z")])

    since = datetime(2025, 1, 31, 23, 0, tzinfo=timezone(timedelta(hours=-1)))
    items = list(tracker.doc_items(since))

    assert [i.iid for i in items[:250]] == list(range(1, 251))
    assert items[-1].kind == "merge_request"
    assert items[-1].state == "merged"
    assert items[-1].closed_at == datetime(2025, 2, 7, 10, 0, tzinfo=UTC)
    assert all(i.project == PROJECT for i in items)
    assert items[0].updated_at == datetime(2025, 2, 4, 10, 11, 12, 131000, tzinfo=UTC)
    first, second, _, mrs = rsps.calls
    assert path(first) == "/gitlab/api/v4/projects/docs-team%2Fhandbook/issues"
    assert query(first) == {
        "labels": ["documentation"],
        "order_by": ["updated_at"],
        "sort": ["asc"],
        "updated_after": ["2025-02-01T00:00:00Z"],
        "pagination": ["keyset"],
        "per_page": ["100"],
    }
    assert query(second)["cursor"] == ["a"]
    assert query(mrs)["state"] == ["all"]
    assert query(mrs)["labels"] == ["documentation"]
    assert tracker.requests_made == 4


def test_keyset_refused_falls_back_to_offset_once(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(ISSUES, json=fixture("gitlab_misc.json", "keyset_refused_405"), status=405)
    rsps.get(ISSUES, json=[gl_issue(1)], headers={"Link": f'<{ISSUES}?page=2>; rel="next"'})
    rsps.get(ISSUES, json=[gl_issue(2)])
    rsps.get(MRS, json=[])

    assert [i.iid for i in tracker.doc_items(None)] == [1, 2]
    assert [i.iid for i in tracker.doc_items(None)] == [2]  # remembered: straight to offset

    assert "pagination" in query(rsps.calls[0])
    assert "pagination" not in query(rsps.calls[1])
    assert "updated_after" not in query(rsps.calls[1])


def test_offset_cap_is_unavailable_with_a_keyset_hint(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=fixture("gitlab_misc.json", "offset_cap_405"), status=405)
    rsps.get(ISSUES, json=[gl_issue(1)])

    with pytest.raises(UnavailableError) as info:
        list(tracker.doc_items(None))

    assert "keyset" in (info.value.hint or "")


def test_get_item_uses_the_prefixed_api_and_the_token(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(f"{MRS}/12", json=gl_mr(12, labels=[{"id": 1, "name": "documentation"}]))

    item = tracker.get_item("merge_request", 12)

    assert item.ref == f"{PROJECT}!12"
    assert item.labels == ("documentation",)
    assert rsps.calls[0].request.headers["PRIVATE-TOKEN"] == "glpat-tests"


@pytest.mark.parametrize(("link", "expected"), [
    ("https://gitlab.test/api/v4/projects/4711/issues/3", 3),  # same project, by id
    (f"https://gitlab.test/api/v4/projects/{PROJECT.replace('/', '%2F')}/issues/3", 3),
    ("https://gitlab.test/api/v4/projects/99/issues/3", None),  # another project's issue
    (None, None),
])
def test_closed_as_duplicate_of_becomes_the_original_web_url(
    rsps: responses.RequestsMock, tracker: GitLabTracker, link: str | None, expected: int | None
) -> None:
    issue = gl_issue(9, state="closed", project_id=4711)
    issue["_links"]["closed_as_duplicate_of"] = link
    rsps.get(f"{ISSUES}/9", json=issue)

    item = tracker.get_item("issue", 9)

    assert item.duplicate_of == (f"{GITLAB}/{PROJECT}/-/issues/{expected}" if expected else None)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (None, False),
                                               ("true", False)])
def test_confidential_is_read_from_the_issue(
    rsps: responses.RequestsMock, tracker: GitLabTracker, value: object, expected: bool
) -> None:
    issue = gl_issue(9)
    issue["confidential"] = value
    rsps.get(f"{ISSUES}/9", json=issue)

    assert tracker.get_item("issue", 9).confidential is expected


def test_anonymous_tracker_sends_no_token(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{ISSUES}/3", json=gl_issue(3))

    GitLabTracker(GITLAB, PROJECT).get_item("issue", 3)

    assert "PRIVATE-TOKEN" not in rsps.calls[0].request.headers


def test_marker_lookup_lists_own_issues_once_and_never_searches(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    marker = "<!-- docsgap:key=t42:missing:ab12 -->"
    rsps.get(f"{GITLAB}/api/v4/user", json={"id": 7, "username": "docsgap-bot"})
    rsps.get(
        ISSUES,
        json=[
            gl_issue(5, description="docsgap key t42 missing"),  # words alike, no marker
            gl_issue(6, description=f"Body.\n\n{marker}\n"),
        ],
    )

    found = tracker.find_issue_with_marker(marker)
    again = tracker.find_issue_with_marker("<!-- docsgap:key=other -->")

    assert found is not None and found.iid == 6
    assert again is None
    listings = [c for c in rsps.calls if "/issues" in c.request.url]
    assert len(listings) == 1  # answered from the one listing afterwards
    params = query(listings[0])
    assert params["author_username"] == ["docsgap-bot"]
    assert "search" not in params


def test_marker_lookup_without_a_real_match_is_none(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(f"{GITLAB}/api/v4/user", json={"id": 7, "username": "docsgap-bot"})
    rsps.get(ISSUES, json=[gl_issue(5, description="something close"), gl_issue(9)])
    assert tracker.find_issue_with_marker("<!-- docsgap:key=zz -->") is None


def test_notes_are_all_read_and_sorted_oldest_first(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    notes_url = f"{ISSUES}/12/notes"
    rsps.get(f"{GITLAB}/api/v4/user", json={"id": 7, "username": "docsgap-bot"})
    bot = {"id": 7, "username": "Docsgap-Bot"}
    rsps.get(
        notes_url,
        json=[
            gl_note(3, "third", created_at="2025-02-08T00:00:00Z", author=bot),
            gl_note(1, "first", created_at="2025-02-06T00:00:00Z", system=True,
                    author={"id": 9, "username": "akelly"}),
        ],
        headers=link(notes_url, "n2"),
    )
    rsps.get(notes_url, json=[gl_note(2, "second", created_at="2025-02-07T00:00:00Z",
                                      author="not an object")])

    notes = tracker.notes("issue", 12)

    assert [n.body for n in notes] == ["first", "second", "third"]
    assert notes[0].system is True
    assert notes[1].system is False
    # Only the token user's notes are `own` (their markers count; anyone can copy one).
    assert [n.own for n in notes] == [False, False, True]
    assert query(rsps.calls[1])["sort"] == ["asc"]
    assert query(rsps.calls[1])["order_by"] == ["created_at"]


def test_read_file_decodes_and_defaults_to_head(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    text = "# Caching\n\nKeys are per branch — unless you set `key`.\n"
    body = fixture("gitlab_misc.json", "file")
    body["content"] = base64.b64encode(text.encode()).decode()
    rsps.get(f"{API}/repository/files/doc%2Fci%2Fcaching.md", json=body)

    assert tracker.read_file("doc/ci/caching.md") == text
    assert query(rsps.calls[0])["ref"] == ["HEAD"]


def test_missing_file_is_not_found(rsps: responses.RequestsMock, tracker: GitLabTracker) -> None:
    rsps.get(
        f"{API}/repository/files/doc%2Fnope.md",
        json=fixture("gitlab_misc.json", "file_not_found"),
        status=404,
    )

    with pytest.raises(NotFoundError):
        tracker.read_file("doc/nope.md", "main")


@pytest.mark.parametrize(
    ("status", "key", "expected", "hint"),
    [
        (401, "unauthorized", AuthError, "DOCSGAP_GITLAB_TOKEN"),
        (403, "forbidden", AuthError, "permission"),
        (404, "project_not_found", NotFoundError, "gitlab.project"),
    ],
)
def test_read_errors_map_to_docsgap_errors(
    rsps: responses.RequestsMock,
    tracker: GitLabTracker,
    status: int,
    key: str,
    expected: type[Exception],
    hint: str,
) -> None:
    rsps.get(ISSUES, json=fixture("gitlab_misc.json", key), status=status)

    with pytest.raises(expected) as info:
        list(tracker.doc_items(None))

    assert hint in (getattr(info.value, "hint", None) or "")
    assert len(rsps.calls) == 1


def test_429_retry_after_then_success(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.get(
        f"{ISSUES}/4",
        body="Retry later\n",
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "30", "RateLimit-Name": "throttle_authenticated_api"},
    )
    rsps.get(
        f"{ISSUES}/4",
        json=fixture("gitlab_misc.json", "app_limiter_429"),
        status=429,
        headers={"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
    )
    rsps.get(f"{ISSUES}/4", json=gl_issue(4))

    assert tracker.get_item("issue", 4).iid == 4
    assert gl_sleeps == [30, 0]  # an HTTP-date hint no longer crashes python-gitlab
    assert tracker.requests_made == 3


def test_429_exhausted_is_rate_limited(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.get(
        f"{ISSUES}/4",
        body="Retry later\n",
        status=429,
        content_type="text/plain",
        headers={"Retry-After": "2"},
    )

    with pytest.raises(RateLimitedError) as info:
        tracker.get_item("issue", 4)

    assert info.value.retry_after == 2
    assert len(rsps.calls) == 6  # 1 try + max_retries (5)
    assert gl_sleeps == [2] * 5


def test_429_longer_than_the_run_may_wait_stops_at_once(
    rsps: responses.RequestsMock, gl_sleeps: list[float]
) -> None:
    tracker = GitLabTracker(GITLAB, PROJECT, max_wait=60)
    rsps.get(f"{ISSUES}/4", body="Retry later\n", status=429, headers={"Retry-After": "3600"})

    with pytest.raises(RateLimitedError, match="exceed"):
        tracker.get_item("issue", 4)

    assert gl_sleeps == []
    assert len(rsps.calls) == 1


def test_budget_stops_pagination_before_sending(
    rsps: responses.RequestsMock, gl_sleeps: list[float]
) -> None:
    budget = Budget({"gitlab": 2})
    tracker = GitLabTracker(GITLAB, PROJECT, budget=budget)
    rsps.get(ISSUES, json=[gl_issue(1)], headers=link(ISSUES, "a"))
    rsps.get(ISSUES, json=[gl_issue(2)], headers=link(ISSUES, "b"))
    rsps.get(ISSUES, json=[gl_issue(3)])

    items = tracker.doc_items(None)
    seen = [next(items).iid, next(items).iid]
    with pytest.raises(RateLimitedError, match="budget"):
        next(items)

    assert seen == [1, 2]
    assert len(rsps.calls) == 2


def test_get_5xx_is_retried(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.get(f"{ISSUES}/4", body="<html>502 Bad Gateway</html>", status=502)
    rsps.get(f"{ISSUES}/4", body=requests.ConnectionError("reset"))
    rsps.get(f"{ISSUES}/4", json=gl_issue(4))

    assert tracker.get_item("issue", 4).iid == 4
    assert len(rsps.calls) == 3
    assert len(gl_sleeps) == 2


def test_get_5xx_persisting_is_unavailable(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.get(f"{ISSUES}/4", body="down", status=503)

    with pytest.raises(UnavailableError) as info:
        tracker.get_item("issue", 4)

    assert info.value.status == 503
    assert len(rsps.calls) == 6


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "text/html"),
        ('{"iid": 4, "title": "no state or web_url"}', "application/json"),
        ('{"iid": "four", "title": "t", "state": "opened", "web_url": "u"}', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('{"iid": 4', "application/json"),
    ],
)
def test_malformed_item_is_a_payload_error(
    rsps: responses.RequestsMock, tracker: GitLabTracker, body: str, content_type: str
) -> None:
    rsps.get(f"{ISSUES}/4", body=body, content_type=content_type)

    with pytest.raises(PayloadError):
        tracker.get_item("issue", 4)


@pytest.mark.parametrize(
    "body", ['{"message": "not a list"}', "<html>login</html>", '[{"iid": 1}]', "[1, 2]"]
)
def test_malformed_list_is_a_payload_error(
    rsps: responses.RequestsMock, tracker: GitLabTracker, body: str
) -> None:
    rsps.get(ISSUES, body=body, content_type="application/json")

    with pytest.raises(PayloadError):
        list(tracker.doc_items(None))


def test_from_python_gitlab_config(
    rsps: responses.RequestsMock, tmp_path: Path, gl_sleeps: list[float]
) -> None:
    cfg = tmp_path / "python-gitlab.cfg"
    cfg.write_text(
        "[global]\ndefault = sandbox\nretry_transient_errors = true\n\n"
        f"[sandbox]\nurl = {GITLAB}\nprivate_token = glpat-from-cfg\npagination = keyset\n"
    )
    budget = Budget()
    tracker = GitLabTracker.from_python_gitlab_config(
        None, PROJECT, config_files=[str(cfg)], budget=budget
    )
    rsps.get(f"{GITLAB}/api/v4/user", json={"id": 7, "username": "docsgap-bot"})
    rsps.get(f"{ISSUES}/12/notes", json=[gl_note(1, "hi")])
    rsps.post(f"{ISSUES}/12/notes", body="busy", status=503)

    assert [n.body for n in tracker.notes("issue", 12)] == ["hi"]
    assert "pagination" not in query(rsps.calls[1])  # notes have no keyset
    assert rsps.calls[1].request.headers["PRIVATE-TOKEN"] == "glpat-from-cfg"
    with pytest.raises(UnavailableError):
        tracker.add_note("issue", 12, "x")
    assert len(rsps.calls) == 3  # the config's retry_transient_errors does not reach POSTs
    assert budget.used["gitlab"] == 3


def test_python_gitlab_config_errors_are_config_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "python-gitlab.cfg"
    cfg.write_text("[global]\ndefault = other\n")

    with pytest.raises(ConfigError, match="python-gitlab"):
        GitLabTracker.from_python_gitlab_config("missing", PROJECT, config_files=[str(cfg)])


def test_unknown_token_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="token_kind"):
        GitLabTracker(GITLAB, PROJECT, token="t", token_kind="deploy")
