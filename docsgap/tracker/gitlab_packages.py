"""The GitLab generic package registry through python-gitlab: where `ci_state` keeps the SQLite
state between scheduled runs. Also the client factory and error translation the other small
GitLab adapters (`gitlab_checks`) share."""

from __future__ import annotations

import configparser
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gitlab
import gitlab.config
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError

from docsgap import __version__
from docsgap.ci_state import RegistryTarget, StateLocation
from docsgap.errors import (
    AuthError,
    ConfigError,
    DocsgapError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    RemoteError,
    UnavailableError,
    WriteRejectedError,
)

log = logging.getLogger(__name__)

TOKEN_ARGS = {"private": "private_token", "oauth": "oauth_token", "job": "job_token"}
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


def make_client(
    url: str,
    *,
    token: str | None = None,
    token_kind: str = "private",
    timeout: float = 60.0,
    python_gitlab_id: str | None = None,
    python_gitlab_default: bool = False,
) -> gitlab.Gitlab:
    """A python-gitlab client: from python-gitlab's own config file when `python_gitlab_id` is
    given or `python_gitlab_default` (its default section; PYTHON_GITLAB_CFG or
    ~/.python-gitlab.cfg), else from `url` and the token."""
    if python_gitlab_id is not None or python_gitlab_default:
        try:
            gl = gitlab.Gitlab.from_config(python_gitlab_id)
        except (gitlab.config.ConfigError, configparser.Error, OSError) as exc:
            raise ConfigError(
                f"python-gitlab config section {python_gitlab_id or '(default)'}: {exc}",
                hint="check PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg",
            ) from exc
        return gl
    if token_kind not in TOKEN_ARGS:
        raise ConfigError(
            f"gitlab.token_kind = {token_kind!r}: expected one of {', '.join(TOKEN_ARGS)}"
        )
    auth: dict[str, Any] = {TOKEN_ARGS[token_kind]: token} if token else {}
    return gitlab.Gitlab(
        url.rstrip("/"),
        timeout=timeout,
        user_agent=f"docsgap/{__version__} python-gitlab/{gitlab.__version__}",
        **auth,
    )


@contextmanager
def gitlab_errors(doing: str, *, project: str, write: bool = False) -> Iterator[None]:
    """Translate python-gitlab/requests errors into docsgap's, naming what was being done."""
    try:
        yield
    except DocsgapError:
        raise
    except GitlabError as exc:
        raise translate(exc, doing, project=project, write=write) from exc
    except _BAD_URL as exc:
        raise ConfigError(f"gitlab.url is not usable: {exc}") from exc
    except requests.RequestException as exc:
        raise UnavailableError(
            f"GitLab unreachable while {doing}: {type(exc).__name__}",
            hint="check the GitLab URL and the network; a rerun is safe",
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(
            f"unexpected GitLab payload while {doing}: {type(exc).__name__}: {exc}"
        ) from exc


def translate(exc: GitlabError, doing: str, *, project: str, write: bool = False) -> RemoteError:
    """A python-gitlab error as the docsgap error of the same meaning."""
    code = exc.response_code
    message = f"GitLab refused {doing} ({code}): {exc.error_message}"
    if isinstance(exc, GitlabAuthenticationError) or code == 401:
        return AuthError(
            f"GitLab refused the credentials while {doing} (401)",
            status=401,
            hint="check the token (DOCSGAP_GITLAB_TOKEN, or CI_JOB_TOKEN in CI): valid, "
            "not expired, with the `api` scope",
        )
    if code == 403:
        return AuthError(
            message, status=403, hint=f"the token's user lacks permission on {project}"
        )
    if code in (404, 410):
        return NotFoundError(
            f"GitLab: not found while {doing} ({exc.error_message})",
            status=code,
            hint=f"check the project ({project!r}) and that the token can see it",
        )
    if code == 429:
        return RateLimitedError(f"GitLab still rate limits {doing} after retries")
    if code is not None and code >= 500:
        return UnavailableError(f"GitLab server error while {doing} ({code})", status=code)
    if write and code in (400, 409, 422):
        return WriteRejectedError(message, status=code)
    if code is None or 200 <= code < 300:
        return PayloadError(f"GitLab sent an unreadable answer while {doing}: {exc}")
    return RemoteError(message, status=code)


class GitLabPackages:
    """One project's generic package registry (implements `ci_state.StateRegistry`).

    Reads and uploads retry transient errors: a retried upload at worst adds one more copy of
    the same file, which GitLab serves as the newest and `prune` removes later.
    """

    def __init__(self, gl: gitlab.Gitlab, project: str, *, max_retries: int = 3) -> None:
        self.gl = gl
        self.project = project
        self._retry: dict[str, Any] = {"retry_transient_errors": True, "max_retries": max_retries}
        # lazy: no GET /projects/:id; a job token may only reach the package endpoints.
        self._project = gl.projects.get(project, lazy=True)

    @classmethod
    def for_target(cls, target: RegistryTarget, *, timeout: float = 60.0) -> GitLabPackages:
        """Build from a resolved `RegistryTarget`."""
        gl = make_client(
            target.url,
            token=target.token,
            token_kind=target.token_kind,
            timeout=timeout,
            python_gitlab_id=target.python_gitlab_id,
        )
        return cls(gl, target.project)

    def fetch(self, location: StateLocation, dest: Path) -> bool:
        """Stream the newest copy of `location` into `dest`; `False` on 404 (none saved yet,
        or the project is not visible to the token: GitLab answers 404 for both)."""
        doing = f"downloading package file {location}"
        try:
            with gitlab_errors(doing, project=self.project), dest.open("wb") as fh:
                self._project.generic_packages.download(
                    location.package, location.version, location.file_name,
                    streamed=True, action=fh.write, **self._retry,
                )
        except NotFoundError:
            return False
        return True

    def upload(self, location: StateLocation, source: Path) -> None:
        """Upload `source` as a new copy of `location`."""
        doing = f"uploading package file {location}"
        with gitlab_errors(doing, project=self.project, write=True):
            try:
                self._project.generic_packages.upload(
                    location.package, location.version, location.file_name,
                    path=str(source), **self._retry,
                )
            except GitlabError as exc:
                if exc.response_code == 403 and "uplicate" in str(exc.error_message):
                    raise WriteRejectedError(
                        f"GitLab refused {doing}: duplicate package files are not allowed",
                        status=403,
                        hint="allow duplicate generic packages for this project's group, or "
                        f"add an exception matching {location.package!r}",
                    ) from exc
                raise

    def prune(self, location: StateLocation, keep: int) -> int:
        """Delete all but the `keep` newest copies of `location`; returns how many went."""
        deleted = 0
        with gitlab_errors(f"pruning package {location}", project=self.project, write=True):
            packages = self._project.packages.list(
                package_type="generic", package_name=location.package, iterator=True,
                **self._retry,
            )
            for package in packages:
                if package.name != location.package or package.version != location.version:
                    continue
                files = [
                    f for f in package.package_files.list(get_all=True, **self._retry)
                    if f.file_name == location.file_name
                ]
                files.sort(key=lambda f: (str(f.created_at), int(f.id)))
                for old in files[: max(len(files) - keep, 0)]:
                    package.package_files.delete(old.id)
                    deleted += 1
        if deleted:
            log.info("deleted %d older copies of %s", deleted, location)
        return deleted
