"""What gitlab.com refuses for reasons of its own (the spam check, an archived project, disabled
issues, a locked discussion, a title too long) and the `search` rate limit, met by docsgap
through the real clients against the sandbox: nothing is lost or duplicated, each refusal
says what happened and what to do, and the action stays pending for the next run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from docsgap.demo.loop import demo_config
from docsgap.errors import AuthError, DocsgapError, NotFoundError, WriteRejectedError
from docsgap.loop.run import run_once
from docsgap.models import ActionKind, IssueDraft
from docsgap.sandbox import SANDBOX_GITLAB_TOKEN, SANDBOX_PROJECT, Sandbox
from docsgap.tracker.gitlab import GitLabTracker
from tests.sandbox.clock import Clock


def gitlab_writes(sandbox: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests_log()
            if r["service"] == "gitlab" and r["method"] in ("POST", "PUT")]


def tracker(sandbox: Sandbox) -> GitLabTracker:
    return GitLabTracker(sandbox.gitlab_url, SANDBOX_PROJECT, token=SANDBOX_GITLAB_TOKEN,
                         timeout=5)


def test_spam_refused_issues_stay_pending_and_are_filed_once_later(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cfg = demo_config(sandbox, tmp_path)
    cfg = replace(cfg, gitlab=replace(cfg.gitlab, summary_issue=False))
    sandbox.gitlab.spam_rules = [{"on": "issue", "pattern": "", "verdict": "captcha",
                                  "count": None}]
    report = run_once(cfg, apply=True)
    opened = [o for o in report.result.outcomes if o.action.kind is ActionKind.OPEN_ISSUE]
    assert opened and {o.status for o in opened} == {"failed"}
    for o in opened:
        assert "spam check" in (o.error or "") and "CAPTCHA" in (o.error or "")
    assert report.exit_code == 7
    assert not [i for i in sandbox.state()["issues"] if "docsgap:" in (i["description"] or "")]

    sandbox.gitlab.spam_rules = []
    again = run_once(cfg, apply=True)
    assert again.exit_code == 0
    filed = [i for i in sandbox.state()["issues"] if "docsgap:key=" in (i["description"] or "")]
    assert len(filed) == len(opened)  # each once: nothing lost, nothing doubled


@pytest.mark.parametrize(("setting", "value", "said"), [
    ("archived", True, "archived"), ("issues_enabled", False, "issues are disabled")])
def test_a_project_that_takes_no_issues_stops_the_run_before_any_write(
        sandbox: Sandbox, tmp_path: Path, setting: str, value: bool, said: str) -> None:
    sandbox.gitlab.project(SANDBOX_PROJECT)[setting] = value
    with pytest.raises(DocsgapError) as caught:
        run_once(demo_config(sandbox, tmp_path), apply=True)
    assert caught.value.exit_code == 5
    assert said in str(caught.value)
    assert [r for r in sandbox.requests_log() if r["method"] in ("POST", "PUT")] == []


def test_a_project_archived_mid_run_is_named_as_the_reason(sandbox: Sandbox) -> None:
    sandbox.gitlab.project(SANDBOX_PROJECT)["archived"] = True
    with pytest.raises(AuthError) as caught:
        tracker(sandbox).open_issue(IssueDraft("Docs: a gap", "text", ("documentation",)))
    assert "is archived" in str(caught.value) and "unarchive" in (caught.value.hint or "")


def _first_issue(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo project and its first issue (the sandbox's own dicts: edits take effect)."""
    project = sandbox.gitlab.project(SANDBOX_PROJECT)
    return project, next(i for k, i in sorted(sandbox.gitlab.issues.items())
                         if k[0] == project["id"])


def test_locked_discussion_refusal_names_the_lock_and_spares_other_actions(
    sandbox: Sandbox,
) -> None:
    project, issue = _first_issue(sandbox)
    issue["discussion_locked"] = True
    sandbox.gitlab.set_access(project, "docsgap-bot", 0)
    before = len(sandbox.gitlab.notes)
    with pytest.raises(WriteRejectedError) as caught:  # one action fails, not the whole run
        tracker(sandbox).add_note("issue", issue["iid"], "More threads about this page.")
    assert "discussion is locked" in str(caught.value)
    assert "docsgap-bot" in str(caught.value) and "pending" in (caught.value.hint or "")
    assert len(sandbox.gitlab.notes) == before


def test_a_title_gitlab_would_refuse_is_not_sent(sandbox: Sandbox) -> None:
    sandbox.clear_requests()
    with pytest.raises(WriteRejectedError) as caught:
        tracker(sandbox).open_issue(IssueDraft("Docs: " + "x" * 300, "text", ()))
    assert "306 characters" in str(caught.value) and "255" in str(caught.value)
    assert gitlab_writes(sandbox) == []


def test_runs_make_no_rate_limited_search(sandbox: Sandbox, tmp_path: Path) -> None:
    """GitLab counts `search=` on issue and MR lists against 30 a minute per user; docsgap
    finds its own issues and doc items without it, so even a limit of 1 never bites."""
    sandbox.gitlab.search_rate_limit = 1
    cfg = demo_config(sandbox, tmp_path)
    assert run_once(cfg, apply=True).exit_code == 0
    assert run_once(cfg, apply=True).exit_code == 0
    searched = [r["path"] for r in sandbox.requests_log() if r["service"] == "gitlab"
                and ("/issues?" in r["path"] or "/merge_requests?" in r["path"])
                and "search=" in r["path"]]
    assert searched == []
    assert not [r for r in sandbox.requests_log()
                if r["service"] == "gitlab" and r["status"] == 429]


def test_a_confidential_issue_hidden_from_the_token_is_named_as_maybe_confidential(
    sandbox: Sandbox,
) -> None:
    project, issue = _first_issue(sandbox)
    issue["confidential"] = True
    sandbox.gitlab.set_access(project, "docsgap-bot", 10)  # a Guest may not see it
    with pytest.raises(NotFoundError) as caught:
        tracker(sandbox).notes("issue", issue["iid"])
    assert "confidential" in str(caught.value) and "pending" in (caught.value.hint or "")


def test_notes_over_gitlab_coms_minute_limit_wait_and_land_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """60 notes a minute per user on gitlab.com: the 61st waits the minute GitLab asks for
    (python-gitlab obeys `Retry-After`; docsgap's budget allows it) and is added once."""
    clock = Clock()
    monkeypatch.setattr("gitlab.utils.time.sleep", clock.sleep)
    with Sandbox(now=clock) as sandbox:
        project = sandbox.gitlab.project(SANDBOX_PROJECT)
        iid = min(k[1] for k in sandbox.gitlab.issues if k[0] == project["id"])
        bot = tracker(sandbox)
        for n in range(61):
            bot.add_note("issue", iid, f"evidence {n}")
        assert clock.slept == [60]
        bodies = [n["body"] for n in sandbox.gitlab.notes.values() if not n["system"]
                  and n["body"].startswith("evidence ")]
        assert sorted(bodies) == sorted(f"evidence {n}" for n in range(61))


def test_a_refused_summary_issue_fails_that_write_only(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, the spam check refusing the summary issue raised out of the run (exit 6) after
    every action had been applied; now the actions stand and the run says what failed."""
    cfg = demo_config(sandbox, tmp_path)
    sandbox.gitlab.spam_rules = [{"on": "issue", "pattern": "^docsgap summary",
                                  "verdict": "disallow"}]
    report = run_once(cfg, apply=True)
    assert report.exit_code == 7
    assert report.summary_issue is None
    assert "spam check" in (report.summary_error or "")
    assert {o.status for o in report.result.outcomes} <= {"applied", "pending_review",
                                                           "dry_run", "already_done"}
    assert "summary issue not written" in caplog.text
    again = run_once(cfg, apply=True)  # the rule is used up: the summary is filed, once
    assert again.exit_code == 0 and again.summary_issue
    assert sum(1 for i in sandbox.state()["issues"] if i["title"] == cfg.gitlab.summary_title) == 1
