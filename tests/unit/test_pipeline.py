"""The whole loop over in-memory fakes: dry run, apply, rerun, crashes at every write boundary,
and a lost database. The fakes record every write, so duplicates cannot hide."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from docsgap import compose
from docsgap.config import Config, PolicyConfig
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.loop.pipeline import Pipeline
from docsgap.loop.summary import summarize
from docsgap.models import Post, Thread
from docsgap.state import StateStore
from tests.fakes import T0, Crash, FakeForum, FakeTracker, Faults

AUTO = PolicyConfig(open_issue="auto", link_existing="auto", reply="auto", followup="auto")
YAML = "https://docs.gitlab.com/ee/ci/yaml/index.html#rules"
VARS = "https://docs.gitlab.com/ci/variables/"


def post(pid: int, topic: int, n: int, user: str, text: str, staff: bool = False) -> Post:
    return Post(pid, topic, n, user, T0, f"<p>{text}</p>", text, staff)


def thread(tid: int, title: str, *posts: tuple[str, str], closed: bool = False,
           tags: tuple[str, ...] = ()) -> Thread:
    ps = tuple(post(tid * 10 + i, tid, i + 1, u, t, u == "gitlab-team")
               for i, (u, t) in enumerate(posts))
    return Thread(tid, f"topic-{tid}", title, f"https://forum.test/t/topic-{tid}/{tid}", ps,
                  closed=closed, tags=tags)


def demo_threads() -> list[Thread]:
    return [
        thread(101, "rules:changes example fails",
               ("ana", f"Hi all! The example on {YAML} is outdated: it still shows the old "
                       "syntax that was removed in 17.0, so the pipeline fails.")),
        thread(102, "Masked variables length",
               ("ben", f"The documentation at {VARS} is wrong about masked variables: it says "
                       "8 characters minimum but the UI requires more.")),
        thread(103, "How do I cache node_modules?",
               ("cid", "How do I cache node_modules between jobs? Thanks!")),
        thread(104, "Closed: docs wrong about masked variables",
               ("dee", f"The docs at {VARS} are wrong about masked variables, the minimum "
                       "length in the docs is incorrect."), closed=True),
        thread(105, "Ignored thread", ("eve", f"The docs at {YAML} are outdated and wrong."),
               tags=("docsgap-ignore",)),
    ]


def make(tmp_path: Path, policy: PolicyConfig = AUTO) -> tuple[Config, FakeForum, FakeTracker]:
    cfg = Config(policy=policy, state_path=tmp_path / "state.db", max_actions=50)
    forum = FakeForum(demo_threads())
    tracker = FakeTracker()
    tracker.add("issue", "Masked variables: docs are wrong about the minimum length",
                f"The page {VARS} says masked variables need 8 characters; wrong minimum length.")
    return cfg, forum, tracker


def run(cfg: Config, forum: FakeForum, tracker: FakeTracker, *, apply: bool = True):
    store = StateStore(cfg.state_path)
    try:
        return Pipeline(cfg, forum, tracker, store, Detector(load_rules())).run(apply=apply)
    finally:
        store.close()


def writes(forum: FakeForum, tracker: FakeTracker) -> Counter[str]:
    c: Counter[str] = Counter()
    c["issues"] = len(tracker.created)
    c["notes"] = sum(len(n) for n in tracker.item_notes.values())
    for topic, _ in forum.replies:
        c[f"reply:{topic}"] += 1
    return c


def test_dry_run_writes_nothing_and_explains(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    result = run(cfg, forum, tracker, apply=False)
    assert writes(forum, tracker) == Counter({"issues": 0, "notes": 0})
    kinds = Counter(a.kind.value for a in result.plan.actions)
    assert kinds["open_issue"] == 1 and kinds["link_existing"] == 1
    assert all(o.status == "dry_run" for o in result.outcomes)
    assert all("policy" in a.reason for a in result.plan.actions)
    skipped = " ".join(s.reason for s in result.plan.skips)
    assert "closed" in skipped and "docsgap-ignore" in skipped
    # The run summary groups skips on the text before a colon: it must still say why.
    summary = summarize(result, applied=False, remaining={}, stopped_early=None, exit_code=0)
    assert "topic is closed or archived" in summary["skips"]


def test_apply_then_rerun_does_nothing(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    first = run(cfg, forum, tracker)
    assert not first.failed
    after_first = writes(forum, tracker)
    assert after_first == Counter({"issues": 1, "notes": 1, "reply:101": 1, "reply:102": 1})
    second = run(cfg, forum, tracker)
    assert [o for o in second.outcomes if o.status == "applied"] == []
    assert writes(forum, tracker) == after_first


def test_replies_and_issues_carry_markers_and_no_mentions(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    run(cfg, forum, tracker)
    [issue] = tracker.created
    assert compose.find_markers(issue.description)
    for _, raw in forum.replies:
        assert compose.find_markers(raw)
        assert "@" not in raw.replace("@\u200b", "")


def test_review_policy_queues_instead_of_writing(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path, PolicyConfig())
    result = run(cfg, forum, tracker)
    assert writes(forum, tracker) == Counter({"issues": 0, "notes": 0})
    assert {o.status for o in result.outcomes} == {"pending_review", "failed"} or {
        o.status for o in result.outcomes} == {"pending_review"}


@pytest.mark.parametrize("mode", ["before", "crash_before", "after", "timeout_after"])
@pytest.mark.parametrize("nth", [1, 2, 3, 4])
def test_failure_at_any_write_then_rerun_has_no_duplicates(
    tmp_path: Path, mode: str, nth: int
) -> None:
    cfg, forum, tracker = make(tmp_path)
    faults = Faults(fail_write=nth, mode=mode)
    # One counter across both services: the Nth write overall fails.
    forum.faults = tracker.faults = faults
    try:
        run(cfg, forum, tracker)
    except Crash:
        pass
    forum.faults = tracker.faults = Faults()
    run(cfg, forum, tracker)
    run(cfg, forum, tracker)
    assert writes(forum, tracker) == Counter(
        {"issues": 1, "notes": 1, "reply:101": 1, "reply:102": 1}
    )


def test_lost_database_rebuilds_from_markers(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    run(cfg, forum, tracker)
    before = writes(forum, tracker)
    cfg.state_path.unlink()
    result = run(cfg, forum, tracker)
    assert writes(forum, tracker) == before
    assert not result.failed


def test_max_actions_caps_whole_groups(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    cfg = replace(cfg, max_actions=1)
    result = run(cfg, forum, tracker)
    assert len([o for o in result.outcomes if o.status == "applied"]) == 1
    assert any("cap" in s.reason for s in result.plan.skips)


def test_reply_about_a_closed_issue_owes_no_followup(tmp_path: Path) -> None:
    from docsgap.act.followup import FollowUps

    cfg, forum, tracker = make(tmp_path)
    [(key, item)] = list(tracker.items.items())
    tracker.items[key] = replace(item, state="closed")
    run(cfg, forum, tracker)
    [(topic, raw)] = [(t, r) for t, r in forum.replies if t == 102]
    assert "already closed" in raw
    store = StateStore(cfg.state_path)
    try:
        plan = FollowUps(forum, tracker, store, cfg).plan()
    finally:
        store.close()
    assert [a for a in plan.actions if 102 in a.thread_ids] == []


def test_user_templates_replace_the_shipped_ones(tmp_path: Path) -> None:
    from docsgap.paths import templates_dir

    mine = tmp_path / "templates"
    mine.mkdir()
    shipped = (templates_dir() / "reply.md").read_text(encoding="utf-8")
    (mine / "reply.md").write_text("Hello from the Support team.\n" + shipped, encoding="utf-8")
    assert compose.check_templates(mine) == []
    cfg, forum, tracker = make(tmp_path)
    run(replace(cfg, templates_dir=mine), forum, tracker)
    assert forum.replies
    for _, raw in forum.replies:
        assert raw.startswith("Hello from the Support team.")
        assert compose.find_markers(raw)
