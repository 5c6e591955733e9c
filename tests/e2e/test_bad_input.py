"""Bad input a new user hands the CLI ends in one clear line and a documented exit code: never a
traceback, never exit 1 (reserved for bugs), and nothing in the state is lost."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import ENV_VARS
from docsgap.sandbox import SANDBOX_PROJECT, Sandbox
from docsgap.state import StateStore
from tests.unit.report_builder import build_demo_state

NOT_UTF8 = b'{"id": 1, "title": "Caf\xe9", "text": "the docs are wrong"}\n'


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_debug_shows_the_traceback_but_keeps_the_exit_code(tmp_path: Path) -> None:
    code, out = cli("--debug", "report", "--state", str(tmp_path / "none.db"))
    assert code == 3
    assert "Traceback" in out and "error: no docsgap state" in out


def test_corrupt_state_is_exit_9_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "bad.db").write_bytes(b"not sqlite at all " * 100)
    code, out = cli("report", "--state", str(tmp_path / "bad.db"))
    assert code == 9
    assert "cannot open state" in out and "verdicts" in out


def test_report_takes_the_config_file(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "elsewhere" / "s.db")
    build_demo_state(store)
    store.close()
    (tmp_path / "mine.toml").write_text('state_path = "elsewhere/s.db"\n', encoding="utf-8")
    code, out = cli("report", "-c", str(tmp_path / "mine.toml"), "--json")
    assert code == 0, out
    assert json.loads(out)["totals"]["links"] > 0


def test_report_file_gets_the_usual_mode_not_0600(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.db")
    build_demo_state(store)
    store.close()
    mask = os.umask(0o022)
    try:
        code, out = cli("report", "--state", str(tmp_path / "s.db"), "-o", "report.md",
                        "-f", "markdown")
    finally:
        os.umask(mask)
    assert code == 0, out
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o644


@pytest.mark.parametrize("command", [
    ["detect", "--input", "in.jsonl"],
    ["match", "--pool", "pool.jsonl", "--input", "in.jsonl"],
])
def test_non_utf8_input_names_the_file_and_byte(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "in.jsonl").write_bytes(NOT_UTF8)
    (tmp_path / "pool.jsonl").write_text("", encoding="utf-8")
    code, out = cli(*command)
    assert code == 3
    assert "in.jsonl: not UTF-8 text: byte 0xe9 at offset 23 (line 1)" in out


@pytest.fixture
def requests_sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request any client tries to send (none gets out)."""
    import requests
    from requests.adapters import HTTPAdapter

    sent: list[str] = []

    def send(self: HTTPAdapter, request: requests.PreparedRequest, *a: object,
             **kw: object) -> requests.Response:
        sent.append(str(request.url))
        raise requests.ConnectionError("no network in this test")

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return sent


@pytest.mark.parametrize("command", [["run"], ["run", "--apply"], ["review", "--list"],
                                     ["followup"]])
def test_without_a_configuration_nothing_is_contacted(
    requests_sent: list[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", "glpat-someone-elses")
    code, out = cli(*command)
    assert code == 3, out
    assert "no target configured" in out and "--forum-url" in out
    assert requests_sent == []


def test_doctor_says_the_target_is_missing(requests_sent: list[str]) -> None:
    code, out = cli("doctor", "--dry-run", "--json")
    assert code == 8
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["config"]["status"] == "FAIL"
    assert "no target configured" in checks["config"]["detail"]
    assert requests_sent == []


def test_flags_name_the_target(sandbox: Sandbox, tmp_path: Path) -> None:
    code, out = cli("run", "--quiet", "--forum-url", sandbox.forum_url, "--gitlab-url",
                    sandbox.gitlab_url, "--project", SANDBOX_PROJECT, "--state",
                    str(tmp_path / "s.db"))
    assert code == 0, out
    assert "Dry run: nothing was written" in out


def test_rate_limit_waits_are_told_before_they_are_slept(sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    from docsgap.demo import demo_config
    from docsgap.http_budget import waits_told_to
    from docsgap.loop.run import run_once

    sandbox.add_fault("forum", status=429, path_regex=r"^/t/", count=1, wait_seconds=1)
    heard: list[tuple[str, float]] = []
    with waits_told_to(lambda service, seconds: heard.append((service, seconds))):
        report = run_once(demo_config(sandbox, tmp_path), apply=False)
    assert report.exit_code == 0
    [(service, seconds)] = heard
    assert service == "forum" and 1 <= seconds <= 3  # the hint, plus Discourse's margin


@pytest.mark.parametrize("command", [["run", "--quiet"], ["run", "--quiet", "--topic", "1035"],
                                     ["docs", "sync"]])
def test_a_mistyped_project_is_a_config_error_naming_it(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """GitLab's 404 "Project Not Found" was exit 6 ("unavailable"): a new user had mistyped
    gitlab.project (or docs.projects), which is configuration, so exit 3 naming the path."""
    from docsgap.sandbox import SANDBOX_GITLAB_READONLY_TOKEN

    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", SANDBOX_GITLAB_READONLY_TOKEN)
    (tmp_path / "docsgap.toml").write_text(
        f'state_path = "s.db"\n[forum]\nurl = "{sandbox.forum_url}"\n'
        f'[gitlab]\nurl = "{sandbox.gitlab_url}"\nproject = "gitlab-org/gitlabb"\n'
        # docs sync reads docs.projects: one the docs map knows but this GitLab does not hold.
        '[docs]\nprojects = ["gitlab-org/gitlab-runner"]\n', encoding="utf-8")
    code, out = cli(*command)
    assert code == 3, out
    named = "gitlab-org/gitlab-runner" if command[0] == "docs" else "gitlab-org/gitlabb"
    assert f"GitLab has no project {named!r}" in out
    assert "gitlab.project" in out and "docs.projects" in out and "not a member" in out
    code, out = cli("doctor", "--dry-run", "--json")  # doctor says the same in its check
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["gitlab project"]["status"] == "FAIL"
    assert "GitLab has no project 'gitlab-org/gitlabb'" in checks["gitlab project"]["detail"]
