"""The sandbox GitLab's note routes on issues and merge requests: list (newest first by
default, system notes included), create (a body of only quick actions answers 202 without a
note), read and edit, behind the checks GitLab makes (`guards`)."""

from __future__ import annotations

import re

from docsgap.sandbox.gitlab import guards, views
from docsgap.sandbox.gitlab.ctx import GitLabCtx, ok, project_of
from docsgap.sandbox.gitlab.listing import order, paginate
from docsgap.sandbox.wire import JSON, Request, Response, Route, gitlab_not_found, route

NOTE_ORDER = ("created_at", "updated_at")


def list_notes(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET .../:iid/notes`: default order created_at **desc**, system notes included."""
    project = project_of(ctx, m)
    item = _noteable(ctx, project, m)
    notes, _, _ = order(req, ctx.state.notes_of(item), NOTE_ORDER)
    return paginate(req, notes, ctx.api_root, lambda n: views.note_json(ctx.state, n, ctx.urls))


def create_note(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST .../:iid/notes` -> 201; a body of only quick actions -> 202 without a note."""
    author = ctx.writer()
    guards.count_create(ctx.state, "notes", (author["id"],), ctx.now)  # before the lookups
    project = project_of(ctx, m)
    item = _noteable(ctx, project, m)
    guards.writable(project)
    body = str(req.form().get("body") or "")
    guards.note_errors(ctx.state, item, body, create=True)
    guards.spam_check(ctx.state, "note", body)
    note = ctx.state.add_note(project, item, author, body, ctx.now)
    if note is None:
        return ok({"commands_changes": {}, "summary": []}, 202)
    return ok(views.note_json(ctx.state, note, ctx.urls), 201)


def _noteable(ctx: GitLabCtx, project: JSON, m: re.Match[str]) -> JSON:
    """The issue or MR of a notes route, as the user may see it (`find_noteable`)."""
    iid = int(m.group("iid"))
    if m.group("kind") == "issues":
        return guards.visible_issue(ctx.state, project, iid, ctx.user)
    return ctx.state.merge_request(project, iid)


def _note(ctx: GitLabCtx, m: re.Match[str]) -> tuple[JSON, JSON, JSON]:
    project = project_of(ctx, m)
    item = _noteable(ctx, project, m)
    note = ctx.state.notes.get(int(m.group("note")))
    if note is None or note["noteable_id"] != item["id"]:
        raise gitlab_not_found("Note")
    return project, item, note


def get_note(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET .../:iid/notes/:note_id`."""
    _, _, note = _note(ctx, m)
    return ok(views.note_json(ctx.state, note, ctx.urls))


def update_note(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`PUT .../:iid/notes/:note_id` (body)."""
    actor = ctx.writer()
    project, item, note = _note(ctx, m)
    guards.writable(project)
    body = str(req.form().get("body") or "")
    guards.note_errors(ctx.state, item, body, create=False)
    guards.spam_check(ctx.state, "note", body)
    ctx.state.update_note(project, item, note, actor, body, ctx.now)
    return ok(views.note_json(ctx.state, note, ctx.urls))


def routes(item: str) -> list[Route[GitLabCtx]]:
    """The note routes below `item` (the issue or MR path pattern)."""
    return [
        route("GET", rf"{item}/notes", list_notes),
        route("POST", rf"{item}/notes", create_note),
        route("GET", rf"{item}/notes/(?P<note>\d+)", get_note),
        route("PUT", rf"{item}/notes/(?P<note>\d+)", update_note),
    ]
