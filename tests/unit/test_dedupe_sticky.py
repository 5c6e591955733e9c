"""A report put in review stays in review between runs while its evidence only dips: the next
run would otherwise open an issue for it while the earlier match still waits for a person."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.dedupe.matcher import Matcher
from docsgap.dedupe.sticky import HOLD, hold_reviews
from docsgap.loop import pipeline as pipeline_module
from docsgap.loop.matchcache import MatchCache
from docsgap.models import ActionKind, Candidate, MatchResult, Signal
from docsgap.state import StateStore
from tests.unit.test_matchcache import plan_once
from tests.unit.test_pipeline import make

URL = "https://gitlab.example/docs/-/issues/7"


def cand(score: float, url: str = URL, *, recent: float = 0.0) -> Candidate:
    fields = (("bias", -4.0), ("words", 3.0), *((("recent", recent),) if recent else ()))
    return Candidate(url, "Masked variables", "opened", score, fields)


def result(decision: str, *cands: Candidate) -> MatchResult:
    return MatchResult(decision, cands[0] if cands else None, cands, decision)  # type: ignore[arg-type]


def test_a_dip_below_the_review_threshold_keeps_the_review() -> None:
    before = {"s": result("review", cand(14.0))}
    held = hold_reviews(before, {"s": result("new", cand(8.0))}, review_threshold=10)
    assert held["s"].decision == "review" and held["s"].best == cand(8.0)
    assert "held" in held["s"].reason


def test_a_review_lets_go_when_the_evidence_really_falls_or_the_item_goes() -> None:
    before = {"s": result("review", cand(14.0))}
    low = HOLD * 10 - 0.5
    assert hold_reviews(before, {"s": result("new", cand(low))},
                        review_threshold=10)["s"].decision == "new"
    other = cand(8.0, "https://gitlab.example/docs/-/issues/9")
    assert hold_reviews(before, {"s": result("new", other)},
                        review_threshold=10)["s"].decision == "new"
    # Only the text counts: 8% made of priors' lift is no evidence.
    assert hold_reviews(before, {"s": result("new", cand(8.0, recent=3.0))},
                        review_threshold=10)["s"].decision == "new"


def test_only_reviews_are_held_and_other_decisions_pass() -> None:
    fresh = {"a": result("new", cand(8.0)), "b": result("link", cand(90.0)),
             "c": result("new", cand(8.0))}
    before = {"a": result("new", cand(14.0)), "b": result("review", cand(14.0))}
    assert hold_reviews(before, fresh, review_threshold=10) == fresh


class Dipping(Matcher):
    """The first run puts every signal in review with the cached issue; later runs find the
    same issue a little below the review threshold."""

    runs: list[int] = []

    def match_many(self, signals: object) -> list[MatchResult]:
        Dipping.runs.append(1)
        score = 30.0 if len(Dipping.runs) == 1 else 6.0
        out = []
        for r in super().match_many(signals):  # type: ignore[arg-type]
            best = r.best
            if best is None:
                out.append(r)
                continue
            c = replace(best, score=score, fields=(("bias", -4.0), ("words", 3.0)))
            out.append(MatchResult("review" if score >= 10 else "new", c, (c,), "test"))
        return out


def test_a_rerun_after_the_evidence_dipped_still_plans_the_review(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Dipping.runs = []
    monkeypatch.setattr(pipeline_module, "Matcher", Dipping)
    cfg, forum, tracker = make(tmp_path)
    cfg = replace(cfg, dedup=replace(cfg.dedup, review_threshold=10.0))
    first = plan_once(cfg, forum, tracker)
    reviewed = {k for k, m in first.matches if m.decision == "review"}
    assert reviewed
    [(key, item)] = list(tracker.items.items())  # a changed issue: everything is matched again
    tracker.items[key] = replace(item, updated_at=tracker._tick())
    second = plan_once(cfg, forum, tracker)
    assert len(Dipping.runs) == 2
    again = dict(second.matches)
    assert all(again[k].decision == "review" and "held" in again[k].reason for k in reviewed)
    links = [a for a in second.actions if a.kind is ActionKind.LINK_EXISTING]
    assert links and not any(a.kind is ActionKind.OPEN_ISSUE and set(a.signal_keys) & reviewed
                             for a in second.actions)


def test_a_changed_report_is_matched_afresh(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    Dipping.runs = []
    monkeypatch.setattr(pipeline_module, "Matcher", Dipping)
    cfg, forum, tracker = make(tmp_path)
    cfg = replace(cfg, dedup=replace(cfg.dedup, review_threshold=10.0))
    first = plan_once(cfg, forum, tracker)
    reviewed = [k for k, m in first.matches if m.decision == "review"]
    assert reviewed
    store = StateStore(cfg.state_path)
    try:
        signals: list[Signal] = [s for s in store.signals() if s.key in reviewed]
        changed = replace(signals[0], thread_title=signals[0].thread_title + " (edited)")
        assert MatchCache(store).previous([changed]) == {}
        assert set(MatchCache(store).previous(signals)) == set(reviewed)
    finally:
        store.close()
