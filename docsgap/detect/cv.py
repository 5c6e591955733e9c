"""Cross-validation grouped by site for the learned scorer: the folds, each setting's
out-of-fold verdicts, the threshold chosen on them, and site-bootstrap intervals.

A site's messages are always in one fold, so a setting is judged on sites it was not fitted on
(as the held-out sets are). Deterministic: folds are a greedy balance in a fixed order, the
solver has no randomness, the bootstrap is seeded. Needs numpy, scipy and scikit-learn (the
`train` extra).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from docsgap.detect.evalreport import Interval
from docsgap.detect.model import COMBINES, Model, ModelInputs

FOLDS = 5
RESAMPLES = 1000
SEED = 0
THRESHOLDS = tuple(round(0.1 + 0.02 * n, 2) for n in range(43))
"""0.10 to 0.94."""

Mask = npt.NDArray[np.bool_]
Fit = Callable[[Sequence[int]], Model]
"""Fits a model (threshold 0) on the given rows."""


def site_folds(sites: Sequence[str], sources: Sequence[str], gaps: Sequence[bool],
               k: int = FOLDS) -> npt.NDArray[np.int64]:
    """The fold of each row: whole sites, largest first, each to the fold that holds the
    fewest docs gaps (then messages) of the site's main source, so forum gaps (a few big
    sites) spread over the folds."""
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # forum msgs, gaps, msgs
    for site, source, gap in zip(sites, sources, gaps, strict=True):
        s = stats[site]
        s[0] += source == "forum"
        s[1] += gap
        s[2] += 1
    load = {src: [[0, 0] for _ in range(k)] for src in ("forum", "tracker")}
    fold_of: dict[str, int] = {}
    for site in sorted(stats, key=lambda s: (-stats[s][0], -stats[s][1], -stats[s][2], s)):
        forum_msgs, n_gaps, msgs = stats[site]
        cells = load["forum" if forum_msgs * 2 >= msgs else "tracker"]
        fold = min(range(k), key=lambda f: (cells[f][0], cells[f][1], f))
        cells[fold][0] += n_gaps
        cells[fold][1] += msgs
        fold_of[site] = fold
    return np.array([fold_of[s] for s in sites], dtype=np.int64)


@dataclass
class OutOfFold:
    """Each row's probability from the fold that did not see it, and whether a canceller
    vetoes the model's evidence sentence there."""

    prob: npt.NDArray[np.float64]
    vetoed: Mask

    def predict(self, rules_gap: Mask, threshold: float | Mask, combine: str) -> Mask:
        """The detector's verdicts at a threshold (one, or one per row)."""
        found = (self.prob >= threshold) & ~self.vetoed
        return found | (rules_gap if combine == "or" else np.zeros_like(found))


def out_of_fold(fit: Fit, x: Any, inputs: Sequence[ModelInputs], folds: npt.NDArray[np.int64],
                names: Sequence[str], floor: float = THRESHOLDS[0],
                fit_on: Mask | None = None) -> OutOfFold:
    """Fit on all folds but one, score the one left out, for each fold. `x` is the rows'
    feature matrix over `names` (the same values the model computes); the veto is looked up
    (through the model's own evidence sentence) only where it can matter. `fit_on` limits the
    rows models are fitted on (every row is still scored)."""
    prob = np.zeros(len(inputs))
    vetoed = np.zeros(len(inputs), dtype=bool)
    usable = np.ones(len(inputs), dtype=bool) if fit_on is None else fit_on
    for fold in range(int(folds.max()) + 1):
        held = np.flatnonzero(folds == fold)
        model = fit(np.flatnonzero((folds != fold) & usable).tolist())
        w = np.array([model.weights.get(n, 0.0) for n in names])
        prob[held] = 1.0 / (1.0 + np.exp(-(model.bias + x[held] @ w)))
        for i in held.tolist():
            if prob[i] >= floor:
                vetoed[i] = inputs[i].vetoed(model)
    return OutOfFold(prob, vetoed)


def f1_precision(gold: Mask, pred: Mask) -> tuple[float, float]:
    """(F1, precision) of binary verdicts."""
    tp = int((gold & pred).sum())
    wrong = int((gold ^ pred).sum())
    flagged = int(pred.sum())
    return (2 * tp / (2 * tp + wrong) if tp else 0.0), (tp / flagged if flagged else 0.0)


@dataclass(frozen=True, slots=True)
class Choice:
    """A threshold and a way to combine with the rules, and what they score out of fold."""

    threshold: float
    combine: str
    f1: float
    precision: float


def choose(oof: OutOfFold, gold: Mask, rules_gap: Mask, precision_floor: float,
           within: Mask | None = None) -> Choice:
    """The threshold and combine with the best out-of-fold F1 among those whose precision
    meets the floor (else the best F1), on the rows in `within` (default all)."""
    keep = np.ones(len(gold), dtype=bool) if within is None else within
    best: tuple[tuple[bool, float], Choice] | None = None
    for combine in COMBINES:
        for threshold in THRESHOLDS:
            pred = oof.predict(rules_gap, threshold, combine)
            f1, precision = f1_precision(gold[keep], pred[keep])
            key = (precision >= precision_floor, f1)
            if best is None or key > best[0]:
                best = (key, Choice(threshold, combine, f1, precision))
    assert best is not None
    return best[1]


class SiteBootstrap:
    """Resamples whole sites with replacement (seeded): messages from one site are not
    independent, so intervals resample the unit the folds keep apart."""

    def __init__(self, sites: Sequence[str], resamples: int = RESAMPLES, seed: int = SEED
                 ) -> None:
        keys = sorted(set(sites))
        index = {s: n for n, s in enumerate(keys)}
        self.site = np.array([index[s] for s in sites], dtype=np.int64)
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(keys), size=(resamples, len(keys)))
        self.times = np.stack([np.bincount(d, minlength=len(keys)) for d in draws])
        """resample -> site -> how many times it was drawn."""

    def _counts(self, gold: Mask, pred: Mask, keep: Mask) -> tuple[Any, Any, Any]:
        n = self.times.shape[1]
        per = [np.bincount(self.site[m & keep], minlength=n)
               for m in (gold & pred, ~gold & pred, gold & ~pred)]
        return tuple(self.times @ p for p in per)  # type: ignore[return-value]

    def f1(self, gold: Mask, pred: Mask, within: Mask | None = None) -> Interval:
        """F1 with its 95% interval."""
        keep = np.ones(len(gold), dtype=bool) if within is None else within
        tp, fp, fn = self._counts(gold, pred, keep)
        samples = _f1s(tp, fp, fn)
        low, high = np.percentile(samples, [2.5, 97.5])
        return Interval(f1_precision(gold[keep], pred[keep])[0], float(low), float(high))

    def summary(self, gold: Mask, pred: Mask, within: Mask | None = None) -> dict[str, Any]:
        """F1 with its interval, precision, recall and counts (JSON-ready)."""
        keep = np.ones(len(gold), dtype=bool) if within is None else within
        tp = int((gold & pred & keep).sum())
        flagged, gaps = int((pred & keep).sum()), int((gold & keep).sum())
        return {**self.f1(gold, pred, keep).as_dict(), "messages": int(keep.sum()),
                "gaps": gaps, "precision": round(tp / flagged, 4) if flagged else 0.0,
                "recall": round(tp / gaps, 4) if gaps else 0.0}

    def delta(self, gold: Mask, new: Mask, old: Mask, within: Mask | None = None,
              metric: str = "f1") -> Interval:
        """F1 (or `precision`) of new minus old on the same resamples, with its 95% interval
        (paired)."""
        keep = np.ones(len(gold), dtype=bool) if within is None else within
        score = _f1s if metric == "f1" else _precisions
        diff = score(*self._counts(gold, new, keep)) - score(*self._counts(gold, old, keep))
        low, high = np.percentile(diff, [2.5, 97.5])
        at = 0 if metric == "f1" else 1
        value = (f1_precision(gold[keep], new[keep])[at]
                 - f1_precision(gold[keep], old[keep])[at])
        return Interval(value, float(low), float(high))


def _f1s(tp: Any, fp: Any, fn: Any) -> npt.NDArray[np.float64]:
    den = 2 * tp + fp + fn
    out: npt.NDArray[np.float64] = np.divide(2 * tp, den, out=np.zeros(len(tp)), where=den > 0)
    return out


def _precisions(tp: Any, fp: Any, _fn: Any) -> npt.NDArray[np.float64]:
    den = tp + fp
    out: npt.NDArray[np.float64] = np.divide(tp, den, out=np.zeros(len(tp)), where=den > 0)
    return out
