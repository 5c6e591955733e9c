"""The sandbox's own control API (`/_sandbox/...`): inspect state and requests, inject faults,
reset, and act as the humans on either side (the docs team closing an issue or merging an MR,
a forum user posting, a moderator closing a topic) so tests can drive follow-ups."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from docsgap.sandbox.faults import Fault
from docsgap.sandbox.wire import JSON, HttpError, Response, json_response

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
    "POST /_sandbox/forum/pending/{id}/approve",
    "POST /_sandbox/forum/pending/{id}/reject",
)
"""Every control endpoint (JSON bodies; see `Controlled`)."""


class Controlled(Protocol):
    """What the control API drives: `server.Sandbox` (its methods of the same names)."""

    def state(self) -> JSON: ...
    def requests_log(self) -> list[JSON]: ...
    def faults_json(self) -> list[Any]: ...
    def add_fault_spec(self, spec: Mapping[str, Any]) -> Fault: ...
    def clear_requests(self) -> None: ...
    def clear_faults(self) -> None: ...
    def reset(self) -> None: ...
    def close_issue(self, iid: int, *, labels: tuple[str, ...] | list[str] = (),
                    username: str | None = None, project: str | None = None,
                    duplicate_of: int | None = None) -> JSON: ...
    def reopen_issue(self, iid: int, *, username: str | None = None,
                     project: str | None = None) -> JSON: ...
    def merge_merge_request(self, iid: int, *, username: str | None = None,
                            project: str | None = None) -> JSON: ...
    def add_post(self, topic_id: int, raw: str, *, username: str,
                 reply_to_post_number: int | None = None) -> JSON: ...
    def update_topic(self, topic_id: int, **fields: Any) -> None: ...
    def review_post(self, pending_id: int, verdict: str) -> JSON: ...


# --- HTTP ----------------------------------------------------------------------------------------


def _body(raw: bytes) -> JSON:
    data = json.loads(raw.decode("utf-8") or "{}")
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle(sandbox: Controlled, method: str, path: str, raw: bytes) -> Response:
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


def _route(sandbox: Controlled, method: str, name: str, body: JSON) -> Response:
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
    m = re.fullmatch(r"forum/pending/(\d+)/(approve|reject)", name)
    if m and method == "POST":  # a moderator's verdict on a post in the approval queue
        return json_response(200, sandbox.review_post(int(m.group(1)), m.group(2)))
    return json_response(404, {"error": f"no control endpoint {method} /_sandbox/{name}",
                               "endpoints": list(ENDPOINTS)})
