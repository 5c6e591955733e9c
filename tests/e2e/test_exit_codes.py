"""The documented exit codes as a shell sees them: the real entry point in a subprocess (the
CliRunner tests call the typer app and would not notice a wrong `main()`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def docsgap(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docsgap", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--version"], 0, ""),
    (["no-such-command"], 2, "No such command"),
    (["run", "--config", "missing.toml"], 3, "config file not found"),
    (["rules", "check", "--templates", "no-such-dir"], 4, "templates directory does not exist"),
])
def test_exit_codes_from_the_entry_point(tmp_path: Path, args: list[str], code: int,
                                         says: str) -> None:
    result = docsgap(*args, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_value_is_one_line_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "docsgap.toml").write_text('[policy]\nreply = "yes"\n', encoding="utf-8")
    result = docsgap("run", cwd=tmp_path)
    assert result.returncode == 3
    assert "docsgap.toml: [policy]" in result.stderr and "reply" in result.stderr
    assert "Traceback" not in result.stderr
