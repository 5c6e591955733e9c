"""docsgap's replies on a forum that holds them for a moderator (Discourse's approval queue,
as forum.gitlab.com can have it for the bot's trust level, a watched word or a category), and
watched words that block a reply: exactly one reply per action whatever happens in between,
and a moderator's rejection is reported, never answered with a second copy."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from docsgap.act.planview import render_text
from docsgap.compose import find_markers
from docsgap.demo import demo_config
from docsgap.loop.run import RunReport, run_once
from docsgap.sandbox import SANDBOX_DISCOURSE_API_USERNAME as BOT
from docsgap.sandbox import Sandbox
from docsgap.state import StateStore
from tests.sandbox.clock import Clock

FORUM_WRITES = ("reply", "docs_reply", "followup")


def bot_markers(sandbox: Sandbox) -> Counter[str]:
    """How often each docsgap marker appears in the bot's visible forum posts."""
    return Counter(key for topic in sandbox.state()["topics"] for post in topic["posts"]
                   if post["username"] == BOT for key in find_markers(post["raw"]))


def pending(sandbox: Sandbox) -> list[dict[str, object]]:
    return [q for q in sandbox.state()["queued_posts"] if q["status"] == "pending"]


def forum_outcomes(report: RunReport) -> dict[str, str]:
    return {o.action.key: o.status for o in report.result.outcomes
            if o.action.kind.value in FORUM_WRITES}


def test_a_queued_reply_is_written_once_through_reruns_a_lost_state_and_approval(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # The bot is at trust level 2; only trust level 3 posts without approval here.
    sandbox.forum_settings.approve_unless_allowed_groups = ["trust_level_3"]
    cfg = demo_config(sandbox, tmp_path)

    first = run_once(cfg, apply=True)

    queued = {k for k, status in forum_outcomes(first).items() if status == "queued"}
    assert queued and first.exit_code == 0
    assert not bot_markers(sandbox)  # nothing visible yet
    shown = render_text(first.result, applied=True)
    assert "awaiting forum moderator" in shown
    assert "queued for forum moderator approval (pending post" in shown
    waiting = pending(sandbox)
    assert len(waiting) == len(queued)
    store = StateStore(cfg.state_path, read_only=True)
    rows = {k: store.ledger_entry(k) for k in queued}
    store.close()
    assert all(r and r["status"] == "queued" and r["remote_url"] is None for r in rows.values())
    assert all("queued for forum moderator approval" in (r or {})["error"]
               for r in rows.values())

    again = run_once(cfg, apply=True)
    assert {k for k, s in forum_outcomes(again).items() if s == "queued"} == queued
    cfg.state_path.unlink()  # the state is lost: only the forum knows what waits
    lost = run_once(cfg, apply=True)
    assert {k for k, s in forum_outcomes(lost).items() if s == "queued"} == queued
    assert pending(sandbox) == waiting  # not one more copy queued

    for item in waiting:
        sandbox.review_post(int(str(item["id"])), "approve")
    approved = run_once(cfg, apply=True)

    # Found as posts: by the scan (which then plans nothing for them) or by the marker check.
    assert not {s for k, s in forum_outcomes(approved).items() if k in queued} - {"already_done"}
    store = StateStore(cfg.state_path, read_only=True)
    rows = {k: store.ledger_entry(k) for k in queued}
    store.close()
    assert all(r and r["status"] == "done" and "/t/" in r["remote_url"] for r in rows.values())
    assert set(bot_markers(sandbox)) >= queued
    assert max(bot_markers(sandbox).values()) == 1
    run_once(cfg, apply=True)
    assert max(bot_markers(sandbox).values()) == 1 and not pending(sandbox)


def test_a_rejected_reply_is_reported_once_and_never_posted_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.forum_settings.approve_unless_allowed_groups = ["trust_level_3"]
    cfg = demo_config(sandbox, tmp_path)
    first = run_once(cfg, apply=True)
    [rejected, *approved] = pending(sandbox)
    sandbox.review_post(int(str(rejected["id"])), "reject")
    for item in approved:
        sandbox.review_post(int(str(item["id"])), "approve")

    found = run_once(cfg, apply=True)

    failed = [o for o in found.result.outcomes if o.status == "failed"]
    assert len(failed) == 1 and found.exit_code == 7
    assert "rejected by a forum moderator" in (failed[0].error or "")
    key = failed[0].action.key
    later = run_once(cfg, apply=True)
    outcome = next(o for o in later.result.outcomes if o.action.key == key)
    assert outcome.status == "dry_run" and "rejected by a forum moderator" in (outcome.error or "")
    assert later.exit_code == 0
    assert key not in bot_markers(sandbox) and not pending(sandbox)
    assert len(first.result.outcomes) >= len(approved) + 1


def test_a_blocked_watched_word_fails_the_reply_and_loses_nothing(tmp_path: Path) -> None:
    clock = Clock(time.time())
    with Sandbox(now=clock, discourse_limits=True, skip_waits=True) as sandbox:
        sandbox.forum_settings.watched_words = {"block": ["Docs"]}
        cfg = demo_config(sandbox, tmp_path)

        blocked = run_once(cfg, apply=True)

        failed = [o for o in blocked.result.outcomes
                  if o.status == "failed" and o.action.kind.value in FORUM_WRITES]
        assert failed and blocked.exit_code == 7
        assert all("Sorry, you can't post the word 'docs'" in (o.error or "") for o in failed)
        assert not bot_markers(sandbox)
        sandbox.forum_settings.watched_words = {}
        # Discourse memoizes an API post's whole answer, a 422 too, for 120 s.
        assert forum_outcomes(run_once(cfg, apply=True)) == forum_outcomes(blocked)
        clock.now += 121
        fixed = run_once(cfg, apply=True)
        assert {forum_outcomes(fixed)[o.action.key] for o in failed} == {"applied"}
        assert max(bot_markers(sandbox).values()) == 1
