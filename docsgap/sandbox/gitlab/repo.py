"""The sandbox GitLab's repositories: commits (full file snapshots), branches, files, diffs and
merges, with the error answers of GitLab's commits and files APIs."""

from __future__ import annotations

import base64
import difflib
import hashlib
from typing import Any

from docsgap.sandbox.gitlab.mrs import mark_merged, source_project_id
from docsgap.sandbox.gitlab.state import DEVELOPER, MAINTAINER, GitLabState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    gitlab_bad_request,
    gitlab_message,
    gitlab_not_found,
    iso,
)

ACTIONS = ("create", "update", "delete", "move")


def new_commit(
    state: GitLabState,
    project: JSON,
    *,
    parent: str | None,
    files: dict[str, str],
    message: str,
    author: JSON,
    created_at: str,
) -> JSON:
    """Store a commit holding the full file snapshot; returns it."""
    seed = f"{project['id']}:{parent}:{len(state.commits)}:{message}:{created_at}"
    sha = hashlib.sha1(seed.encode("utf-8")).hexdigest()
    commit: JSON = {
        "id": sha, "short_id": sha[:8], "title": message.splitlines()[0] if message else "",
        "message": message, "author_name": author["name"],
        "author_email": f"{author['username']}@example.com", "authored_date": created_at,
        "committer_name": author["name"], "committer_email": f"{author['username']}@example.com",
        "committed_date": created_at, "created_at": created_at,
        "parent_ids": [parent] if parent else [], "project_id": project["id"],
        "files": dict(files),
    }
    state.commits[sha] = commit
    return commit


def branch(state: GitLabState, project: JSON, name: str) -> JSON:
    """A branch or `404 Branch Not Found`."""
    found = state.branches.get((project["id"], name))
    if found is None:
        raise gitlab_not_found("Branch")
    return found


def resolve_ref(state: GitLabState, project: JSON, ref: str) -> JSON:
    """A commit from a branch name, `HEAD` (the default branch) or a commit sha."""
    name = project["default_branch"] if ref == "HEAD" else ref
    found = state.branches.get((project["id"], name))
    if found is not None:
        return state.commits[found["commit_id"]]
    commit = next((c for sha, c in state.commits.items()
                   if c["project_id"] == project["id"] and len(ref) >= 7 and sha.startswith(ref)),
                  None)
    if commit is None:
        raise gitlab_not_found("Commit")
    return commit


def may_push(state: GitLabState, project: JSON, actor: JSON | None, branch: str) -> bool:
    """Developers push to unprotected branches, Maintainers to protected ones too."""
    record = state.branches.get((project["id"], branch))
    needed = MAINTAINER if record is not None and record["protected"] else DEVELOPER
    return state.access_level(project, actor) >= needed


def create_branch(state: GitLabState, project: JSON, name: str, ref: str, now: float,
                  actor: JSON | None = None, *, start_project: JSON | None = None) -> JSON:
    """`POST /repository/branches` (also used by commits with `start_branch`, whose
    `start_project` may be another project of the fork network); with `actor`, 403 unless they
    may push (the seed passes none)."""
    if actor is not None and not may_push(state, project, actor, name):
        raise HttpError(gitlab_message(403, "403 Forbidden"))
    if not name.strip():
        raise gitlab_bad_request("branch is missing")
    if (project["id"], name) in state.branches:
        raise HttpError(gitlab_message(400, "Branch already exists"))
    try:
        start = resolve_ref(state, start_project or project, ref)
    except HttpError:
        raise HttpError(gitlab_message(400, "Invalid reference name: " + ref)) from None
    record: JSON = {"name": name, "project_id": project["id"], "commit_id": start["id"],
                    "base_commit_id": start["id"], "protected": False, "created_at": iso(now)}
    state.branches[(project["id"], name)] = record
    return record


def commit(state: GitLabState, project: JSON, actor: JSON, form: JSON, now: float) -> JSON:
    """`POST /repository/commits`: apply `actions` on `branch`, creating it from
    `start_branch` when given; the default branch is protected (no direct pushes)."""
    for name in ("branch", "commit_message", "actions"):
        if not form.get(name):
            raise gitlab_bad_request(f"{name} is missing")
    name = str(form["branch"])
    start_project = None
    if form.get("start_project") not in (None, ""):  # checked first, as GitLab does
        start_project = state.project(str(form["start_project"]))
        if state.fork_root(start_project) is not state.fork_root(project):
            full = start_project["path_with_namespace"].replace("/", " / ")
            raise HttpError(gitlab_message(
                403, f"403 Forbidden - Project is not included in the fork network for {full}"))
    if not may_push(state, project, actor, name):
        raise HttpError(gitlab_message(403, "You are not allowed to push into this branch"))
    start = form.get("start_branch")
    exists = (project["id"], name) in state.branches
    if start and exists and start != name:
        raise HttpError(gitlab_message(
            400, f"A branch called '{name}' already exists. Switch to that branch in order to "
            "make changes"))
    if not exists:
        if not start:
            raise HttpError(gitlab_message(
                400, "You can only create or edit files when you are on a branch"))
        create_branch(state, project, name, str(start), now, start_project=start_project)
    record = state.branches[(project["id"], name)]
    files = dict(state.commits[record["commit_id"]]["files"])
    actions = form["actions"]
    if not isinstance(actions, list):
        raise gitlab_bad_request("actions is invalid")
    try:
        for action in actions:
            _apply(files, action)
    except HttpError:
        if not exists:
            del state.branches[(project["id"], name)]
        raise
    made = new_commit(state, project, parent=record["commit_id"], files=files,
                      message=str(form["commit_message"]), author=actor, created_at=iso(now))
    record["commit_id"] = made["id"]
    return made


def _apply(files: dict[str, str], action: Any) -> None:
    if not isinstance(action, dict) or action.get("action") not in ACTIONS:
        raise gitlab_bad_request("actions[action] does not have a valid value")
    path = str(action.get("file_path") or "")
    if not path:
        raise gitlab_bad_request("actions[file_path] is missing")
    content = str(action.get("content") or "")
    if action.get("encoding") == "base64":
        content = base64.b64decode(content).decode("utf-8")
    kind = action["action"]
    if kind == "create":
        if path in files:
            raise HttpError(gitlab_message(400, "A file with this name already exists"))
        files[path] = content
    elif kind == "update":
        if path not in files:
            raise HttpError(gitlab_message(400, "A file with this name doesn't exist"))
        files[path] = content
    elif kind == "delete":
        if files.pop(path, None) is None:
            raise HttpError(gitlab_message(400, "A file with this name doesn't exist"))
    else:
        previous = str(action.get("previous_path") or "")
        if previous not in files:
            raise HttpError(gitlab_message(400, "A file with this name doesn't exist"))
        moved = files.pop(previous)
        files[path] = content or moved


def changes(state: GitLabState, project: JSON, mr: JSON) -> list[JSON]:
    """The MR's diffs: source head against the commit its branch started from."""
    source = state.branches.get((source_project_id(mr), mr["source_branch"]))
    if source is None:
        return []
    old = state.commits[source["base_commit_id"]]["files"]
    new = state.commits[source["commit_id"]]["files"]
    result = []
    for path in sorted(set(old) | set(new)):
        if old.get(path) == new.get(path):
            continue
        diff = "".join(difflib.unified_diff(
            (old.get(path) or "").splitlines(keepends=True),
            (new.get(path) or "").splitlines(keepends=True)))
        result.append({
            "old_path": path, "new_path": path, "a_mode": "100644", "b_mode": "100644",
            "new_file": path not in old, "renamed_file": False, "deleted_file": path not in new,
            "generated_file": False, "diff": diff,
        })
    return result


def merge(state: GitLabState, project: JSON, mr: JSON, actor: JSON, now: float) -> None:
    """Apply the MR's changes to its target branch (a merge commit), then the bookkeeping."""
    target = branch(state, project, mr["target_branch"])
    source = state.branches.get((source_project_id(mr), mr["source_branch"]))
    files = dict(state.commits[target["commit_id"]]["files"])
    if source is not None:
        new = state.commits[source["commit_id"]]["files"]
        for change in changes(state, project, mr):
            path = change["new_path"]
            if change["deleted_file"]:
                files.pop(path, None)
            else:
                files[path] = new[path]
    message = f"Merge branch '{mr['source_branch']}' into '{mr['target_branch']}'"
    made = new_commit(state, project, parent=target["commit_id"], files=files, message=message,
                      author=actor, created_at=iso(now))
    target["commit_id"] = made["id"]
    mr["merge_commit_sha"] = made["id"]
    mr["sha"] = source["commit_id"] if source else made["id"]
    mark_merged(state, project, mr, actor, now)
    if source is not None and mr.get("remove_source_branch"):
        del state.branches[(source_project_id(mr), mr["source_branch"])]


def file_json(project: JSON, path: str, ref: str, commit: JSON) -> JSON:
    """`GET /repository/files/:path` (base64 content, as samples/gitlab-repository-file.json)."""
    data = commit["files"][path].encode("utf-8")
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return {
        "file_name": path.rsplit("/", 1)[-1], "file_path": path, "size": len(data),
        "encoding": "base64", "content_sha256": hashlib.sha256(data).hexdigest(), "ref": ref,
        "blob_id": blob, "commit_id": commit["id"], "last_commit_id": commit["id"],
        "execute_filemode": False, "content": base64.b64encode(data).decode("ascii"),
    }
