"""The sandbox's GitLab REST routes (served under `/gitlab/api/v4`): token auth and the
issue, note, merge-request and repository endpoints docsgap uses (CONTRACTS.md §B)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from docsgap.sandbox.gitlab import forks, guards, mrs, notes, packages, repo, tree, views
from docsgap.sandbox.gitlab.ctx import GitLabCtx, ok, project_of
from docsgap.sandbox.gitlab.labels import available
from docsgap.sandbox.gitlab.listing import Listing, filter_items, order, paginate
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Request,
    Response,
    Route,
    find_route,
    gitlab_message,
    gitlab_not_found,
    iso,
    json_response,
    route,
    segment,
    text_response,
)

ISSUE_ORDER = ("created_at", "updated_at", "title", "id", "due_date", "relative_position",
               "priority", "label_priority", "milestone_due", "popularity", "weight")
ISSUE_KEYSET_ORDER = ("created_at", "updated_at", "title", "id")
"""Orderings project issues support with `pagination=keyset` (GitLab >= 18.3); the others
answer 405, as GitLab does for keyset requests it cannot serve."""
MR_ORDER = ("created_at", "updated_at", "title", "merged_at")


def _token(req: Request) -> str | None:
    bearer = req.header("Authorization")
    if bearer and bearer.lower().startswith("bearer "):
        return bearer[7:].strip() or None
    return req.header("PRIVATE-TOKEN") or req.header("JOB-TOKEN")


def handle(state: GitLabState, req: Request, now: float, web: str, api_root: str) -> Response:
    """Serve one GitLab request."""
    try:
        token_value = _token(req)
        token = state.tokens.get(token_value) if token_value else None
        if token_value is not None and token is None:
            raise HttpError(gitlab_message(401, "401 Unauthorized"))
        found = find_route(ROUTES, req)
        if found is None:
            raise HttpError(json_response(404, {"error": "404 Not Found"}))
        chosen, m = found
        job = token is not None and token.get("kind") == "job"
        if job and chosen.handler not in packages.JOB_ROUTES:
            # CI job tokens authenticate only on allow-listed endpoints (packages here);
            # elsewhere the request is anonymous, as on GitLab.
            token = None
        user = state.users[token["user_id"]] if token else None
        ctx = GitLabCtx(state, user, token, now, views.Urls(web), api_root)
        return chosen.handler(ctx, req, m)
    except HttpError as exc:
        return exc.response


# --- user, token, project --------------------------------------------------------------------


def current_user(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /user`."""
    return ok(views.current_user_json(ctx.reader(), ctx.urls))


def token_self(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /personal_access_tokens/self`: the token's scopes."""
    ctx.reader()
    assert ctx.token is not None
    return ok(views.token_json(ctx.token))


def get_project(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id`."""
    return ok(views.project_json(ctx.state, project_of(ctx, m), ctx.urls, ctx.user))


def list_labels(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/labels`: the project's labels and, unless `include_ancestor_groups`
    is false, its groups'; `search` keeps those whose name, or whose description, holds every
    word of it, case-insensitively (`Label.search`: `fuzzy_search`, ILIKE per column)."""
    project = project_of(ctx, m)
    ancestors = (req.arg("include_ancestor_groups") or "true").lower() != "false"
    found = available(project) if ancestors else list(project["labels"])
    found = sorted(found, key=lambda lb: (lb["name"].lower(), lb["id"]))
    words = (req.arg("search") or "").lower().split()
    found = [lb for lb in found
             if any(all(w in text.lower() for w in words)
                    for text in (lb["name"], lb.get("description") or ""))]
    labels = found
    return paginate(req, labels, ctx.api_root,
                    lambda lb: views.label_json(ctx.state, project, lb))


# --- issues ----------------------------------------------------------------------------------


def _listed(ctx: GitLabCtx, req: Request, project: JSON, kind: str) -> Listing:
    """Filtered and sorted once per query and state version (a 50,000-issue list walked 100
    at a time was filtered and sorted again for every page)."""
    query = tuple(sorted((k, tuple(v)) for k, v in req.query.items()
                         if k not in ("page", "cursor", "per_page")))
    state = ctx.state
    key = (kind, project["id"], query, state.version, len(state.issues),
           len(state.merge_requests), state.search_mode, len(state.users),
           ctx.user["id"] if ctx.user else None)
    found = state.listings.get(key)
    if found is None:
        pool = state.issues if kind == "issue" else state.merge_requests
        items = [i for i in pool.values() if i["project_id"] == project["id"]]
        if kind == "issue":  # confidential ones only for those who may see them
            items = [i for i in items if guards.can_read_issue(state, project, i, ctx.user)]
        allowed = ISSUE_ORDER if kind == "issue" else MR_ORDER
        mode = state.search_mode if kind == "issue" else "unwrap"
        items = filter_items(req, items, kind=kind, search_mode=mode, users=state.users)
        found = Listing(*order(req, items, allowed))
        if len(state.listings) >= 16:
            state.listings.clear()
        state.listings[key] = found
    return found


def list_issues(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/issues` with filters, offset or keyset pagination."""
    project = project_of(ctx, m)
    guards.count_search(ctx.state, req.arg("search"), ctx.user, ctx.now)
    listed = _listed(ctx, req, project, "issue")
    keyset = (listed.order_by, listed.sort) if listed.order_by in ISSUE_KEYSET_ORDER else None
    return paginate(req, listed.items, ctx.api_root,
                    lambda i: views.issue_json(ctx.state, project, i, ctx.urls), keyset=keyset,
                    offset_cap=True, keys=listed.keys)


def create_issue(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /projects/:id/issues` -> 201."""
    author = ctx.writer()
    project = project_of(ctx, m)
    guards.may_create_issue(project)
    guards.count_create(ctx.state, "issues", (project["id"], author["id"]), ctx.now)
    form = req.form()
    guards.issuable_errors(form, create=True)
    guards.spam_check(ctx.state, "issue", _text(form, "title", "description"))
    issue = ctx.state.create_issue(project, author, form, ctx.now)
    return ok(views.issue_json(ctx.state, project, issue, ctx.urls), 201)


def get_issue(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/issues/:iid`."""
    project = project_of(ctx, m)
    issue = guards.visible_issue(ctx.state, project, int(m.group("iid")), ctx.user)
    return ok(views.issue_json(ctx.state, project, issue, ctx.urls))


def update_issue(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`PUT /projects/:id/issues/:iid` (state_event, title, description, labels)."""
    actor = ctx.writer()
    project = project_of(ctx, m)
    issue = guards.visible_issue(ctx.state, project, int(m.group("iid")), ctx.user)
    guards.writable(project)
    form = req.form()
    guards.issuable_errors(form, create=False)
    if "title" in form or "description" in form:
        guards.spam_check(ctx.state, "issue", _text(form, "title", "description"))
    ctx.state.update_issue(project, issue, actor, form, ctx.now)
    return ok(views.issue_json(ctx.state, project, issue, ctx.urls))


def list_issue_links(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/issues/:iid/links`."""
    project = project_of(ctx, m)
    issue = guards.visible_issue(ctx.state, project, int(m.group("iid")), ctx.user)
    result = []
    for link in ctx.state.issue_links:
        if issue["id"] in (link["source_id"], link["target_id"]):
            other_id = link["target_id"] if link["source_id"] == issue["id"] else link["source_id"]
            other = next(i for i in ctx.state.issues.values() if i["id"] == other_id)
            other_project = ctx.state.projects[other["project_id"]]
            if not guards.can_read_issue(ctx.state, other_project, other, ctx.user):
                continue
            result.append({**views.issue_json(ctx.state, other_project, other, ctx.urls),
                           "issue_link_id": link["id"], "link_type": link["link_type"],
                           "link_created_at": link["created_at"],
                           "link_updated_at": link["created_at"]})
    return ok(result)


def create_issue_link(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /projects/:id/issues/:iid/links` -> 201 `{source_issue, target_issue, link_type}`."""
    ctx.writer()
    project = project_of(ctx, m)
    source = guards.visible_issue(ctx.state, project, int(m.group("iid")), ctx.user)
    guards.writable(project)
    form = req.form()
    target_project = ctx.state.project(unquote(str(form.get("target_project_id") or "")))
    target = guards.visible_issue(ctx.state, target_project,
                                  int(form.get("target_issue_iid") or 0), ctx.user)
    link_type = str(form.get("link_type") or "relates_to")
    if any({source["id"], target["id"]} == {lk["source_id"], lk["target_id"]}
           for lk in ctx.state.issue_links):
        raise HttpError(gitlab_message(409, "Issue(s) already assigned"))
    ctx.state.issue_links.append({
        "id": len(ctx.state.issue_links) + 1, "source_id": source["id"],
        "target_id": target["id"], "link_type": link_type,
        "created_at": iso(ctx.now),
    })
    return ok({
        "source_issue": views.issue_json(ctx.state, project, source, ctx.urls),
        "target_issue": views.issue_json(ctx.state, target_project, target, ctx.urls),
        "link_type": link_type,
    }, 201)


def _text(form: JSON, *names: str) -> str:
    """The form's text fields the spam check reads, one per line."""
    return "\n".join(str(form.get(n) or "") for n in names)


# --- merge requests --------------------------------------------------------------------------


def list_merge_requests(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/merge_requests` (state, labels, source_branch, updated_after, ...)."""
    project = project_of(ctx, m)
    guards.count_search(ctx.state, req.arg("search"), ctx.user, ctx.now)
    listed = _listed(ctx, req, project, "merge_request")
    return paginate(req, listed.items, ctx.api_root,
                    lambda r: views.merge_request_json(ctx.state, project, r, ctx.urls))


def create_merge_request(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /projects/:id/merge_requests` -> 201 (`Draft:` title -> `draft: true`); from a fork
    with `target_project_id`, the MR belongs to the target project."""
    author = ctx.writer()
    project = project_of(ctx, m)
    guards.writable(project)
    form = req.form()
    guards.issuable_errors(form, create=True)
    mr = mrs.create_merge_request(ctx.state, project, author, form, ctx.now)
    target = ctx.state.projects[mr["project_id"]]  # another one when `target_project_id` says
    return ok(views.merge_request_json(ctx.state, target, mr, ctx.urls), 201)


def get_merge_request(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/merge_requests/:iid`."""
    project = project_of(ctx, m)
    mr = ctx.state.merge_request(project, int(m.group("iid")))
    return ok(views.merge_request_json(ctx.state, project, mr, ctx.urls))


def update_merge_request(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`PUT .../merge_requests/:iid`; `state_event=merge` is a sandbox-only shortcut."""
    actor = ctx.writer()
    project = project_of(ctx, m)
    mr = ctx.state.merge_request(project, int(m.group("iid")))
    guards.writable(project)
    form = req.form()
    guards.issuable_errors(form, create=False)
    if form.get("state_event") == "merge":
        repo.merge(ctx.state, project, mr, actor, ctx.now)
        form = {k: v for k, v in form.items() if k != "state_event"}
    mrs.update_merge_request(ctx.state, project, mr, actor, form, ctx.now)
    return ok(views.merge_request_json(ctx.state, project, mr, ctx.urls))


def merge_merge_request(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`PUT .../merge_requests/:iid/merge`: merge now (no pipelines or approvals here)."""
    actor = ctx.writer()
    project = project_of(ctx, m)
    mr = ctx.state.merge_request(project, int(m.group("iid")))
    guards.writable(project)
    repo.merge(ctx.state, project, mr, actor, ctx.now)
    return ok(views.merge_request_json(ctx.state, project, mr, ctx.urls))


def merge_request_diffs(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET .../merge_requests/:iid/diffs`: which files the MR touches."""
    project = project_of(ctx, m)
    mr = ctx.state.merge_request(project, int(m.group("iid")))
    return paginate(req, repo.changes(ctx.state, project, mr), ctx.api_root, lambda d: d)


# --- repository ------------------------------------------------------------------------------


def get_file(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /repository/files/:path?ref=` (JSON, base64) or `.../raw` (bytes)."""
    project = project_of(ctx, m)
    path = segment(m, "path")
    ref = req.arg("ref")
    if not ref:
        if not m.group("raw"):
            raise HttpError(json_response(400, {"error": "ref is missing, ref is empty"}))
        ref = project["default_branch"]
    try:
        commit = repo.resolve_ref(ctx.state, project, ref)
    except HttpError:
        raise gitlab_not_found("File") from None
    if path not in commit["files"]:
        raise gitlab_not_found("File")
    if m.group("raw"):
        return text_response(200, commit["files"][path], content_type="text/plain; charset=utf-8")
    return ok(repo.file_json(project, path, ref, commit))


def create_commit(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /repository/commits` -> 201 commit."""
    actor = ctx.writer()
    project = project_of(ctx, m)
    guards.writable(project)
    made = repo.commit(ctx.state, project, actor, req.form(), ctx.now)
    return ok(views.commit_json(project, made, ctx.urls), 201)


def get_branch(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /repository/branches/:branch`."""
    project = project_of(ctx, m)
    found = repo.branch(ctx.state, project, segment(m, "branch"))
    return ok(views.branch_json(ctx.state, project, found, ctx.urls))


def create_branch(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /repository/branches` (`branch`, `ref`) -> 201."""
    actor = ctx.writer()
    project = project_of(ctx, m)
    guards.writable(project)
    form = req.form() or {k: v[-1] for k, v in req.query.items()}
    made = repo.create_branch(ctx.state, project, str(form.get("branch") or ""),
                              str(form.get("ref") or ""), ctx.now, actor)
    return ok(views.branch_json(ctx.state, project, made, ctx.urls), 201)


_P = r"/api/v4/projects/(?P<project>[^/]+)"
_ITEM = rf"{_P}/(?P<kind>issues|merge_requests)/(?P<iid>\d+)"
ROUTES: list[Route[GitLabCtx]] = [
    route("GET", r"/api/v4/user", current_user),
    route("GET", r"/api/v4/personal_access_tokens/self", token_self),
    route("GET", _P, get_project),
    route("GET", rf"{_P}/labels", list_labels),
    route("GET", rf"{_P}/issues", list_issues),
    route("POST", rf"{_P}/issues", create_issue),
    route("GET", rf"{_P}/issues/(?P<iid>\d+)", get_issue),
    route("PUT", rf"{_P}/issues/(?P<iid>\d+)", update_issue),
    route("GET", rf"{_P}/issues/(?P<iid>\d+)/links", list_issue_links),
    route("POST", rf"{_P}/issues/(?P<iid>\d+)/links", create_issue_link),
    route("GET", rf"{_P}/merge_requests", list_merge_requests),
    route("POST", rf"{_P}/merge_requests", create_merge_request),
    route("GET", rf"{_P}/merge_requests/(?P<iid>\d+)", get_merge_request),
    route("PUT", rf"{_P}/merge_requests/(?P<iid>\d+)", update_merge_request),
    route("PUT", rf"{_P}/merge_requests/(?P<iid>\d+)/merge", merge_merge_request),
    route("GET", rf"{_P}/merge_requests/(?P<iid>\d+)/diffs", merge_request_diffs),
    route("GET", rf"{_P}/repository/files/(?P<path>[^/]+)(?P<raw>/raw)?", get_file),
    route("POST", rf"{_P}/repository/commits", create_commit),
    route("GET", rf"{_P}/repository/branches/(?P<branch>[^/]+)", get_branch),
    route("POST", rf"{_P}/repository/branches", create_branch),
    *notes.routes(_ITEM),
    *packages.routes(_P),
    *forks.routes(_P),
    *tree.routes(_P),
]
