"""What a set of labelled messages adds to the learned scorer, before anyone refits on it: the
same rows (train + dev + extra + the new set) scored out of fold, by models fitted with and
without the new messages, on the same site folds with the same settings. The paired
site-bootstrap interval of the F1 difference, per source, says whether the set helped beyond
noise. A bigger pool also changes what is measured, so comparing two models' out-of-fold
figures on different pools would not answer that. Needs the `train` extra (scikit-learn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from docsgap.detect import cv
from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import split_records
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
    dropped: int
    """New messages left out because their site has test-split messages."""
    table: dict[str, dict[str, dict[str, Any]]]
    """decision -> slice -> {"without", "with": summaries, "delta": F1 difference}."""

    def lines(self) -> list[str]:
        """The table as text, one line per decision and slice."""
        out = [f"{self.rows} messages scored out of fold, {self.new} of them new "
               f"({self.dropped} new ones from test sites left out)"]
        for decision, slices in self.table.items():
            for name, fig in slices.items():
                a, b, d = fig["without"], fig["with"], fig["delta"]
                out.append(
                    f"{decision:6} {name:12} {a['messages']:5} msgs {a['gaps']:4} gaps | "
                    f"without F1 {a['value']:.3f} P {a['precision']:.2f} R {a['recall']:.2f} | "
                    f"with F1 {b['value']:.3f} P {b['precision']:.2f} R {b['recall']:.2f} | "
                    f"difference {d['value']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
        return out


def data_effect(shared: Path, new: Path | Sequence[Path], *,
                extra: Path | Sequence[Path] = (), setting: Setting = CURRENT,
                folds: int = cv.FOLDS) -> Effect:
    """Score train + dev + extra + new out of fold twice (fitting with and without the new
    messages) and compare, per source and for the new rows alone."""
    test_sites = {r.site for r in split_records(shared, "test")}
    base = [*split_records(shared, "train"), *split_records(shared, "dev"),
            *read_extra(extra, test_sites)[0]]
    added, dropped = read_extra(new, test_sites)
    pool = Pool(Detector(load_rules(), None), [*base, *added])
    is_new = np.arange(len(pool.records)) >= len(base)
    fold_of = cv.site_folds(pool.sites, pool.sources, list(pool.gold), folds)
    fit, x = fitter(pool, setting), pool.matrix(setting)
    arms = {name: cv.out_of_fold(fit, x, pool.inputs, fold_of, pool.names, fit_on=keep)
            for name, keep in (("without", ~is_new), ("with", None))}
    slices = {"all": np.ones(len(is_new), dtype=bool), "forum": pool.forum,
              "tracker": ~pool.forum, "new rows": is_new, "other rows": ~is_new}
    boot = cv.SiteBootstrap(pool.sites)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for decision in DECISIONS:
        preds = {name: _verdicts(oof, pool, decision) for name, oof in arms.items()}
        table[decision] = {
            name: {"without": boot.summary(pool.gold, preds["without"], mask),
                   "with": boot.summary(pool.gold, preds["with"], mask),
                   "delta": boot.delta(pool.gold, preds["with"], preds["without"],
                                       mask).as_dict()}
            for name, mask in slices.items() if mask.any()}
    return Effect(len(pool.records), int(is_new.sum()), dropped, table)


def _verdicts(oof: cv.OutOfFold, pool: Pool, decision: str) -> Any:
    if decision == "fixed":
        return oof.predict(pool.rules_gap, *CURRENT_DECISION)
    choice = cv.choose(oof, pool.gold, pool.rules_gap, PRECISION_FLOOR)
    return oof.predict(pool.rules_gap, choice.threshold, choice.combine)
