"""GitLabTracker over `responses` when GitLab refuses a write for a reason of its own: the spam
check (400, or 409 asking for a CAPTCHA), lengths over its limits (not sent at all), and a 403
explained by an archived project or a locked discussion. Bodies as gitlabhq renders them
(`rest_api_actions_support.rb`, `render_validation_error!`, `notes_helpers.rb`)."""

from __future__ import annotations

import pytest
import responses

from docsgap.errors import AuthError, NotFoundError, WriteRejectedError
from docsgap.models import IssueDraft, MergeRequestDraft
from docsgap.tracker.gitlab import GitLabTracker
from tests.adapters.conftest import API, GITLAB, PROJECT, gl_issue, gl_mr

ISSUES = f"{API}/issues"
DRAFT = IssueDraft("Docs: say whether cache keys are per branch", "Forum thread: t/77",
                   ("documentation",))
SPAM_400 = {"message": {"base": ["Your issue has been recognized as spam. Please, change the "
                                 "content to proceed."]}}
CAPTCHA_409 = {"needs_captcha_response": True, "spam_log_id": 12, "captcha_site_key": "k",
               "message": {"error": "Your issue has been recognized as spam. Please, change the "
                                    "content or solve the reCAPTCHA to proceed."}}
FORBIDDEN = {"message": "403 Forbidden"}


def project(**over: object) -> dict[str, object]:
    return {"id": 7, "path_with_namespace": PROJECT, "archived": False, "issues_enabled": True,
            **over}


@pytest.mark.parametrize(("status", "body", "captcha"), [(400, SPAM_400, False),
                                                          (409, CAPTCHA_409, True)])
def test_spam_refusal_is_a_clear_write_rejection_never_retried(
    rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float],
    status: int, body: dict[str, object], captcha: bool,
) -> None:
    rsps.post(ISSUES, json=body, status=status)
    with pytest.raises(WriteRejectedError) as caught:
        tracker.open_issue(DRAFT)
    message = str(caught.value)
    assert message.startswith("GitLab's spam check refused creating the issue 'Docs: say whe")
    assert "recognized as spam" in message and "{" not in message
    assert ("CAPTCHA" in message) is captcha
    assert "nothing was saved" in (caught.value.hint or "")
    assert "docsgap review" in (caught.value.hint or "")
    assert len(rsps.calls) == 1 and gl_sleeps == []


def test_spam_refused_note_says_so(rsps: responses.RequestsMock, tracker: GitLabTracker) -> None:
    rsps.post(f"{API}/issues/12/notes", status=400, json={"message": (
        '400 Bad request - Note {:base=>["Your comment has been recognized as spam. Please, '
        'change the content to proceed."]}')})
    with pytest.raises(WriteRejectedError, match="spam check refused adding a note"):
        tracker.add_note("issue", 12, "evidence")


def test_validation_errors_read_as_sentences(rsps: responses.RequestsMock,
                                             tracker: GitLabTracker) -> None:
    rsps.put(f"{API}/issues/5", status=400, json={"message": {
        "title": ["is too long (maximum is 255 characters)"]}})
    with pytest.raises(WriteRejectedError) as caught:
        tracker.update_issue(5, title="short enough here")  # the server counts differently
    assert str(caught.value).endswith("title is too long (maximum is 255 characters)")


@pytest.mark.parametrize(("title", "description", "said"), [
    ("t" * 256, "d", "the title has 256 characters (GitLab allows 255)"),
    ("ok", "d" * 1_048_577, "the description has 1,048,577 characters (GitLab allows 1,048,576)"),
])
def test_an_issue_over_gitlabs_limits_is_not_sent(
    rsps: responses.RequestsMock, tracker: GitLabTracker, title: str, description: str,
    said: str,
) -> None:
    with pytest.raises(WriteRejectedError) as caught:
        tracker.open_issue(IssueDraft(title, description, ()))
    assert said in str(caught.value) and "pending" in (caught.value.hint or "")
    assert len(rsps.calls) == 0


def test_limits_are_gitlabs_to_the_character(rsps: responses.RequestsMock,
                                             tracker: GitLabTracker) -> None:
    # 255 after stripping, 1,048,576 code points (not bytes): both accepted.
    rsps.post(ISSUES, json=gl_issue(40), status=201)
    tracker.open_issue(IssueDraft(" " + "é" * 255 + " ", "é" * 1_048_576, ()))
    # An existing issue's description has no limit on edit (GitLab checks it on create only).
    rsps.put(f"{API}/issues/40", json=gl_issue(40))
    tracker.update_issue(40, description="d" * 1_048_577)
    assert len(rsps.calls) == 2


def test_a_note_over_a_million_characters_is_not_sent(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    with pytest.raises(WriteRejectedError, match="1,000,001 characters"):
        tracker.add_note("issue", 3, "n" * 1_000_001)
    with pytest.raises(WriteRejectedError, match="GitLab allows 1,000,000"):
        tracker.update_note("issue", 3, 99, "n" * 1_000_001)
    assert len(rsps.calls) == 0


def test_a_draft_mr_gitlab_would_refuse_makes_no_branch(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(f"{API}/merge_requests", json=[])
    draft = MergeRequestDraft(title="x" * 250, description="d", source_branch="docsgap/x",
                              target_branch="main", file_path="doc/a.md", content="new",
                              commit_message="m")
    with pytest.raises(WriteRejectedError, match="the title has 257 characters"):
        tracker.open_draft_mr(draft)  # "Draft: " makes it 257
    assert [c.request.method for c in rsps.calls] == ["GET"]


def test_403_on_an_archived_project_names_the_archive(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(ISSUES, json=FORBIDDEN, status=403)
    rsps.get(API, json=project(archived=True))
    rsps.get(f"{GITLAB}/api/v4/user", json={"username": "docsgap-bot"})
    with pytest.raises(AuthError) as caught:
        tracker.open_issue(DRAFT)
    assert f"{PROJECT} is archived" in str(caught.value)
    assert "unarchive" in (caught.value.hint or "")


def test_403_on_a_locked_issue_fails_that_note_only(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(f"{API}/issues/12/notes", json=FORBIDDEN, status=403)
    rsps.get(API, json=project())
    rsps.get(f"{API}/issues/12", json=gl_issue(12, discussion_locked=True))
    rsps.get(f"{GITLAB}/api/v4/user", json={"username": "docsgap-bot"})
    with pytest.raises(WriteRejectedError) as caught:
        tracker.add_note("issue", 12, "evidence")
    assert "discussion is locked" in str(caught.value)
    assert "docsgap-bot is not one" in str(caught.value)
    assert "next run tries again" in (caught.value.hint or "")


def test_a_403_nothing_explains_stays_a_permission_error(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(f"{API}/merge_requests/4/notes", json=FORBIDDEN, status=403)
    rsps.get(API, json=project())
    rsps.get(f"{API}/merge_requests/4", json=gl_mr(4, discussion_locked=None))
    rsps.get(f"{GITLAB}/api/v4/user", json={"username": "docsgap-bot"})
    with pytest.raises(AuthError) as caught:
        tracker.add_note("merge_request", 4, "evidence")
    assert "lacks permission" in (caught.value.hint or "")


def test_the_explanation_failing_leaves_the_403_as_it_was(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.post(ISSUES, json=FORBIDDEN, status=403)
    rsps.get(API, status=404, json={"message": "404 Project Not Found"})
    with pytest.raises(AuthError) as caught:
        tracker.open_issue(DRAFT)
    assert "403" in str(caught.value) and "lacks permission" in (caught.value.hint or "")


def test_a_404_on_an_item_says_what_it_may_mean(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(f"{GITLAB}/api/v4/user", json={"username": "docsgap-bot"})
    rsps.get(f"{API}/issues/12/notes", status=404, json={"message": "404 Issue Not Found"})
    with pytest.raises(NotFoundError) as caught:
        tracker.notes("issue", 12)
    assert f"issue {PROJECT}#12 is not there" in str(caught.value)
    assert "confidential" in str(caught.value) and "pending" in (caught.value.hint or "")
    rsps.post(f"{API}/merge_requests/3/notes", status=404, json={"message": "404 Not found"})
    with pytest.raises(NotFoundError, match=f"merge request {PROJECT}!3 is not there"):
        tracker.add_note("merge_request", 3, "evidence")


def test_a_404_on_the_project_keeps_its_own_hint(
    rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    rsps.get(f"{API}/issues/12", status=404, json={"message": "404 Project Not Found"})
    with pytest.raises(NotFoundError) as caught:
        tracker.get_item("issue", 12)
    assert "gitlab.project" in (caught.value.hint or "")
