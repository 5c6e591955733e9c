"""The learned scorer: a logistic regression over the features of `docsgap.detect.features`,
shipped as a small gzipped JSON file in the package (`detect/data/detect-model.json.gz`, model
card beside it). Inference is stdlib only: dictionary look-ups and sums. A word's own weight and
its character n-grams' fold into one number, cached per word, so scoring a post costs one
look-up per word and one per word pair."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice, repeat
from pathlib import Path
from typing import Any

from docsgap.detect.features import (
    CHAR_WEIGHT,
    char_grams,
    post_tokens,
    post_vector,
    tokens,
    word_features,
)
from docsgap.errors import ConfigError
from docsgap.models import GapType

FORMAT = "docsgap-detect-model"
SHIPPED = Path(__file__).resolve().parent / "data" / "detect-model.json.gz"
COMBINES = ("model", "or")
"""How the model and the rules decide together: the model alone (rule hits are among its
features), or either of them."""
_CACHE_LIMIT = 200_000
_PLACEHOLDERS = frozenset({"docslink", "weblink"})
"""What links become in a post's text (never named as evidence words)."""


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What the learned scorer sees of one post and what decides around it, computed once so
    training can try many models on it and decide exactly as `Detector.detect_text` does."""

    norms: tuple[str, ...]
    """The post's lower-cased sentences (title first for an opener)."""
    rules: tuple[frozenset[str], ...]
    """Per sentence, its rule features (hits and vetoed hits)."""
    rules_gap: bool
    """Whether the rules alone call the post a gap."""
    has_hits: bool
    """Whether any rule hit survived (then the rules name the evidence, no veto applies)."""
    vetoes: tuple[str | None, ...]
    """Per sentence, the canceller that would veto the model's evidence there, if any."""
    context: tuple[str, ...] = ()
    """A reply's `t:` features (its thread's title)."""

    @property
    def rule_features(self) -> frozenset[str]:
        """The post's rule features."""
        return frozenset().union(*self.rules)

    def vector(self, char_weight: float = CHAR_WEIGHT, *, context: bool = True
               ) -> dict[str, float]:
        """The post's feature values (see `docsgap.detect.features.post_vector`)."""
        return post_vector(self.norms, self.rule_features, char_weight=char_weight,
                           context=self.context if context else ())

    def vetoed(self, model: Model) -> bool:
        """Whether a canceller silences the model's verdict: the rules found nothing and the
        sentence that scores highest on its own is vetoed."""
        if self.has_hits or not self.norms:
            return False
        return self.vetoes[model.best_sentence(self.norms, self.rules)] is not None

    def decide(self, model: Model, probability: float | None = None) -> bool:
        """The detector's verdict with `model` (its probability may be given, e.g. from a
        matrix product in training)."""
        p = model.probability(self.norms, self.rule_features, self.context) \
            if probability is None else probability
        found = p >= model.threshold and not self.vetoed(model)
        return found or (model.combine == "or" and self.rules_gap)


@dataclass
class Model:
    """Weights of the binary scorer and of the gap-type scorer, plus what the card records."""

    weights: dict[str, float]
    bias: float
    threshold: float
    type_weights: dict[str, tuple[float, ...]] = field(default_factory=dict)
    type_bias: tuple[float, ...] = ()
    type_classes: tuple[GapType, ...] = ()
    combine: str = "model"
    char_weight: float = CHAR_WEIGHT
    """Character n-grams' share of a word's scale (as in training)."""
    card: dict[str, Any] = field(default_factory=dict)
    _uni: dict[str, float] = field(default_factory=dict, repr=False)
    _bi: dict[str, float] = field(default_factory=dict, repr=False)
    _word: dict[str, float] = field(default_factory=dict, repr=False)
    uses_context: bool = field(default=False, init=False)
    """Whether any `t:` (thread title) feature has a weight."""

    def __post_init__(self) -> None:
        self._uni = {k[2:]: v for k, v in self.weights.items() if k[0] == "w"}
        self._bi = {k[2:]: v for k, v in self.weights.items() if k[0] == "b"}
        self.uses_context = any(k[0] == "t" for k in self.weights)

    @property
    def version(self) -> str:
        """What the model card calls this model."""
        return str(self.card.get("version", "unversioned"))

    def _learn_tokens(self, toks: Iterable[str]) -> None:
        """Cache each new token's weight: its own plus `char_weight` times its character
        n-grams' (words repeat, so a post costs about one look-up per word)."""
        if len(self._word) >= _CACHE_LIMIT:
            self._word.clear()
        get = self.weights.get
        uni = self._uni.get
        for tok in toks:
            grams = sum(get(g, 0.0) for g in char_grams(tok))
            self._word[tok] = uni(tok, 0.0) + self.char_weight * grams

    def logit(self, norms: Sequence[str], rules: Iterable[str] = ()) -> float:
        """The score of a post (or one sentence), before the bias, from its lower-cased
        sentences and its rule features. C-level iteration only: this runs on every post."""
        toks = post_tokens(norms)
        extra = sum(map(self.weights.get, rules, repeat(0.0)))
        if not toks:
            return extra
        word = self._word
        fresh = set(toks).difference(word)
        if fresh:
            self._learn_tokens(fresh)
        total = sum(map(word.__getitem__, toks))
        pairs = map(" ".join, zip(toks, islice(toks, 1, None), strict=False))
        total += sum(map(self._bi.get, pairs, repeat(0.0)))
        return float(total * (2 * len(toks) - 1) ** -0.5 + extra)

    def context_logit(self, context: Sequence[str]) -> float:
        """The score of a reply's thread title (its `t:` features, see `context_features`)."""
        if not context:
            return 0.0
        total = sum(map(self.weights.get, context, repeat(0.0)))
        return float(total * len(context) ** -0.5)

    def probability(self, norms: Sequence[str], rules: Iterable[str] = (),
                    context: Sequence[str] = ()) -> float:
        """The probability that a post is a docs gap (a reply: with its thread's title)."""
        z = self.bias + self.logit(norms, rules) + self.context_logit(context)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def best_sentence(self, norms: Sequence[str], rules: Sequence[Iterable[str]]) -> int:
        """The sentence that scores highest on its own (the evidence)."""
        scores = [self.logit([n], r) for n, r in zip(norms, rules, strict=True)]
        return max(range(len(scores)), key=scores.__getitem__)

    def gap_type(self, vector: dict[str, float]) -> GapType | None:
        """The most likely gap type of a post's feature vector."""
        if not self.type_classes:
            return None
        scores = list(self.type_bias)
        for name, value in vector.items():
            row = self.type_weights.get(name)
            if row is not None:
                scores = [s + value * w for s, w in zip(scores, row, strict=True)]
        return self.type_classes[max(range(len(scores)), key=scores.__getitem__)]

    def top_words(self, norm: str, n: int = 4) -> list[str]:
        """The words and word pairs of one sentence that carried its score, strongest first
        (a word's own weight plus its character n-grams'; pairs on their own)."""
        toks = tokens(norm)
        found: dict[str, float] = {}
        for tok in toks:
            if tok in _PLACEHOLDERS:
                continue
            if tok not in self._word:
                self._learn_tokens([tok])
            found[tok] = self._word[tok]
        for feat in word_features(toks):
            if feat[0] == "b" and feat[2:] in self._bi:
                found[feat[2:]] = self._bi[feat[2:]]
        ranked = sorted((w, k) for k, w in found.items() if w > 0)
        return [k for _, k in reversed(ranked[-n:])]

    # --- file format ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {
            "format": FORMAT, "card": self.card, "threshold": self.threshold,
            "combine": self.combine, "char_weight": self.char_weight, "bias": self.bias,
            "weights": self.weights,
            "types": {"classes": [t.value for t in self.type_classes],
                      "bias": list(self.type_bias),
                      "weights": {k: list(v) for k, v in self.type_weights.items()}},
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> Model:
        """Read a model file's content; `ConfigError` when it is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{where}: not a docsgap detection model")
        try:
            types = data.get("types") or {}
            combine = str(data.get("combine", "model"))
            if combine not in COMBINES:
                raise ValueError(f"combine {combine!r}")
            return cls(
                weights={str(k): float(v) for k, v in data["weights"].items()},
                bias=float(data["bias"]), threshold=float(data["threshold"]),
                type_weights={str(k): tuple(map(float, v))
                              for k, v in types.get("weights", {}).items()},
                type_bias=tuple(map(float, types.get("bias", ()))),
                type_classes=tuple(GapType(t) for t in types.get("classes", ())),
                combine=combine, char_weight=float(data.get("char_weight", CHAR_WEIGHT)),
                card=dict(data.get("card") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: malformed detection model: {exc}") from None


def save_model(model: Model, path: Path) -> None:
    """Write a model file (gzipped JSON, stable bytes for the same model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.to_json(), sort_keys=True, separators=(",", ":"))
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def read_model(path: Path) -> Model:
    """Load a model file; `ConfigError` when it is missing or malformed."""
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the detection model: {exc}") from None
    return Model.from_json(data, str(path))


@lru_cache(maxsize=1)
def shipped_model() -> Model | None:
    """The model shipped in the package, or `None` when this build has none."""
    return read_model(SHIPPED) if SHIPPED.is_file() else None
