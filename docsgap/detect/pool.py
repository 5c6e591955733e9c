"""What training works on: every labelled message it may see (train + dev + extra + the team's
verdicts, never the test split), with its model inputs and feature matrices computed once, so
cross-validation can fit many settings cheaply. Needs the `train` extra (scipy)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import Record
from docsgap.detect.model import ModelInputs

MIN_SITES = 2
"""A feature must occur in messages from at least this many sites (drops site-specific words)."""
VERDICT_WEIGHT = 2.0
"""A reviewed verdict from the team's own forum counts as this many corpus messages."""
WEIGHTINGS = ("kind", "kind+forum", "plain")
"""How training rows are weighted: each kind (opener, comment, forum post) balanced between
gaps and non-gaps; the same with forum posts counted twice (they are few); or all equal."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One candidate configuration of the binary scorer."""

    c: float
    """Inverse L2 regularisation strength."""
    char_weight: float
    """Character n-grams' share of a word's scale."""
    context: bool
    """Whether replies see their thread's title (`t:` features)."""
    weighting: str
    """One of `WEIGHTINGS`."""

    def label(self) -> str:
        """Short text for logs and the card."""
        return (f"C={self.c:g} chars={self.char_weight:g} context={'yes' if self.context else 'no'}"
                f" weighting={self.weighting}")


def _sparse() -> Any:
    import scipy.sparse

    return scipy.sparse


class Pool:
    """Rows (messages) with their inputs, labels, sites and feature blocks."""

    def __init__(self, detector: Detector, records: Sequence[Record],
                 verdicts: Sequence[Record] = ()) -> None:
        self.records = [*records, *verdicts]
        self.verdict = np.array([n >= len(records) for n in range(len(self.records))])
        self.inputs: list[ModelInputs] = [
            detector.model_inputs(r.own_title, r.text, r.context) for r in self.records]
        # A verdict's thread stands for its own site, so the team's own words can pass MIN_SITES.
        self.sites = [r.site for r in records] + [r.source_url or r.id for r in verdicts]
        self.sources = [r.source for r in self.records]
        self.gold = np.array([bool(r.is_gap) for r in self.records])
        self.forum = np.array([s == "forum" for s in self.sources])
        self.rules_gap = np.array([i.rules_gap for i in self.inputs])
        blocks = [(i.vector(1.0, context=False), dict.fromkeys(i.context, len(i.context) ** -0.5)
                   if i.context else {}) for i in self.inputs]
        names = sorted({k for v, t in blocks for k in (*v, *t)})
        self.names = names
        self._index = {n: j for j, n in enumerate(names)}
        self.is_char = np.array([n[0] == "c" for n in names])
        self.is_context = np.array([n[0] == "t" for n in names])
        word = [{k: v for k, v in vec.items() if k[0] != "c"} for vec, _ in blocks]
        self.words = self._matrix(word)
        self.chars = self._matrix([{k: v for k, v in vec.items() if k[0] == "c"}
                                   for vec, _ in blocks])
        self.context = self._matrix([t for _, t in blocks])
        site_ids = {s: n for n, s in enumerate(sorted(set(self.sites)))}
        self.site_id = np.array([site_ids[s] for s in self.sites], dtype=np.int64)
        presence = (self.words + self.chars + self.context).astype(bool).astype(np.int64)
        member = _sparse().csr_matrix((np.ones(len(self.sites)), (self.site_id,
                                       np.arange(len(self.sites)))),
                                      shape=(len(site_ids), len(self.sites)))
        self._site_presence = (member @ presence).astype(bool).tocsc()

    def _matrix(self, vectors: Sequence[dict[str, float]]) -> Any:
        rows, cols, vals = [], [], []
        for i, vector in enumerate(vectors):
            for name, value in vector.items():
                rows.append(i)
                cols.append(self._index[name])
                vals.append(value)
        return _sparse().csr_matrix((vals, (rows, cols)),
                                    shape=(len(vectors), len(self._index)))

    def matrix(self, setting: Setting) -> Any:
        """The rows' feature values under a setting (as `ModelInputs.vector` computes them)."""
        x = self.words + self.chars * setting.char_weight
        return (x + self.context if setting.context else x).tocsr()

    def columns(self, rows: Sequence[int], setting: Setting) -> npt.NDArray[np.int64]:
        """Features seen in at least `MIN_SITES` of the sites of `rows` (context features only
        when the setting uses them)."""
        sites = np.unique(self.site_id[np.asarray(rows, dtype=np.int64)])
        seen = np.asarray(self._site_presence[sites].sum(axis=0)).ravel()
        keep = seen >= MIN_SITES
        if not setting.context:
            keep &= ~self.is_context
        return np.flatnonzero(keep)

    def weights(self, rows: Sequence[int], setting: Setting) -> npt.NDArray[np.float64]:
        """Sample weights of `rows` (balanced within the rows themselves, see `WEIGHTINGS`)."""
        picked = [self.records[i] for i in rows]
        out = np.ones(len(picked)) if setting.weighting == "plain" else \
            np.array(kind_weights(picked))
        if setting.weighting == "kind+forum":
            out = out * np.where(self.forum[list(rows)], 2.0, 1.0)
        return out * np.where(self.verdict[list(rows)], VERDICT_WEIGHT, 1.0)


def kind_weights(records: Sequence[Record]) -> list[float]:
    """Weights that give each kind (opener, comment, forum post) the same balance of gaps and
    non-gaps, so the model cannot learn the kind as a stand-in for the label."""
    cells: dict[tuple[str, bool], int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    for r in records:
        cells[(r.kind or "", bool(r.is_gap))] += 1
        kinds[r.kind or ""] += 1
    out = []
    for r in records:
        kind = r.kind or ""
        both = cells[(kind, True)] and cells[(kind, False)]
        out.append(kinds[kind] / (2 * cells[(kind, bool(r.is_gap))]) if both else 1.0)
    return out
