"""The summary issue is opened once and rewritten in place, even after the state is lost; the run
summary counts what happened and what it cost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from docsgap.act.summary_issue import publish
from docsgap.config import Config, GitLabConfig
from docsgap.loop import summary as runsummary
from docsgap.models import Action, ActionKind, Outcome, Plan, RunResult, Skip
from docsgap.report.summary import SUMMARY_MARKER
from docsgap.state import StateStore
from tests.fakes import T0, FakeTracker

CFG = Config(gitlab=GitLabConfig(summary_issue=True))


def test_opened_once_then_updated_in_place(tmp_path: Path) -> None:
    tracker = FakeTracker()
    store = StateStore(tmp_path / "s.db")
    first = publish(tracker, store, CFG, now=T0)
    assert first.created
    [issue] = tracker.created
    assert issue.description.startswith(SUMMARY_MARKER)
    assert "documentation" not in issue.labels  # never enters the dedup cache
    store.record_link(7, "https://gitlab.test/gitlab-org/gitlab/-/issues/99", source="thread")
    second = publish(tracker, store, CFG, now=T0 + timedelta(hours=1))
    assert not second.created and second.changed and second.url == first.url
    assert len(tracker.created) == 1
    again = publish(tracker, store, CFG, now=T0 + timedelta(hours=2))
    assert not again.changed  # only the timestamp would differ: no write
    store.close()


def test_lost_state_finds_the_issue_by_marker(tmp_path: Path) -> None:
    tracker = FakeTracker()
    with_state = StateStore(tmp_path / "a.db")
    url = publish(tracker, with_state, CFG, now=T0).url
    with_state.close()
    fresh = StateStore(tmp_path / "b.db")
    result = publish(tracker, fresh, CFG, now=T0 + timedelta(days=1))
    assert result.url == url and not result.created
    assert len(tracker.created) == 1
    fresh.close()


def test_run_summary_counts_and_budget() -> None:
    action = Action(ActionKind.OPEN_ISSUE, "issue:x", "policy open_issue=auto", (1,))
    reply = Action(ActionKind.REPLY, "reply:x", "policy reply=auto", (1,))
    plan = Plan(actions=(action, reply),
                skips=(Skip("t2", "topic is closed: no reply"), Skip("t3", "topic is closed: x")))
    result = RunResult(plan, (Outcome(action, "applied", "u"),
                              Outcome(reply, "failed", error="HTTP 502")),
                       threads_scanned=4, requests=(("forum", 12), ("gitlab", 5)))
    s = runsummary.summarize(result, applied=True, remaining={"forum": 488, "gitlab": None},
                             stopped_early=None, exit_code=7)
    assert s["actions"] == {"open_issue": {"applied": 1}, "reply": {"failed": 1}}
    assert s["skips"] == {"topic is closed": 2}
    assert s["failures"] == [{"key": "reply:x", "kind": "reply", "error": "HTTP 502",
                              "target": None}]
    text = runsummary.render_text(s)
    assert "forum 12, gitlab 5" in text and "forum 488" in text and "gitlab unlimited" in text
    assert "FAILED reply reply:x: HTTP 502" in text


def test_deleted_summary_issue_is_found_again_or_reopened_once(tmp_path: Path) -> None:
    tracker = FakeTracker()
    store = StateStore(tmp_path / "s.db")
    first = publish(tracker, store, CFG, now=T0)
    [issue] = tracker.created
    del tracker.items[("issue", issue.iid)]  # someone deleted it; the state still names it
    again = publish(tracker, store, CFG, now=T0 + timedelta(hours=1))
    assert again.created and first.created
    assert store.cursor("summary.issue_url") == again.url
    later = publish(tracker, store, CFG, now=T0 + timedelta(hours=2))
    assert not later.created and later.url == again.url
    assert len(tracker.created) == 2
    store.close()


def test_skip_reasons_holding_a_url_group_on_their_words() -> None:
    plan = Plan(skips=(
        Skip("t1", "linked item https://gitlab.test/g/p/-/issues/1 is closed: no reply"),
        Skip("t2", "linked item https://gitlab.test/g/p/-/issues/2 is closed: no reply"),
    ))
    s = runsummary.summarize(RunResult(plan, (), threads_scanned=2), applied=False,
                             remaining={}, stopped_early=None, exit_code=0)
    assert s["skips"] == {"linked item <url> is closed": 2}
