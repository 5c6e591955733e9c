"""GitLabTracker writes over `responses`: issues, notes, draft MRs (and their idempotent rerun),
and that a POST/PUT is never retried."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
import requests
import responses

from docsgap.errors import (
    AuthError,
    PayloadError,
    RateLimitedError,
    UnavailableError,
    WriteRejectedError,
)
from docsgap.models import IssueDraft, MergeRequestDraft
from docsgap.tracker.gitlab import GitLabTracker
from tests.adapters.conftest import (
    API,
    PROJECT,
    fixture,
    fixture_dict,
    gl_issue,
    gl_mr,
    gl_note,
    query,
)

ISSUES = f"{API}/issues"
MRS = f"{API}/merge_requests"
BRANCH = "docsgap/cache-key"
BRANCH_URL = f"{API}/repository/branches/docsgap%2Fcache-key"
FILE_URL = f"{API}/repository/files/doc%2Fci%2Fcaching.md"
COMMITS = f"{API}/repository/commits"
NEW_TEXT = "# Caching\n\nCache keys are per branch by default.\n"

DRAFT = IssueDraft(
    title="Docs: say whether cache keys are per branch",
    description="Forum thread: http://forum.test/forum/t/cache-key-per-branch/77",
    labels=("documentation", "docs-feedback"),
)
MR_DRAFT = MergeRequestDraft(
    title="Docs: say that cache keys are per branch",
    description="Related to #12",
    source_branch=BRANCH,
    target_branch="main",
    file_path="doc/ci/caching.md",
    content=NEW_TEXT,
    commit_message="Docs: say that cache keys are per branch",
    labels=("documentation",),
)


def sent_json(call: Any) -> dict[str, Any]:
    """The JSON body python-gitlab sent."""
    body = call.request.body
    data = json.loads(body.decode() if isinstance(body, bytes) else body)
    assert isinstance(data, dict)
    return data


def file_body(text: str) -> dict[str, Any]:
    """The files API answer for `text` on the draft branch."""
    body = fixture_dict("gitlab_misc.json", "file")
    body.update(content=base64.b64encode(text.encode()).decode(), ref=BRANCH)
    return body


def test_open_issue_sends_labels_as_a_list(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(ISSUES, json=gl_issue(31, title=DRAFT.title), status=201)

    item = tracker.open_issue(DRAFT)

    assert item.iid == 31
    assert item.kind == "issue"
    assert item.ref == f"{PROJECT}#31"
    assert sent_json(rsps.calls[0]) == {
        "title": DRAFT.title,
        "description": DRAFT.description,
        "labels": ["documentation", "docs-feedback"],
    }


@pytest.mark.parametrize(
    "failure",
    [
        {"body": "<html>500</html>", "status": 500},
        {"body": "bad gateway", "status": 502},
        {"body": requests.ConnectionError("reset by peer")},
        {"body": requests.ReadTimeout("timed out")},
    ],
)
def test_open_issue_is_never_retried(
    rsps: responses.RequestsMock,
    tracker: GitLabTracker,
    gl_sleeps: list[float],
    failure: dict[str, Any],
) -> None:
    rsps.post(ISSUES, **failure)

    with pytest.raises(UnavailableError):
        tracker.open_issue(DRAFT)

    assert len(rsps.calls) == 1
    assert gl_sleeps == []


def test_open_issue_429_is_retried_because_nothing_was_created(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.post(
        ISSUES,
        json=fixture("gitlab_misc.json", "app_limiter_429"),
        status=429,
        headers={"Retry-After": "60"},
    )
    rsps.post(ISSUES, json=gl_issue(32), status=201)

    assert tracker.open_issue(DRAFT).iid == 32
    assert gl_sleeps == [60]


def test_open_issue_429_exhausted(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    rsps.post(ISSUES, body="Retry later\n", status=429, headers={"Retry-After": "1"})

    with pytest.raises(RateLimitedError):
        tracker.open_issue(DRAFT)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, WriteRejectedError),
        (409, WriteRejectedError),
        (422, WriteRejectedError),
        (401, AuthError),
        (403, AuthError),
    ],
)
def test_open_issue_refusals(
    rsps: responses.RequestsMock, tracker: GitLabTracker, status: int, expected: type[Exception]
) -> None:
    rsps.post(ISSUES, json={"message": {"title": ["is too long"]}}, status=status)

    with pytest.raises(expected) as info:
        tracker.open_issue(DRAFT)

    assert getattr(info.value, "status", None) == status


def test_open_issue_with_an_unreadable_answer_is_a_payload_error(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(ISSUES, body="<html>created?</html>", status=201, content_type="text/html")

    with pytest.raises(PayloadError):
        tracker.open_issue(DRAFT)


def test_add_and_update_note(rsps: responses.RequestsMock, tracker: GitLabTracker) -> None:
    rsps.post(f"{ISSUES}/12/notes", json=gl_note(501, "evidence v1"), status=201)
    rsps.put(f"{ISSUES}/12/notes/501", json=gl_note(501, "evidence v2"))

    added = tracker.add_note("issue", 12, "evidence v1")
    updated = tracker.update_note("issue", 12, 501, "evidence v2")

    assert (added.id, added.body) == (501, "evidence v1")
    assert (updated.id, updated.body) == (501, "evidence v2")
    assert sent_json(rsps.calls[0]) == {"body": "evidence v1"}
    assert sent_json(rsps.calls[1]) == {"body": "evidence v2"}


def test_note_on_a_merge_request_uses_its_path(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(f"{MRS}/7/notes", json=gl_note(502, "hi", noteable_type="MergeRequest"), status=201)
    assert tracker.add_note("merge_request", 7, "hi").id == 502


def test_note_of_only_quick_actions_is_a_payload_error(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(
        f"{ISSUES}/12/notes", json=fixture("gitlab_misc.json", "commands_only_note"), status=202
    )

    with pytest.raises(PayloadError, match="quick actions"):
        tracker.add_note("issue", 12, "/label ~docs-feedback")


def test_update_note_is_never_retried(rsps: responses.RequestsMock, tracker: GitLabTracker) -> None:
    rsps.put(f"{ISSUES}/12/notes/501", body="oops", status=500)

    with pytest.raises(UnavailableError):
        tracker.update_note("issue", 12, 501, "v3")

    assert len(rsps.calls) == 1


# --- draft merge requests -----------------------------------------------------------------------


def test_open_draft_mr_on_a_new_branch(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[])
    rsps.get(BRANCH_URL, json=fixture("gitlab_misc.json", "branch_not_found"), status=404)
    rsps.post(COMMITS, json=fixture("gitlab_misc.json", "commit"), status=201)
    rsps.post(MRS, json=gl_mr(40), status=201)

    item = tracker.open_draft_mr(MR_DRAFT)

    assert item.kind == "merge_request"
    assert item.iid == 40
    find, branch, commit, create = rsps.calls
    assert query(find) == {"source_branch": [BRANCH], "state": ["all"], "per_page": ["100"]}
    assert sent_json(commit) == {
        "branch": BRANCH,
        "start_branch": "main",
        "commit_message": MR_DRAFT.commit_message,
        "actions": [{"action": "update", "file_path": "doc/ci/caching.md", "content": NEW_TEXT}],
    }
    assert sent_json(create) == {
        "source_branch": BRANCH,
        "target_branch": "main",
        "title": "Draft: Docs: say that cache keys are per branch",
        "description": "Related to #12",
        "labels": ["documentation"],
        "remove_source_branch": True,
    }


def test_rerun_after_a_crash_between_commit_and_mr_skips_the_commit(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[])
    rsps.get(BRANCH_URL, json=fixture("gitlab_misc.json", "branch"))
    rsps.get(FILE_URL, json=file_body(NEW_TEXT))
    rsps.post(MRS, json=gl_mr(41), status=201)

    item = tracker.open_draft_mr(MR_DRAFT)

    assert item.iid == 41
    assert [c.request.method for c in rsps.calls] == ["GET", "GET", "GET", "POST"]
    assert query(rsps.calls[2])["ref"] == [BRANCH]


def test_existing_branch_with_other_content_gets_a_commit_without_start_branch(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[])
    rsps.get(BRANCH_URL, json=fixture("gitlab_misc.json", "branch"))
    rsps.get(FILE_URL, json=file_body("# Caching\n\nold text\n"))
    rsps.post(COMMITS, json=fixture("gitlab_misc.json", "commit"), status=201)
    rsps.post(MRS, json=gl_mr(42, title="[Draft] x"), status=201)

    tracker.open_draft_mr(MR_DRAFT)

    commit = sent_json(rsps.calls[3])
    assert "start_branch" not in commit
    assert commit["branch"] == BRANCH


def test_existing_mr_from_the_branch_is_returned_without_writing(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[gl_mr(39, state="closed"), gl_mr(43)])

    item = tracker.open_draft_mr(MR_DRAFT)

    assert item.iid == 43  # the open one wins
    assert len(rsps.calls) == 1


def test_title_already_marked_draft_is_kept(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[])
    rsps.get(BRANCH_URL, status=404, json={"message": "404 Branch Not Found"})
    rsps.post(COMMITS, json=fixture("gitlab_misc.json", "commit"), status=201)
    rsps.post(MRS, json=gl_mr(44), status=201)

    tracker.open_draft_mr(replace(MR_DRAFT, title="(Draft) fix caching"))

    assert sent_json(rsps.calls[3])["title"] == "(Draft) fix caching"


def test_mr_conflict_is_write_rejected(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(MRS, json=[])
    rsps.get(BRANCH_URL, json=fixture("gitlab_misc.json", "branch"))
    rsps.get(FILE_URL, json=file_body(NEW_TEXT))
    rsps.post(MRS, json=fixture("gitlab_misc.json", "mr_conflict"), status=409)

    with pytest.raises(WriteRejectedError, match="already exists"):
        tracker.open_draft_mr(MR_DRAFT)
