"""Score detection on labelled records: precision, recall and F1 overall, per gap type and per
source (forum or issue tracker), the gap-type confusion, false positives/negatives with evidence,
and a naive baseline beside it. Intervals and rendering: `docsgap.detect.evalreport`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsgap.detect.detector import Detector
from docsgap.detect.split import corpus_paths, site_key, source_of, split_of
from docsgap.errors import ConfigError
from docsgap.jsonl import read_jsonl
from docsgap.models import Evidence, GapType

LABELS = {"docs_gap": True, "not_docs_gap": False}
REPLY_KINDS = frozenset({"comment", "reply", "answer"})
"""Record kinds whose title belongs to another message (the thread opener), so it is not used."""
NONE = "none"


@dataclass(frozen=True, slots=True)
class Record:
    """One input message; `is_gap`/`gap_type` are set for labelled records."""

    id: str
    title: str
    text: str
    kind: str | None = None
    is_gap: bool | None = None
    gap_type: GapType | None = None
    source_url: str = ""

    @property
    def source(self) -> str:
        """`forum` or `tracker` (issue openers and comments)."""
        return source_of(self.kind)

    @property
    def site(self) -> str:
        """The site the message comes from (see `docsgap.detect.split`)."""
        return site_key(self.source_url)

    @property
    def is_reply(self) -> bool:
        """A comment or reply: its title is the thread opener's."""
        return (self.kind or "").lower() in REPLY_KINDS

    @property
    def own_title(self) -> str:
        """The title when it belongs to this message (not for replies/comments)."""
        return "" if self.is_reply else _real_title(self.title)

    @property
    def context(self) -> str:
        """A reply's thread title (what `Detector.detect_text` takes as `context`)."""
        return _real_title(self.title) if self.is_reply else ""


def _real_title(title: str) -> str:
    """A title, less the corpus's placeholder ("[title not in stored copy]"): its words would
    otherwise become features of every post it stands in for."""
    return "" if title.startswith("[") and title.endswith("]") else title


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a detector said about one record."""

    is_gap: bool
    gap_type: GapType | None
    score: float = 0.0
    evidence: tuple[Evidence, ...] = ()


@dataclass
class Scores:
    """Counts and the figures derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0 when there is nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Counts and rounded figures."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(frozen=True, slots=True)
class Outcome:
    """Gold and predicted verdict of one record."""

    gold: bool
    pred: bool
    gold_type: str
    """A gap type, or "none"."""
    pred_type: str
    source: str


@dataclass
class EvalResult:
    """All figures for one predictor on one dataset."""

    name: str
    overall: Scores = field(default_factory=Scores)
    per_type: dict[str, Scores] = field(
        default_factory=lambda: {t.value: Scores() for t in GapType}
    )
    per_source: dict[str, Scores] = field(default_factory=dict)
    """`forum` / `tracker` -> binary figures on the records from that source."""
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    """gold type (or "none") -> predicted type (or "none") -> count."""
    outcomes: list[Outcome] = field(default_factory=list)
    """Per record, what was gold and what was predicted (for bootstrap intervals)."""
    false_positives: list[tuple[Record, Prediction]] = field(default_factory=list)
    false_negatives: list[tuple[Record, Prediction]] = field(default_factory=list)

    @property
    def type_accuracy(self) -> float:
        """Among true positives, the share whose gap type is right."""
        right = sum(self.confusion.get(t.value, {}).get(t.value, 0) for t in GapType)
        return right / self.overall.tp if self.overall.tp else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (without the error lists' evidence)."""
        return {
            "overall": self.overall.as_dict(),
            "per_type": {k: v.as_dict() for k, v in self.per_type.items()},
            "per_source": {k: v.as_dict() for k, v in sorted(self.per_source.items())},
            "type_accuracy": round(self.type_accuracy, 4),
            "confusion": self.confusion,
            "false_positives": [r.id for r, _ in self.false_positives],
            "false_negatives": [r.id for r, _ in self.false_negatives],
        }


def read_records(path: Path, *, labelled: bool) -> Iterator[Record]:
    """Records from a JSON-lines file; a malformed line raises `ConfigError` with path:line."""
    for n, data in read_jsonl(path):
        yield _record(data, f"{path}:{n}", labelled)


def _record(data: Any, where: str, labelled: bool) -> Record:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ConfigError(f"{where}: expected a JSON object with a string 'text'")
    title = data.get("title") or ""
    kind = data.get("kind")
    rid = str(data.get("id", where.rsplit(":", 1)[-1]))
    url = str(data.get("source_url") or "")
    if not labelled:
        return Record(rid, str(title), data["text"], kind, source_url=url)
    label = data.get("label")
    if label not in LABELS:
        raise ConfigError(f"{where}: 'label' must be docs_gap or not_docs_gap, not {label!r}")
    raw_type = data.get("gap_type")
    try:
        gap = GapType(raw_type) if raw_type else None
    except ValueError:
        raise ConfigError(f"{where}: unknown gap_type {raw_type!r}") from None
    return Record(rid, str(title), data["text"], kind, LABELS[label], gap, url)


def split_records(shared: Path, split: str) -> list[Record]:
    """The labelled records of one split (`train`, `dev`, `test`) of every detection file under
    `shared` (see `docsgap.detect.split`); `ConfigError` when there are none."""
    paths = corpus_paths(shared)
    if not paths:
        raise ConfigError(f"{shared}: no labelled detection files (eval/detect-dev.jsonl, "
                          "corpus/detect-train-*.jsonl)",
                          hint="pass --shared DIR, the folder holding eval/ and corpus/ (the "
                          "default, ../shared, is looked for beside the current folder)")
    return [r for path in paths for r in read_records(path, labelled=True)
            if split_of(r.site) == split]


def detector_predict(detector: Detector) -> Callable[[Record], Prediction]:
    """Adapt a `Detector` to the evaluation."""

    def predict(record: Record) -> Prediction:
        d = detector.detect_text(record.own_title, record.text, context=record.context)
        return Prediction(d.is_gap, d.gap_type, d.score, d.evidence)

    return predict


_BASE_DOCS = re.compile(r"\b(?:docs?|documentation|documented|readme|guide|manual|wiki|tutorial)\b")
_BASE_COMPLAINTS = (
    (GapType.BROKEN_LINK, re.compile(r"\b(?:broken|404|dead link)\b")),
    (GapType.OUTDATED, re.compile(r"\b(?:outdated|out of date|obsolete|deprecated)\b")),
    (GapType.INCORRECT, re.compile(r"\b(?:wrong|incorrect|error|mistake|typo)\b")),
    (GapType.CONFUSING, re.compile(r"\b(?:confusing|unclear|misleading|confused)\b")),
    (GapType.MISSING, re.compile(r"\b(?:missing|lacks?|undocumented|not documented)\b")),
)


def baseline_predict(record: Record) -> Prediction:
    """The naive baseline: a docs word and a complaint word anywhere in the title or text."""
    text = f"{record.own_title}\n{record.text}".lower()
    if not _BASE_DOCS.search(text):
        return Prediction(False, None)
    for gap, regex in _BASE_COMPLAINTS:
        if regex.search(text):
            return Prediction(True, gap, 1.0)
    return Prediction(False, None)


def evaluate(
    records: Iterable[Record], predict: Callable[[Record], Prediction], name: str
) -> EvalResult:
    """Binary figures decide is-gap; per-type figures need the right type as well."""
    result = EvalResult(name)
    for record in records:
        pred = predict(record)
        gold_type = record.gap_type.value if record.is_gap and record.gap_type else NONE
        pred_type = pred.gap_type.value if pred.is_gap and pred.gap_type else NONE
        row = result.confusion.setdefault(gold_type, {})
        row[pred_type] = row.get(pred_type, 0) + 1
        gold = bool(record.is_gap)
        result.outcomes.append(Outcome(gold, pred.is_gap, gold_type, pred_type, record.source))
        source = result.per_source.setdefault(record.source, Scores())
        source.tp += gold and pred.is_gap
        source.fp += pred.is_gap and not gold
        source.fn += gold and not pred.is_gap
        if record.is_gap and pred.is_gap:
            result.overall.tp += 1
        elif pred.is_gap:
            result.overall.fp += 1
            result.false_positives.append((record, pred))
        elif record.is_gap:
            result.overall.fn += 1
            result.false_negatives.append((record, pred))
        for gap, scores in result.per_type.items():
            if gold_type == gap and pred_type == gap:
                scores.tp += 1
            elif pred_type == gap:
                scores.fp += 1
            elif gold_type == gap:
                scores.fn += 1
    return result
