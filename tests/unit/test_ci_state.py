"""State between scheduled runs: validation, restore/save against a fake registry, the
python-gitlab generic-package adapter over `responses`, the `docsgap state` commands, and a
round trip through the loopback sandbox's package registry."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import yaml
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import Config, GitLabConfig
from docsgap.errors import (
    AuthError,
    ConfigError,
    ExitCode,
    ProjectNotFoundError,
    StateError,
    UnavailableError,
)
from docsgap.sandbox import Sandbox
from docsgap.state import StateStore
from docsgap.state.ci import (
    RegistryTarget,
    RestoreStatus,
    StateLocation,
    check_state_file,
    registry_target,
    restore_state,
    save_state,
)
from docsgap.tracker.gitlab_client import make_client
from docsgap.tracker.gitlab_packages import DuplicatesForbidden, GitLabPackages

GITLAB = "http://gitlab.test"
PROJECT = "support/docsgap-runner"
PKG = f"{GITLAB}/api/v4/projects/support%2Fdocsgap-runner/packages"
FILE_URL = f"{PKG}/generic/docsgap-state/v1/state.sqlite"


class MemoryRegistry:
    """A registry keeping every uploaded copy, newest last (as GitLab does)."""

    def __init__(self) -> None:
        self.copies: dict[StateLocation, list[bytes]] = {}
        self.prune_error: Exception | None = None

    def fetch(self, location: StateLocation, dest: Path) -> bool:
        copies = self.copies.get(location)
        if not copies:
            return False
        dest.write_bytes(copies[-1])
        return True

    def upload(self, location: StateLocation, source: Path) -> None:
        self.copies.setdefault(location, []).append(source.read_bytes())

    def newest_sha256(self, location: StateLocation) -> str | None:
        copies = self.copies.get(location)
        return hashlib.sha256(copies[-1]).hexdigest() if copies else None

    def prune(self, location: StateLocation, keep: int) -> int:
        if self.prune_error is not None:
            raise self.prune_error
        copies = self.copies.get(location, [])
        gone = max(len(copies) - keep, 0)
        del copies[:gone]
        return gone


def make_state(path: Path, cursor: str = "42") -> Path:
    store = StateStore(path)
    store.set_cursor("forum", cursor)
    store.close()
    return path


def cursor_of(path: Path) -> str | None:
    store = StateStore(path)
    try:
        return store.cursor("forum")
    finally:
        store.close()


# --- validation ------------------------------------------------------------------------------


def test_a_docsgap_state_passes_the_check(tmp_path: Path) -> None:
    assert check_state_file(make_state(tmp_path / "s.db")) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>502 Bad Gateway</html>", "not an SQLite database"),
        (b"", "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 200, "unreadable SQLite database"),
    ],
)
def test_garbage_is_rejected_with_a_reason(tmp_path: Path, content: bytes, problem: str) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    reason = check_state_file(bad)
    assert reason is not None
    assert problem in reason


def test_another_sqlite_database_is_not_a_docsgap_state(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("create table notes (id integer primary key, body text)")
    db.close()
    reason = check_state_file(other)
    assert reason is not None
    assert "missing table(s) _sqlite_migrations" in reason


def test_a_truncated_state_fails_the_check(tmp_path: Path) -> None:
    path = make_state(tmp_path / "s.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert check_state_file(path) is not None


# --- restore / save against a fake registry --------------------------------------------------


def test_save_then_restore_round_trips_the_state(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    saved = save_state(registry, make_state(tmp_path / "run1" / "state.db", "1234"))
    assert saved.size > 0
    assert saved.pruned == 0

    target = tmp_path / "run2" / "state.db"
    result = restore_state(registry, target)
    assert result.status is RestoreStatus.RESTORED
    assert result.size == saved.size
    # no temp leftovers; the record of what was pulled (state.pulled) stays beside it
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.db", "state.db.pulled"]
    assert cursor_of(target) == "1234"


def test_save_keeps_only_the_newest_copies(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path = tmp_path / "state.db"
    for n in range(4):
        make_state(path, str(n))
        result = save_state(registry, path, keep=2)
    assert result.pruned == 1
    assert len(registry.copies[StateLocation()]) == 2
    restore_state(registry, tmp_path / "back.db")
    assert cursor_of(tmp_path / "back.db") == "3"


def test_a_failed_prune_does_not_fail_the_save(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = MemoryRegistry()
    registry.prune_error = AuthError("job token may not delete package files", status=403)
    with caplog.at_level(logging.WARNING, logger="docsgap"):
        result = save_state(registry, make_state(tmp_path / "state.db"))
    assert result.prune_error is not None
    assert len(registry.copies[StateLocation()]) == 1
    assert "could not delete older copies" in caplog.text


def test_missing_state_leaves_an_empty_start_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "state.db"
    with caplog.at_level(logging.WARNING, logger="docsgap"):
        result = restore_state(MemoryRegistry(), target)
    assert result.status is RestoreStatus.MISSING
    assert not target.exists()
    assert "no saved state docsgap-state/v1/state.sqlite" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["state.db.pulled"]  # no temp file left


def test_missing_saved_state_keeps_a_local_one_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    existing = make_state(tmp_path / "state.db", "keep-me")
    with caplog.at_level(logging.WARNING, logger="docsgap"):
        result = restore_state(MemoryRegistry(), existing)
    assert result.status is RestoreStatus.MISSING
    assert cursor_of(existing) == "keep-me"
    assert result.message.endswith(f"in the registry; keeping the local {existing}")


def test_corrupt_state_is_not_used_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = MemoryRegistry()
    registry.copies[StateLocation()] = [b"SQLite format 3\x00 but then nonsense" * 10]
    existing = make_state(tmp_path / "state.db", "keep-me")
    with caplog.at_level(logging.WARNING, logger="docsgap"):
        result = restore_state(registry, existing)
    assert result.status is RestoreStatus.CORRUPT
    assert "corrupt" in caplog.text
    assert cursor_of(existing) == "keep-me"
    # It said "starting empty" while the local state stayed in use (found walking the README).
    assert "starting empty" not in caplog.text
    assert f"keeping the local {existing}" in caplog.text


def test_restore_moves_an_existing_state_and_its_journal_aside(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    save_state(registry, make_state(tmp_path / "saved.db", "remote"))
    local = make_state(tmp_path / "state.db", "local")
    Path(f"{local}-journal").write_bytes(b"stale journal")

    result = restore_state(registry, local)
    assert result.backup == tmp_path / "state.db.bak"
    # The journal went with its database (SQLite would replay it into whatever file is there).
    assert not Path(f"{local}-journal").exists()
    assert Path(f"{local}.bak-journal").read_bytes() == b"stale journal"
    assert cursor_of(local) == "remote"


def test_save_copies_consistently_while_the_state_is_open(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    path = tmp_path / "state.db"
    store = StateStore(path)
    store.db.execute("PRAGMA journal_mode=WAL")
    store.set_cursor("forum", "from-the-wal")
    try:
        save_state(registry, path)
    finally:
        store.close()
    restore_state(registry, tmp_path / "copy.db")
    assert cursor_of(tmp_path / "copy.db") == "from-the-wal"


def test_save_refuses_a_missing_or_foreign_state(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    with pytest.raises(StateError, match="no state to save"):
        save_state(registry, tmp_path / "nothing.db")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("create table t (x)")
    db.close()
    with pytest.raises(StateError, match="refusing to save"):
        save_state(registry, foreign)
    assert registry.copies == {}


# --- which registry --------------------------------------------------------------------------


def test_in_ci_the_job_token_and_the_pipeline_project_are_used() -> None:
    cfg = Config(gitlab=GitLabConfig(token="glpat-x"))
    env = {"CI_SERVER_URL": "https://gitlab.example.com/", "CI_PROJECT_ID": "77",
           "CI_PROJECT_PATH": "support/runner", "CI_JOB_TOKEN": "job-secret"}
    target = registry_target(cfg, env)
    assert target == RegistryTarget("https://gitlab.example.com", "77", "job-secret", "job")


def test_outside_ci_the_config_is_used_and_flags_win() -> None:
    cfg = Config(gitlab=GitLabConfig(url="https://gl.test", project="a/b", token="t"))
    assert registry_target(cfg, {}) == RegistryTarget("https://gl.test", "a/b", "t", "private")
    chosen = registry_target(cfg, {"CI_JOB_TOKEN": "j", "CI_PROJECT_ID": "1"}, project="c/d")
    assert (chosen.project, chosen.token, chosen.token_kind) == ("c/d", "t", "private")
    with pytest.raises(ConfigError):
        registry_target(cfg, {}, url="gitlab.example.com")


# --- the python-gitlab adapter over responses ------------------------------------------------


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def packages(token: str = "glpat-test") -> GitLabPackages:
    return GitLabPackages(make_client(GITLAB, token=token), PROJECT, max_retries=1)


def test_adapter_uploads_and_downloads_the_file(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    state = make_state(tmp_path / "state.db", "77")
    rsps.put(FILE_URL, json={"message": "201 Created"}, status=201)
    uploaded = save_state(packages(), state, keep=None)
    sent = rsps.calls[0].request
    assert sent.headers["PRIVATE-TOKEN"] == "glpat-test"
    body = sent.body
    assert isinstance(body, bytes)  # python-gitlab reads the file and sends its bytes
    assert len(body) == uploaded.size

    rsps.get(FILE_URL, body=body, content_type="application/octet-stream")
    restore_state(packages(), tmp_path / "back.db")
    assert cursor_of(tmp_path / "back.db") == "77"


def test_adapter_download_404_is_missing(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(FILE_URL, json={"message": "404 Package Not Found"}, status=404)
    assert restore_state(packages(), tmp_path / "s.db").status is RestoreStatus.MISSING


def test_adapter_download_of_a_project_gitlab_does_not_show_is_an_error(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    rsps.get(FILE_URL, json={"message": "404 Project Not Found"}, status=404)
    with pytest.raises(ProjectNotFoundError, match=PROJECT):
        restore_state(packages(), tmp_path / "s.db")
    assert not (tmp_path / "s.db").exists()


def test_adapter_job_token_and_errors(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    rsps.get(FILE_URL, json={"message": "401 Unauthorized"}, status=401)
    client = GitLabPackages(make_client(GITLAB, token="job", token_kind="job"), PROJECT)
    with pytest.raises(AuthError, match="credentials"):
        restore_state(client, tmp_path / "s.db")
    assert rsps.calls[0].request.headers["JOB-TOKEN"] == "job"

    rsps.get(FILE_URL, json={"message": "503"}, status=503)
    with pytest.raises(UnavailableError):
        restore_state(packages(), tmp_path / "s.db")


def test_adapter_explains_a_refused_duplicate(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    rsps.put(FILE_URL, json={"message": "400 Bad request - Duplicate package is not allowed"},
             status=400)
    rsps.get(PKG, json=[])
    with pytest.raises(DuplicatesForbidden) as info:
        save_state(packages(), make_state(tmp_path / "s.db"))
    assert info.value.exit_code == ExitCode.AUTH
    assert "forbids duplicate generic packages" in str(info.value)
    assert info.value.hint is not None


def test_adapter_takes_a_refused_duplicate_of_the_same_bytes_as_saved(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    source = tmp_path / "copy.db"
    source.write_bytes(b"the state")
    rsps.put(FILE_URL, json={"message": "400 Bad request - Duplicate package is not allowed"},
             status=400)
    rsps.get(PKG, json=[{"id": 7, "name": "docsgap-state", "version": "v1"}])
    rsps.get(f"{PKG}/7/package_files", json=[{
        "id": 1, "file_name": "state.sqlite", "created_at": "2025-01-01T00:00:00Z",
        "file_sha256": hashlib.sha256(b"the state").hexdigest()}])
    packages().upload(StateLocation(), source)


def test_adapter_prunes_older_copies(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{PKG}", json=[
        {"id": 5, "name": "docsgap-state-old", "version": "v1", "package_type": "generic"},
        {"id": 6, "name": "docsgap-state", "version": "v2", "package_type": "generic"},
        {"id": 7, "name": "docsgap-state", "version": "v1", "package_type": "generic"},
    ])
    rsps.get(f"{PKG}/7/package_files", json=[
        {"id": 30, "file_name": "state.sqlite", "created_at": "2025-01-03T00:00:00Z"},
        {"id": 10, "file_name": "state.sqlite", "created_at": "2025-01-01T00:00:00Z"},
        {"id": 20, "file_name": "state.sqlite", "created_at": "2025-01-02T00:00:00Z"},
        {"id": 40, "file_name": "notes.txt", "created_at": "2025-01-01T00:00:00Z"},
    ])
    rsps.delete(f"{PKG}/7/package_files/10", status=204)
    rsps.delete(f"{PKG}/7/package_files/20", status=204)
    assert packages().prune(StateLocation(), keep=1) == 2
    listing = rsps.calls[0].request.url or ""
    assert "package_type=generic" in listing
    assert "package_name=docsgap-state" in listing


# --- CLI -------------------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture
def ci_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("DOCSGAP_CONFIG", "DOCSGAP_GITLAB_TOKEN", "DOCSGAP_STATE"):
        monkeypatch.delenv(name, raising=False)
    env = {"CI_SERVER_URL": GITLAB, "CI_PROJECT_PATH": PROJECT, "CI_JOB_TOKEN": "job-secret"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_cli_pull_missing_is_a_warning_and_exit_0(
    rsps: responses.RequestsMock, ci_env: dict[str, str], tmp_path: Path
) -> None:
    rsps.get(FILE_URL, json={"message": "404 Not Found"}, status=404)
    result = runner.invoke(app, ["state", "pull", "--state", str(tmp_path / "s.db"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "missing"' in result.stdout
    assert "job-secret" not in result.output


def test_cli_push_then_pull(
    rsps: responses.RequestsMock, ci_env: dict[str, str], tmp_path: Path
) -> None:
    state = make_state(tmp_path / "s.db", "cli")
    stored: list[bytes] = []

    def put(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert isinstance(request.body, bytes)
        stored.append(request.body)
        return 201, {}, '{"message": "201 Created"}'

    rsps.add_callback(responses.PUT, FILE_URL, callback=put)
    result = runner.invoke(app, ["state", "push", "--state", str(state), "--keep", "0"])
    assert result.exit_code == 0, result.output
    assert "saved state" in result.output
    rsps.get(FILE_URL, body=stored[0])
    result = runner.invoke(app, ["state", "pull", "--state", str(tmp_path / "p.db")])
    assert result.exit_code == 0, result.output
    assert cursor_of(tmp_path / "p.db") == "cli"


def test_cli_pull_auth_error_exits_5(
    rsps: responses.RequestsMock, ci_env: dict[str, str], tmp_path: Path
) -> None:
    rsps.get(FILE_URL, json={"message": "401 Unauthorized"}, status=401)
    result = runner.invoke(app, ["state", "pull", "--state", str(tmp_path / "s.db")])
    assert result.exit_code == ExitCode.AUTH
    assert "job-secret" not in result.output


def test_cli_pull_of_a_project_gitlab_does_not_show_names_the_state_project(
    rsps: responses.RequestsMock, ci_env: dict[str, str], tmp_path: Path
) -> None:
    """The hint named gitlab.project and DOCSGAP_GITLAB_PROJECT, which the state never uses."""
    rsps.get(FILE_URL, json={"message": "404 Project Not Found"}, status=404)
    result = runner.invoke(app, ["state", "pull", "--state", str(tmp_path / "s.db")])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert PROJECT in result.output
    assert "DOCSGAP_STATE_PROJECT" in result.output
    assert "DOCSGAP_GITLAB_PROJECT" not in result.output


def test_cli_check(tmp_path: Path) -> None:
    good = runner.invoke(app, ["state", "check", str(make_state(tmp_path / "s.db"))])
    assert good.exit_code == 0
    assert "ok" in good.output
    bad = tmp_path / "bad.db"
    bad.write_text("nope")
    failed = runner.invoke(app, ["state", "check", str(bad)])
    assert failed.exit_code == ExitCode.CHECK_FAILED
    assert re.search(r"not an SQLite database", failed.output)


# --- the loopback sandbox's package registry -------------------------------------------------


SANDBOX_TOKEN = "glpat-state-writer"
SANDBOX_JOB_TOKEN = "job-token-for-runner"


def sandbox_seed() -> dict[str, object]:
    return {
        "forum": {"users": [{"id": 1, "username": "ana"}], "api_keys": [],
                  "categories": [{"id": 1, "name": "Uncategorized"}], "topics": []},
        "gitlab": {
            "users": [{"id": 1, "username": "runner-bot", "bot": True}],
            "tokens": [{"token": SANDBOX_TOKEN, "username": "runner-bot", "scopes": ["api"]},
                       {"token": SANDBOX_JOB_TOKEN, "username": "runner-bot", "kind": "job"}],
            "projects": [{"id": 11, "path_with_namespace": PROJECT}],
        },
    }


@pytest.fixture
def fast_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """TCP_NODELAY on the sandbox's sockets: otherwise headers and body leave in two segments
    and each answer waits ~40 ms for a delayed ACK (Nagle)."""
    monkeypatch.setattr("docsgap.sandbox.httpd.Handler.disable_nagle_algorithm", True,
                        raising=False)


@pytest.fixture
def sandbox(fast_sandbox: None) -> Iterator[Sandbox]:
    try:
        box = Sandbox(sandbox_seed())
    except FileNotFoundError:  # the shipped demo seed is not there yet
        pytest.skip("sandbox demo data missing")
    with box:
        yield box


def sandbox_registry(
    box: Sandbox, token: str = SANDBOX_TOKEN, kind: str = "private"
) -> GitLabPackages:
    client = make_client(box.gitlab_url, token=token, token_kind=kind)
    return GitLabPackages(client, PROJECT, max_retries=0)


def test_sandbox_round_trip_with_a_job_token_and_pruning(sandbox: Sandbox, tmp_path: Path) -> None:
    registry = sandbox_registry(sandbox, SANDBOX_JOB_TOKEN, "job")
    path = tmp_path / "state.db"
    for n in range(3):
        make_state(path, f"run-{n}")
        saved = save_state(registry, path, keep=2)
    assert saved.pruned == 1
    result = restore_state(registry, tmp_path / "next" / "state.db")
    assert result.status is RestoreStatus.RESTORED
    assert cursor_of(tmp_path / "next" / "state.db") == "run-2"
    (package,) = sandbox.gitlab.packages
    assert (package["name"], package["version"]) == ("docsgap-state", "v1")
    assert len(package["files"]) == 2


def test_sandbox_missing_corrupt_and_refused(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = sandbox_registry(sandbox)
    target = tmp_path / "state.db"
    assert restore_state(registry, target).status is RestoreStatus.MISSING

    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"<html>proxy error</html>")
    registry.upload(StateLocation(), garbage)
    with caplog.at_level(logging.WARNING, logger="docsgap"):
        result = restore_state(registry, target)
    assert result.status is RestoreStatus.CORRUPT
    assert not target.exists()
    assert "is corrupt (not an SQLite database" in caplog.text

    wrong = sandbox_registry(sandbox, "glpat-wrong")
    with pytest.raises(AuthError):
        restore_state(wrong, target)
    with pytest.raises(AuthError):
        save_state(wrong, make_state(target))


def test_a_pulled_state_is_not_saved_over_a_newer_copy_unless_forced(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    save_state(registry, make_state(tmp_path / "a.db", "first"))
    mine, theirs = tmp_path / "mine" / "state.db", tmp_path / "theirs" / "state.db"
    restore_state(registry, mine)
    restore_state(registry, theirs)
    save_state(registry, make_state(theirs, "theirs"))
    make_state(mine, "mine")
    with pytest.raises(StateError, match="changed since") as caught:
        save_state(registry, mine)
    assert caught.value.exit_code == ExitCode.STATE
    assert len(registry.copies[StateLocation()]) == 2
    save_state(registry, mine, force=True)
    restore_state(registry, tmp_path / "check.db")
    assert cursor_of(tmp_path / "check.db") == "mine"


def test_a_registry_that_cannot_list_lets_the_save_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class NoListing(MemoryRegistry):
        def newest_sha256(self, location: StateLocation) -> str | None:
            raise AuthError("403 Forbidden while listing packages")

    registry = NoListing()
    path = tmp_path / "state.db"
    restore_state(registry, path)  # nothing saved yet: recorded as such
    with caplog.at_level(logging.WARNING):
        save_state(registry, make_state(path, "saved"))
    assert len(registry.copies[StateLocation()]) == 1
    assert "cannot tell whether" in caplog.text


# --- the CI configuration --------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "ci" / "docsgap.gitlab-ci.yml"


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_pipeline_files_are_valid_yaml_with_the_expected_jobs() -> None:
    own = load_yaml(REPO / ".gitlab-ci.yml")
    template = load_yaml(TEMPLATE)
    assert {"local": "ci/docsgap.gitlab-ci.yml"} in own["include"]
    assert {"lint", "test"} <= set(own)
    assert {"docsgap-rules", "docsgap-plan", "docsgap-doctor", "docsgap-apply", "pages"} <= set(
        template)
    assert "workflow" not in template  # an included file must not steer the host's pipelines
    lint = " ".join(own["lint"]["script"])
    assert "ruff check" in lint
    assert "mypy" in lint


def test_only_schedules_apply_one_at_a_time() -> None:
    template = load_yaml(TEMPLATE)
    apply = template["docsgap-apply"]
    assert apply["resource_group"] == "docsgap"
    assert [r["if"] for r in apply["rules"]] == [
        '$CI_PIPELINE_SOURCE == "schedule" && $DOCSGAP_APPLY != "false"']
    assert apply["artifacts"]["when"] == "always"
    for name, job in template.items():
        if name.startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        script = " ".join(job["script"])
        if name != "docsgap-apply":
            assert "--apply" not in script, name
            assert "state push" not in script, name
    plan = template["docsgap-plan"]
    assert all(r.get("allow_failure") for r in plan["rules"])
    assert all("merge_request_event" in r["if"] for r in plan["rules"])
    assert "DOCSGAP_PAGES" in template["pages"]["rules"][0]["if"]


def _apply_script() -> list[str]:
    return list(load_yaml(TEMPLATE)["docsgap-apply"]["script"])


def _template_env() -> dict[str, str]:
    return {k: str(v) for k, v in load_yaml(TEMPLATE)["variables"].items()}


STUB = """#!/bin/sh
echo "$*" >> "$STUB_LOG"
case "$1 $2" in
  "state pull") exit "${PULL_EXIT:-0}" ;;
  "state push") exit "${PUSH_EXIT:-0}" ;;
esac
[ "$1" = run ] && exit "${RUN_EXIT:-0}"
[ "$1" = followup ] && exit "${FOLLOWUP_EXIT:-0}"
[ "$1" = docs ] && exit "${DOCS_EXIT:-0}"
exit 0
"""


FULL_JOB = ["state pull", "docs sync", "run --apply", "followup --apply", "state push",
            "report --format html", "report --format markdown", "report --format summary"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash (as GitLab runners use)")
@pytest.mark.parametrize(
    ("codes", "expected_exit", "expected_calls"),
    [
        ({}, 0, FULL_JOB),
        ({"RUN_EXIT": "7"}, 7, FULL_JOB),
        ({"PUSH_EXIT": "6"}, 6, FULL_JOB),
        ({"RUN_EXIT": "7", "PUSH_EXIT": "6"}, 7, FULL_JOB),
        # exit 6 only warns: a save refused for good (5) must still fail the job
        ({"RUN_EXIT": "6", "PUSH_EXIT": "5"}, 5, FULL_JOB),
        ({"RUN_EXIT": "6", "PUSH_EXIT": "9"}, 9, FULL_JOB),
        ({"RUN_EXIT": "6"}, 6, FULL_JOB),
        ({"RUN_EXIT": "6", "FOLLOWUP_EXIT": "7"}, 7, FULL_JOB),
        ({"FOLLOWUP_EXIT": "6", "PUSH_EXIT": "5"}, 5, FULL_JOB),
        ({"FOLLOWUP_EXIT": "7"}, 7, FULL_JOB),
        ({"DOCS_EXIT": "6"}, 0, FULL_JOB),  # a stale docs index never stops the run
        ({"PULL_EXIT": "5"}, 5, ["state pull"]),
    ],
)
def test_apply_script_always_saves_and_exits_with_the_run_code(
    tmp_path: Path, codes: dict[str, str], expected_exit: int, expected_calls: list[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "docsgap"
    stub.write_text(STUB, encoding="utf-8")
    stub.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_LOG": str(log), **_template_env(), **codes}
    # GitLab's bash executor runs the script lines in one shell with `set -eo pipefail`.
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(_apply_script())],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == expected_exit, done.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [" ".join(c.split()[:3]) if c.startswith("report") else " ".join(c.split()[:2])
            for c in calls] == expected_calls
    if len(calls) > 4:
        assert calls[4] == "state push --keep 10"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash (as GitLab runners use)")
@pytest.mark.parametrize(("spec", "installed"), [
    ("", None),  # nothing named: stop, exit 3, before pip
    ("git+https://gitlab.example.com/support/docsgap.git@v1.0.0",
     "install --quiet git+https://gitlab.example.com/support/docsgap.git@v1.0.0"),
])
def test_the_template_installs_only_the_docsgap_it_is_told_to(
    tmp_path: Path, spec: str, installed: str | None
) -> None:
    """The template's DOCSGAP_PIP_SPEC defaulted to "docsgap": a project that included it as
    README section 4 says (which never named the variable) got whatever the package index
    holds by that name, running with the bot's token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pip", "docsgap"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/{tool}.log"\n', encoding="utf-8")
        stub.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", **_template_env()}
    if spec:
        env["DOCSGAP_PIP_SPEC"] = spec
    before = load_yaml(TEMPLATE)[".docsgap"]["before_script"]
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(before)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    pip_log = tmp_path / "pip.log"
    if installed is None:
        assert done.returncode == 3
        assert "set DOCSGAP_PIP_SPEC" in done.stderr
        assert not pip_log.exists()
    else:
        assert done.returncode == 0, done.stderr
        assert pip_log.read_text(encoding="utf-8").split("\n")[0] == installed


KILLED_IN_RUN = STUB.replace(
    '[ "$1" = run ] && exit "${RUN_EXIT:-0}"',
    '[ "$1" = run ] && [ -n "$CANCEL_IN_RUN" ] && kill -KILL "$PPID"\n'
    '[ "$1" = run ] && exit "${RUN_EXIT:-0}"')


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash (as GitLab runners use)")
@pytest.mark.parametrize(
    ("codes", "pushed_after"),
    [
        ({"CANCEL_IN_RUN": "1"}, True),  # cancelled or timed out mid-run: saved afterwards
        ({}, False),  # the script saved it already
        ({"RUN_EXIT": "7", "PUSH_EXIT": "6"}, False),  # its push was tried and failed: no retry
        ({"PULL_EXIT": "5"}, False),  # never restored: a rebuilt state must not replace it
    ],
)
def test_after_script_saves_the_state_of_a_cancelled_job_only(
    tmp_path: Path, codes: dict[str, str], pushed_after: bool
) -> None:
    """A scheduled job cancelled (or timed out) after the pull lost what its run recorded: the
    next job restored the older copy. GitLab 17.0+ runs after_script for cancelled jobs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "docsgap"
    stub.write_text(KILLED_IN_RUN, encoding="utf-8")
    stub.chmod(0o755)
    log = tmp_path / "calls.log"
    state = tmp_path / ".docsgap" / "state.db"
    state.parent.mkdir()
    state.write_bytes(b"state")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_LOG": str(log), **_template_env(),
           "DOCSGAP_STATE": str(state), **codes}
    job = load_yaml(TEMPLATE)["docsgap-apply"]
    script = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(job["script"])],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert script.returncode != 0 or not codes
    before = log.read_text(encoding="utf-8").splitlines()
    after = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(job["after_script"])],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stderr
    added = log.read_text(encoding="utf-8").splitlines()[len(before):]
    assert added == (["state push --keep 10"] if pushed_after else [])


def test_a_rate_limited_scheduled_run_passes_with_a_warning() -> None:
    """Exit 6 (rate limit, budget spent, a service down) resumes on the next scheduled run: it
    failed the pipeline every hour meanwhile. Every other code still fails it."""
    apply = load_yaml(TEMPLATE)["docsgap-apply"]
    assert apply["allow_failure"] == {"exit_codes": [6]}


# --- the scheduled job end to end against the sandbox ----------------------------------------


def _docsgap_lines(script: list[str]) -> list[list[str]]:
    """The docsgap invocations of a job script, variables expanded, shell glue removed."""
    out = []
    for line in script:
        if line.startswith("docsgap "):
            command = line.split(" || ", 1)[0]
            out.append(shlex.split(os.path.expandvars(command))[1:])
    return out


DEMO_TOML = """
state_path = ".docsgap/unused.db"   # DOCSGAP_STATE wins, as in CI
max_actions = 100
[forum]
initial_pages = 10
max_requests = 500
staff_usernames = ["gitlab-team"]
[policy]
open_issue = "auto"
link_existing = "auto"
reply = "auto"
followup = "auto"
"""


MARKER = re.compile(r"<!-- docsgap:key=(\S+) -->")


def writes(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Counts of what docsgap wrote into the sandbox, and every marker (a Counter-like dict
    that fails the test if one marker appears twice, i.e. a duplicated write)."""
    bodies = [i["description"] or "" for i in snapshot["issues"]]
    bodies += [n["body"] or "" for n in snapshot["notes"]]
    replies = [p["raw"] or "" for t in snapshot["topics"] for p in t.get("posts", [])
               if p.get("username") == "docsgap-bot"]
    markers: dict[str, int] = {}
    for body in [*bodies, *replies]:
        for key in MARKER.findall(body):
            markers[key] = markers.get(key, 0) + 1
    assert [k for k, n in markers.items() if n > 1] == []
    return {"issues": len(snapshot["issues"]), "replies": len(replies), "markers": markers}


@pytest.mark.e2e
def test_scheduled_job_twice_with_state_then_with_state_lost_makes_no_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_sandbox: None
) -> None:
    from docsgap.sandbox import (
        SANDBOX_DISCOURSE_API_KEY,
        SANDBOX_DISCOURSE_API_USERNAME,
        SANDBOX_GITLAB_TOKEN,
        SANDBOX_PROJECT,
    )

    with Sandbox() as box:
        job_token = next(
            (t for t, spec in box.gitlab.tokens.items() if spec.get("kind") == "job"), None)
        if job_token is None:
            pytest.skip("the demo seed has no CI job token")
        workdir = tmp_path / "project"
        workdir.mkdir()
        (workdir / "docsgap.toml").write_text(DEMO_TOML, encoding="utf-8")
        monkeypatch.chdir(workdir)
        env = {
            **_template_env(),
            "CI_PROJECT_DIR": str(workdir),
            "CI_SERVER_URL": box.gitlab_url,
            "CI_PROJECT_PATH": SANDBOX_PROJECT,
            "CI_JOB_TOKEN": job_token,
            "DOCSGAP_FORUM_URL": box.forum_url,
            "DOCSGAP_DISCOURSE_API_USERNAME": SANDBOX_DISCOURSE_API_USERNAME,
            "DOCSGAP_DISCOURSE_API_KEY": SANDBOX_DISCOURSE_API_KEY,
            "DOCSGAP_GITLAB_URL": box.gitlab_url,
            "DOCSGAP_GITLAB_PROJECT": SANDBOX_PROJECT,
            "DOCSGAP_GITLAB_TOKEN": SANDBOX_GITLAB_TOKEN,
        }
        monkeypatch.delenv("DOCSGAP_CONFIG", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        env["DOCSGAP_STATE"] = os.path.expandvars(env["DOCSGAP_STATE"])
        monkeypatch.setenv("DOCSGAP_STATE", env["DOCSGAP_STATE"])
        commands = _docsgap_lines(_apply_script())
        assert [c[:2] for c in commands] == [
            ["state", "pull"], ["docs", "sync"], ["run", "--apply"], ["followup", "--apply"],
            ["state", "push"], ["report", "--format"], ["report", "--format"],
            ["report", "--format"]]

        def job() -> dict[str, Any]:
            """One scheduled job in a fresh workspace; returns what it saw."""
            for leftover in (".docsgap", "public"):
                shutil.rmtree(workdir / leftover, ignore_errors=True)
            (workdir / "public").mkdir()
            codes = []
            pulled = ""
            for args in commands:
                result = runner.invoke(app, args)
                codes.append(result.exit_code)
                if args[:2] == ["state", "pull"]:
                    pulled = result.output
                    assert result.exit_code == 0, result.output
            snapshot = box.state()
            summary = json.loads((workdir / "run-summary.json").read_text(encoding="utf-8"))
            return {"codes": codes, "pulled": pulled, "summary": summary, **writes(snapshot)}

        before = writes(box.state())
        first = job()
        assert first["codes"] == [0] * 8
        assert first["issues"] > before["issues"]
        assert first["replies"] > 0
        assert (workdir / "public" / "index.html").stat().st_size > 0
        assert (workdir / "report.md").stat().st_size > 0
        assert "### Review queue" in (workdir / "summary.md").read_text(encoding="utf-8")

        second = job()
        assert "restored state docsgap-state/v1/state.sqlite" in second["pulled"]
        assert second["codes"] == [0] * 8
        assert "applied" not in json.dumps(second["summary"]["actions"])
        assert second["markers"] == first["markers"]

        box.gitlab.packages.clear()  # the saved state is gone (deleted, or never saved)
        lost = job()
        assert lost["codes"] == [0] * 8
        # Rebuilt from the remote markers: no second issue, no second reply, no marker twice.
        assert (lost["issues"], lost["replies"]) == (first["issues"], first["replies"])
        assert set(first["markers"]) <= set(lost["markers"])
        # The restored cursor is what the state buys: the rebuilt run reads the forum again.
        assert second["summary"]["requests"]["forum"] < lost["summary"]["requests"]["forum"]
