"""The sandbox GitLab's generic package registry (`/projects/:id/packages/generic/...`), which
a scheduled CI job can use to carry docsgap's SQLite state from one run to the next."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docsgap.sandbox.gitlab.ctx import GitLabCtx, ok, project_of
from docsgap.sandbox.gitlab.listing import paginate
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Request,
    Response,
    Route,
    gitlab_bad_request,
    gitlab_message,
    gitlab_not_found,
    iso,
    json_response,
    route,
    segment,
)

# GitLab's validators: names and file names of [A-Za-z0-9._-] (file names may nest with `/`
# when URL-encoded), versions matching `\A(\.?[\w\+-]+\.?)+\z`.
_NAME = re.compile(r"[A-Za-z0-9._-]+")
_VERSION = re.compile(r"(\.?[\w+-]+\.?)+")
_FILE = re.compile(r"[A-Za-z0-9._-][A-Za-z0-9._/-]*")


@dataclass
class PackageCtx:
    """What the package handlers need from the GitLab request context."""

    state: GitLabState
    project: JSON
    now: float
    writer: Callable[[], JSON]
    api_root: str


def _package(state: GitLabState, project: JSON, name: str, version: str) -> JSON | None:
    return next((p for p in state.packages if p["project_id"] == project["id"]
                 and p["name"] == name and p["version"] == version), None)


def _validate(name: str, version: str, file_name: str) -> None:
    if not _NAME.fullmatch(name):
        raise gitlab_bad_request("package_name is invalid")
    if not _VERSION.fullmatch(version):
        raise gitlab_bad_request("package_version is invalid")
    if not _FILE.fullmatch(file_name) or ".." in file_name.split("/"):
        raise gitlab_bad_request("file_name is invalid")


def duplicates_allowed(state: GitLabState, name: str, version: str) -> bool:
    """`Namespace::PackageSetting.duplicates_allowed?`: the setting, flipped when the exception
    regex matches the whole package name or version (an empty regex matches neither)."""
    pattern = state.generic_duplicate_exception_regex
    matched = bool(pattern) and any(re.fullmatch(pattern, s) for s in (name, version))
    return not matched if state.generic_duplicates_allowed else matched


def upload(ctx: PackageCtx, req: Request, name: str, version: str, file_name: str) -> Response:
    """`PUT .../packages/generic/:name/:version/:file` -> 201. Uploading a file name again adds
    a new package file when duplicates are allowed (GitLab's default; downloads get the newest)
    and answers 400 "Duplicate package is not allowed" when they are not."""
    actor = ctx.writer()
    _validate(name, version, file_name)
    status = req.arg("status") or "default"
    if status not in ("default", "hidden"):
        raise gitlab_bad_request("status does not have a valid value")
    state = ctx.state
    package = _package(state, ctx.project, name, version)
    if (package is not None and not duplicates_allowed(state, name, version)
            and any(f["file_name"] == file_name for f in package["files"])):
        # Grape's `bad_request!(reason)` wording (Packages::DuplicatePackageError).
        raise HttpError(gitlab_message(400, "400 Bad request - Duplicate package is not allowed"))
    stamp = iso(ctx.now)
    if package is None:
        package = {"id": max((p["id"] for p in state.packages), default=4000) + 1,
                   "project_id": ctx.project["id"], "name": name, "version": version,
                   "status": status, "created_at": stamp, "files": [],
                   "creator_id": actor["id"]}
        state.packages.append(package)
    data = req.body
    file_id = max((f["id"] for p in state.packages for f in p["files"]), default=9000) + 1
    record: JSON = {
        "id": file_id, "package_id": package["id"], "file_name": file_name, "size": len(data),
        "file_md5": None, "file_sha1": hashlib.sha1(data).hexdigest(),
        "file_sha256": hashlib.sha256(data).hexdigest(), "created_at": stamp, "data": data,
    }
    package["files"].append(record)
    if req.arg("select") == "package_file":
        return json_response(201, file_json(record))
    return gitlab_message(201, "201 Created")


def download(ctx: PackageCtx, req: Request, name: str, version: str, file_name: str) -> Response:
    """`GET .../packages/generic/:name/:version/:file`: the newest file of that name."""
    package = _package(ctx.state, ctx.project, name, version)
    if package is None or package["status"] != "default":
        raise gitlab_not_found("Package")
    files = [f for f in package["files"] if f["file_name"] == file_name]
    if not files:
        raise gitlab_not_found("Package file")
    newest = files[-1]
    return Response(200, newest["data"], "application/octet-stream", {
        "Content-Disposition": f'attachment; filename="{file_name.rsplit("/", 1)[-1]}"',
    })


def package_json(ctx: PackageCtx, package: JSON) -> JSON:
    """An item of `GET /projects/:id/packages`."""
    path = ctx.project["path_with_namespace"]
    api = f"/api/v4/projects/{ctx.project['id']}/packages/{package['id']}"
    return {
        "id": package["id"], "name": package["name"], "version": package["version"],
        "package_type": "generic", "status": package["status"],
        "_links": {"web_path": f"/{path}/-/packages/{package['id']}",
                   "delete_api_path": f"{ctx.api_root}{api}"},
        "created_at": package["created_at"],
        "last_downloaded_at": None, "pipeline": None, "pipelines": [], "tags": [],
    }


def file_json(record: JSON) -> JSON:
    """A package file as the API lists it (without its bytes)."""
    return {k: v for k, v in record.items() if k != "data"} | {"pipelines": []}


def list_packages(ctx: PackageCtx, req: Request) -> list[JSON]:
    """`GET /projects/:id/packages` rows, filtered by `package_name`/`package_version`/
    `package_type`, ordered by `order_by` (created_at, name, version) and `sort`."""
    rows = [p for p in ctx.state.packages if p["project_id"] == ctx.project["id"]]
    package_type = req.arg("package_type")
    if package_type and package_type != "generic":
        rows = []
    name = req.arg("package_name")
    if name:
        rows = [p for p in rows if name.lower() in p["name"].lower()]
    version = req.arg("package_version")
    if version:
        rows = [p for p in rows if p["version"] == version]
    order_by = req.arg("order_by") or "created_at"
    if order_by not in ("created_at", "name", "version", "type"):
        raise gitlab_bad_request("order_by does not have a valid value")
    key: Callable[[JSON], Any] = (lambda p: (p["name"], p["id"])) if order_by == "name" else (
        (lambda p: (p["version"], p["id"])) if order_by == "version" else (lambda p: p["id"]))
    return sorted(rows, key=key, reverse=(req.arg("sort") or "asc") == "desc")


def find(ctx: PackageCtx, package_id: int) -> JSON:
    """A package of the project by id, or 404."""
    found = next((p for p in ctx.state.packages
                  if p["id"] == package_id and p["project_id"] == ctx.project["id"]), None)
    if found is None:
        raise gitlab_not_found("Package")
    return found


def delete(ctx: PackageCtx, package_id: int, file_id: int | None = None) -> Response:
    """`DELETE /packages/:id` or `/packages/:id/package_files/:file_id` -> 204."""
    ctx.writer()
    package = find(ctx, package_id)
    if file_id is None:
        ctx.state.packages.remove(package)
        return Response(204)
    record = next((f for f in package["files"] if f["id"] == file_id), None)
    if record is None:
        raise HttpError(gitlab_message(404, "404 Not found"))
    package["files"].remove(record)
    return Response(204)


# --- routes ------------------------------------------------------------------------------------


def _packages(ctx: GitLabCtx, m: re.Match[str]) -> PackageCtx:
    return PackageCtx(ctx.state, project_of(ctx, m), ctx.now, ctx.writer, ctx.api_root)


def _generic_args(m: re.Match[str]) -> tuple[str, str, str]:
    return segment(m, "name"), segment(m, "version"), segment(m, "file")


def put_generic_file(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`PUT /packages/generic/:name/:version/:file` (PRIVATE-TOKEN or JOB-TOKEN) -> 201."""
    return upload(_packages(ctx, m), req, *_generic_args(m))


def get_generic_file(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /packages/generic/:name/:version/:file` -> the bytes."""
    return download(_packages(ctx, m), req, *_generic_args(m))


def list_packages_route(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/packages`."""
    pkg = _packages(ctx, m)
    rows = list_packages(pkg, req)
    return paginate(req, rows, ctx.api_root, lambda p: package_json(pkg, p))


def get_package(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/packages/:package_id`."""
    pkg = _packages(ctx, m)
    return ok(package_json(pkg, find(pkg, int(m.group("pkg")))))


def list_package_files(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`GET /projects/:id/packages/:package_id/package_files`."""
    pkg = _packages(ctx, m)
    files = find(pkg, int(m.group("pkg")))["files"]
    return paginate(req, files, ctx.api_root, file_json)


def delete_package(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`DELETE /projects/:id/packages/:package_id` -> 204."""
    return delete(_packages(ctx, m), int(m.group("pkg")))


def delete_package_file(ctx: GitLabCtx, req: Request, m: re.Match[str]) -> Response:
    """`DELETE /projects/:id/packages/:package_id/package_files/:file_id` -> 204."""
    return delete(_packages(ctx, m), int(m.group("pkg")), int(m.group("file_id")))


def routes(project: str) -> list[Route[GitLabCtx]]:
    """The registry's routes below `project` (the project path pattern)."""
    generic = rf"{project}/packages/generic/(?P<name>[^/]+)/(?P<version>[^/]+)/(?P<file>.+)"
    return [
        route("PUT", generic, put_generic_file),
        route("GET", generic, get_generic_file),
        route("GET", rf"{project}/packages", list_packages_route),
        route("GET", rf"{project}/packages/(?P<pkg>\d+)", get_package),
        route("GET", rf"{project}/packages/(?P<pkg>\d+)/package_files", list_package_files),
        route("DELETE", rf"{project}/packages/(?P<pkg>\d+)", delete_package),
        route("DELETE", rf"{project}/packages/(?P<pkg>\d+)/package_files/(?P<file_id>\d+)",
              delete_package_file),
    ]


JOB_ROUTES = frozenset((put_generic_file, get_generic_file, list_packages_route, get_package,
                        list_package_files, delete_package, delete_package_file))
"""Handlers a CI job token may call."""
