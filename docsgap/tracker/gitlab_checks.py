"""Read-only GitLab probes for `docsgap doctor` (the `TrackerProbe` protocol) over
python-gitlab: the URL answers, the token is valid and has its scopes, the project and the
configured labels exist."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import gitlab
from gitlab.exceptions import GitlabAuthenticationError, GitlabHttpError, GitlabParsingError

from docsgap.errors import AuthError, NotFoundError, PayloadError
from docsgap.jsonshape import integer
from docsgap.tracker.gitlab_client import gitlab_errors, make_client
from docsgap.tracker.interface import ProjectInfo, TokenInfo


class GitLabChecks:
    """A handful of GETs; never writes. Transient errors are not retried: doctor reports."""

    def __init__(self, gl: gitlab.Gitlab, project: str, *,
                 learned: Callable[[str, dict[str, Any]], None] | None = None,
                 known: dict[str, dict[str, Any]] | None = None) -> None:
        self.gl = gl
        self.project_path = project
        self.url: str = gl.url
        self._learned = learned
        """Told what `GET /user` ("user") and `GET /projects/:id` ("project") answered, so a
        tracker over the same client need not ask again (`GitLabTracker.checks`)."""
        self._known = dict(known or {})
        """What that tracker already read of them with this client: not asked again."""

    @classmethod
    def build(
        cls,
        url: str,
        project: str,
        *,
        token: str | None = None,
        token_kind: str = "private",
        timeout: float = 30.0,
        python_gitlab_id: str | None = None,
        python_gitlab_default: bool = False,
    ) -> GitLabChecks:
        """A client from the URL and token (or python-gitlab's config section)."""
        gl = make_client(url, token=token, token_kind=token_kind, timeout=timeout,
                         python_gitlab_id=python_gitlab_id,
                         python_gitlab_default=python_gitlab_default)
        return cls(gl, project)

    def answers(self) -> str:
        """`GET /version`: "GitLab <version>", or a note that it shows it only to a valid token
        (a JSON 401/403/404). A non-JSON answer means the URL is not a GitLab API root."""
        not_gitlab = PayloadError(
            f"{self.gl.url} does not answer like a GitLab API (GET /api/v4/version)",
            hint="gitlab.url is the instance root (https://gitlab.example.com), without /api/v4",
        )
        with gitlab_errors("asking for the version", project=self.project_path):
            try:
                data = self.gl.http_get("/version")
            except (GitlabAuthenticationError, GitlabHttpError) as exc:
                if exc.response_code in (401, 403, 404):
                    if not _is_json(exc.response_body):
                        raise not_gitlab from exc
                    shown = "no /version" if exc.response_code == 404 else "version needs a token"
                    return f"a GitLab API ({shown})"
                raise
            except GitlabParsingError as exc:
                raise not_gitlab from exc
        if not isinstance(data, dict):
            raise not_gitlab
        version = data.get("version")
        return f"GitLab {version}" if version else "a GitLab API"

    def current_user(self) -> str:
        """`GET /user`: the token's username."""
        with gitlab_errors("checking the token (GET /user)", project=self.project_path):
            data = self._known.get("user") or self.gl.http_get("/user")
            if not isinstance(data, dict):
                raise PayloadError("GitLab answered /user without a JSON object")
            if self._learned is not None:
                self._learned("user", data)
            name = str(data["username"])
            return f"{name} (bot)" if data.get("bot") else name

    def token_info(self) -> TokenInfo | None:
        """`GET /personal_access_tokens/self`; None if GitLab cannot say (OAuth tokens and
        GitLab before 15.5 answer 401/403/404 here although the token itself works)."""
        try:
            with gitlab_errors("reading the token's scopes", project=self.project_path):
                data = self.gl.http_get("/personal_access_tokens/self")
        except (AuthError, NotFoundError):
            return None
        if not isinstance(data, dict):
            raise PayloadError("GitLab answered /personal_access_tokens/self without an object")
        expires = data.get("expires_at")
        scopes = data.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes):
            raise PayloadError(f"GitLab sent token scopes that are not a list of names: {scopes!r}")
        try:
            expires_on = date.fromisoformat(str(expires)[:10]) if expires else None
        except ValueError as exc:
            raise PayloadError(f"GitLab sent a token expiry that is not a date: {expires!r}"
                               ) from exc
        return TokenInfo(
            name=str(data.get("name") or "token"),
            scopes=tuple(scopes),
            active=bool(data.get("active", True)) and not data.get("revoked", False),
            expires_at=expires_on,
        )

    def project(self) -> ProjectInfo:
        """`GET /projects/:id` (once per doctor run; rate limited on GitLab.com at 400/min)."""
        with gitlab_errors(f"reading project {self.project_path}", project=self.project_path):
            data = self._known.get("project") or self.gl.projects.get(
                self.project_path).asdict()
            if self._learned is not None:
                self._learned("project", data)
            return ProjectInfo(
                path=str(data["path_with_namespace"]),
                web_url=str(data.get("web_url") or ""),
                issues_enabled=data.get("issues_enabled"),
                archived=data.get("archived") is True,
                access_level=_access_level(data.get("permissions")),
            )

    def missing_labels(self, names: Sequence[str]) -> list[str]:
        """Each name is looked up with `GET /projects/:id/labels?search=` (group labels
        included) and compared exactly, case included: GitLab applies a label by its exact
        title and creates a new one for any other spelling (`Labels::FindOrCreateService`)."""
        missing: list[str] = []
        project = self.gl.projects.get(self.project_path, lazy=True)
        with gitlab_errors(f"listing labels of {self.project_path}", project=self.project_path):
            for name in names:
                found = any(
                    str(label.name) == name
                    for label in project.labels.list(
                        search=name, include_ancestor_groups=True, iterator=True, per_page=100
                    )
                )
                if not found:
                    missing.append(name)
        return missing


    def owned_fork(self) -> str | None:
        """`GET /projects/:id/forks?owned=true`: the first fork the token's user owns."""
        project = self.gl.projects.get(self.project_path, lazy=True)
        with gitlab_errors(f"listing forks of {self.project_path}", project=self.project_path):
            for fork in project.forks.list(owned=True, per_page=1, iterator=True):
                return str(fork.path_with_namespace)
        return None


def _is_json(body: Any) -> bool:
    try:
        json.loads(body or b"")
    except (TypeError, ValueError):
        return False
    return True


def _access_level(permissions: Any) -> int | None:
    if not isinstance(permissions, dict):
        return None
    levels = [
        integer(access["access_level"])
        for access in (permissions.get("project_access"), permissions.get("group_access"))
        if isinstance(access, dict) and access.get("access_level") is not None
    ]
    return max(levels) if levels else 0
