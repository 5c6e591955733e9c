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
from docsgap.demo.loop import MR_FILE, MR_TOPIC, demo_config
from docsgap.errors import DocsgapError
from docsgap.loop.run import run_once
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_READONLY_TOKEN,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)


def writes(sandbox: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests_log()
            if r["method"] in ("POST", "PUT", "DELETE")]


def _toml(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
          forum_key: str | None, token: str) -> Path:
    """A docsgap.toml for the sandbox with every write on auto; credentials from the env."""
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "{tmp_path / "state.db"}"\n[forum]\nurl = "{sandbox.forum_url}"\n'
        f'api_username = "{SANDBOX_DISCOURSE_API_USERNAME}"\n'
        f'[gitlab]\nurl = "{sandbox.gitlab_url}"\nproject = "{SANDBOX_PROJECT}"\n'
        '[policy]\nopen_issue = "auto"\nlink_existing = "auto"\nreply = "auto"\n'
        'followup = "auto"\n[dedup]\nclosed_within_days = 3650\n', encoding="utf-8")
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", token)
    if forum_key:
        monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", forum_key)
    return toml


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


def test_a_wrong_forum_key_stops_a_plan_of_issues_only(sandbox: Sandbox, tmp_path: Path) -> None:
    """Found walking the README: with no forum write planned the key was not checked, and every
    accepted issue then failed on the thread's re-read (Discourse 403, "key is invalid"): exit
    7 on every rerun, as if a retry could help."""
    cfg = replace(demo_config(sandbox, tmp_path), policy=PolicyConfig(open_issue="auto"))
    assert run_once(cfg, apply=False).exit_code == 0  # the scan, with the right key
    issues_only = replace(cfg, forum=replace(cfg.forum, api_key="not-the-key"))
    with pytest.raises(DocsgapError) as caught:
        run_once(issues_only, apply=True)
    assert caught.value.exit_code == 5
    assert "forum api key" in str(caught.value) and "new issue" in str(caught.value)
    assert writes(sandbox) == []


def test_a_read_only_token_fails_up_front_with_exit_5(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = _toml(sandbox, tmp_path, monkeypatch, forum_key=SANDBOX_DISCOURSE_API_KEY,
                 token=SANDBOX_GITLAB_READONLY_TOKEN)
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


def test_followup_without_a_forum_key_posts_nothing_and_exits_5(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = replace(demo_config(sandbox, tmp_path), state_path=tmp_path / "state.db")
    assert run_once(cfg, apply=True).exit_code == 0
    from docsgap.state import StateStore

    store = StateStore(cfg.state_path)
    replied = sorted({r["item_url"] for r in store.links()
                      if r["reply_url"] and "/-/issues/" in r["item_url"]
                      and (item := store.item(r["item_url"])) and item.state == "opened"})
    assert replied
    threads = {r["thread_id"] for r in store.links()
               if r["item_url"] == replied[0] and r["reply_url"]}
    store.close()
    sandbox.close_issue(int(replied[0].rsplit("/", 1)[1]))
    sandbox.clear_requests()

    toml = _toml(sandbox, tmp_path, monkeypatch, forum_key=None, token=SANDBOX_GITLAB_TOKEN)
    result = CliRunner().invoke(app, ["followup", "--apply", "--config", str(toml)])
    assert result.exit_code == 5, result.output
    assert "forum api key" in result.output and "Traceback" not in result.output
    assert writes(sandbox) == []

    # With the key, the same command posts the follow-ups the closed issue earned: one in each
    # thread told about it.
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", SANDBOX_DISCOURSE_API_KEY)
    result = CliRunner().invoke(app, ["followup", "--apply", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    posted = [r for r in sandbox.requests_log()
              if (r["method"], r["path"], r["status"]) == ("POST", "/posts", 200)]
    assert len(posted) == len(threads)  # a 429 on the way is retried, not doubled


def test_mr_that_would_reply_without_a_forum_key_opens_nothing(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = _toml(sandbox, tmp_path, monkeypatch, forum_key=None, token=SANDBOX_GITLAB_TOKEN)
    content = tmp_path / "fixed.md"
    content.write_text(sandbox.state()["files"][f"{SANDBOX_PROJECT}@master"][MR_FILE]
                       + "\nTo expose a whole directory, end its path with `/`.\n",
                       encoding="utf-8")
    result = CliRunner().invoke(app, ["mr", str(MR_TOPIC), "--file", MR_FILE, "--content",
                                      str(content), "--reply", "--apply", "--config", str(toml)])
    assert result.exit_code == 5, result.output
    assert "forum api key" in result.output and "Traceback" not in result.output
    assert writes(sandbox) == []  # no branch, no commit, no MR: the reply could not follow


def test_apply_asks_gitlab_for_the_user_and_the_project_once_each(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The preflight's probe and the tracker each asked `GET /user` and `GET /projects/:id`
    (2 of each per `run --apply` that opens issues, both rate limited on GitLab.com): the
    probe now shares the tracker's client and what it learned, and the run's summary counts
    the probe's requests too."""
    report = run_once(demo_config(sandbox, tmp_path), apply=True)
    assert report.exit_code == 0
    assert any(o.status == "applied" and o.action.kind.value == "open_issue"
               for o in report.result.outcomes)
    gets = [r["path"].split("?")[0] for r in sandbox.requests_log()
            if r["service"] == "gitlab" and r["method"] == "GET"]
    assert gets.count("/api/v4/user") == 1
    assert gets.count(f"/api/v4/projects/{SANDBOX_PROJECT.replace('/', '%2F')}") == 1
    assert dict(report.result.requests)["gitlab"] == len(
        [r for r in sandbox.requests_log() if r["service"] == "gitlab"])


def test_a_rerun_that_only_rewrites_the_summary_issue_looks_up_no_labels(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """Each `run --apply` with a summary issue asked GitLab for every docsgap label (5 of a
    no-op rerun's 12 GitLab requests), though only creating an issue sets labels."""
    cfg = demo_config(sandbox, tmp_path)
    assert run_once(cfg, apply=True).exit_code == 0
    first = [r for r in sandbox.requests_log() if "/labels" in r["path"]]
    assert first  # the run that opens issues checks them
    sandbox.clear_requests()
    assert run_once(cfg, apply=True).exit_code == 0
    assert not [r for r in sandbox.requests_log() if "/labels" in r["path"]]


def test_a_spent_gitlab_budget_stops_the_preflight_as_a_budget_not_as_bad_credentials(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The preflight's GitLab requests count in the run's budget now: one that meets its end
    must say so (exit 6, the next run resumes), not report the token as not working (5)."""
    cfg = demo_config(sandbox, tmp_path)
    tight = replace(cfg, gitlab=replace(cfg.gitlab, max_requests=3))
    with pytest.raises(DocsgapError) as caught:
        run_once(tight, apply=True)
    assert caught.value.exit_code == 6
    assert "budget" in str(caught.value) and "credentials" not in str(caught.value)
    assert writes(sandbox) == []


def test_mr_apply_asks_gitlab_for_the_user_and_the_project_once_each(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mr --apply` read the token's role (GET /projects/:id, GET /user) for its branch or
    fork, then the preflight asked both again (bench/command_costs.py: 12 GitLab requests,
    now 10)."""
    toml = _toml(sandbox, tmp_path, monkeypatch, forum_key=SANDBOX_DISCOURSE_API_KEY,
                 token=SANDBOX_GITLAB_TOKEN)
    content = tmp_path / "fixed.md"
    content.write_text(sandbox.state()["files"][f"{SANDBOX_PROJECT}@master"][MR_FILE]
                       + "\nTo expose a whole directory, end its path with `/`.\n",
                       encoding="utf-8")
    result = CliRunner().invoke(app, ["mr", str(MR_TOPIC), "--file", MR_FILE, "--content",
                                      str(content), "--apply", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    assert "Opened draft merge request" in result.output
    gets = [r["path"].split("?")[0] for r in sandbox.requests_log()
            if r["service"] == "gitlab" and r["method"] == "GET"]
    assert gets.count("/api/v4/user") == 1
    assert gets.count(f"/api/v4/projects/{SANDBOX_PROJECT.replace('/', '%2F')}") == 1


def test_the_run_summary_counts_the_preflights_forum_requests(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The forum preflight (about, session, the bot user: keyed requests that count against
    the site's shared admin-API bucket) was missing from the summary's forum count."""
    report = run_once(demo_config(sandbox, tmp_path), apply=True)
    assert report.exit_code == 0
    forum = [r for r in sandbox.requests_log() if r["service"] == "forum"]
    assert any(r["path"].startswith("/session/current.json") for r in forum)
    assert dict(report.result.requests)["forum"] == len(forum)
