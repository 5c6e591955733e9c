"""Detection rules as data: load `rules/signals/*.yml` (plus user dirs), validate every file with
`file:line` problems, and compile them into a `RuleSet`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from docsgap.docpages import DOCS_MAP_FILE, DocsMap, load_docs_map
from docsgap.errors import RulesError
from docsgap.models import GapType
from docsgap.paths import shipped_rules_dir
from docsgap.rules_schema import Problems, assemble, collect_terms, parse_file

NEAR_DOCS = ("sentence", "adjacent", "post")
SCOPES = ("sentence", "before", "after", "adjacent", "post")
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
    """`sentence`, `before`/`after` (within `window` words of the hit), `adjacent`, `post`."""
    window: int = 4
    penalty: float | None = None
    """Weight subtracted from the hit; `None` vetoes it."""
    is_global: bool = False
    """Applies to every rule, not only those that list it."""
    description: str = ""
    where: str = ""
    examples: Examples = Examples()


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


def rules_files(extra_dirs: Sequence[Path] = ()) -> list[Path]:
    """The files to load: shipped `signals/*.yml`, then each extra dir (same name overrides)."""
    chosen: dict[str, Path] = {}
    problems: list[str] = []
    for directory in (shipped_rules_dir() / "signals", *map(Path, extra_dirs)):
        if not directory.is_dir():
            problems.append(f"{directory}:0: rules directory does not exist")
            continue
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            if path.name != DOCS_MAP_FILE:  # not a signals file (see docpages)
                chosen[path.name] = path
    if problems:
        raise RulesError(problems)
    return list(chosen.values())


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_rules(extra_dirs: Sequence[Path] = ()) -> RuleSet:
    """Load, validate and compile the rules; raise `RulesError` listing every problem."""
    files = rules_files(extra_dirs)
    problems = Problems()
    nodes = []
    for path in files:
        label = _label(path)
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(label, 0, f"cannot read: {exc}")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            problems.add(label, line, f"invalid YAML: {getattr(exc, 'problem', exc)}")
            continue
        if node is not None:
            nodes.append((label, node))
    terms: dict[str, str] = {}
    for label, node in nodes:
        collect_terms(label, node, problems, terms)
    parsed = [parse_file(label, node, problems, terms) for label, node in nodes]
    ruleset = assemble(parsed, tuple(files), problems)
    try:
        docs_map = load_docs_map(extra_dirs)
    except RulesError as exc:
        problems.items.extend(exc.problems)
        docs_map = None
    if problems.items or ruleset is None:
        raise RulesError(problems.items or ["no rules loaded"])
    return replace(ruleset, docs_map=docs_map)


def check_rules(extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Every validation problem, or else every failing example, as `path:line: message`."""
    try:
        ruleset = load_rules(extra_dirs)
    except RulesError as exc:
        return exc.problems
    return failing_examples(ruleset)


def failing_examples(ruleset: RuleSet) -> list[str]:
    """Run the examples of every rule, canceller and the docs vocabulary."""
    from docsgap.detect import Detector  # detect imports this module

    detector = Detector(ruleset)
    out: list[str] = []

    def report(ex: Example, owner: str, must: bool) -> None:
        verb = "must match but did not" if must else "must not match but did"
        out.append(f"{ex.where}: {owner}: example {verb}: {ex.text!r}")

    for rule in ruleset.rules:
        for ex in rule.examples.match:
            if not detector.rule_fires(rule, ex.text):
                report(ex, f"rule {rule.id}", True)
        for ex in rule.examples.no_match:
            if detector.rule_fires(rule, ex.text):
                report(ex, f"rule {rule.id}", False)
    for canceller in ruleset.cancellers.values():
        for ex in canceller.examples.match:
            if not canceller.regex.search(ex.text.lower()):
                report(ex, f"canceller {canceller.id}", True)
        for ex in canceller.examples.no_match:
            if canceller.regex.search(ex.text.lower()):
                report(ex, f"canceller {canceller.id}", False)
    for ex in ruleset.docs_examples.match:
        if not detector.has_docs_ref(ex.text):
            report(ex, "docs_refs", True)
    for ex in ruleset.docs_examples.no_match:
        if detector.has_docs_ref(ex.text):
            report(ex, "docs_refs", False)
    return out
