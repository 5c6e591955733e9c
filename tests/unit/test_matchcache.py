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
