"""What the people on the GitLab side do that docsgap never does (the docs team closing or
reopening an issue, merging an MR), for the sandbox's Python handle and its control API."""

from __future__ import annotations

import copy

from docsgap.sandbox import snapshot
from docsgap.sandbox.gitlab import repo
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import JSON


def actor(state: GitLabState, project: JSON, username: str | None) -> JSON:
    """`username`, or the project's owner when none is given."""
    if username is None:
        return state.users[project.get("owner_id") or next(iter(state.users))]
    user = state.user_named(username)
    if user is None:
        raise KeyError(f"unknown GitLab user {username!r}")
    return user


def close_issue(state: GitLabState, project: JSON, iid: int, now: float, gitlab_url: str, *,
                labels: tuple[str, ...] | list[str] = (), username: str | None = None,
                duplicate_of: int | None = None) -> JSON:
    """Close an issue, adding `labels` first (e.g. `won't do`), or as a duplicate of issue
    `duplicate_of` as `/duplicate #N` does (the API then names it in
    `_links.closed_as_duplicate_of`). Returns the issue as the snapshot shows it."""
    who = actor(state, project, username)
    issue = state.issue(project, iid)
    form: JSON = {"state_event": "close"}
    if labels:
        form["add_labels"] = list(labels)
    if duplicate_of is not None:
        original = state.issue(project, int(duplicate_of))  # 404 when there is no such issue
        issue["duplicated_to_iid"] = original["iid"]
        state.add_note(project, issue, who,
                       f"marked this issue as a duplicate of #{original['iid']}", now, system=True)
    state.update_issue(project, issue, who, form, now)
    return issue_row(state, project, iid, gitlab_url)


def reopen_issue(state: GitLabState, project: JSON, iid: int, now: float, gitlab_url: str, *,
                 username: str | None = None) -> JSON:
    """Reopen a closed issue."""
    who = actor(state, project, username)
    state.update_issue(project, state.issue(project, iid), who, {"state_event": "reopen"}, now)
    return issue_row(state, project, iid, gitlab_url)


def merge_merge_request(state: GitLabState, project: JSON, iid: int, now: float,
                        gitlab_url: str, *, username: str | None = None) -> JSON:
    """Merge an open MR into its target branch (its `Closes #n` issues close when the target
    is the default branch). Returns the MR as the snapshot shows it."""
    who = actor(state, project, username)
    mr = state.merge_request(project, iid)
    repo.merge(state, project, mr, who, now)
    # One row, not the whole snapshot: building that costs time per issue in the forum.
    return copy.deepcopy(snapshot.merge_request_row(state, mr, gitlab_url))


def issue_row(state: GitLabState, project: JSON, iid: int, gitlab_url: str) -> JSON:
    """One issue as `Sandbox.state()` shows it."""
    return copy.deepcopy(snapshot.issue_row(state, state.issue(project, iid), gitlab_url))
