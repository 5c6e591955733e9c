"""What a change adds to the learned scorer before anyone ships it, measured on the same rows
(train + dev + extra, never the test split) scored out of fold on the same site folds:

- `data_effect`: a set of labelled messages, by models fitted with and without it;
- `rules_effect`: a rules variant, by models fitted (per fold) on each rule set's features
  (rule hits and vetoes are model features, and `or` adds the rules' own verdict).

The paired site-bootstrap intervals of the F1 (and precision) difference, per source, say
whether the change helped beyond noise. A bigger pool also changes what is measured, so
comparing two models' out-of-fold figures on different pools would not answer that. Needs the
`train` extra (scikit-learn).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docsgap.detect import cv
from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import Record, split_records
from docsgap.detect.pool import Pool, Setting
from docsgap.detect.rules import load_rules
from docsgap.detect.train import (
    CURRENT,
    CURRENT_DECISION,
    PRECISION_FLOOR,
    fitter,
    read_extra,
)

DECISIONS = ("fixed", "chosen")
"""`fixed`: the shipped decision (threshold and combine) for both arms; `chosen`: each arm's
own threshold, chosen out of fold under the precision floor (as training would)."""


@dataclass(frozen=True, slots=True)
class Effect:
    """Figures of both arms and their paired difference, per decision and slice."""

    rows: int
    new: int
    """Data: the new messages; rules: the rows whose rule features differ between the arms."""
    dropped: int
    """New messages left out because their site has test-split messages."""
    table: dict[str, dict[str, dict[str, Any]]]
    """decision -> slice -> {arm: summary for both arms, "delta": F1 difference,
    "delta_precision": precision difference}."""
    arms: tuple[str, str] = ("without", "with")
    choices: dict[str, str] | None = None
    """Each arm's chosen threshold and combine (the `chosen` decision)."""

    def lines(self) -> list[str]:
        """The table as text, one line per decision and slice."""
        old, new = self.arms
        out = [f"{self.rows} messages scored out of fold, {self.new} of them "
               f"{'new' if self.arms == ('without', 'with') else 'with different rule features'}"
               f" ({self.dropped} new ones from test sites left out)"]
        if self.choices:
            out.append("chosen thresholds: " + ", ".join(f"{k} {v}"
                                                        for k, v in self.choices.items()))
        for decision, slices in self.table.items():
            for name, fig in slices.items():
                a, b, d = fig[old], fig[new], fig["delta"]
                p = fig["delta_precision"]
                out.append(
                    f"{decision:6} {name:12} {a['messages']:5} msgs {a['gaps']:4} gaps | "
                    f"{old} F1 {a['value']:.3f} P {a['precision']:.2f} R {a['recall']:.2f} | "
                    f"{new} F1 {b['value']:.3f} P {b['precision']:.2f} R {b['recall']:.2f} | "
                    f"difference {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] "
                    f"P {p['value']:+.3f} [{p['low']:+.3f}, {p['high']:+.3f}]")
        return out


def _base(shared: Path, extra: Path | Sequence[Path]) -> tuple[list[Record], set[str], int]:
    test_sites = {r.site for r in split_records(shared, "test")}
    kept, dropped = read_extra(extra, test_sites)
    unique = list({r.id: r for r in kept}.values())  # the same message in two files
    return ([*split_records(shared, "train"), *split_records(shared, "dev"), *unique],
            test_sites, dropped)


def data_effect(shared: Path, new: Path | Sequence[Path], *,
                extra: Path | Sequence[Path] = (), setting: Setting = CURRENT,
                folds: int = cv.FOLDS) -> Effect:
    """Score train + dev + extra + new out of fold twice (fitting with and without the new
    messages) and compare, per source and for the new rows alone."""
    base, test_sites, _ = _base(shared, extra)
    added, dropped = read_extra(new, test_sites)
    pool = Pool(Detector(load_rules(), None), [*base, *added])
    is_new = np.arange(len(pool.records)) >= len(base)
    fold_of = cv.site_folds(pool.sites, pool.sources, list(pool.gold), folds)
    fit, x = fitter(pool, setting), pool.matrix(setting)
    arms = {name: (cv.out_of_fold(fit, x, pool.inputs, fold_of, pool.names, fit_on=keep),
                   pool.rules_gap)
            for name, keep in (("without", ~is_new), ("with", None))}
    slices = {"all": np.ones(len(is_new), dtype=bool), "forum": pool.forum,
              "tracker": ~pool.forum, "new rows": is_new, "other rows": ~is_new}
    table, _ = _compare(pool, arms, slices)
    return Effect(len(pool.records), int(is_new.sum()), dropped, table)


def rules_effect(shared: Path, variant: Sequence[Path], *, base: Sequence[Path] = (),
                 extra: Path | Sequence[Path] = (), setting: Setting = CURRENT,
                 folds: int = cv.FOLDS) -> Effect:
    """Score train + dev + extra out of fold twice, the model refitted per fold on the
    features of the `base` rules dirs and of the `variant` ones (each over the shipped
    rules, as `--rules`), on the same site folds; compare per source and on the rows whose
    rule features differ."""
    records, _, dropped = _base(shared, extra)
    pools = {"base": Pool(Detector(load_rules(base), None), records),
             "variant": Pool(Detector(load_rules(variant), None), records)}
    first = pools["base"]
    fold_of = cv.site_folds(first.sites, first.sources, list(first.gold), folds)
    arms = {}
    for name, pool in pools.items():
        oof = cv.out_of_fold(fitter(pool, setting), pool.matrix(setting), pool.inputs,
                             fold_of, pool.names)
        arms[name] = (oof, pool.rules_gap)
    changed = np.array([_rule_view(a) != _rule_view(b) for a, b in
                        zip(first.inputs, pools["variant"].inputs, strict=True)])
    slices = {"all": np.ones(len(records), dtype=bool), "forum": first.forum,
              "tracker": ~first.forum, "changed rows": changed}
    table, choices = _compare(first, arms, slices)
    return Effect(len(records), int(changed.sum()), dropped, table, ("base", "variant"),
                  choices)


def _rule_view(inputs: Any) -> tuple[Any, ...]:
    return inputs.rules, inputs.vetoes, inputs.rules_gap


def _compare(pool: Pool, arms: Mapping[str, tuple[cv.OutOfFold, Any]],
             slices: Mapping[str, Any]) -> tuple[dict[str, dict[str, dict[str, Any]]],
                                                 dict[str, str]]:
    """Both arms' verdicts per decision, summarised per slice with paired differences."""
    boot = cv.SiteBootstrap(pool.sites)
    (old, (old_oof, old_gap)), (new, (new_oof, new_gap)) = arms.items()
    table: dict[str, dict[str, dict[str, Any]]] = {}
    choices: dict[str, str] = {}
    for decision in DECISIONS:
        a = _verdicts(old_oof, pool.gold, old_gap, decision)
        b = _verdicts(new_oof, pool.gold, new_gap, decision)
        if decision == "chosen":
            choices = {old: a[1], new: b[1]}
        table[decision] = {
            name: {old: boot.summary(pool.gold, a[0], mask),
                   new: boot.summary(pool.gold, b[0], mask),
                   "delta": boot.delta(pool.gold, b[0], a[0], mask).as_dict(),
                   "delta_precision": boot.delta(pool.gold, b[0], a[0], mask,
                                                 metric="precision").as_dict()}
            for name, mask in slices.items() if mask.any()}
    return table, choices


def _verdicts(oof: cv.OutOfFold, gold: Any, rules_gap: Any, decision: str) -> tuple[Any, str]:
    if decision == "fixed":
        return oof.predict(rules_gap, *CURRENT_DECISION), "{} {}".format(*CURRENT_DECISION)
    choice = cv.choose(oof, gold, rules_gap, PRECISION_FLOOR)
    return (oof.predict(rules_gap, choice.threshold, choice.combine),
            f"{choice.threshold} {choice.combine}")
