"""`run --apply` checks every credential and scope its plan's writes need before the first write,
through the real clients against the sandbox: a missing forum key or a read-only GitLab token
writes nothing at all and exits 5, instead of half a plan and a string of 403s."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import ENV_VARS, PolicyConfig
from docsgap.demo import demo_config
from docsgap.errors import DocsgapError
from docsgap.runner import run_once
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_READONLY_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)


def writes(sandbox: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests_log()
            if r["method"] in ("POST", "PUT", "DELETE")]


def test_no_forum_key_writes_nothing_not_even_the_issues(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    no_key = replace(cfg, forum=replace(cfg.forum, api_key=None))
    with pytest.raises(DocsgapError) as caught:
        run_once(no_key, apply=True)
    assert caught.value.exit_code == 5
    assert "forum api key" in str(caught.value) and "replies" in str(caught.value)
    assert writes(sandbox) == []
    # Fixed, the same run goes through: the scan it did is kept, nothing is lost.
    assert run_once(cfg, apply=True).exit_code == 0


def test_a_read_only_token_fails_up_front_with_exit_5(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "state.db"\n[forum]\nurl = "{sandbox.forum_url}"\n'
        f'[gitlab]\nurl = "{sandbox.gitlab_url}"\nproject = "{SANDBOX_PROJECT}"\n'
        '[policy]\nopen_issue = "auto"\nlink_existing = "auto"\nreply = "auto"\n',
        encoding="utf-8")
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", SANDBOX_GITLAB_READONLY_TOKEN)
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", SANDBOX_DISCOURSE_API_KEY)
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_USERNAME", SANDBOX_DISCOURSE_API_USERNAME)
    result = CliRunner().invoke(app, ["run", "--apply", "--quiet", "--config", str(toml)])
    assert result.exit_code == 5, result.output
    assert "gitlab token scopes" in result.output and "needs api" in result.output
    assert "Traceback" not in result.output
    assert writes(sandbox) == []
    assert not [r for r in sandbox.requests_log() if r["status"] == 403]


def test_nothing_to_write_needs_no_key_and_no_write_scope(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    reviewed = replace(cfg, policy=PolicyConfig(), forum=replace(cfg.forum, api_key=None),
                       gitlab=replace(cfg.gitlab, token=SANDBOX_GITLAB_READONLY_TOKEN,
                                                  summary_issue=False))
    report = run_once(reviewed, apply=True)  # everything waits for a reviewer
    assert report.exit_code == 0
    assert {o.status for o in report.result.outcomes} == {"pending_review"}
    assert writes(sandbox) == []
