"""BM25F over docs sections: what ranks the page that answers a question.

Each section is a unit with three fields, the page title, the section's heading and its text.
A word's frequency in a unit is the sum over the fields of `weight * tf / (1 - b + b * len /
avg_len)` (each field normalised by its own average length), saturated once with `k1` (the
"simple BM25F" of Robertson and Zaragoza, "The Probabilistic Relevance Framework", 2009). The
values are the textbook ones, not fitted to our questions: k1 1.2, b 0.75, and the field weights
the cosine index already used (title 3, heading 2, text 1).

The query side (`query_weights`): a question's title words count twice, then each word's weight
is `1 + log(count)` so a word repeated in a long post does not swamp the rest. A score is
normalised by the most the query could get (every word saturated in some unit), so it lies in
0-1 and a threshold means the same for short and long questions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = (3.0, 2.0, 1.0)
"""Page title, section heading, section text."""
QUERY_TITLE_WEIGHT = 2.0
"""A question's title words count twice: the title says what is asked."""

Floats = npt.NDArray[np.float64]
FieldCounts = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]
"""One field of one unit: its word ids and how often each occurs."""


def query_weights(title_words: Sequence[str], body_words: Sequence[str]) -> dict[str, float]:
    """Query words and their weights: `1 + log(2 * in title + in body)`."""
    counts: dict[str, float] = {}
    for word in title_words:
        counts[word] = counts.get(word, 0.0) + QUERY_TITLE_WEIGHT
    for word in body_words:
        counts[word] = counts.get(word, 0.0) + 1.0
    return {w: 1.0 + math.log(c) for w, c in counts.items()}


@dataclass(frozen=True, slots=True, eq=False)
class Bm25:
    """Word id `w`'s postings: units `units[starts[w]:starts[w + 1]]` (ascending) with their
    saturated BM25F frequencies `values` at the same places; `idf` per word id."""

    starts: npt.NDArray[np.int64]
    units: npt.NDArray[np.int64]
    values: Floats
    idf: Floats
    n_units: int

    @classmethod
    def build(cls, fields: Sequence[Sequence[FieldCounts]], n_words: int) -> Bm25:
        """The index of `fields[unit][field]` (title, heading, text) over `n_words` word ids."""
        n = len(fields)
        ids: list[npt.NDArray[np.int32]] = []
        tfs: list[npt.NDArray[np.float32]] = []
        sizes = np.zeros((3, n), dtype=np.int64)
        lengths = np.zeros((3, n))
        for u, unit_fields in enumerate(fields):
            for f, (words, counts) in enumerate(unit_fields):
                ids.append(words)
                tfs.append(counts)
                sizes[f, u] = len(words)
                lengths[f, u] = float(counts.sum())
        # Entries in (unit, field) order, as appended; temporaries dropped once used.
        flat_sizes = sizes.T.reshape(-1)
        avg = np.maximum(lengths.mean(axis=1), 1e-9) if n else np.ones(3)
        weight = (np.asarray(FIELD_WEIGHTS)[:, None]
                  / (1 - B + B * lengths / avg[:, None]))  # per field and unit
        unit = np.repeat(np.repeat(np.arange(n, dtype=np.int64), 3), flat_sizes)
        field = np.repeat(np.tile(np.arange(3, dtype=np.int8), n), flat_sizes)
        pseudo = np.concatenate([*tfs, np.zeros(0, np.float32)]).astype(np.float64)
        tfs.clear()
        pseudo *= weight[field, unit]
        del field
        m = max(n, 1)
        key = np.concatenate([*ids, np.zeros(0, np.int32)]).astype(np.int64)
        ids.clear()
        key *= m
        key += unit
        del unit
        # One entry per (word, unit): sorted by word, then unit, as the postings want.
        key, where = np.unique(key, return_inverse=True)
        total = np.bincount(where, pseudo, minlength=len(key))
        del where, pseudo
        values = total * (K1 + 1) / (K1 + total)
        df = np.bincount(key // m, minlength=n_words)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        starts = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(df, out=starts[1:])
        return cls(starts, key % m, values, idf, n)

    def scores(self, query: dict[int, float]) -> tuple[Floats, float]:
        """Every unit's score for word ids with weights, each divided by the most the query
        could score (0-1), and that most."""
        out = np.zeros(self.n_units)
        best = 0.0
        for word, weight in query.items():
            idf = float(self.idf[word])
            best += weight * idf * (K1 + 1)
            lo, hi = int(self.starts[word]), int(self.starts[word + 1])
            out[self.units[lo:hi]] += self.values[lo:hi] * (weight * idf)
        return (out / best if best > 0 else out), best
