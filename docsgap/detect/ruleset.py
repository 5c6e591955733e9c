"""The compiled form of the detection rules: rules, cancellers, examples and settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from docsgap.detect.gate import GateIndex, gate_for, index_of_gates
from docsgap.detect.model import Model, read_model, shipped_model
from docsgap.docpages.pages import DocsMap
from docsgap.models import GapType

NEAR_DOCS = ("sentence", "adjacent", "post")
THREAD_SCOPES = ("author-later", "staff-reply")
"""Judged on the thread: later posts by the signal's author, or replies by staff."""
SCOPES = ("sentence", "before", "after", "adjacent", "post", *THREAD_SCOPES)
NearDocs = str | int | None


@dataclass(frozen=True, slots=True)
class Example:
    """A text a rule (or canceller, or the docs vocabulary) must or must not match."""

    text: str
    where: str
    """`path:line` of the example, for failure messages."""


@dataclass(frozen=True, slots=True)
class Examples:
    """`examples: {match: [...], no_match: [...]}`."""

    match: tuple[Example, ...] = ()
    no_match: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class Canceller:
    """Words that silence (veto) or weaken (penalty) a rule hit near them."""

    id: str
    regex: re.Pattern[str]
    scope: str = "sentence"
    """`sentence`, `before`/`after` (within `window` words of the hit), `adjacent`, `post`; or
    on the thread: `author-later` (the author's later posts), `staff-reply` (staff replies)."""
    window: int = 4
    penalty: float | None = None
    """Weight subtracted from the hit; `None` vetoes it."""
    is_global: bool = False
    """Applies to every rule, not only those that list it."""
    description: str = ""
    where: str = ""
    examples: Examples = Examples()
    boost: float | None = None
    """`staff-reply` only: weight added to the signal (a maintainer confirms the gap)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One detector: words or patterns that signal a gap of one type."""

    id: str
    gap_type: GapType
    regex: re.Pattern[str]
    weight: float
    description: str = ""
    near_docs: NearDocs = None
    """Require a docs reference: in the `sentence`, an `adjacent` one, the `post`, or within N
    words in the same sentence."""
    cancel: tuple[Canceller, ...] = ()
    where: str = ""
    examples: Examples = Examples()
    sources: tuple[str, ...] = ()
    """Each phrase and pattern as a regex (terms expanded); `regex` is their alternation."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Scoring knobs kept with the rules."""

    threshold: float = 1.0
    """A text is a gap when the summed weight of its surviving hits reaches this."""
    type_priority: tuple[GapType, ...] = tuple(GapType)
    """Breaks ties between gap types with equal scores (first wins)."""


@dataclass(frozen=True)
class RuleSet:
    """Every rule, canceller and the docs-reference vocabulary, compiled once."""

    rules: tuple[Rule, ...]
    cancellers: Mapping[str, Canceller]
    docs_ref: re.Pattern[str]
    settings: Settings = Settings()
    files: tuple[Path, ...] = ()
    docs_examples: Examples = Examples()
    docs_map: DocsMap | None = None
    """The docs URL -> source file map from the same rules dirs (`None`: the shipped one)."""
    model_file: Path | None = None
    """A `detect-model.json.gz` from the rules dirs (the last wins; `None`: the shipped one)."""

    @cached_property
    def gate_index(self) -> GateIndex:
        """The literal gates of `rules`, in rule order: made once per ruleset (reading every
        rule's regex costs about 0.1 s), shared by equal rulesets of one process, and kept
        with it in `docsgap.detect.rulecache`."""
        return index_of_gates(tuple(gate_for(r.sources) for r in self.rules))

    @cached_property
    def model(self) -> Model | None:
        """The learned scorer these rules choose: `model_file`, else the shipped one."""
        return read_model(self.model_file) if self.model_file else shipped_model()

    @cached_property
    def twins(self) -> dict[tuple[str, int], re.Pattern[str] | None]:
        """`gate.lowercase_twin` of each regex (pattern, flags) met so far: filled by the
        detector's searchers as they are made, and for every rule and canceller before the
        ruleset is kept (`docsgap.detect.rulecache`)."""
        return {}
