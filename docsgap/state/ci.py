"""The SQLite state between scheduled CI runs: restore it before a run, save it after.

Decision: the state lives in the GitLab **generic package registry** of the project that runs the
pipeline, as package `docsgap-state`, version `v1` (configurable, e.g. one per environment),
file `state.sqlite`. `docsgap state pull` restores it before `docsgap run --apply` and
`docsgap state push` saves it afterwards, through python-gitlab's
`project.generic_packages.download/upload` (`tracker/gitlab_packages.py`), authenticated with
`CI_JOB_TOKEN` in CI (job tokens may read and write their own project's packages) or a token.

Why not job artifacts: artifacts expire (`expire_in`, and instance-wide defaults), exist only for
jobs that succeeded (or `when: always`, which then also keeps broken states), and finding "the
last good one" means walking pipelines through the jobs API, which needs more than a job token.
A package file stays until it is deleted, and the download URL is fixed.

GitLab keeps every upload to one package version and serves the newest on download, so
`save_state` prunes older copies, keeping `keep` of them: a bad state can be rolled back by hand
from the package's page in the UI. A group can forbid duplicate generic packages; then every
save after the first answers 400 "Duplicate package is not allowed" and `push` stops with exit
5 and the setting to change (an exception for `docsgap-state`). We chose that over a new file
name per save: the download URL stays fixed (a job token fetches it with one GET, no listing),
and the group's policy is the Owner's to relax, not docsgap's to work around. The saved copy is
left as it was.

Restore: download to a temporary file beside the target, validate it (`PRAGMA integrity_check`
and the docsgap tables: `_sqlite_migrations` with the `docsgap` set, the ledger, links...), then
move it into place (any existing file and its `-wal`/`-journal` are moved aside as `.bak`, since
SQLite would replay a stale journal into the new file). A **missing** (404) or **corrupt** state
is a warning, not an error: the run starts from an empty state and rebuilds from the remote
markers. `act/apply.py` checks the marker of every write on GitLab or the forum before making it, so
nothing is duplicated. What is lost with the state: the forum and tracker cursors (the first run
after reads `forum.initial_pages` of recent posts and the whole tracker cache again, so older
threads that changed meanwhile are not rescanned), reviewers' verdicts (those actions come back
to the review queue) and the report's history of links made before. Any other failure
(authentication, GitLab unavailable) is an error, so the job stops instead of overwriting a
good remote state with a rebuilt one.

Save: a consistent copy through SQLite's backup API (correct even while another connection has
the database open), checked the same way, vacuumed, then uploaded; a state that fails the check
is never uploaded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from docsgap.config import Config
from docsgap.errors import ConfigError, DocsgapError, StateError
from docsgap.state import pulled

log = logging.getLogger(__name__)

STATE_PACKAGE = "docsgap-state"
STATE_VERSION = "v1"
STATE_FILE = "state.sqlite"
DEFAULT_KEEP = 10
"""Copies of the state kept in the registry after a save (the newest is the one restored)."""

SQLITE_HEADER = b"SQLite format 3\x00"
REQUIRED_TABLES = ("_sqlite_migrations", "cursors", "items", "links", "ledger", "verdicts")
"""Tables of the first migration (`state.m001_initial`) that identify a docsgap state. Later
migrations may add tables; an older state lacks them and `StateStore` upgrades it on open."""


@dataclass(frozen=True)
class StateLocation:
    """Where the state lives in the generic package registry."""

    package: str = STATE_PACKAGE
    version: str = STATE_VERSION
    file_name: str = STATE_FILE

    def __str__(self) -> str:
        return f"{self.package}/{self.version}/{self.file_name}"


class StateRegistry(Protocol):
    """A store of package files (the generic package registry of one project)."""

    def fetch(self, location: StateLocation, dest: Path) -> bool:
        """Write the newest copy of `location` to `dest`; `False` if there is none (404)."""
        ...

    def upload(self, location: StateLocation, source: Path) -> None:
        """Add `source` as the newest copy of `location`."""
        ...

    def prune(self, location: StateLocation, keep: int) -> int:
        """Delete all but the `keep` newest copies; returns how many were deleted."""
        ...

    def newest_sha256(self, location: StateLocation) -> str | None:
        """The sha256 of the newest copy of `location`, None when there is none; raises a
        `DocsgapError` when it cannot tell."""
        ...


@dataclass(frozen=True)
class RegistryTarget:
    """Which GitLab project's registry to use, and how to authenticate."""

    url: str
    project: str
    token: str | None
    token_kind: str
    """`job` (CI_JOB_TOKEN), `private` or `oauth`, as `gitlab.token_kind`."""
    python_gitlab_id: str | None = None


def registry_target(
    cfg: Config, env: Mapping[str, str], *, project: str | None = None, url: str | None = None
) -> RegistryTarget:
    """The state's registry: the pipeline's own project in CI (`CI_SERVER_URL`,
    `CI_PROJECT_ID`/`CI_PROJECT_PATH`, `CI_JOB_TOKEN`), else `gitlab.url`/`gitlab.project` and
    `gitlab.token` from the config; explicit `project`/`url` win. `env` is passed in (the CLI
    hands over `os.environ`) because config/load.py does not read the `CI_*` variables yet."""
    ci_project = env.get("CI_PROJECT_ID") or env.get("CI_PROJECT_PATH")
    chosen_url = url or env.get("CI_SERVER_URL") or cfg.gitlab.url
    chosen_project = project or ci_project or cfg.gitlab.project
    if not chosen_url.startswith(("http://", "https://")):
        raise ConfigError(f"state registry URL {chosen_url!r}: expected an http(s) URL")
    if not chosen_project:
        raise ConfigError("state registry project is unknown", hint="pass --project")
    in_own_project = chosen_project in {env.get("CI_PROJECT_ID"), env.get("CI_PROJECT_PATH")}
    job_token = env.get("CI_JOB_TOKEN")
    if job_token and in_own_project:
        return RegistryTarget(chosen_url.rstrip("/"), chosen_project, job_token, "job")
    return RegistryTarget(
        chosen_url.rstrip("/"), chosen_project, cfg.gitlab.token, cfg.gitlab.token_kind,
        cfg.gitlab.python_gitlab_id if url is None else None,
    )


# --- validation --------------------------------------------------------------------------------


def check_state_file(path: Path) -> str | None:
    """Why `path` is not a usable docsgap state, or `None` if it is. Opens it read-only."""
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    if header != SQLITE_HEADER:
        return "not an SQLite database (wrong file header)"
    try:
        with _connect(path, readonly=True) as db:
            rows = db.execute("PRAGMA integrity_check").fetchall()
            verdict = "; ".join(str(r[0]) for r in rows[:3])
            if verdict != "ok":
                return f"integrity check failed: {verdict}"
            tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
            missing = [t for t in REQUIRED_TABLES if t not in tables]
            if missing:
                return f"not a docsgap state: missing table(s) {', '.join(missing)}"
            applied = db.execute(
                "select count(*) from _sqlite_migrations where migration_set = 'docsgap'"
            ).fetchone()[0]
            if not applied:
                return "not a docsgap state: no docsgap migrations recorded"
    except sqlite3.DatabaseError as exc:
        return f"unreadable SQLite database: {exc}"
    return None


def check_state_path(path: Path) -> tuple[str | None, str]:
    """`(problem, description)` of the state file a run will use: an existing file must be an
    intact docsgap state in a writable place; a missing one needs a writable directory."""
    if str(path) == ":memory:":
        return None, "in memory (nothing kept between runs)"
    if path.exists():
        problem = check_state_file(path)
        if problem is not None:
            return f"{path}: {problem}", ""
        # SQLite writes its journal beside the database, so the directory must be writable too.
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            return f"{path} is not writable", ""
        return None, f"{path} is a writable docsgap state"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create {path}: {ancestor} is not a writable directory", ""
    return None, f"{path} will be created on the first run"


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode=ro" if readonly else str(path)
    db = sqlite3.connect(uri, uri=readonly)
    try:
        yield db
    finally:
        db.close()


# --- restore -----------------------------------------------------------------------------------


class RestoreStatus(StrEnum):
    """How a restore ended."""

    RESTORED = "restored"
    MISSING = "missing"
    """No state in the registry yet (first run, or it was deleted)."""
    CORRUPT = "corrupt"
    """A file was there but is not a valid docsgap state; it was not used."""


@dataclass(frozen=True)
class RestoreResult:
    """What `restore_state` did."""

    status: RestoreStatus
    path: Path
    location: StateLocation
    size: int = 0
    problem: str | None = None
    backup: Path | None = None
    """Where a previously present local file was moved."""
    kept_local: bool = False
    """Nothing usable was downloaded and a local state at `path` stays in use."""

    @property
    def message(self) -> str:
        """One line for logs and the CLI."""
        if self.status is RestoreStatus.RESTORED:
            return f"restored state {self.location} ({self.size} bytes) to {self.path}"
        found = (f"no saved state {self.location} in the registry"
                 if self.status is RestoreStatus.MISSING
                 else f"saved state {self.location} is corrupt ({self.problem})")
        if self.kept_local:
            return f"{found}; keeping the local {self.path}"
        return f"{found}; starting empty (remote markers prevent duplicates; cursors start over)"


def restore_state(
    registry: StateRegistry, path: Path, location: StateLocation | None = None
) -> RestoreResult:
    """Download the saved state, validate it and move it to `path`. A missing or corrupt
    download leaves `path` untouched and returns MISSING/CORRUPT (logged as a warning);
    errors talking to the registry propagate as `RemoteError`s."""
    location = location or StateLocation()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _temp_beside(path, ".download") as tmp:
        if not registry.fetch(location, tmp):
            result = RestoreResult(RestoreStatus.MISSING, path, location,
                                   kept_local=path.exists())
            pulled.record(path, str(location), None)
            log.warning("%s", result.message)
            return result
        size = tmp.stat().st_size
        # The newest copy, even a corrupt one: a push may replace what this pull has seen.
        pulled.record(path, str(location), pulled.file_sha256(tmp))
        problem = check_state_file(tmp)
        if problem is not None:
            result = RestoreResult(RestoreStatus.CORRUPT, path, location, size, problem,
                                   kept_local=path.exists())
            log.warning("%s", result.message)
            return result
        backup = _move_aside(path)
        os.replace(tmp, path)
    result = RestoreResult(RestoreStatus.RESTORED, path, location, size, backup=backup)
    log.info("%s", result.message)
    return result


def _move_aside(path: Path) -> Path | None:
    """Move an existing state (and its journal files) to `*.bak`; returns the new path."""
    backup: Path | None = None
    for suffix in ("", "-wal", "-shm", "-journal"):
        current = Path(f"{path}{suffix}")
        if current.exists():
            target = Path(f"{path}.bak{suffix}")
            os.replace(current, target)
            if not suffix:
                backup = target
    return backup


# --- save --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    """What `save_state` did."""

    path: Path
    location: StateLocation
    size: int
    pruned: int = 0
    prune_error: str | None = None

    @property
    def message(self) -> str:
        """One line for logs and the CLI."""
        text = f"saved state {self.path} ({self.size} bytes) as {self.location}"
        if self.pruned:
            text += f"; deleted {self.pruned} older copies"
        return text


def snapshot_state(path: Path, dest: Path) -> None:
    """A consistent, vacuumed copy of the state at `path` into `dest` (SQLite backup API)."""
    if not path.is_file():
        raise StateError(
            f"no state to save at {path}",
            hint="run `docsgap run` first (or pass --state PATH)",
        )
    try:
        with _connect(path, readonly=True) as src, _connect(dest) as dst:
            src.backup(dst)
            dst.execute("VACUUM")
    except sqlite3.DatabaseError as exc:
        raise StateError(f"cannot copy state {path}: {exc}") from exc


def save_state(
    registry: StateRegistry,
    path: Path,
    location: StateLocation | None = None,
    *,
    keep: int | None = DEFAULT_KEEP,
    force: bool = False,
) -> SaveResult:
    """Snapshot `path`, refuse to upload it unless it is a valid docsgap state, upload it, then
    prune the registry to `keep` copies (`None`: never prune). A failed prune is only logged:
    the new state is saved and older copies merely take space. A state pulled from `location`
    is refused when the registry's newest copy is no longer the one it was pulled from
    (unless `force`): see `state.pulled`."""
    location = location or StateLocation()
    with _temp_beside(path, ".upload") as tmp:
        snapshot_state(path, tmp)
        problem = check_state_file(tmp)
        if problem is not None:
            raise StateError(
                f"refusing to save {path}: {problem}",
                hint="the saved copy in the registry is left as it was",
            )
        if not force:
            pulled.refuse_if_replaced(registry, path, location)
        size = tmp.stat().st_size
        digest = pulled.file_sha256(tmp)
        registry.upload(location, tmp)
    pulled.record(path, str(location), digest)
    pruned, prune_error = 0, None
    if keep is not None:
        try:
            pruned = registry.prune(location, max(keep, 1))
        except DocsgapError as exc:  # housekeeping: the save itself succeeded
            prune_error = str(exc)
            log.warning("saved the state but could not delete older copies: %s", exc)
    result = SaveResult(path, location, size, pruned, prune_error)
    log.info("%s", result.message)
    return result


@contextlib.contextmanager
def _temp_beside(path: Path, suffix: str) -> Iterator[Path]:
    """A temporary file next to `path` (same file system, so `os.replace` is atomic)."""
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        # Checking a WAL-mode copy read-only leaves its -shm/-wal beside it; they are ours.
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
