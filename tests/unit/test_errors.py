"""The README's exit-code table and `ExitCode` must agree; `--json` reports a fatal error too."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.errors import ExitCode
from tests.conftest import REPO


def test_readme_exit_code_table_matches_enum() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    assert codes == {int(c) for c in ExitCode}


def test_json_commands_print_a_fatal_error_as_json_too(tmp_path: Path) -> None:
    """A script reading `--json` from stdout learns why a command failed, not just silence; the
    one line on stderr and the exit code stay as they are."""
    bad = tmp_path / "docsgap.toml"
    bad.write_text('[gitlab]\nproject = "https://gitlab.example.com/group/project"\n', "utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(bad), "--json"])
    assert result.exit_code == int(ExitCode.CONFIG)
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == int(ExitCode.CONFIG) and error["kind"] == "config"
    assert "gitlab.project" in error["message"] and error["message"] in result.stderr
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_text("rules:\n  - id: x\n    weight: [\n", "utf-8")
    checked = CliRunner().invoke(app, ["rules", "list", "--rules", str(rules), "--json"])
    assert checked.exit_code == int(ExitCode.RULES)
    problems = json.loads(checked.stdout)["error"]["problems"]
    assert problems and all("bad.yml:" in p for p in problems)
    plain = CliRunner().invoke(app, ["run", "--config", str(bad)])
    assert plain.exit_code == int(ExitCode.CONFIG) and plain.stdout == ""
