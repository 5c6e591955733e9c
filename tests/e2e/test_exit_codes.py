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


def test_verbose_and_debug_work_after_the_command(tmp_path: Path) -> None:
    """README: "-v shows docsgap's own logs, --debug the full traceback"; typed after the
    command (`docsgap run -v`), as people do, they were "No such option: -v" (exit 2)."""
    result = docsgap("rules", "list", "-v", "--debug", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No such option" not in result.stderr and "docs-are-wrong" in result.stdout
    result = docsgap("run", "--config", "missing.toml", "--debug", cwd=tmp_path)
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "config file not found" in result.stderr
