"""Run the examples every rule, canceller and the docs vocabulary carry (`rules check`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.detect.ruleset import Example, RuleSet
from docsgap.errors import RulesError


def failing_examples(ruleset: RuleSet) -> list[str]:
    """Run the examples of every rule, canceller and the docs vocabulary."""
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


def check_rules(extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Every validation problem, or else every failing example, as `path:line: message`."""
    try:
        ruleset = load_rules(extra_dirs)
    except RulesError as exc:
        return exc.problems
    return failing_examples(ruleset)
