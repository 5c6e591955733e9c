"""Detection rules as data: load `rules/signals/*.yml` (plus user dirs), validate every file with
`file:line` problems, and compile them into a `RuleSet`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from docsgap import __version__
from docsgap.detect import nodes, patterns, redos, redos_nfa, redos_poly, schema
from docsgap.detect.nodes import Problems
from docsgap.detect.patterns import collect_terms
from docsgap.detect.ruleset import RuleSet
from docsgap.detect.schema import assemble, parse_file
from docsgap.docpages.pages import DOCS_MAP_FILE, load_docs_map
from docsgap.errors import RulesError
from docsgap.paths import shipped_rules_dir
from docsgap.yamlload import SAFE_LOADER

MODEL_FILE = "detect-model.json.gz"
"""A rules directory holding a file of this name replaces the shipped detection model."""


def rules_files(extra_dirs: Sequence[Path] = ()) -> list[Path]:
    """The files to load: shipped `signals/*.yml`, then each extra dir (same name overrides)."""
    chosen: dict[str, Path] = {}
    problems: list[str] = []
    for directory in (shipped_rules_dir() / "signals", *map(Path, extra_dirs)):
        if not directory.is_dir():
            problems.append(f"{directory}:0: rules directory does not exist")
            continue
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            if path.name != DOCS_MAP_FILE:  # not a signals file (see docsgap.docpages.pages)
                chosen[path.name] = path
    if problems:
        raise RulesError(problems)
    return list(chosen.values())


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def rules_digest(extra_dirs: Sequence[Path] = ()) -> str:
    """A digest of everything `load_rules` checks: the rules and docs-map files it would read
    and the code that validates them. Equal digests mean an equal verdict, so a run can skip
    checking rules a previous run already loaded (the detector still loads them when used)."""
    digest = hashlib.sha256(__version__.encode())
    for module in (nodes, patterns, redos, redos_nfa, redos_poly, schema):
        digest.update(Path(str(module.__file__)).read_bytes())
    shipped = shipped_rules_dir()
    for directory in (shipped, shipped / "signals", *map(Path, extra_dirs)):
        if not directory.is_dir():
            digest.update(f"missing {directory}".encode())
            continue
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            digest.update(f"{path}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_rules(extra_dirs: Sequence[Path] = ()) -> RuleSet:
    """Load, validate and compile the rules; raise `RulesError` listing every problem."""
    files = rules_files(extra_dirs)
    problems = Problems()
    nodes = []
    for path in files:
        label = _label(path)
        try:
            text = path.read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=SAFE_LOADER)
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(label, 0, f"cannot read: {exc}")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            problems.add(label, line, f"invalid YAML: {getattr(exc, 'problem', exc)}")
            continue
        except RecursionError:  # PyYAML without libyaml composes nested [[[... recursively
            problems.add(label, 0, "invalid YAML: nested too deeply")
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
    models = [Path(d) / MODEL_FILE for d in extra_dirs if (Path(d) / MODEL_FILE).is_file()]
    return replace(ruleset, docs_map=docs_map, model_file=models[-1] if models else None)
