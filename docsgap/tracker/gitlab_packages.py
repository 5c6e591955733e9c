"""The GitLab generic package registry through python-gitlab: where `ci_state` keeps the SQLite
state between scheduled runs."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import gitlab
from gitlab.exceptions import GitlabError

from docsgap.errors import AuthError, DocsgapError, NotFoundError, ProjectNotFoundError
from docsgap.state.ci import RegistryTarget, StateLocation
from docsgap.tracker.gitlab_client import gitlab_errors, make_client

log = logging.getLogger(__name__)


class DuplicatesForbidden(AuthError):
    """The group's package settings forbid a second `state.sqlite` in the package version, so
    the state cannot be saved (exit 5, as any write GitLab does not permit). Nothing changed in
    the registry: the next `state pull` restores the copy an earlier run saved."""

    def __init__(self, location: StateLocation, status: int | None) -> None:
        super().__init__(
            f"GitLab refused to save the state as {location}: this project's group forbids "
            "duplicate generic packages (\"Duplicate package is not allowed\"), and docsgap "
            "saves a new copy of the same file after every run",
            status=status,
            hint="a group Owner can allow them for docsgap's package only: Settings > Packages "
            "and registries > Duplicate packages > Generic, add the exception "
            f"{location.package!r} (with Allow duplicates off; when it is on, an exception "
            f"matching {location.package!r} or {location.version!r} forbids them)",
        )


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
        """Stream the newest copy of `location` into `dest`; `False` on 404 (none saved yet).
        GitLab's "404 Project Not Found" (a mistyped project, or one the token cannot see) is
        raised: taken as "none saved", a scheduled run would start from an empty state."""
        doing = f"downloading package file {location}"
        try:
            with gitlab_errors(doing, project=self.project), dest.open("wb") as fh:
                self._project.generic_packages.download(
                    location.package, location.version, location.file_name,
                    streamed=True, action=fh.write, **self._retry,
                )
        except ProjectNotFoundError:
            raise
        except NotFoundError:
            return False
        return True

    def upload(self, location: StateLocation, source: Path) -> None:
        """Upload `source` as a new copy of `location`. When the group forbids duplicate
        package files (GitLab answers 400 "Duplicate package is not allowed" for every save
        after the first), raise `DuplicatesForbidden`, unless the newest saved copy already
        holds these very bytes (a retried upload that had landed, an unchanged state)."""
        doing = f"uploading package file {location}"
        with gitlab_errors(doing, project=self.project, write=True):
            try:
                self._project.generic_packages.upload(
                    location.package, location.version, location.file_name,
                    path=str(source), **self._retry,
                )
            except GitlabError as exc:
                if "duplicate package" not in str(exc.error_message).lower():
                    raise
                digest = hashlib.sha256(source.read_bytes()).hexdigest()
                if self._newest_sha256(location) == digest:
                    log.info("%s is already saved with the same content", location)
                    return
                raise DuplicatesForbidden(location, exc.response_code) from exc

    def newest_sha256(self, location: StateLocation) -> str | None:
        """The sha256 of the newest saved copy of `location`, None when there is none."""
        with gitlab_errors(f"listing package {location}", project=self.project):
            files = self._files(location)
        if not files:
            return None
        sha = files[-1][1].attributes.get("file_sha256")
        if not sha:
            raise DocsgapError(f"GitLab gives no sha256 for the newest copy of {location}")
        return str(sha)

    def _newest_sha256(self, location: StateLocation) -> str | None:
        """The sha256 of the newest saved copy of `location` (None if unknown: a listing the
        token may not read is no reason to hide the duplicate error)."""
        try:
            files = self._files(location)
        except (GitlabError, DocsgapError):
            return None
        return str(files[-1][1].file_sha256) if files else None

    def _files(self, location: StateLocation) -> list[tuple[Any, Any]]:
        """`(package, package file)` of every copy of `location`, oldest first."""
        found: list[tuple[Any, Any]] = []
        packages = self._project.packages.list(
            package_type="generic", package_name=location.package, iterator=True, **self._retry,
        )
        for package in packages:
            if package.name != location.package or package.version != location.version:
                continue
            found.extend(
                (package, f) for f in package.package_files.list(get_all=True, **self._retry)
                if f.file_name == location.file_name
            )
        found.sort(key=lambda pf: (str(pf[1].created_at), int(pf[1].id)))
        return found

    def prune(self, location: StateLocation, keep: int) -> int:
        """Delete all but the `keep` newest copies of `location`; returns how many went."""
        deleted = 0
        with gitlab_errors(f"pruning package {location}", project=self.project, write=True):
            files = self._files(location)
            for package, old in files[: max(len(files) - keep, 0)]:
                package.package_files.delete(old.id)
                deleted += 1
        if deleted:
            log.info("deleted %d older copies of %s", deleted, location)
        return deleted
