"""The whole loop with a staff API key (what a forum admin's key sees): the demo's deleted,
flag-hidden and withdrawn posts and its read-restricted topics are never quoted into GitLab
nor replied to, and the run's skips say why; nor is a post withheld after a run read it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.loop.summary import summarize
from docsgap.sandbox import SANDBOX_DISCOURSE_ADMIN_USERNAME, Sandbox

SECRETS = ("glrt-SANDBOX-LEAKED", "FLAGGED-HIDDEN", "WITHDRAWN-DO-NOT", "RESTRICTED-DO-NOT",
           "deployment/")
"""Words only the withheld posts contain (the last: the restricted topic's docs page)."""
OFF_LIMITS = (1036, 1038, 1040, 1041)
"""Topics whose only docs complaint is withheld (1039's first post is a complaint of its own)."""


def test_a_staff_key_never_quotes_or_answers_withheld_posts(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cfg = demo_config(sandbox, tmp_path)
    staff = replace(cfg, forum=replace(cfg.forum, api_username=SANDBOX_DISCOURSE_ADMIN_USERNAME,
                                       bot_usernames=(SANDBOX_DISCOURSE_ADMIN_USERNAME,)))
    report = run_once(staff, apply=True)

    assert report.exit_code == 0
    state = sandbox.state()
    written = [i["description"] for i in state["issues"]] + [n["body"] for n in state["notes"]]
    assert written and not [s for s in SECRETS if any(s in text for text in written)]
    for topic in state["topics"]:
        ours = [p for p in topic["posts"] if p["username"] == SANDBOX_DISCOURSE_ADMIN_USERNAME]
        if topic["id"] in OFF_LIMITS:
            assert not ours
        assert not [p for p in ours if p["reply_to_post_number"] == 2 and topic["id"] == 1039]
    reasons = {s.subject: s.reason for s in report.result.plan.skips}
    assert reasons["t1039#2"] == "post withheld, hidden after flags"
    assert reasons["t1040#2"] == "post withheld, withdrawn by its author"
    assert reasons["t1041"] == "topic withheld, category 61 is read-restricted"
    assert reasons["t1036"] == "topic withheld, category 60 is read-restricted"
    # The thread with the hidden reply was read (its first post is a docs complaint of its
    # own) and only that first post was quoted.
    assert any("approvals/rules" in text for text in written)
    summary = summarize(report.result, applied=True, remaining={}, stopped_early=None,
                        exit_code=0)
    assert summary["skips"]["post withheld, hidden after flags"] == 1


@pytest.mark.parametrize("moderation", ["hide", "withdraw", "delete"])
def test_a_post_withheld_after_it_was_read_is_not_quoted_nor_answered(
    sandbox: Sandbox, tmp_path: Path, moderation: str
) -> None:
    cfg = demo_config(sandbox, tmp_path)
    dry = run_once(cfg, apply=False)
    assert [s for s in dry.result.plan.signals if s.thread_id == 1016]
    complaint = next(t for t in sandbox.state()["topics"] if t["id"] == 1016)["posts"][0]
    sandbox.moderate_post(int(complaint["id"]), moderation)  # before anyone applied it

    report = run_once(cfg, apply=True)

    state = sandbox.state()
    written = [i["description"] for i in state["issues"] if i["author"] == "docsgap-bot"] + [
        n["body"] for n in state["notes"] if n["author"] == "docsgap-bot"]
    assert written
    assert not [text for text in written if "cloud_services/aws" in text or "/1016" in text]
    topic = next(t for t in state["topics"] if t["id"] == 1016)
    assert all(p["username"] != cfg.forum.api_username for p in topic["posts"])
    outcomes = {o.action.kind.value: o for o in report.result.outcomes
                if 1016 in o.action.thread_ids}
    assert "evidence withheld since it was read" in (outcomes["link_existing"].error or "")
    assert outcomes["reply"].status != "applied"  # it waited for the link, which never came
    assert 1016 not in {s.thread_id for s in run_once(cfg, apply=False).result.plan.signals}


def test_the_loop_against_a_forum_served_from_the_root(tmp_path: Path) -> None:
    """forum.gitlab.com lives at the root of its host; the other tests use a `/forum` prefix."""
    with Sandbox(forum_path="", discourse_limits=True, skip_waits=True) as sandbox:
        cfg = demo_config(sandbox, tmp_path)
        assert cfg.forum.url == sandbox.base_url
        report = run_once(cfg, apply=True)
        assert report.exit_code == 0
        replies = [o.remote_url for o in report.result.outcomes
                   if o.action.kind.value == "reply" and o.status == "applied"]
        assert replies and all(u and u.startswith(f"{sandbox.base_url}/t/") for u in replies)
        issues = [i["description"] for i in sandbox.state()["issues"]
                  if i["author"] == "docsgap-bot" and "docsgap:summary" not in i["description"]]
        assert issues and all(f"{sandbox.base_url}/t/" in text for text in issues)
        again = run_once(cfg, apply=True)
        assert not [o for o in again.result.outcomes if o.status == "applied"]
