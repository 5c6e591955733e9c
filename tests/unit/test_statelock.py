"""One writer per state file: a second `run --apply` on the same state is refused at once and
says who holds it; a crashed holder never blocks the next run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import ENV_VARS
from docsgap.errors import StateError
from docsgap.state.lock import state_lock


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)


def test_a_second_run_on_the_same_state_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state.db"
    # Port 9 (discard) refuses connections: a run that got past the lock would exit 6.
    monkeypatch.setenv("DOCSGAP_FORUM_URL", "http://127.0.0.1:9/forum")
    monkeypatch.setenv("DOCSGAP_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "g/p")
    with state_lock(state, "docsgap run --apply"):
        result = CliRunner().invoke(app, ["run", "--apply", "--quiet", "--state", str(state)])
    assert result.exit_code == 9, result.output
    assert "is in use: docsgap run --apply (pid" in result.output
    assert "Traceback" not in result.output


def test_the_lock_is_released_after_use_and_after_a_failure(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with pytest.raises(RuntimeError), state_lock(state, "first"):
        raise RuntimeError("the run failed")
    with state_lock(state, "second"), pytest.raises(StateError, match="in use: second"), \
            state_lock(state, "third"):
        pass


def test_a_crashed_holder_does_not_block(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    code = ("import os, sys; from pathlib import Path; from docsgap.state.lock import state_lock\n"
            "with state_lock(Path(sys.argv[1]), 'doomed run'):\n"
            "    os.kill(os.getpid(), 9)\n")
    crashed = subprocess.run([sys.executable, "-c", code, str(state)], check=False)
    assert crashed.returncode == -9
    assert "doomed run" in (tmp_path / "state.db.lock").read_text(encoding="utf-8")
    with state_lock(state, "next run"):
        pass


@pytest.mark.parametrize("given", ["/", ""])
def test_a_folder_with_no_name_as_state_is_a_state_error(
    given: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`run --state /` (or `--state ''`, the current folder) was a traceback (exit 1): the
    lock beside it had no name to take."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCSGAP_FORUM_URL", "http://127.0.0.1:9/forum")
    monkeypatch.setenv("DOCSGAP_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "g/p")
    result = CliRunner().invoke(app, ["run", "--quiet", "--state", given])
    assert result.exit_code == 9, result.output
    assert "is a folder, not a state file" in result.output
    assert list(tmp_path.iterdir()) == []
