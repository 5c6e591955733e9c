"""The answerability gate of docs-first replies: the probability that the ranker's best page is
the page that answers a question, from a small regularised logistic model over the features of
`docsgap.docs.gatefeatures`. A reply is suggested when the probability reaches
`docs.answer_threshold`.

The weights ship as `answer_gate.json` beside this module (numbers only, fitted by `docsgap train
suggest` on the tuning split of labelled real threads; `docsgap.docs.gatetrain`). Features are
standardised with the tuning set's means and scales, so a weight says how much one standard
deviation of its feature moves the log-odds, which is what `explain` reports."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docsgap.docs.gatefeatures import FEATURES
from docsgap.errors import ConfigError

GATE_PATH = Path(__file__).with_name("answer_gate.json")


@dataclass(frozen=True, slots=True)
class AnswerGate:
    """A fitted logistic gate."""

    features: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """The probability the default threshold was chosen at (on the tuning split, by project
    cross-validation); `docs.answer_threshold` defaults to it."""
    meta: Mapping[str, object] = field(default_factory=dict)
    """How it was fitted and what cross-validation measured (for the record)."""

    def contributions(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each feature's share of the log-odds (weight x standardised value)."""
        return {name: w * (values.get(name, 0.0) - m) / s
                for name, m, s, w in zip(self.features, self.means, self.scales, self.weights,
                                         strict=True)}

    def probability(self, values: Mapping[str, float]) -> float:
        """P(the best hit is the answering page); 0 for a question nothing matched."""
        if not values:
            return 0.0
        z = self.bias + sum(self.contributions(values).values())
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0

    def explain(self, values: Mapping[str, float], top: int = 3) -> str:
        """The features that carried the verdict most, signed: `title_cover +1.2`."""
        parts = sorted(self.contributions(values).items(), key=lambda kv: -abs(kv[1]))
        return ", ".join(f"{name} {c:+.1f}" for name, c in parts[:top])

    def to_dict(self) -> dict[str, object]:
        return {"features": list(self.features), "means": list(self.means),
                "scales": list(self.scales), "weights": list(self.weights),
                "bias": self.bias, "threshold": self.threshold, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AnswerGate:
        try:
            gate = cls(tuple(_strs(data["features"])), tuple(_floats(data["means"])),
                       tuple(_floats(data["scales"])), tuple(_floats(data["weights"])),
                       float(data["bias"]),  # type: ignore[arg-type]
                       float(data["threshold"]),  # type: ignore[arg-type]
                       dict(data.get("meta") or {}))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"answer gate: bad or missing field {exc}") from exc
        n = len(gate.features)
        if not (len(gate.means) == len(gate.scales) == len(gate.weights) == n):
            raise ConfigError("answer gate: features, means, scales and weights differ in length")
        unknown = set(gate.features) - set(FEATURES)
        if unknown:
            raise ConfigError(f"answer gate: unknown features {sorted(unknown)}")
        return gate


def _strs(value: object) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return [str(v) for v in value]


def _floats(value: object) -> list[float]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return [float(v) for v in value]


def load_gate(path: Path | None = None) -> AnswerGate:
    """The shipped gate, or one written by `docsgap train suggest`."""
    where = path or GATE_PATH
    try:
        return AnswerGate.from_dict(json.loads(where.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the answer gate {where}: {exc}") from exc


def save_gate(gate: AnswerGate, path: Path) -> None:
    """Write a gate as stable, diff-friendly JSON."""
    path.write_text(json.dumps(gate.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def rounded(values: Sequence[float], digits: int = 6) -> tuple[float, ...]:
    """Stored numbers are rounded, so a refit on the same data writes the same file."""
    return tuple(round(v, digits) for v in values)
