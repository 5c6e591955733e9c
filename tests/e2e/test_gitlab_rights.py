"""`run --apply` refuses before its first write when GitLab would drop docsgap's labels or
cannot create the missing ones (exit 5, one clear line), and says nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsgap.demo import demo_config
from docsgap.errors import AuthError
from docsgap.loop.run import run_once
from docsgap.sandbox import SANDBOX_PROJECT, Sandbox
from docsgap.tracker.gitlab import GitLabTracker

pytestmark = pytest.mark.e2e


def demote(sandbox: Sandbox, level: int) -> None:
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", level)


@pytest.mark.parametrize("level", [0, 10])
def test_apply_refused_when_labels_would_be_dropped(
        sandbox: Sandbox, tmp_path: Path, level: int) -> None:
    demote(sandbox, level)
    before = sandbox.state()
    with pytest.raises(AuthError) as refused:
        run_once(demo_config(sandbox, tmp_path), apply=True)
    assert refused.value.exit_code == 5
    assert "drop docsgap's labels" in str(refused.value)
    after = sandbox.state()
    assert len(after["issues"]) == len(before["issues"])
    # Reads only (the preflight's probes also ask /version and /about.json: 404 here).
    assert after["requests"]["by_status"].keys() <= {"200", "404"}
    assert not [r for r in sandbox.requests_log() if r["method"] != "GET"]


def test_rights_name_missing_labels_and_the_mr_mode(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    tracker = GitLabTracker(cfg.gitlab.url, SANDBOX_PROJECT, token=cfg.gitlab.token, timeout=5)
    rights = tracker.rights(("documentation", "no-such-label"))
    assert (rights.user, rights.role, rights.mr_mode) == ("docsgap-bot", "Developer", "branch")
    assert rights.missing_labels == ("no-such-label",)
    assert rights.label_problem(SANDBOX_PROJECT) is None  # a Developer creates it
    demote(sandbox, 20)
    reporter = tracker.rights(())
    assert (reporter.can_set_labels, reporter.can_push, reporter.mr_mode) == (True, False, "none")


def test_apply_runs_for_a_reporter(sandbox: Sandbox, tmp_path: Path) -> None:
    demote(sandbox, 20)
    report = run_once(demo_config(sandbox, tmp_path), apply=True)
    assert report.exit_code == 0
    mine = [i for i in sandbox.state()["issues"] if i["author"] == "docsgap-bot"]
    assert mine and all("docsgap" in i["labels"] for i in mine)
