"""The fitted ranker: a logistic model over the matcher's features (`docsgap.dedupe.features`),
its weights shipped as `ranker.json` beside this module (made by `docsgap train dedup`; the
card, `RANKER.md`, says on what data and how well).

A candidate's logit is `bias + sum(weight * feature)`; the probability that it is the report's
original is a softmax over the scored candidates plus "none of them" (logit 0), so two
near-equal candidates share the probability rather than both looking certain."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from docsgap.dedupe.features import FEATURES, PRIORS, Vector
from docsgap.errors import ConfigError

RANKER_NAME = "ranker.json"
RANKER_FILE = Path(__file__).with_name(RANKER_NAME)
"""The shipped weights."""


def ranker_file(rules_dirs: Sequence[Path] = ()) -> Path:
    """The weights a run uses: a `ranker.json` (from `docsgap train dedup -o`) in the last
    rules directory holding one, as `detect-model.json.gz` is found; else the shipped ones."""
    for directory in reversed(tuple(rules_dirs)):
        if (Path(directory) / RANKER_NAME).is_file():
            return Path(directory) / RANKER_NAME
    return RANKER_FILE


@dataclass(frozen=True)
class Ranker:
    """Weights per feature, the bias, and the thresholds chosen with them."""

    weights: tuple[float, ...]
    """One per name in `FEATURES`."""
    bias: float
    link_threshold: float = 0.8
    """The probability at and above which a match links (chosen on dev for precision)."""
    review_threshold: float = 0.2
    """The probability down to which a match goes to review."""
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the weights were fitted on and how they did (the card's figures)."""

    def logit(self, x: Vector) -> float:
        """The candidate's log-odds against "none of them"."""
        return self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))

    def contributions(self, x: Vector) -> tuple[tuple[str, float], ...]:
        """What each feature added to the logit (rounded; zero ones left out), the bias first:
        what carried the decision."""
        out = [("bias", round(self.bias, 2))]
        out += [(name, round(w * v, 2)) for name, w, v in zip(FEATURES, self.weights, x,
                                                                strict=True) if w * v != 0]
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """The weights file's content."""
        return {"features": list(FEATURES),
                "weights": {k: round(w, 6) for k, w in zip(FEATURES, self.weights, strict=True)},
                "bias": round(self.bias, 6), "link_threshold": self.link_threshold,
                "review_threshold": self.review_threshold, **self.info}


def probabilities(logits: Sequence[float]) -> list[float]:
    """Each candidate's probability of being the original: softmax with a "none" option."""
    if not logits:
        return []
    top = max(0.0, *logits)
    exps = [math.exp(v - top) for v in logits]
    total = math.exp(-top) + sum(exps)
    return [e / total for e in exps]


def without_priors(probability: float, fields: Sequence[tuple[str, float]]) -> float:
    """A candidate's probability had its priors (`PRIORS`) added nothing to its logit (the
    other candidates unchanged): what its text and page say alone."""
    p = min(max(probability, 1e-9), 1 - 1e-9)
    lift = sum(v for k, v in fields if k in PRIORS)
    odds = p / (1 - p) * math.exp(-lift)
    return odds / (1 + odds)


def from_json(data: dict[str, Any], where: str) -> Ranker:
    """A ranker from its weights file's content; `ConfigError` naming `where` if malformed."""
    try:
        weights = data["weights"]
        missing = [f for f in FEATURES if f not in weights]
        if missing:
            raise ConfigError(f"{where}: no weight for {', '.join(missing)}")
        info = {k: v for k, v in data.items() if k not in (
            "features", "weights", "bias", "link_threshold", "review_threshold")}
        return Ranker(tuple(float(weights[f]) for f in FEATURES), float(data["bias"]),
                      float(data.get("link_threshold", 0.8)),
                      float(data.get("review_threshold", 0.2)), info)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: not a ranker weights file ({exc})") from exc


@lru_cache(maxsize=4)
def load_ranker(path: Path = RANKER_FILE) -> Ranker:
    """The ranker in a weights file (the shipped one by default), read once."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the ranker weights: {exc}") from exc
    return from_json(data, str(path))


__all__ = ["RANKER_FILE", "RANKER_NAME", "Ranker", "from_json", "load_ranker", "probabilities",
           "without_priors"]
