"""`--max-actions` caps writes: actions that only wait for a reviewer neither spend it nor
disappear from the plan."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from docsgap.config import PolicyConfig
from tests.unit.test_pipeline import make, run


def test_actions_waiting_for_review_do_not_spend_the_cap(tmp_path: Path) -> None:
    # The link waits for a reviewer (and so does its reply); the new issue and its reply are
    # automatic: a cap of 2 must buy exactly those two writes.
    policy = PolicyConfig(open_issue="auto", link_existing="review", reply="auto")
    cfg, forum, tracker = make(tmp_path, policy)
    result = run(replace(cfg, max_actions=2), forum, tracker)
    applied = sorted(o.action.kind.value for o in result.outcomes if o.status == "applied")
    assert applied == ["open_issue", "reply"]
    assert len(tracker.created) == 1


def test_a_plan_shows_every_action_however_low_the_cap(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path, PolicyConfig())  # everything waits for review
    capped = run(replace(cfg, max_actions=1), forum, tracker, apply=False)
    assert not [s for s in capped.plan.skips if "cap" in s.reason]
    uncapped = run(replace(cfg, max_actions=100), forum, tracker, apply=False)
    assert [a.key for a in capped.plan.actions] == [a.key for a in uncapped.plan.actions]
    assert len(capped.plan.actions) == 4


def test_writes_past_the_cap_are_listed_with_the_reason(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)  # everything automatic
    result = run(replace(cfg, max_actions=1), forum, tracker, apply=False)
    assert len([o for o in result.outcomes if o.error is None]) == 1
    assert [s for s in result.plan.skips if "per-run cap of 1 writes" in s.reason]
