"""The sandbox GitLab's merge requests: who may open one from where (a branch of the project
or of a fork in its network), closing and reopening, and what a merge does to the issues its
description closes. The git side of a merge (commits, branches) lives in `repo`."""

from __future__ import annotations

import re

from docsgap.sandbox.gitlab.state import DEVELOPER, GitLabState, split_labels, truthy
from docsgap.sandbox.wire import JSON, HttpError, gitlab_bad_request, gitlab_message, iso

DRAFT_PREFIX = re.compile(r"^\s*(\[draft\]|\(draft\)|draft:|draft\s*-)", re.IGNORECASE)
CLOSING = re.compile(
    r"\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):?"
    r"\s+#(\d+)\b",
    re.IGNORECASE,
)


def create_merge_request(
    state: GitLabState, project: JSON, author: JSON, form: JSON, now: float
) -> JSON:
    """`POST /projects/:id/merge_requests` from `project` into `target_project_id` (itself
    by default, or a project of its fork network); the author needs Developer in the source
    (`create_merge_request_from`); both branches must exist, one open MR per pair. The MR
    belongs to the target project."""
    for name in ("source_branch", "target_branch", "title"):
        if not str(form.get(name) or "").strip():
            raise gitlab_bad_request(f"{name} is missing")
    if state.access_level(project, author) < DEVELOPER:
        raise HttpError(gitlab_message(403, "403 Forbidden"))
    target = project
    if form.get("target_project_id") not in (None, ""):
        target = state.project(str(form["target_project_id"]))
    if target is not project and state.fork_root(target) is not state.fork_root(project):
        raise HttpError(gitlab_message(
            422, ["Source project is not a fork of the target project"]))
    source, target_branch = str(form["source_branch"]), str(form["target_branch"])
    for owner, branch in ((project, source), (target, target_branch)):
        if (owner["id"], branch) not in state.branches:
            raise HttpError(gitlab_message(400, {"source_branch" if branch == source
                                                  else "target_branch": ["is invalid"]}))
    clash = next((mr for mr in state.merge_requests.values()
                  if mr["project_id"] == target["id"] and mr["state"] == "opened"
                  and source_project_id(mr) == project["id"]
                  and mr["source_branch"] == source and mr["target_branch"] == target_branch),
                 None)
    if clash is not None:
        message = ("Another open merge request already exists for this source branch: "
                   f"!{clash['iid']}")
        raise HttpError(gitlab_message(409, [message]))
    return _new_merge_request(state, target, project, author, form, now)


def _new_merge_request(state: GitLabState, project: JSON, source_project: JSON,
                       author: JSON, form: JSON, now: float) -> JSON:
    source, target = str(form["source_branch"]), str(form["target_branch"])
    iid = max((k[1] for k in state.merge_requests if k[0] == project["id"]), default=0) + 1
    stamp = iso(now)
    mr: JSON = {
        "id": max((m["id"] for m in state.merge_requests.values()), default=700000) + 1,
        "iid": iid, "project_id": project["id"], "title": str(form["title"]),
        "description": str(form.get("description") or ""), "state": "opened",
        "created_at": stamp, "updated_at": stamp, "merged_at": None, "merged_by_id": None,
        "closed_at": None, "closed_by_id": None, "source_branch": source,
        "target_branch": target, "labels": [], "author_id": author["id"],
        "merge_commit_sha": None, "discussion_locked": None,
        "remove_source_branch": truthy(form.get("remove_source_branch")),
        "source_project_id": source_project["id"],
    }
    mr["labels"] = state.known_labels(project, split_labels(form.get("labels")), author)
    state.merge_requests[(project["id"], iid)] = mr
    state.version += 1
    state.record_text(project, mr, "description", mr["description"], author)
    return mr


def update_merge_request(
    state: GitLabState, project: JSON, mr: JSON, actor: JSON, form: JSON, now: float
) -> JSON:
    """`PUT .../merge_requests/:iid`: state_event close/reopen (and sandbox-only `merge`)."""
    if mr["state"] == "merged" and form.get("state_event"):
        raise HttpError(gitlab_message(405, "405 Method Not Allowed"))
    state.update_item(project, mr, actor, form, now)
    event = form.get("state_event")
    if event == "close" and mr["state"] == "opened":
        mr.update(state="closed", closed_at=iso(now), closed_by_id=actor["id"])
        state.add_note(project, mr, actor, "closed", now, system=True)
    elif event == "reopen" and mr["state"] == "closed":
        mr.update(state="opened", closed_at=None, closed_by_id=None)
        state.add_note(project, mr, actor, "reopened", now, system=True)
    elif event == "merge":
        mark_merged(state, project, mr, actor, now)
    return mr


def mark_merged(state: GitLabState, project: JSON, mr: JSON, actor: JSON, now: float) -> None:
    """Merge bookkeeping: state, timestamps, and `Closes #n` on the default branch."""
    if mr["state"] != "opened":
        raise HttpError(gitlab_message(405, "405 Method Not Allowed"))
    stamp = iso(now)
    mr.update(state="merged", merged_at=stamp, merged_by_id=actor["id"], updated_at=stamp)
    state.version += 1
    state.add_note(project, mr, actor, "merged", now, system=True)
    if mr["target_branch"] != project["default_branch"]:
        return
    for match in CLOSING.finditer(mr["description"]):
        issue = state.issues.get((project["id"], int(match.group(1))))
        if issue is not None and issue["state"] == "opened":
            issue.update(state="closed", closed_at=stamp, closed_by_id=actor["id"],
                         updated_at=stamp)
            state.add_note(project, issue, actor, f"closed via merge request !{mr['iid']}",
                           now, system=True)


def source_project_id(mr: JSON) -> int:
    """The project an MR's source branch lives in (its own unless it comes from a fork)."""
    return int(mr.get("source_project_id") or mr["project_id"])


def is_draft(title: str) -> bool:
    """Draft MRs are marked by a title prefix (`Draft:`, `[Draft]`, `(Draft)`)."""
    return DRAFT_PREFIX.match(title) is not None
