"""What GitLab refuses besides role checks, as gitlab.com answers it: field lengths, archived
projects, disabled issues, locked discussions, confidential issues, the spam check and the
`search` rate limit. Sources (gitlabhq): `app/models/concerns/issuable.rb` (title 255,
description 1.megabyte on create only), `app/models/concerns/notes/active_record.rb` and
`lib/gitlab/database.rb` (note 1,000,000), `app/models/note.rb` and `noteable.rb` (5,000 notes),
`lib/api/helpers/notes_helpers.rb` (`bad_request!("Note #{errors.messages}")`),
`app/models/concerns/spammable.rb` and `rest_api_actions_support.rb` (spam: 400, or 409 with
`needs_captcha_response`), `lib/api/helpers.rb` `validate_search_rate_limit!` and
`lib/gitlab/application_rate_limiter.rb` (per user, fixed one-minute windows; issue and
note creation likewise, at gitlab.com's 200 and 60 a minute)."""

from __future__ import annotations

import re
from typing import Any

from docsgap.sandbox.gitlab.state import PLANNER, GitLabState
from docsgap.sandbox.wire import JSON, HttpError, gitlab_message, gitlab_not_found, json_response

TITLE_LENGTH_MAX = 255
DESCRIPTION_LENGTH_MAX = 1_048_576
NOTE_LENGTH_MAX = 1_000_000
MAX_NOTES = 5_000
WINDOW = 60
TOO_MANY = "This endpoint has been requested too many times. Try again later."


def forbidden() -> HttpError:
    """`403 Forbidden`, what `authorize!` answers."""
    return HttpError(gitlab_message(403, "403 Forbidden"))


def writable(project: JSON) -> None:
    """An archived project is read-only (`ProjectPolicy`: `archived` prevents every write)."""
    if project.get("archived"):
        raise forbidden()


def issues_on(project: JSON) -> bool:
    """Whether the project's issues feature is enabled (`issues_access_level`)."""
    return project.get("issues_enabled", True) is not False


def can_read_issue(state: GitLabState, project: JSON, issue: JSON, user: JSON | None) -> bool:
    """Issues disabled: nobody. Confidential: its author, assignees, Planner and above."""
    if not issues_on(project):
        return False
    if not issue.get("confidential"):
        return True
    if user is None:
        return False
    return (bool(user.get("admin")) or issue.get("author_id") == user["id"]
            or user["id"] in issue.get("assignee_ids", [])
            or state.access_level(project, user) >= PLANNER)


def visible_issue(state: GitLabState, project: JSON, iid: int, user: JSON | None) -> JSON:
    """The issue as `user` may see it; 404 when it may not (GitLab never says it exists)."""
    issue = state.issue(project, iid)
    if not can_read_issue(state, project, issue, user):
        raise gitlab_not_found("Issue")
    return issue


def may_create_issue(project: JSON) -> None:
    """`authorize! :create_issue`: 403 when archived or when issues are disabled."""
    writable(project)
    if not issues_on(project):
        raise forbidden()


def issuable_errors(form: JSON, *, create: bool) -> None:
    """400 `{"message": {field: [...]}}` (`render_validation_error!`) for a title over 255
    characters (after stripping) or, on create only, a description over 1,048,576."""
    errors: dict[str, list[str]] = {}
    if "title" in form and len(str(form.get("title") or "").strip()) > TITLE_LENGTH_MAX:
        errors["title"] = [f"is too long (maximum is {TITLE_LENGTH_MAX} characters)"]
    if create and len(str(form.get("description") or "")) > DESCRIPTION_LENGTH_MAX:
        errors["description"] = [f"is too long (maximum is {DESCRIPTION_LENGTH_MAX} characters)"]
    if errors:
        raise HttpError(gitlab_message(400, errors))


def note_errors(state: GitLabState, item: JSON, body: str, *, create: bool) -> None:
    """400 `Note {:note=>[...]}` for a body over 1,000,000 characters, or `{:base=>[...]}`
    once the issue or MR holds 5,000 notes (system notes count)."""
    if len(body) > NOTE_LENGTH_MAX:
        raise _note_error("note", f"is too long (maximum is {NOTE_LENGTH_MAX} characters)")
    if create and len(state.notes_of(item)) >= MAX_NOTES:
        raise _note_error("base", "Maximum number of comments exceeded")


def _note_error(key: str, message: str) -> HttpError:
    # Ruby 3.3's Hash#inspect, as `bad_request!("Note #{note.errors.messages}")` prints it.
    return HttpError(gitlab_message(400, f'400 Bad request - Note {{:{key}=>["{message}"]}}'))


# --- the spam check --------------------------------------------------------------------------


def spam_check(state: GitLabState, target: str, text: str) -> None:
    """The first of `state.spam_rules` whose `on` is `target` (`issue` or `note`) and whose
    `pattern` is found in `text` decides, `count` times (None: always). `disallow`: 400, the
    text must change; `captcha` (`CONDITIONAL_ALLOW`, reCAPTCHA on): an issue gets 409 with
    `needs_captcha_response`, a note (no CAPTCHA support) the 400. Nothing is saved."""
    rule = next((r for r in state.spam_rules if r.get("on", "issue") == target
                 and re.search(str(r.get("pattern", "")), text)
                 and r.get("count", 1) != 0), None)
    if rule is None:
        return
    if rule.get("count", 1) is not None:
        rule["count"] = int(rule.get("count", 1)) - 1
    state.spam_logs += 1
    noun = "issue" if target == "issue" else "comment"
    if rule.get("verdict") == "captcha" and target == "issue":
        raise HttpError(json_response(409, {
            "needs_captcha_response": True, "spam_log_id": state.spam_logs,
            "captcha_site_key": "6Lsandbox-site-key",
            "message": {"error": f"Your {noun} has been recognized as spam. Please, change the "
                                 "content or solve the reCAPTCHA to proceed."}}))
    message = f"Your {noun} has been recognized as spam. Please, change the content to proceed."
    if target == "note":
        raise _note_error("base", message)
    raise HttpError(gitlab_message(400, {"base": [message]}))


# --- the search rate limit -------------------------------------------------------------------


def count_create(state: GitLabState, what: str, scope: tuple[Any, ...], now: float) -> None:
    """GitLab.com's creation limits (`issues_create` 200 a minute per project and user, in
    `Issues::CreateService` via `RateLimitedService`; `notes_create` 60 a minute per user,
    checked first in the notes API): fixed one-minute windows, refused requests count.
    The limits are `state.issues_create_limit` and `state.notes_create_limit` (0: off)."""
    limit = state.issues_create_limit if what == "issues" else state.notes_create_limit
    if limit > 0:
        _count(state, (what, *scope), limit, now)


def _count(state: GitLabState, scope: tuple[Any, ...], limit: int, now: float) -> None:
    """One request against `limit` in this minute's window for `scope`; 429 over it."""
    window = int(now) // WINDOW
    if len(state.rate_counts) > 1000:
        state.rate_counts = {k: v for k, v in state.rate_counts.items() if k[-1] == window}
    key = (*scope, window)
    state.rate_counts[key] = state.rate_counts.get(key, 0) + 1
    if state.rate_counts[key] > limit:
        raise HttpError(json_response(429, {"message": {"error": TOO_MANY}},
                                      headers={"Retry-After": str(WINDOW)}))


def count_search(state: GitLabState, req_search: Any, user: JSON | None, now: float) -> None:
    """`validate_search_rate_limit!` on issue and MR lists: a non-blank `search` counts
    against `search_rate_limit` per user (anonymous: `search_rate_limit_unauthenticated`, one
    client address here) in fixed one-minute windows; every request counts, refused ones too;
    0 turns it off. Over it: 429 with `Retry-After` = the whole window, as newer GitLab sends."""
    if not str(req_search or "").strip():
        return
    limit = state.search_rate_limit if user else state.search_rate_limit_unauthenticated
    if limit <= 0:
        return
    _count(state, ("search", user["id"] if user else "ip"), limit, now)
