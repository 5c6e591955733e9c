"""Report detection figures with 95% bootstrap intervals: overall, per source (forum, tracker)
and per gap type, docsgap beside the baseline; then the confusion and the errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from docsgap.detect.evaluate import NONE, EvalResult, Scores
from docsgap.models import GapType

RESAMPLES = 1000
SEED = 0
SOURCES = ("forum", "tracker")

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Interval:
    """A figure and its 95% percentile bootstrap interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.2f} [{self.low:.2f}-{self.high:.2f}]"

    def as_dict(self) -> dict[str, float]:
        """Rounded figures."""
        return {"value": round(self.value, 4), "low": round(self.low, 4),
                "high": round(self.high, 4)}


@dataclass(frozen=True, slots=True)
class Figures:
    """Precision, recall and F1 of one slice, each with its interval."""

    n: int
    positives: int
    scores: Scores
    precision: Interval
    recall: Interval
    f1: Interval

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"records": self.n, "positives": self.positives, **self.scores.as_dict(),
                "precision_ci": self.precision.as_dict(), "recall_ci": self.recall.as_dict(),
                "f1_ci": self.f1.as_dict()}


def _ratio(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return np.divide(a, b, out=np.zeros(a.shape, dtype=np.float64), where=b > 0)


class Bootstrap:
    """Resamples the records with replacement (seeded) and measures each slice on every
    resample; the interval is the 2.5th and 97.5th percentile."""

    def __init__(self, n: int, resamples: int = RESAMPLES, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.idx = rng.integers(0, n, size=(resamples, n)) if n else None

    def figures(self, gold: Mask, pred: Mask, within: Mask | None = None) -> Figures:
        """P/R/F1 of predicting `gold` by `pred`, on the records in `within` (default all)."""
        keep = np.ones(len(gold), dtype=bool) if within is None else within
        tp_m, fp_m, fn_m = gold & pred & keep, ~gold & pred & keep, gold & ~pred & keep
        scores = Scores(int(tp_m.sum()), int(fp_m.sum()), int(fn_m.sum()))
        if self.idx is None:
            zero = Interval(0.0, 0.0, 0.0)
            return Figures(0, 0, scores, zero, zero, zero)
        tp, fp, fn = (m[self.idx].sum(axis=1) for m in (tp_m, fp_m, fn_m))
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f = _ratio(2 * tp, 2 * tp + fp + fn)

        def interval(value: float, samples: npt.NDArray[np.float64]) -> Interval:
            low, high = np.percentile(samples, [2.5, 97.5])
            return Interval(value, float(low), float(high))

        return Figures(int(keep.sum()), int((gold & keep).sum()), scores,
                       interval(scores.precision, p), interval(scores.recall, r),
                       interval(scores.f1, f))


def _mask(values: Sequence[bool]) -> Mask:
    return np.array(values, dtype=bool).reshape(len(values))


def slices(result: EvalResult) -> dict[str, Figures]:
    """Figures with intervals: `overall`, each source present, and each gap type (a type
    counts only when both the verdict and the type are right)."""
    out = result.outcomes
    boot = Bootstrap(len(out))
    gold, pred = _mask([o.gold for o in out]), _mask([o.pred for o in out])
    found = {"overall": boot.figures(gold, pred)}
    for source in SOURCES:
        within = _mask([o.source == source for o in out])
        if within.any():
            found[source] = boot.figures(gold, pred, within)
    for gap in (t.value for t in GapType):
        g = _mask([o.gold_type == gap for o in out])
        p = _mask([o.pred_type == gap for o in out])
        found[gap] = boot.figures(g, p)
    return found


def render_text(main: EvalResult, baseline: EvalResult, *, errors: int = 30) -> str:
    """The human report: figures with intervals side by side, confusion, then up to `errors`
    false positives and negatives with their evidence."""
    ours, base = slices(main), slices(baseline)
    n = len(main.outcomes)
    counts = ", ".join(f"{s} {ours[s].n}" for s in SOURCES if s in ours)
    out = [
        f"{n} records ({counts}); 95% intervals from {RESAMPLES} bootstrap resamples "
        f"(seed {SEED})",
        f"{'':<12} {'n':>5} {'gaps':>5}   {main.name + ' P':<17} {'R':<17} {'F1':<17}"
        f"   {baseline.name} P    R     F1",
    ]
    for name, fig in ours.items():
        b = base[name]
        # Precision of a slice nothing was predicted in is undefined, not 0.
        ours_p = str(fig.precision) if fig.scores.tp + fig.scores.fp else "- (none predicted)"
        base_p = f"{b.scores.precision:8.2f}" if b.scores.tp + b.scores.fp else f"{'-':>8}"
        out.append(
            f"{name:<12} {fig.n:>5} {fig.positives:>5}   {ours_p:<17} "
            f"{fig.recall!s:<17} {fig.f1!s:<17}   {base_p} "
            f"{b.scores.recall:5.2f} {b.scores.f1:5.2f}"
        )
    out.append(f"type accuracy on true positives: {main.type_accuracy:.2f} "
               f"(baseline {baseline.type_accuracy:.2f})")
    names = [t.value for t in GapType] + [NONE]
    out += ["", f"gap-type confusion ({main.name}; rows gold, columns predicted)",
            f"{'':<12} " + " ".join(f"{n[:11]:>11}" for n in names)]
    for gold in names:
        row = main.confusion.get(gold, {})
        out.append(f"{gold:<12} " + " ".join(f"{row.get(n, 0):>11}" for n in names))
    for title, items in (("false positives", main.false_positives),
                         ("false negatives", main.false_negatives)):
        shown = f", first {errors}" if len(items) > errors else ""
        out += ["", f"{title} ({len(items)}{shown})"]
        for record, pred in items[:errors]:
            gold = record.gap_type.value if record.gap_type else "-"
            out.append(f"- {record.id} gold={gold} predicted={pred.gap_type or '-'} "
                       f"score={pred.score:g}: {record.title[:70]!r}")
            out += [f"    [{e.rule_id}] {e.text[:160]}" for e in pred.evidence[:4]]
    return "\n".join(out)


def to_json(main: EvalResult, baseline: EvalResult) -> dict[str, Any]:
    """Machine-readable figures for `--json`, intervals included."""
    return {
        "records": len(main.outcomes),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED, "level": 0.95},
        main.name: {**main.as_dict(), "intervals": {k: v.as_dict()
                                                    for k, v in slices(main).items()}},
        baseline.name: {**baseline.as_dict(), "intervals": {k: v.as_dict()
                                                            for k, v in slices(baseline).items()}},
    }
