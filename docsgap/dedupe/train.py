"""Fitting the ranker (`docsgap train dedup`): a listwise logistic model (softmax over a report's
scored candidates plus "none of them") on the train split's real duplicates, L2-regularised,
with plain numpy (Newton's method: a handful of weights converge in a few steps, the same every
run). Each report is used twice: as it is (its original among the candidates) and with its
original taken out, where the right answer is "none of them", so the probability learns what a
near miss without the original looks like. The team's review verdicts (this is / is not the same
gap) join as one-candidate reports.

The regularisation strength is chosen by leave-one-owner-out on the train split, the link
threshold on the dev split (the lowest whose automatic links are at least `TARGET_PRECISION`
right), with the links the train split makes out of fold (leave-one-owner-out) beside it as a
check (dev alone is too small to show one wrong link in thirty), and the review threshold on
dev too (`REVIEW_RECALL`); the test split is only reported."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from docsgap.dedupe.evaluate import PoolMatcher, Query, read_pool_records
from docsgap.dedupe.features import FEATURES, PRIORS
from docsgap.dedupe.ranker import Ranker, load_ranker, probabilities, without_priors
from docsgap.dedupe.splits import Labelled, owner
from docsgap.errors import ConfigError
from docsgap.jsonl import read_jsonl

L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Regularisation strengths tried (per report; the bias is not penalised)."""
THRESHOLDS = tuple(x / 100 for x in range(30, 100, 5))
"""Link thresholds (probabilities) tried on dev."""
TARGET_PRECISION = 0.97
UNFITTED = {"ref": 1.5, "section": 0.5}
"""Weights kept when the training data has no example of a feature (no report names an item, no
pair shares an anchor); `ref` is a prior, which `decide` never lets link on its own."""


@dataclass(frozen=True)
class Group:
    """One report's scored candidates (rows of features) and which is its original."""

    rows: npt.NDArray[np.float64]
    positive: int | None
    """Row of the original; None when the right answer is "none of them"."""
    owner: str
    weight: float = 1.0
    """How much it counts in the fit (see `balance`)."""


def balance(groups: Sequence[Group]) -> list[Group]:
    """Each group weighed by one over the square root of its owner's group count: a few owners
    hold most reports (one hub issue can have nine duplicates), and without this they would
    decide the weights alone."""
    counts: dict[str, int] = {}
    for g in groups:
        counts[g.owner] = counts.get(g.owner, 0) + 1
    raw = [1 / math.sqrt(counts[g.owner]) for g in groups]
    scale = len(groups) / sum(raw) if raw else 1.0
    return [Group(g.rows, g.positive, g.owner, w * scale) for g, w in zip(groups, raw,
                                                                           strict=True)]


def groups_for(data: Labelled, *, replay: bool = True, ranker: Ranker | None = None,
               augment: bool = True) -> list[Group]:
    """Each query's candidates as the matcher scores them (with its original, and, with
    `augment`, again without it)."""
    pm = PoolMatcher(data.pool, link_threshold=80, review_threshold=20, closed_within_days=36500,
                     replay=replay, ranker=ranker)
    out = []
    for q in data.queries:
        rows = pm.feature_rows(q)
        urls = [u for u, _ in rows]
        matrix = np.array([x for _, x in rows], dtype=np.float64).reshape(-1, len(FEATURES))
        pos = urls.index(q.duplicate_of) if q.duplicate_of in urls else None
        who = owner(q.project or "")
        out.append(Group(matrix, pos, who))
        if augment and pos is not None:
            out.append(Group(np.delete(matrix, pos, axis=0), None, who))
    return out


def verdict_groups(path: Path, *, ranker: Ranker | None = None) -> list[Group]:
    """The team's review verdicts (`docsgap train verdicts`: one line per reviewed match,
    `{"id", "repo", "query": {...}, "candidate": {...}, "same": true|false}`) as
    one-candidate groups. A candidate the matcher no longer reaches (no shared word or page)
    is left out."""
    records = list(read_jsonl(path))
    pool, queries, same = [], [], []
    for n, r in records:
        q, c = r.get("query"), r.get("candidate")
        if not isinstance(q, dict) or not isinstance(c, dict) or not isinstance(
                r.get("same"), bool) or not c.get("url"):
            raise ConfigError(f"{path}:{n}: expected query, candidate (with url) and same")
        pool.append({**c, "repo": r.get("repo")})
        queries.append(Query(id=str(r.get("id", n)), title=str(q.get("title") or ""),
                             body=str(q.get("body") or ""), docs_url=q.get("docs_url") or None,
                             url=q.get("url"), project=r.get("repo"),
                             duplicate_of=str(c["url"])))
        same.append(bool(r["same"]))
    pm = PoolMatcher(read_pool_records(pool, str(path)), link_threshold=80, review_threshold=20,
                     closed_within_days=36500, replay=False, ranker=ranker)
    out = []
    for q, is_same in zip(queries, same, strict=True):
        row = next((x for u, x in pm.feature_rows(q) if u == q.duplicate_of), None)
        if row is not None:
            out.append(Group(np.array([row], dtype=np.float64), 0 if is_same else None,
                             owner(q.project or "")))
    return out


def fit(groups: Sequence[Group], l2: float, *, iterations: int = 50
        ) -> tuple[npt.NDArray[np.float64], float]:
    """Weights (one per feature; unfitted ones from `UNFITTED`) and bias minimising the
    groups' log-loss plus `l2` times the groups' count times half the squared weights."""
    width = len(FEATURES)
    varied = [k for k in range(width)
              if any(g.rows.size and np.any(g.rows[:, k] != 0) for g in groups)]
    free = np.array(varied, dtype=np.intp)
    fixed = np.array([UNFITTED.get(FEATURES[k], 0.0) if k not in varied else 0.0
                      for k in range(width)])
    theta = np.zeros(len(free) + 1)  # the weights, then the bias
    penalty = l2 * sum(g.weight for g in groups) * np.r_[np.ones(len(free)), 0.0]
    for _ in range(iterations):
        grad, hess = penalty * theta, np.diag(penalty + 1e-9)
        for g in groups:
            if not len(g.rows):
                continue
            x = np.c_[g.rows[:, free], np.ones(len(g.rows))]
            logits = x @ theta + g.rows @ fixed
            p = np.asarray(probabilities(logits.tolist()))
            mean = p @ x
            y = np.zeros(len(g.rows))
            if g.positive is not None:
                y[g.positive] = 1.0
            grad += g.weight * (mean - y @ x)
            hess += g.weight * ((x * p[:, None]).T @ x - np.outer(mean, mean))
        step = np.linalg.solve(hess, grad)
        theta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    weights = fixed.copy()
    weights[free] = theta[:-1]
    return weights, float(theta[-1])


def log_loss(groups: Sequence[Group], weights: npt.NDArray[np.float64], bias: float) -> float:
    """Mean negative log-probability of each group's right answer."""
    total = 0.0
    for g in groups:
        p = probabilities((g.rows @ weights + bias).tolist())
        right = p[g.positive] if g.positive is not None else 1.0 - sum(p)
        total -= g.weight * math.log(max(right, 1e-12))
    return total / max(sum(g.weight for g in groups), 1e-9)


def choose_l2(groups: Sequence[Group]) -> tuple[float, dict[str, float]]:
    """The `L2_GRID` strength with the lowest leave-one-owner-out log-loss (and each loss)."""
    owners = sorted({g.owner for g in groups})
    losses = {}
    for l2 in L2_GRID:
        total, count = 0.0, 0.0
        for o in owners:
            held = [g for g in groups if g.owner == o]
            w, b = fit([g for g in groups if g.owner != o], l2)
            total += log_loss(held, w, b) * sum(g.weight for g in held)
            count += sum(g.weight for g in held)
        losses[f"{l2:g}"] = round(total / max(count, 1), 4)
    best = min(L2_GRID, key=lambda v: (losses[f"{v:g}"], -v))
    return best, losses


def choose_threshold(groups: Sequence[Group], weights: npt.NDArray[np.float64], bias: float,
                     *, also: Sequence[tuple[float, bool]] | None = None
                     ) -> tuple[float, list[dict[str, float]]]:
    """The lowest `THRESHOLDS` value whose links on `groups` (at least one) are at least
    `TARGET_PRECISION` right; the highest one when none is (no dev data links nothing).
    Also the precision and links at each, and, given
    `also` (other best candidates' probabilities and whether they were right, e.g.
    `out_of_fold_tops`), the links and right links those would make (`check_links`,
    `check_right`: shown on the card, not used to choose). A group links its top candidate
    as `decide` does: when its probability, also without the priors' contributions, reaches
    the threshold."""
    tops = _tops(groups, weights, bias)
    table: list[dict[str, float]] = []
    for t in THRESHOLDS:
        linked = [right for p, right in tops if p >= t]
        precision = sum(linked) / len(linked) if linked else 1.0
        row = {"threshold": t, "links": len(linked), "right": sum(linked),
               "precision": round(precision, 4)}
        if also is not None:
            checked = [right for p, right in also if p >= t]
            row["check_links"], row["check_right"] = len(checked), sum(checked)
        table.append(row)
    # A threshold no dev match reaches proves nothing: with no links it is not "precise".
    fine = [row["threshold"] for row in table
            if row["links"] and row["precision"] >= TARGET_PRECISION]
    return (min(fine) if fine else THRESHOLDS[-1]), table


def out_of_fold_tops(groups: Sequence[Group], l2: float) -> list[tuple[float, bool]]:
    """Each group's best candidate as a ranker fitted without its owner scores it (and
    whether it is the original): links the train split would make on reports it was not
    fitted on: a second view of the link threshold beside the small dev split."""
    tops: list[tuple[float, bool]] = []
    for o in sorted({g.owner for g in groups}):
        weights, bias = fit([g for g in groups if g.owner != o], l2)
        tops += _tops([g for g in groups if g.owner == o], weights, bias)
    return tops


def _tops(groups: Sequence[Group], weights: npt.NDArray[np.float64], bias: float
          ) -> list[tuple[float, bool]]:
    """Per group with candidates: its best candidate's probability as `decide` weighs it
    (the lower of it with and without the priors' lift) and whether it is the original."""
    priors = [FEATURES.index(f) for f in PRIORS]
    tops = []
    for g in groups:
        if not len(g.rows):
            continue
        p = probabilities((g.rows @ weights + bias).tolist())
        k = int(np.argmax(p))
        lift = [(FEATURES[j], float(weights[j] * g.rows[k, j])) for j in priors]
        tops.append((min(p[k], without_priors(p[k], lift)), g.positive == k))
    return tops


REVIEW_RECALL = 0.9
"""The review threshold keeps this share of dev's right best candidates out of `new`."""
REVIEW_FLOOR = 0.1
"""It is never lower than this: the rule rests on dev's second-weakest right candidate, and
below 10% shared template words alone (a page-feedback form's headings) reach review, which a
person would then clear by the dozen."""


def choose_review(groups: Sequence[Group], weights: npt.NDArray[np.float64], bias: float,
                  link: float) -> float:
    """The probability (rounded down to 0.05, at most `link`) at or above which
    `REVIEW_RECALL` of the groups whose best candidate is their original are (not below
    `REVIEW_FLOOR`): below it a report ends `new` and a person never sees the match."""
    right = sorted(top for top, is_right in _tops(groups, weights, bias) if is_right)
    if not right:
        return link
    at = right[int(math.floor((1 - REVIEW_RECALL) * len(right)))]
    return min(link, max(REVIEW_FLOOR, math.floor(at * 20) / 20))


def train(train_set: Labelled, dev_set: Labelled, *, verdicts: Path | None = None,
          date: str = "") -> Ranker:
    """Fit the ranker on `train_set` (plus the verdicts), choose its link threshold on
    `dev_set`; the weights' card records both."""
    base = load_ranker()
    groups = groups_for(train_set, ranker=base)
    extra = verdict_groups(verdicts, ranker=base) if verdicts else []
    everything = balance([*groups, *extra])
    l2, losses = choose_l2(everything)
    weights, bias = fit(everything, l2)
    fitted = Ranker(tuple(weights.tolist()), bias)
    dev_groups = groups_for(dev_set, ranker=fitted)
    threshold, table = choose_threshold(dev_groups, weights, bias,
                                        also=out_of_fold_tops(everything, l2))
    review = choose_review(dev_groups, weights, bias, threshold)
    info = {
        "fitted": True, "date": date, "l2": l2, "l2_loss_leave_one_owner_out": losses,
        "train": {"queries": len(train_set.queries), "pool": len(train_set.pool),
                  "owners": sorted({owner(q.project or "") for q in train_set.queries}),
                  "groups": len(groups), "verdicts": len(extra),
                  "extra_owners": sorted(train_set.extra)},
        "dev": {"queries": len(dev_set.queries), "pool": len(dev_set.pool),
                "thresholds": table},
        "unfitted": sorted(f for f, w in zip(FEATURES, weights.tolist(), strict=True)
                           if f in UNFITTED and w == UNFITTED[f]),
        "priors": list(PRIORS),
    }
    return Ranker(tuple(round(w, 6) for w in weights.tolist()), round(bias, 6),
                  link_threshold=threshold, review_threshold=review,
                  info=info)


def write(ranker: Ranker, path: Path) -> None:
    """The weights file (stable key order, so a retrain on the same data changes nothing)."""
    path.write_text(json.dumps(ranker.to_json(), indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")


__all__ = ["Group", "balance", "choose_l2", "choose_review", "choose_threshold", "fit",
           "groups_for", "log_loss", "out_of_fold_tops", "train", "verdict_groups", "write"]
