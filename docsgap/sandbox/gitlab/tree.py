"""The sandbox GitLab's repository reads the docs sync needs: the commit list filtered by path
(`GET /repository/commits?ref_name=&path=`) and a folder as an archive
(`GET /repository/archive[.format]?sha=&path=`), shaped as GitLab answers them."""

from __future__ import annotations

import calendar
import gzip
import io
import re
import tarfile
import time

from docsgap.sandbox.gitlab import repo, views
from docsgap.sandbox.gitlab.ctx import GitLabCtx, ok, project_of
from docsgap.sandbox.gitlab.listing import paginate
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import JSON, HttpError, Request, Response, Route, gitlab_message, route

ARCHIVE_FORMATS = ("tar.gz", "tar")


def _under(files: dict[str, str], path: str) -> dict[str, str]:
    if not path:
        return files
    prefix = path.strip("/") + "/"
    return {p: c for p, c in files.items() if p.startswith(prefix) or p == path.strip("/")}


def commits_touching(state: GitLabState, head: JSON, path: str) -> list[JSON]:
    """`head` and its ancestors, newest first, that changed a file under `path` (all of
    them when `path` is empty), as `git log -- path` lists them."""
    found = []
    commit: JSON | None = head
    while commit is not None:
        parents = commit["parent_ids"]
        parent = state.commits[parents[0]] if parents else None
        mine = _under(commit["files"], path)
        if mine != _under(parent["files"] if parent else {}, path) or (parent is None and mine):
            found.append(commit)
        commit = parent
    return found


def list_commits(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /repository/commits` (`ref_name`, `path`, pagination); an unknown ref lists none."""
    project = project_of(ctx, m)
    ref = req.arg("ref_name") or project["default_branch"]
    try:
        head = repo.resolve_ref(ctx.state, project, ref)
    except HttpError:
        return ok([])
    found = commits_touching(ctx.state, head, req.arg("path") or "")
    return paginate(req, found, ctx.api_root, lambda c: views.commit_json(project, c, ctx.urls))


def archive(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /repository/archive[.tar.gz|.tar]`: the files under `path` at `sha` (default
    branch when absent) below one `<project>-<ref>-<sha>[-<path>]/` directory, as GitLab's
    archives are laid out; 404 for an unknown ref."""
    project = project_of(ctx, m)
    fmt = m.group("format") or "tar.gz"
    if fmt not in ARCHIVE_FORMATS:
        raise HttpError(gitlab_message(404, "404 Not Found"))
    ref = req.arg("sha") or project["default_branch"]
    commit = repo.resolve_ref(ctx.state, project, ref)
    path = (req.arg("path") or "").strip("/")
    prefix = f"{project['name']}-{ref}-{commit['id']}" + (f"-{path.replace('/', '-')}" if path
                                                           else "")
    # The commit's date, in UTC, stamps the members and the gzip header alike, so the same
    # commit always downloads as the same bytes (GitLab caches archives per commit too).
    stamp = calendar.timegm(time.strptime(commit["committed_date"][:19], "%Y-%m-%dT%H:%M:%S"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in sorted(_under(commit["files"], path).items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size, info.mtime, info.mode = len(data), stamp, 0o644
            tar.addfile(info, io.BytesIO(data))
    body = buffer.getvalue()
    if fmt == "tar.gz":
        body = gzip.compress(body, mtime=stamp)
    filename = f"{prefix}.{fmt}"
    return Response(200, body, "application/octet-stream",
                    {"Content-Disposition": f'attachment; filename="{filename}"',
                     "Content-Transfer-Encoding": "binary"})


def routes(project: str) -> list[Route[GitLabCtx]]:
    """The routes below `project` (the project path pattern)."""
    return [
        route("GET", rf"{project}/repository/commits", list_commits),
        route("GET", rf"{project}/repository/archive(?:\.(?P<format>[\w.]+))?", archive),
    ]
