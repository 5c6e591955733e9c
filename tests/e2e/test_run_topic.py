"""`docsgap run --topic`: one thread through the whole loop. A dry run of a public topic makes 3
requests (the tracker sync of issues and MRs, and the thread read as the public sees it, which
proves its category public without the category list), prints the plan with its reasons, and an
applied one writes exactly what a full run writes for that thread; `review` and `report` see
it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap import compose
from docsgap.cli import app
from docsgap.demo import demo_config
from docsgap.errors import ConfigError
from docsgap.loop.run import run_once
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_ADMIN_USERNAME,
    SANDBOX_DISCOURSE_API_USERNAME,
    Sandbox,
)
from docsgap.scan.scanner import topic_id


def write_config(sandbox: Sandbox, tmp_path: Path, policy: str = "auto") -> Path:
    cfg = demo_config(sandbox, tmp_path)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "{tmp_path / "state.db"}"\nmax_actions = 100\n'
        f'[forum]\nurl = "{cfg.forum.url}"\napi_username = "{cfg.forum.api_username}"\n'
        f'staff_usernames = ["gitlab-team"]\n'
        f'[gitlab]\nurl = "{cfg.gitlab.url}"\nproject = "{cfg.gitlab.project}"\n'
        f'[dedup]\nclosed_within_days = 3650\n'
        f'[policy]\nopen_issue = "{policy}"\nlink_existing = "{policy}"\n'
        f'reply = "{policy}"\n',
        encoding="utf-8")
    return toml


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", cfg.gitlab.token or "")
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", cfg.forum.api_key or "")


def writes_about(sandbox: Sandbox, topic: int) -> dict[str, str]:
    """Marker key -> the text docsgap wrote carrying it, for everything about `topic`; issue
    numbers are folded (a full run opens others first)."""
    state = sandbox.state()
    found: dict[str, str] = {}
    texts = [f"{i['title']}\n{i['labels']}\n{i['description']}" for i in state["issues"]]
    texts += [n["body"] for n in state["notes"]]
    texts += [p["raw"] for t in state["topics"] if t["id"] == topic for p in t["posts"]
              if p["username"] == SANDBOX_DISCOURSE_API_USERNAME]
    for text in texts:
        for key in compose.find_markers(text):
            if f"t{topic}:" in key or f"/t/topic/{topic}" in text or f"/{topic})" in text:
                found[key] = re.sub(r"/-/issues/\d+", "/-/issues/N", text)
    return found


@pytest.mark.parametrize("text", [
    "1013", "{forum}/t/some-slug/1013", "{forum}/t/some-slug/1013/4", "{forum}/t/1013",
    "{forum}/t/some-slug/1013/", "{forum}/t/1013/2"])
def test_topic_urls_and_ids(text: str) -> None:
    forum = "https://forum.gitlab.com"
    assert topic_id(text.format(forum=forum), forum) == 1013


@pytest.mark.parametrize("text", ["https://forum.gitlab.com/latest", "t/1013", "abc",
                                  "https://other.example/t/x/1013"])
def test_not_a_topic_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        topic_id(text, "https://forum.gitlab.com")


@pytest.mark.usefixtures("env")
def test_dry_run_for_one_topic_makes_three_requests_and_explains(
        sandbox: Sandbox, tmp_path: Path) -> None:
    toml = write_config(sandbox, tmp_path)
    url = f"{sandbox.forum_url}/t/some-old-slug/1033/2"
    result = CliRunner().invoke(app, ["run", "--config", str(toml), "--topic", url, "--quiet"])
    assert result.exit_code == 0, result.output
    log = sandbox.requests_log()
    assert len(log) == 3, log
    forum = [e for e in log if e["service"] == "forum"]
    assert [e["path"].split("?")[0] for e in forum] == ["/t/1033/1.json"]
    assert not forum[0]["keyed"], "read as the public sees it"
    assert "Dry run: nothing was written" in result.stdout
    assert "thread #1033" in result.stdout and "why:" in result.stdout
    assert "policy open_issue=auto" in result.stdout
    assert writes_about(sandbox, 1033) == {}


@pytest.mark.parametrize("topic", [1036, 1041])
def test_a_restricted_topic_is_read_with_the_key_and_withheld(
        sandbox: Sandbox, tmp_path: Path, topic: int) -> None:
    """The public cannot read it (404), a staff key can: that read and the category list say
    it is read-restricted, and --apply writes nothing about it."""
    cfg = demo_config(sandbox, tmp_path)
    staff = replace(cfg, forum=replace(cfg.forum, api_username=SANDBOX_DISCOURSE_ADMIN_USERNAME,
                                       bot_usernames=(SANDBOX_DISCOURSE_ADMIN_USERNAME,)))
    report = run_once(staff, apply=True, topic=topic)
    assert report.exit_code == 0
    forum = [(e["path"].split("?")[0], e["status"], e["keyed"]) for e in sandbox.requests_log()
             if e["service"] == "forum"]
    assert forum == [(f"/t/{topic}/1.json", 404, False), (f"/t/{topic}/1.json", 200, True),
                     ("/categories.json", 200, True)]
    reasons = {s.subject: s.reason for s in report.result.plan.skips}
    assert reasons[f"t{topic}"].endswith("is read-restricted")
    assert not report.result.outcomes
    assert all(e["method"] == "GET" for e in sandbox.requests_log())


def test_a_topic_that_does_not_exist_is_named_with_exit_2(
        sandbox: Sandbox, tmp_path: Path) -> None:
    toml = write_config(sandbox, tmp_path)
    result = CliRunner().invoke(app, ["run", "--config", str(toml), "--topic", "99999"])
    assert result.exit_code == 2, result.output
    assert "--topic 99999: no such topic on" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("topic", [1033, 1016])
def test_apply_for_one_topic_writes_what_a_full_run_writes(
        sandbox: Sandbox, tmp_path: Path, topic: int) -> None:
    full = run_once(demo_config(sandbox, tmp_path / "full"), apply=True)
    assert full.exit_code == 0
    expected = writes_about(sandbox, topic)
    assert any(k.startswith("reply:") for k in expected)

    sandbox.reset()
    one = run_once(demo_config(sandbox, tmp_path / "one"), apply=True, topic=topic)
    assert one.exit_code == 0
    assert writes_about(sandbox, topic) == expected
    assert {t for o in one.result.outcomes for t in o.action.thread_ids} == {topic}

    # Same ledger as a scheduled run: the next full run does not write for it again.
    again = run_once(demo_config(sandbox, tmp_path / "one"), apply=True)
    assert not [o for o in again.result.outcomes
                if o.status == "applied" and topic in o.action.thread_ids]
    assert writes_about(sandbox, topic) == expected


@pytest.mark.usefixtures("env")
def test_review_and_report_see_a_single_topic_run(sandbox: Sandbox, tmp_path: Path) -> None:
    toml = write_config(sandbox, tmp_path, policy="review")
    runner = CliRunner()
    dry = runner.invoke(app, ["run", "--config", str(toml), "--topic", "1013", "--quiet"])
    assert dry.exit_code == 0, dry.output
    queued = runner.invoke(app, ["review", "--list", "--config", str(toml)])
    assert "1013" in queued.stdout, queued.output
    accepted = runner.invoke(app, ["review", "--accept-all", "--config", str(toml)])
    assert accepted.exit_code == 0, accepted.output
    applied = runner.invoke(app, ["run", "--config", str(toml), "--topic", "1013", "--apply",
                                  "--quiet"])
    assert applied.exit_code == 0, applied.output
    report = runner.invoke(app, ["report", "--state", str(tmp_path / "state.db"),
                                 "--format", "json"])
    assert report.exit_code == 0, report.output
    assert "1013" in json.dumps(json.loads(report.stdout)), report.stdout
