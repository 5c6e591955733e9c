"""Literal gates and the fast regex twins: cheaper checks that never change what matches."""

from __future__ import annotations

import re

import pytest

from docsgap.detect.gate import GateIndex, LiteralFinder, gate_for, lowercase_twin
from docsgap.detect.rules import load_rules
from docsgap.detect.ruleset import RuleSet


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules()


def test_literal_finder_finds_overlapping_and_prefix_literals() -> None:
    finder = LiteralFinder({"doc", "docs", "ocs", "not ", "not clear"})
    assert finder.find("the docs are not clear") == {"doc", "docs", "ocs", "not ", "not clear"}
    assert finder.find("nothing here") == set()


def test_gate_needs_every_required_literal_set() -> None:
    gate = gate_for([r"\bdocs?\b.{0,20}\b(?:wrong|incorrect)\b"])
    assert gate is not None
    assert gate.passes({"docs", "wrong"})
    assert not gate.passes({"docs"})
    assert gate_for([r"\w+"]) is None  # no literal: the rule runs on every sentence


def test_gate_index_picks_per_sentence_and_keeps_ungated_rules() -> None:
    index = GateIndex([gate_for([r"docs .* wrong"]), None, gate_for([r"broken link"])])
    picked = index.candidates_each(["the docs are wrong", "a broken link", "nothing", ""])
    assert picked == [[0, 1], [1, 2], [1], [1]]
    assert index.candidates("the docs are wrong") == [0, 1]


def test_no_gate_rejects_a_sentence_its_rule_matches(ruleset: RuleSet) -> None:
    index = GateIndex([gate_for(r.sources) for r in ruleset.rules])
    texts = [ex.text.lower() for r in ruleset.rules for ex in r.examples.match]
    for text, picked in zip(texts, index.candidates_each(texts), strict=True):
        for n, rule in enumerate(ruleset.rules):
            if rule.regex.search(text):
                assert n in picked, (rule.id, text)


@pytest.mark.parametrize(
    "pattern", [r"[A-Z]x", r"\bI\b", r"\x41", r"[^A]", "\u017f", "caf\u00e9", r"[ -~]"]
)
def test_no_twin_when_case_folding_could_matter(pattern: str) -> None:
    assert lowercase_twin(re.compile(pattern, re.I)) is None


def test_twin_matches_like_the_original_on_ascii_lower_case_text() -> None:
    regex = re.compile(r"(?<![\w-])docs?\b\W+(?:is|are)\s+(?:out[\s-]of[\s-]date|wrong)", re.I)
    twin = lowercase_twin(regex)
    assert twin is not None and not twin.flags & re.I
    for text in ["the docs are wrong.", "docs - is out-of-date", "my-docs are wrong", "nope"]:
        m, t = regex.search(text), twin.search(text)
        assert (m and m.span()) == (t and t.span())
    plain = re.compile("abc")
    assert lowercase_twin(plain) is plain


def test_every_shipped_pattern_has_a_twin(ruleset: RuleSet) -> None:
    patterns = [r.regex for r in ruleset.rules] + [c.regex for c in ruleset.cancellers.values()]
    assert all(lowercase_twin(p) is not None for p in [*patterns, ruleset.docs_ref])
