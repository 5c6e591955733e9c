"""The sandbox GitLab's forks: `POST /projects/:id/fork` (a copy of the repository in the user's
namespace, owned by them) and `GET /projects/:id/forks`. Merge requests from a fork into its
upstream are `mrs.create_merge_request` with `target_project_id`."""

from __future__ import annotations

import re

from docsgap.sandbox.gitlab import views
from docsgap.sandbox.gitlab.ctx import GitLabCtx, ok, project_of
from docsgap.sandbox.gitlab.listing import paginate
from docsgap.sandbox.gitlab.state import OWNER, GitLabState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Request,
    Response,
    Route,
    gitlab_message,
    gitlab_not_found,
    iso,
    route,
)


def fork(state: GitLabState, upstream: JSON, user: JSON, form: JSON, now: float) -> JSON:
    """Fork `upstream` into `namespace_path` (default: the user's namespace; another one only
    for an admin, as the sandbox has no groups), as `path`/`name` (default: upstream's). Every
    branch is copied; labels, issues and MRs are not. 409 when the path is taken."""
    namespace = str(form.get("namespace_path") or form.get("namespace") or user["username"])
    if namespace != user["username"] and not user.get("admin"):
        raise gitlab_not_found("Target Namespace")
    path = str(form.get("path") or upstream["path_with_namespace"].rsplit("/", 1)[-1])
    full = f"{namespace}/{path}"
    if any(p["path_with_namespace"].lower() == full.lower() for p in state.projects.values()):
        raise HttpError(gitlab_message(409, {"name": ["has already been taken"],
                                             "path": ["has already been taken"]}))
    stamp = iso(now)
    project: JSON = {
        "id": max(state.projects) + 1, "path_with_namespace": full,
        "name": str(form.get("name") or upstream["name"]),
        "description": upstream.get("description", ""),
        "default_branch": upstream["default_branch"], "created_at": stamp, "labels": [],
        "owner_id": user["id"], "members": {user["id"]: OWNER},
        "forked_from_id": upstream["id"],
    }
    state.projects[project["id"]] = project
    for (pid, name), branch in list(state.branches.items()):
        if pid == upstream["id"]:
            state.branches[(project["id"], name)] = {
                **branch, "project_id": project["id"], "created_at": stamp}
    state.version += 1
    return project


def fork_project(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /projects/:id/fork` -> 201, the new project (GitLab imports it in the background;
    the sandbox's is ready at once)."""
    user = ctx.writer()
    made = fork(ctx.state, project_of(ctx, m), user, req.form(), ctx.now)
    return ok(views.project_json(ctx.state, made, ctx.urls, user), 201)


def list_forks(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/forks` (`owned=true`: the token user's own)."""
    project = project_of(ctx, m)
    found = [p for p in ctx.state.projects.values() if p.get("forked_from_id") == project["id"]]
    if req.arg("owned") == "true":
        found = [p for p in found if ctx.user is not None and p["owner_id"] == ctx.user["id"]]
    return paginate(req, sorted(found, key=lambda p: p["id"]), ctx.api_root,
                    lambda p: views.project_json(ctx.state, p, ctx.urls, ctx.user))


def routes(project: str) -> list[Route[GitLabCtx]]:
    """The fork routes below `project` (the project path pattern)."""
    return [
        route("POST", rf"{project}/fork", fork_project),
        route("GET", rf"{project}/forks", list_forks),
    ]
