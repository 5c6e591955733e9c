"""`docsgap config`: every setting a run would use, with where it came from; secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import load_config


def test_origins_name_the_layer_that_set_each_key(tmp_path: Path) -> None:
    toml = tmp_path / "docsgap.toml"
    toml.write_text('max_actions = 5\n[forum]\nurl = "https://f.example"\n'
                    '[gitlab]\nproject = "g/p"\nurl = "https://file.example"\n', encoding="utf-8")
    cfg = load_config(toml, env={"DOCSGAP_GITLAB_TOKEN": "glpat-x", "DOCSGAP_FORUM_URL": ""},
                      overrides={"gitlab": {"url": "https://flag.example", "project": None}})
    assert dict(cfg.origins) == {
        "forum.url": str(toml), "gitlab.project": str(toml), "max_actions": str(toml),
        "gitlab.url": "command line", "gitlab.token": "environment DOCSGAP_GITLAB_TOKEN"}


def test_config_prints_values_and_sources_and_never_a_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "docsgap.toml"
    toml.write_text('[forum]\nurl = "https://f.example"\n', encoding="utf-8")
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", "glpat-very-secret")
    monkeypatch.delenv("DOCSGAP_DISCOURSE_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["config", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    assert "glpat-very-secret" not in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()
             if line and not line.startswith("#")}
    assert "'https://f.example'" in lines["forum.url"] and str(toml) in lines["forum.url"]
    assert "****" in lines["gitlab.token"] and "DOCSGAP_GITLAB_TOKEN" in lines["gitlab.token"]
    assert "(not set)" in lines["forum.api_key"]
    assert "name it before a run" in lines["gitlab.project"]  # the unnamed target
    assert "(default)" in lines["max_actions"]

    as_json = CliRunner().invoke(app, ["config", "--config", str(toml), "--json", "--changed"])
    data = json.loads(as_json.stdout)
    assert data["file"] == str(toml)
    assert data["settings"] == {
        "forum.url": {"value": "https://f.example", "from": str(toml)},
        "gitlab.token": {"value": "****", "from": "environment DOCSGAP_GITLAB_TOKEN"}}


def test_config_with_a_bad_file_is_the_config_error_exit(tmp_path: Path) -> None:
    toml = tmp_path / "docsgap.toml"
    toml.write_text("[forum\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["config", "--config", str(toml)])
    assert result.exit_code == 3
