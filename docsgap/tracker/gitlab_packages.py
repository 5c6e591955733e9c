"""The GitLab generic package registry through python-gitlab: where `ci_state` keeps the SQLite
state between scheduled runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gitlab
from gitlab.exceptions import GitlabError

from docsgap.ci_state import RegistryTarget, StateLocation
from docsgap.errors import NotFoundError, WriteRejectedError
from docsgap.tracker.gitlab_client import gitlab_errors, make_client

log = logging.getLogger(__name__)


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
