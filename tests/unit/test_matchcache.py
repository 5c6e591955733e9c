"""Match results are reused while nothing they depend on changed: an unchanged rerun builds no
index and matches nothing; a changed issue or a changed signal is matched again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.dedupe.matcher import Matcher
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.loop import pipeline as pipeline_module
from docsgap.loop.pipeline import Pipeline
from docsgap.models import Evidence, Signal
from docsgap.state import StateStore
from tests.fakes import FakeForum, FakeTracker
from tests.unit.test_pipeline import make


class Counting(Matcher):
    matched: list[str] = []

    def match_many(self, signals):  # type: ignore[no-untyped-def]
        Counting.matched.extend(s.key for s in signals)
        return super().match_many(signals)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    Counting.matched = []
    monkeypatch.setattr(pipeline_module, "Matcher", Counting)
    return Counting.matched


def plan_once(cfg, forum: FakeForum, tracker: FakeTracker):  # type: ignore[no-untyped-def]
    store = StateStore(cfg.state_path)
    try:
        pipe = Pipeline(cfg, forum, tracker, store, Detector(load_rules()), notice=print)
        pipe.sync_tracker()
        pipe.scan()
        return pipe.plan()
    finally:
        store.close()


def test_an_unchanged_rerun_matches_nothing_and_plans_the_same(
        tmp_path: Path, counting: list[str]) -> None:
    cfg, forum, tracker = make(tmp_path)
    first = plan_once(cfg, forum, tracker)
    assert counting and set(counting) <= {s.key for s in first.signals}
    counting.clear()
    second = plan_once(cfg, forum, tracker)
    assert counting == []
    assert second.matches == first.matches and second.actions == first.actions


def test_a_changed_issue_matches_every_open_signal_again(
        tmp_path: Path, counting: list[str]) -> None:
    cfg, forum, tracker = make(tmp_path)
    first = plan_once(cfg, forum, tracker)
    matched = list(counting)
    counting.clear()
    [(key, item)] = list(tracker.items.items())
    tracker.items[key] = replace(item, state="closed", updated_at=tracker._tick())
    plan_once(cfg, forum, tracker)
    assert sorted(counting) == sorted(matched) and first.signals


def test_a_changed_signal_alone_is_matched_again(tmp_path: Path, counting: list[str]) -> None:
    cfg, forum, tracker = make(tmp_path)
    plan_once(cfg, forum, tracker)
    counting.clear()
    store = StateStore(cfg.state_path)
    try:
        signals = list(store.signals())
        changed: Signal = replace(signals[0], evidence=(
            *signals[0].evidence, Evidence("x", "Also the second example is wrong.", "wrong")))
        pipe = Pipeline(cfg, forum, tracker, store, Detector(load_rules()))
        pipe.match([changed, *signals[1:]])
    finally:
        store.close()
    assert counting == [changed.key]


def test_a_retrained_ranker_in_a_rules_dir_is_used_and_matched_again(
        tmp_path: Path, counting: list[str]) -> None:
    """`train dedup -o my-rules/ranker.json` with `rules_dirs = ["my-rules"]` is how a team uses
    its retrained weights (the shipped file is never overwritten unasked); the match results
    made with the old weights are not reused."""
    import json

    from docsgap.dedupe.ranker import RANKER_FILE

    cfg, forum, tracker = make(tmp_path)
    first = plan_once(cfg, forum, tracker)
    assert any(m.best is not None and m.best.score > 50 for _, m in first.matches)
    mine = tmp_path / "my-rules"
    mine.mkdir()
    weights = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    weights["bias"] = -50.0  # no candidate is anyone's original any more
    (mine / "ranker.json").write_text(json.dumps(weights), encoding="utf-8")
    counting.clear()
    second = plan_once(replace(cfg, rules_dirs=(mine,)), forum, tracker)
    assert sorted(counting) == sorted(k for k, _ in first.matches)  # matched again, not reused
    assert all(m.decision != "link" and (m.best is None or m.best.score < 1)
               for _, m in second.matches)
