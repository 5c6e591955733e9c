"""`docsgap mr` when the bot may not push to the docs project (a Reporter): with no fork it
stops before any write and says how to fix it; with a fork of its own it commits there and
opens the Draft MR into the docs project, once, even after the state file is lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner, Result

from docsgap.cli import app
from docsgap.demo.loop import MR_FILE, MR_TOPIC, demo_config
from docsgap.errors import ExitCode
from docsgap.sandbox import SANDBOX_GITLAB_TOKEN, SANDBOX_PROJECT, Sandbox

pytestmark = pytest.mark.e2e

FORK = "docsgap-bot/gitlab"


@pytest.fixture
def reporter(sandbox: Sandbox) -> Sandbox:
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", 20)
    return sandbox


def config(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = demo_config(sandbox, tmp_path)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "{tmp_path / "state.db"}"\n'
        f'[forum]\nurl = "{cfg.forum.url}"\napi_username = "{cfg.forum.api_username}"\n'
        f'[gitlab]\nurl = "{cfg.gitlab.url}"\nproject = "{cfg.gitlab.project}"\n'
        f'[policy]\nopen_draft_mr = "review"\n', encoding="utf-8")
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", cfg.gitlab.token or "")
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", cfg.forum.api_key or "")
    return toml


def mr(toml: Path, content: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["mr", str(MR_TOPIC), "--file", MR_FILE, "--content",
                                    str(content), "--no-reply", "--config", str(toml), *extra])


def fixed_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    text = sandbox.state()["files"][f"{SANDBOX_PROJECT}@master"][MR_FILE]
    path = tmp_path / "fixed.md"
    path.write_text(text + "\nTo expose a whole directory, end its path with `/`.\n",
                    encoding="utf-8")
    return path


def writes(sandbox: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests_log()
            if r["method"] != "GET" and r["service"] == "gitlab"]


def test_no_push_and_no_fork_stops_before_any_write(
        reporter: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = config(reporter, tmp_path, monkeypatch)
    content = fixed_file(reporter, tmp_path)
    dry = mr(toml, content)
    assert dry.exit_code == 0, dry.output
    assert "--apply would stop" in dry.output
    applied = mr(toml, content, "--apply")
    assert applied.exit_code == ExitCode.AUTH, applied.output
    assert "owns no fork" in applied.output
    assert "fork gitlab-org/gitlab as docsgap-bot" in applied.output
    assert writes(reporter) == []
    assert [m for m in reporter.state()["merge_requests"] if m["author"] == "docsgap-bot"] == []


def test_with_a_fork_the_mr_comes_from_it_exactly_once(
        reporter: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = requests.post(f"{reporter.gitlab_url}/api/v4/projects/gitlab-org%2Fgitlab/fork",
                         headers={"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}, timeout=5)
    assert made.status_code == 201
    toml = config(reporter, tmp_path, monkeypatch)
    content = fixed_file(reporter, tmp_path)
    dry = mr(toml, content, "--json")
    assert dry.exit_code == 0, dry.output
    assert f"of the fork {FORK}" in dry.output
    assert '"mr_mode": "fork"' in dry.output
    first = mr(toml, content, "--apply")
    assert first.exit_code == 0, first.output
    state = reporter.state()
    (opened,) = [m for m in state["merge_requests"] if m["author"] == "docsgap-bot"]
    assert (opened["project"], opened["source_project"]) == (SANDBOX_PROJECT, FORK)
    assert opened["draft"] and opened["changed_files"] == [MR_FILE]
    branch = opened["source_branch"]
    assert f"{FORK}@{branch}" in state["files"]
    assert f"{SANDBOX_PROJECT}@{branch}" not in state["files"]  # nothing pushed upstream

    again = mr(toml, content, "--apply")
    assert again.exit_code == 0, again.output
    assert "already exists" in again.output
    os.remove(tmp_path / "state.db")
    reporter.clear_requests()
    lost = mr(toml, content, "--apply")
    assert lost.exit_code == 0, lost.output
    assert "already exists" in lost.output
    assert writes(reporter) == []
    mine = [m for m in reporter.state()["merge_requests"] if m["author"] == "docsgap-bot"]
    assert len(mine) == 1
