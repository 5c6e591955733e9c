"""Fitting the answerability gate (`docsgap.docs.gate`) on labelled questions, deterministically:
an L2-regularised logistic regression solved by Newton's method (no random start, no sampling),
its strength and the default threshold chosen by leave-one-project-out cross-validation, so a
project's questions are never scored by a model that saw them.

The threshold is the lowest cross-validated probability (floored to 0.01) at which precision@1
reaches the target (0.80) on at least `MIN_ANSWERED` answers, so as many questions as possible are
answered at that precision; when no threshold reaches it, the one with the best precision (and
`meta["met"]` is false: the data do not support the target). `meta["informative"]` says whether
the model beats the base rate out of project at all (cross-validated log loss below that of
predicting each held-out project's questions with the other projects' share of right pages)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from docsgap.docs.gate import AnswerGate, rounded
from docsgap.docs.gatefeatures import FEATURES

L2_GRID = (0.3, 1.0, 3.0, 10.0)
"""Penalties tried (on standardised features; the bias is not penalised)."""
TARGET = 0.80
MIN_ANSWERED = 3

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question as the gate sees it."""

    id: str
    group: str
    """Its project: cross-validation holds out one project at a time."""
    values: dict[str, float]
    right: bool
    """Whether the ranker's best page is the gold page."""


def _matrix(examples: Sequence[Example]) -> tuple[Matrix, Matrix]:
    x = np.asarray([[e.values.get(f, 0.0) for f in FEATURES] for e in examples], dtype=float)
    y = np.asarray([1.0 if e.right else 0.0 for e in examples])
    return x.reshape(len(examples), len(FEATURES)), y


def fit(x: Matrix, y: Matrix, l2: float, *, iterations: int = 100
        ) -> tuple[Matrix, Matrix, Matrix, float]:
    """Means, scales, weights and bias of a penalised logistic regression (Newton steps)."""
    means = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    scales = x.std(axis=0) if len(x) else np.ones(x.shape[1])
    scales = np.where(scales > 1e-9, scales, 1.0)
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 1e-6  # the bias, all but free
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(z @ beta, -30, 30)))
        grad = z.T @ (p - y) + penalty * beta
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return means, scales, beta[1:], float(beta[0])


def _predict(model: tuple[Matrix, Matrix, Matrix, float], x: Matrix) -> Matrix:
    means, scales, weights, bias = model
    out: Matrix = 1 / (1 + np.exp(-np.clip(((x - means) / scales) @ weights + bias, -30, 30)))
    return out


def cross_validate(examples: Sequence[Example], l2: float) -> list[tuple[float, bool]]:
    """Out-of-project probabilities: each project's questions scored by a model fitted on the
    other projects' (in the examples' order)."""
    x, y = _matrix(examples)
    out: list[tuple[float, bool]] = [(0.0, False)] * len(examples)
    for group in sorted({e.group for e in examples}):
        held = np.asarray([e.group == group for e in examples])
        # One project only: nothing to hold it out against, so it is scored in-sample.
        model = fit(x, y, l2) if held.all() else fit(x[~held], y[~held], l2)
        for i, p in zip(np.flatnonzero(held).tolist(), _predict(model, x[held]).tolist(),
                        strict=True):
            out[i] = (float(p), examples[i].right)
    return out


def base_rate_cv(examples: Sequence[Example]) -> list[tuple[float, bool]]:
    """Out-of-project predictions of a model with no features: each project's questions get the
    share of right rank-1 pages among the other projects' (the yardstick a gate must beat)."""
    out: list[tuple[float, bool]] = []
    for e in examples:
        others = [o.right for o in examples if o.group != e.group] or [o.right for o in examples]
        share = sum(others) / len(others)
        out.append((min(max(share, 0.01), 0.99), e.right))
    return out


def log_loss(pairs: Sequence[tuple[float, bool]]) -> float:
    eps = 1e-9
    return -sum(math.log(max(p, eps)) if r else math.log(max(1 - p, eps))
                for p, r in pairs) / max(len(pairs), 1)


def answered_at(pairs: Sequence[tuple[float, bool]], threshold: float) -> tuple[int, int]:
    """(answered, right) at a probability threshold."""
    chosen = [r for p, r in pairs if p >= threshold]
    return len(chosen), sum(chosen)


def choose_threshold(pairs: Sequence[tuple[float, bool]], target: float = TARGET,
                     min_answered: int = MIN_ANSWERED) -> tuple[float, bool]:
    """The lowest threshold whose precision reaches `target` on >= `min_answered` answers, and
    True; else the best-precision threshold (more answers on ties) and False."""
    candidates = sorted({math.floor(p * 100) / 100 for p, _ in pairs})  # a round setting
    best: tuple[float, int, float] | None = None
    for t in candidates:
        answered, right = answered_at(pairs, t)
        if answered < min_answered:
            continue
        precision = right / answered
        if precision >= target:
            return t, True
        if best is None or (precision, answered) > (best[2], best[1]):
            best = (t, answered, precision)
    return (best[0], False) if best else (1.0, False)


def train(examples: Sequence[Example], *, target: float = TARGET) -> AnswerGate:
    """The gate fitted on all `examples`, its penalty and threshold chosen by leave-one-project-
    out cross-validation (figures in `meta`)."""
    by_l2 = {l2: cross_validate(examples, l2) for l2 in L2_GRID}
    l2 = min(L2_GRID, key=lambda v: (round(log_loss(by_l2[v]), 9), -v))
    pairs = by_l2[l2]
    threshold, met = choose_threshold(pairs, target)
    answered, right = answered_at(pairs, threshold)
    x, y = _matrix(examples)
    means, scales, weights, bias = fit(x, y, l2)
    # One project is scored in-sample (`cross_validate`): no evidence about other projects.
    single = len({e.group for e in examples}) < 2
    meta: dict[str, object] = {
        "examples": len(examples), "right_at_rank_1": int(y.sum()),
        "projects": sorted({e.group for e in examples}), "l2": l2,
        "cv": "in-sample: one project" if single else "leave one project out",
        "cv_log_loss": round(log_loss(pairs), 4),
        "cv_log_loss_base_rate": round(log_loss(base_rate_cv(examples)), 4),
        "informative": not single and log_loss(pairs) < log_loss(base_rate_cv(examples)),
        "cv_answered": answered, "cv_right": right, "target_precision": target, "met": met,
    }
    return AnswerGate(FEATURES, rounded(means.tolist()), rounded(scales.tolist()),
                      rounded(weights.tolist()), round(bias, 6), round(threshold, 6), meta)
