"""The sandbox's own control API (`/_sandbox/...`): inspect state and requests, inject faults,
reset, and act as the humans on either side (the docs team closing an issue or merging an MR,
a forum user posting, a moderator closing a topic) so tests can drive follow-ups."""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from docsgap.sandbox import gitlab_repo, snapshot
from docsgap.sandbox.wire import JSON, HttpError, Response, json_response

if TYPE_CHECKING:
    from docsgap.sandbox.server import Sandbox

ENDPOINTS = (
    "GET /_sandbox/state",
    "GET /_sandbox/requests",
    "DELETE /_sandbox/requests",
    "GET /_sandbox/faults",
    "POST /_sandbox/faults",
    "DELETE /_sandbox/faults",
    "POST /_sandbox/reset",
    "POST /_sandbox/gitlab/issues/{iid}/close",
    "POST /_sandbox/gitlab/issues/{iid}/reopen",
    "POST /_sandbox/gitlab/merge_requests/{iid}/merge",
    "POST /_sandbox/forum/topics/{id}/posts",
    "PUT /_sandbox/forum/topics/{id}",
)
"""Every control endpoint (JSON bodies; see `Sandbox`'s methods of the same names)."""


def close_issue(sandbox: Sandbox, iid: int, *, labels: tuple[str, ...] | list[str] = (),
                username: str | None = None, project: str | None = None,
                duplicate_of: int | None = None) -> JSON:
    """Close an issue as a GitLab user (default: the project owner), adding `labels` first
    (e.g. `won't do` for a declined one), or as a duplicate of issue `duplicate_of` as
    `/duplicate #N` does (the API then names it in `_links.closed_as_duplicate_of`). Returns
    the issue as `state()` shows it."""
    gl = sandbox.gitlab
    proj = gl.project(project or sandbox.project)
    actor = _gitlab_actor(sandbox, proj, username)
    issue = gl.issue(proj, iid)
    form: JSON = {"state_event": "close"}
    if labels:
        form["add_labels"] = list(labels)
    if duplicate_of is not None:
        original = gl.issue(proj, int(duplicate_of))  # 404 when there is no such issue
        issue["duplicated_to_iid"] = original["iid"]
        gl.add_note(proj, issue, actor, f"marked this issue as a duplicate of #{original['iid']}",
                    sandbox.now(), system=True)
    gl.update_issue(proj, issue, actor, form, sandbox.now())
    return _issue_row(sandbox, proj, iid)


def reopen_issue(sandbox: Sandbox, iid: int, *, username: str | None = None,
                 project: str | None = None) -> JSON:
    """Reopen a closed issue."""
    gl = sandbox.gitlab
    proj = gl.project(project or sandbox.project)
    actor = _gitlab_actor(sandbox, proj, username)
    gl.update_issue(proj, gl.issue(proj, iid), actor, {"state_event": "reopen"}, sandbox.now())
    return _issue_row(sandbox, proj, iid)


def merge_merge_request(sandbox: Sandbox, iid: int, *, username: str | None = None,
                        project: str | None = None) -> JSON:
    """Merge an open MR into its target branch (its `Closes #n` issues close when the target
    is the default branch). Returns the MR as `state()` shows it."""
    gl = sandbox.gitlab
    proj = gl.project(project or sandbox.project)
    actor = _gitlab_actor(sandbox, proj, username)
    mr = gl.merge_request(proj, iid)
    gitlab_repo.merge(gl, proj, mr, actor, sandbox.now())
    # One row, not the whole snapshot: building that costs time per issue in the forum.
    return copy.deepcopy(snapshot.merge_request_row(gl, mr, sandbox.gitlab_url))


def _gitlab_actor(sandbox: Sandbox, project: JSON, username: str | None) -> JSON:
    gl = sandbox.gitlab
    if username is None:
        return gl.users[project.get("owner_id") or next(iter(gl.users))]
    user = gl.user_named(username)
    if user is None:
        raise KeyError(f"unknown GitLab user {username!r}")
    return user


def _issue_row(sandbox: Sandbox, project: JSON, iid: int) -> JSON:
    gl = sandbox.gitlab
    return copy.deepcopy(snapshot.issue_row(gl, gl.issue(project, iid), sandbox.gitlab_url))


# --- HTTP ----------------------------------------------------------------------------------------


def _body(raw: bytes) -> JSON:
    data = json.loads(raw.decode("utf-8") or "{}")
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle(sandbox: Sandbox, method: str, path: str, raw: bytes) -> Response:
    """Serve one `/_sandbox/...` request."""
    name = path.removeprefix("/_sandbox").strip("/")
    try:
        return _route(sandbox, method, name, _body(raw) if raw else {})
    except HttpError as exc:  # a GitLab-side refusal (e.g. merging a merged MR)
        return exc.response
    except KeyError as exc:
        return json_response(404, {"error": f"not found: {exc.args[0] if exc.args else exc}"})
    except (ValueError, TypeError) as exc:
        return json_response(400, {"error": str(exc)})


def _route(sandbox: Sandbox, method: str, name: str, body: JSON) -> Response:
    if method == "GET" and name in ("state", "requests", "faults"):
        data: Any = {"state": sandbox.state, "requests": sandbox.requests_log,
                     "faults": sandbox.faults_json}[name]()
        return json_response(200, data)
    if (method, name) == ("POST", "faults"):
        return json_response(201, sandbox.add_fault_spec(body).to_json())
    if method == "DELETE" and name in ("requests", "faults"):
        (sandbox.clear_requests if name == "requests" else sandbox.clear_faults)()
        return Response(204)
    if (method, name) == ("POST", "reset"):
        sandbox.reset()
        return Response(204)
    m = re.fullmatch(r"gitlab/(issues|merge_requests)/(\d+)/(close|reopen|merge)", name)
    if m and method == "POST":
        kind, iid, verb = m.group(1), int(m.group(2)), m.group(3)
        user = body.get("username")
        if (kind, verb) == ("issues", "close"):
            labels = list(body.get("labels") or [])
            return json_response(200, sandbox.close_issue(
                iid, labels=labels, username=user, duplicate_of=body.get("duplicate_of")))
        if (kind, verb) == ("issues", "reopen"):
            return json_response(200, sandbox.reopen_issue(iid, username=user))
        if (kind, verb) == ("merge_requests", "merge"):
            return json_response(200, sandbox.merge_merge_request(iid, username=user))
    m = re.fullmatch(r"forum/topics/(\d+)(/posts)?", name)
    if m and method == "POST" and m.group(2):
        post = sandbox.add_post(int(m.group(1)), str(body["raw"]), username=str(body["username"]),
                                reply_to_post_number=body.get("reply_to_post_number"))
        return json_response(201, post)
    if m and method == "PUT" and not m.group(2):
        sandbox.update_topic(int(m.group(1)), **body)
        return Response(204)
    return json_response(404, {"error": f"no control endpoint {method} /_sandbox/{name}",
                               "endpoints": list(ENDPOINTS)})
