"""What new labelled messages add (`train detect-effect`): both sides score the same rows, only
one fits on the new ones; `train detect` takes several extra files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from docsgap.detect import cv
from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import Record, split_records
from docsgap.detect.model import Model
from docsgap.detect.rules import load_rules

GAPS = ["The tutorial is wrong about the port.", "The guide is missing the proxy step.",
        "The example in the docs fails as written.", "The readme link is dead."]
OTHER = ["The app crashes when I click save.", "Thanks, that fixed it.",
         "How do I change the port?", "Upgrade failed with an error."]


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _shared(tmp_path: Path) -> Path:
    rows: list[dict[str, object]] = []
    for n in range(80):
        gap = n % 2 == 0
        rows.append({"id": f"t{n}", "source_url": f"https://github.com/o{n % 40}/r/issues/{n}",
                     "kind": "issue", "title": "", "text": (GAPS if gap else OTHER)[n // 2 % 4],
                     "label": "docs_gap" if gap else "not_docs_gap",
                     "gap_type": "incorrect" if gap else None})
    _write(tmp_path / "shared" / "corpus" / "detect-train-tracker.jsonl", rows)
    return tmp_path / "shared"


def _forum(path: Path, sites: int, prefix: str) -> Path:
    """Forum posts whose gaps use words the tracker rows never do (and no rule catches)."""
    rows: list[dict[str, object]] = []
    for s in range(sites):
        for n, (text, gap) in enumerate([
                ("Zorblax handbook chapter four shows the old wiring.", True),
                ("Zorblax handbook pictures show a board revision nobody ships.", True),
                ("My quadcopter flips over on takeoff.", False),
                ("Battery drains overnight, any ideas?", False)]):
            rows.append({"id": f"{prefix}{s}-{n}", "kind": "forum", "title": "",
                         "source_url": f"https://forum.{prefix}{s}.example/t/x/{n}/1",
                         "text": text, "label": "docs_gap" if gap else "not_docs_gap",
                         "gap_type": "missing" if gap else None})
    return _write(path, rows)


def test_models_fit_only_where_allowed_but_score_every_row() -> None:
    records = [Record(f"r{n}", "", GAPS[n % 4] if n % 2 else OTHER[n % 4], "issue",
                      bool(n % 2), None, f"https://github.com/o{n}/r/issues/1")
               for n in range(12)]
    inputs = [Detector(load_rules(), None).model_inputs("", r.text) for r in records]
    folds = np.array([n % 3 for n in range(12)], dtype=np.int64)
    allowed = np.array([n < 8 for n in range(12)])
    seen: list[list[int]] = []

    def fit(rows: list[int]) -> Model:
        seen.append(list(rows))
        return Model({}, 0.0, 0.0)

    oof = cv.out_of_fold(fit, np.zeros((12, 1)), inputs, folds, ["w:x"], fit_on=allowed)
    assert len(seen) == 3 and not any(r >= 8 for rows in seen for r in rows)
    assert all(folds[r] != f for f, rows in enumerate(seen) for r in rows)
    assert np.allclose(oof.prob, 0.5)  # every row, new ones too, gets a score


def test_effect_compares_the_same_rows_with_and_without_the_new_messages(
        tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from docsgap.detect.effect import data_effect

    shared = _shared(tmp_path)
    new = _forum(tmp_path / "new.jsonl", 3, "new")
    effect = data_effect(shared, new, folds=3)
    base = len(split_records(shared, "train")) + len(split_records(shared, "dev"))
    assert (effect.rows, effect.new, effect.dropped) == (base + 12, 12, 0)
    fixed = effect.table["fixed"]
    assert fixed["new rows"]["without"]["messages"] == fixed["new rows"]["with"]["messages"] == 12
    # Fitted on two other forums' handbook complaints, the third's are found; without, not all.
    assert fixed["new rows"]["with"]["recall"] > fixed["new rows"]["without"]["recall"]
    assert fixed["forum"]["delta"]["value"] > 0
    assert set(effect.table) == {"fixed", "chosen"}
    assert "difference" in effect.lines()[1]
    again = data_effect(shared, new, folds=3)
    assert again.table == effect.table  # deterministic


def test_training_takes_several_extra_files(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from docsgap.detect.pool import Setting
    from docsgap.detect.train import CURRENT_DECISION, train

    shared = _shared(tmp_path)
    first = _forum(tmp_path / "a.jsonl", 1, "a")
    second = _forum(tmp_path / "b.jsonl", 2, "b")
    model = train(shared, extra=[first, second], grid=[Setting(2.0, 1.0, True, "plain")],
                  folds=3).model
    card = model.card
    # One setting: its own chosen threshold ships only if it beats the current one beyond noise.
    assert (card["cv"]["delta"]["low"] > 0) == (card["cv"]["shipped"] == "best")
    if card["cv"]["shipped"] == "current":
        assert (model.threshold, model.combine) == CURRENT_DECISION
    assert card["data"]["extra"]["forum"] == {"messages": 12, "gaps": 6, "sites": 3}
    assert card["data"]["extra"]["file"] == "a.jsonl, b.jsonl"


def test_precision_difference_is_paired_over_the_same_site_resamples() -> None:
    gold = np.array([True, True, False, False, True, False])
    old = np.array([True, True, True, True, True, False])  # precision 3/5
    new = np.array([True, True, False, False, True, False])  # precision 1
    boot = cv.SiteBootstrap(["a", "a", "b", "b", "c", "c"], resamples=200)
    d = boot.delta(gold, new, old, metric="precision")
    assert d.value == pytest.approx(0.4)
    assert 0 <= d.low <= d.value <= d.high <= 1
    assert boot.delta(gold, new, new, metric="precision").as_dict()["high"] == 0


WORDS = [("plimb", "garvo", "snerk", "twoft"), ("bujix", "kelm", "vradn", "opsh"),
         ("wuzzy", "rhomb", "flaig", "cetch")]
"""Nonsense words that share no character 3-gram across sites."""
RULE = """rules:
  - id: missing.zorblax-test
    gap_type: missing
    description: A handbook complaint only this test knows.
    weight: 1.0
    patterns: ['\\bqq\\d+x\\b']
    examples:
      match: ["The qq7x chapter shows it."]
"""


def test_rules_effect_refits_each_rule_set_on_the_same_rows_and_folds(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from docsgap.detect.effect import rules_effect

    shared = _shared(tmp_path)
    # Each site's gaps name a word no other site uses: only a rule can carry them across.
    forum = _write(tmp_path / "forum.jsonl", [
        {"id": f"f{s}-{n}", "kind": "forum", "title": "", "text": text,
         "source_url": f"https://forum.f{s}.example/t/x/{n}/1",
         "label": "docs_gap" if gap else "not_docs_gap", "gap_type": "missing" if gap else None}
        for s in range(3) for n, (text, gap) in enumerate([
            (f"qq{s}x {WORDS[s][0]}.", True), (f"qq{s}x {WORDS[s][1]}!", True),
            (f"{WORDS[s][2]}.", False), (f"{WORDS[s][3]}?", False)])])
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "zorblax.yml").write_text(RULE, encoding="utf-8")
    # the same file twice: a message counts once
    effect = rules_effect(shared, [variant], extra=[forum, forum], folds=3)
    base = len(split_records(shared, "train")) + len(split_records(shared, "dev"))
    assert (effect.rows, effect.new) == (base + 12, 6)  # 6 forum gaps carry the new rule
    fixed = effect.table["fixed"]
    assert fixed["changed rows"]["base"]["messages"] == 6
    assert fixed["forum"]["variant"]["recall"] == 1.0 > fixed["forum"]["base"]["recall"]
    assert fixed["forum"]["delta"]["value"] > 0
    assert fixed["forum"]["delta_precision"]["value"] >= 0
    assert effect.arms == ("base", "variant") and effect.choices is not None
    assert "variant F1" in effect.lines()[2]
    same = rules_effect(shared, [], extra=forum, folds=3)
    assert same.new == 0
    assert all(s["delta"]["value"] == 0 for d in same.table.values() for s in d.values())
