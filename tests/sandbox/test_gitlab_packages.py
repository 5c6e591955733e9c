"""The package registry when the group forbids duplicate generic packages: the sandbox answers
as GitLab does (400 "Duplicate package is not allowed", exceptions by regex), and `docsgap state
push` stops with exit 5 and says what to change, without touching the saved copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.errors import ExitCode
from docsgap.sandbox import SANDBOX_CI_JOB_TOKEN, SANDBOX_GITLAB_TOKEN, SANDBOX_PROJECT, Sandbox
from docsgap.state import StateStore
from docsgap.state.ci import StateLocation, restore_state, save_state
from docsgap.tracker.gitlab_client import make_client
from docsgap.tracker.gitlab_packages import DuplicatesForbidden, GitLabPackages

TOKEN = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}


def file_url(sandbox: Sandbox, name: str = "docsgap-state", version: str = "v1") -> str:
    project = SANDBOX_PROJECT.replace("/", "%2F")
    return (f"{sandbox.gitlab_url}/api/v4/projects/{project}/packages/generic/"
            f"{name}/{version}/state.sqlite")


def forbid(sandbox: Sandbox, exceptions: str = "", *, allowed: bool = False) -> None:
    sandbox.gitlab.generic_duplicates_allowed = allowed
    sandbox.gitlab.generic_duplicate_exception_regex = exceptions


def make_state(path: Path, cursor: str) -> Path:
    store = StateStore(path)
    store.set_cursor("forum", cursor)
    store.close()
    return path


def registry(sandbox: Sandbox) -> GitLabPackages:
    client = make_client(sandbox.gitlab_url, token=SANDBOX_CI_JOB_TOKEN, token_kind="job")
    return GitLabPackages(client, SANDBOX_PROJECT, max_retries=0)


@pytest.mark.parametrize(("allowed", "exceptions", "second"), [
    (True, "", 201),                 # GitLab's default
    (False, "", 400),
    (False, "docsgap-state", 201),   # an exception for docsgap's package
    (False, "v1", 201),              # ... or its version
    (False, "docsgap", 400),         # the regex must match the whole name
    (True, "docsgap-.*", 400),       # with duplicates on, an exception forbids them
])
def test_sandbox_refuses_a_duplicate_file_as_gitlab_does(
        sandbox: Sandbox, allowed: bool, exceptions: str, second: int) -> None:
    forbid(sandbox, exceptions, allowed=allowed)
    url = file_url(sandbox)
    assert requests.put(url, data=b"one", headers=TOKEN, timeout=5).status_code == 201
    again = requests.put(url, data=b"two", headers=TOKEN, timeout=5)
    assert again.status_code == second
    if second == 400:
        assert again.json() == {"message": "400 Bad request - Duplicate package is not allowed"}
    files = sandbox.state()["packages"][0]["files"]
    assert len(files) == (2 if second == 201 else 1)
    # Another file name in the same package version is no duplicate.
    other = requests.put(url.replace("state.sqlite", "other.sqlite"), data=b"x", headers=TOKEN,
                         timeout=5)
    assert other.status_code == 201


def test_push_stops_with_a_clear_error_and_keeps_the_saved_copy(
        sandbox: Sandbox, tmp_path: Path) -> None:
    forbid(sandbox)
    path = make_state(tmp_path / "state.db", "first")
    save_state(registry(sandbox), path)
    make_state(path, "second")
    with pytest.raises(DuplicatesForbidden) as refused:
        save_state(registry(sandbox), path)
    assert refused.value.exit_code == ExitCode.AUTH
    assert "forbids duplicate generic packages" in str(refused.value)
    assert "'docsgap-state'" in (refused.value.hint or "")
    (package,) = sandbox.gitlab.packages
    assert len(package["files"]) == 1
    restore_state(registry(sandbox), tmp_path / "back.db")
    store = StateStore(tmp_path / "back.db")
    assert store.cursor("forum") == "first"  # the earlier run's copy, intact
    store.close()


def test_an_unchanged_state_counts_as_saved(sandbox: Sandbox, tmp_path: Path) -> None:
    """The same bytes again (a retried upload that had landed, a run that changed nothing)."""
    forbid(sandbox)
    path = make_state(tmp_path / "state.db", "same")
    save_state(registry(sandbox), path, keep=None)
    source = tmp_path / "copy.db"
    registry(sandbox).fetch(StateLocation(), source)
    registry(sandbox).upload(StateLocation(), source)  # no error
    assert len(sandbox.gitlab.packages[0]["files"]) == 1


def test_cli_push_exits_5_and_says_what_to_change(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DOCSGAP_CONFIG", "DOCSGAP_GITLAB_TOKEN", "DOCSGAP_STATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI_SERVER_URL", sandbox.gitlab_url)
    monkeypatch.setenv("CI_PROJECT_PATH", SANDBOX_PROJECT)
    monkeypatch.setenv("CI_JOB_TOKEN", SANDBOX_CI_JOB_TOKEN)
    forbid(sandbox)
    path = make_state(tmp_path / "state.db", "one")
    runner = CliRunner()
    first = runner.invoke(app, ["state", "push", "--state", str(path)])
    assert first.exit_code == 0, first.output
    make_state(path, "two")
    second = runner.invoke(app, ["state", "push", "--state", str(path)])
    assert second.exit_code == ExitCode.AUTH, second.output
    assert "Duplicate package is not allowed" in second.output
    assert "Duplicate packages > Generic" in second.output
    assert SANDBOX_CI_JOB_TOKEN not in second.output


def test_cli_push_never_drops_a_copy_saved_after_the_pull(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A person pulls the state to review the queue while the scheduled job pulls, runs and
    pushes: the person's later push replaced the job's copy (and the other way round dropped
    the person's verdicts). The push made second is refused, exit 9, until pulled again."""
    monkeypatch.chdir(tmp_path)
    for name in ("DOCSGAP_CONFIG", "DOCSGAP_GITLAB_TOKEN", "DOCSGAP_STATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CI_SERVER_URL", sandbox.gitlab_url)
    monkeypatch.setenv("CI_PROJECT_PATH", SANDBOX_PROJECT)
    monkeypatch.setenv("CI_JOB_TOKEN", SANDBOX_CI_JOB_TOKEN)
    runner = CliRunner()
    first = make_state(tmp_path / "first.db", "first")
    assert runner.invoke(app, ["state", "push", "--state", str(first)]).exit_code == 0
    person, job = tmp_path / "person" / "state.db", tmp_path / "job" / "state.db"
    for path in (person, job):
        pulled = runner.invoke(app, ["state", "pull", "--state", str(path)])
        assert pulled.exit_code == 0, pulled.output
    make_state(job, "job ran")
    assert runner.invoke(app, ["state", "push", "--state", str(job)]).exit_code == 0
    make_state(person, "verdicts")
    refused = runner.invoke(app, ["state", "push", "--state", str(person)])
    assert refused.exit_code == ExitCode.STATE, refused.output
    assert "changed since" in refused.output and "nothing was uploaded" in refused.output
    assert len(sandbox.gitlab.packages[0]["files"]) == 2  # the job's copy is still the newest
    again = runner.invoke(app, ["state", "pull", "--state", str(person)])
    assert again.exit_code == 0, again.output
    make_state(person, "verdicts again")
    assert runner.invoke(app, ["state", "push", "--state", str(person)]).exit_code == 0
    assert runner.invoke(app, ["state", "push", "--state", str(job)]).exit_code == ExitCode.STATE
    forced = runner.invoke(app, ["state", "push", "--state", str(job), "--force"])
    assert forced.exit_code == 0, forced.output
