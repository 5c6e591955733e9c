"""The context a sandbox GitLab route handler works in: the state, the acting user and token,
and the URLs to render; plus helpers every handler module shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docsgap.sandbox.gitlab import views
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Response,
    gitlab_message,
    json_response,
    segment,
)


@dataclass
class GitLabCtx:
    """What a GitLab route handler gets besides the request."""

    state: GitLabState
    user: JSON | None
    token: JSON | None
    now: float
    urls: views.Urls
    api_root: str
    """`http://host:port/gitlab` as the client addressed us (pagination links)."""

    def writer(self) -> JSON:
        """The acting user for a write: 401 when anonymous, 403 without write rights."""
        if self.user is None or self.token is None:
            raise HttpError(gitlab_message(401, "401 Unauthorized"))
        if self.token.get("kind") != "job" and "api" not in self.token["scopes"]:
            raise HttpError(json_response(403, {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by "
                "the access token.",
                "scope": "api",
            }))
        if not self.token.get("write", True):
            raise HttpError(gitlab_message(403, "403 Forbidden"))
        return self.user

    def reader(self) -> JSON:
        """The authenticated user (endpoints like `/user` need one)."""
        if self.user is None:
            raise HttpError(gitlab_message(401, "401 Unauthorized"))
        return self.user


def ok(data: object, status: int = 200) -> Response:
    """A JSON answer (200 unless told)."""
    return json_response(status, data)


def project_of(ctx: GitLabCtx, m: re.Match[str]) -> JSON:
    """The project named by the route's `project` segment (numeric id or encoded path)."""
    return ctx.state.project(segment(m, "project"))
