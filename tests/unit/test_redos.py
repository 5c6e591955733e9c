"""A rule pattern that can backtrack exponentially is refused by `rules check` (and so by every
command that loads the rules), before one post can hang detection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.detect.redos import catastrophic
from docsgap.detect.rules import load_rules

RULE = """rules:
  - id: test.slow
    gap_type: missing
    description: A pattern with a repeat in a repeat.
    weight: 1.0
    patterns:
      - 'docs (?:are )?missing'
      - '{pattern}'
"""

_WITNESS = re.compile(r"the text '(.*?)' can be matched in more than one way")


@pytest.mark.parametrize(("pattern", "chars"), [
    # a repeat in a repeat: each character can go to either
    (r"(a+)+$", "a"), (r"(?:\w+\s?)*!", None), (r"(a|b+)+", "b"), (r"(?:(?:ab)+)+", "ab"),
    (r"(x+x+)+y", "x"), (r"(a+){2,}", "a"), (r"(?:[\w-]+\s*)*wrong", None),
    # bounding the inner repeat does not help: a run still splits in 2^n ways
    (r"(a{1,50})+$", "a"),
    # alternatives that overlap inside a repeat (re factors `a|aa` into `a(?:|a)`)
    (r"(?:a|aa)*c", "a"), (r"(?:ab|a|b)*x", "ab"), (r"(?:\w|\d\d)+$", None),
    (r"(?:a|a)*b", "a"), (r"(?:a|b|ab)+x", "ab"),
    # one text as one iteration or as two ("a little bit" is "a little" then "bit")
    (r"(?:(?:a bit|a little|a little bit|bit),?\s+)*done", "a litebt ,"),
    # optional parts that can be skipped in two ways, or split between iterations
    (r"(?:a?b?)*c", "ab"), (r"(?:(?:a?|b?)c)+x", "abc"),
    # after each iteration re may try one that matches empty: two ways to leave `(?:b?)*`
    (r"(?:ab(?:b?)*)+c", "ab"),
    # a large bound is as bad as none
    (r"(?:a|aa){0,100}c", "a"),
    # inside a lookahead
    (r"x(?=(?:a|aa)*c)", "a"),
])
def test_patterns_with_two_ways_through_a_repeat_are_refused(pattern: str,
                                                            chars: str | None) -> None:
    why = catastrophic(pattern)
    assert why is not None and "backtrack exponentially" in why
    witness = _WITNESS.search(why)
    assert witness and witness.group(1)
    if chars is not None:  # the text to repeat is made of what the repeat reads
        assert set(witness.group(1)) <= set(chars), witness.group(1)


@pytest.mark.parametrize("pattern", [
    r"(\s+\w+)+", r"(\w+\s)+", r"\w+\s+\w+", r"(?>a+)+", r"(a++)+", r"(?:x(a+))+",
    r"(?:links?|urls?)\s+(?:[\w-]+\s+)?(?:broken|dead)", r"not (?:working|found)",
    r"docs? (?:are )?(?:(?:very|really)\s*)+\w+ing", r"(?:\d+\s*x\s*)+",
    # disjoint alternatives, or alternatives that share a start but not a whole text
    r"(?:a|b)*c", r"(?:a|ab)*c", r"(?:ab|cd|a)*x", r"(?:kind of|kinda|so|somehow)\s*",
    # re merges `\w|\d` into one class: one way per character
    r"(?:\w|\d)+$",
    # a required separator between iterations
    r"(?:\w+,\s*)+x", r"(?:[\w.-]+\s+){0,2}?x", r"(?:\w+-)+\w+x",
    # small bounds: the ways are few
    r"(?:a|aa){0,3}c", r"(?:a|aa){2,5}c", r"(?:\w+\s){1,3}!",
    # repeats side by side that cannot share a long run: a required character between them
    # that one cannot read, a word boundary, bounds, or only whitespace (detection collapses
    # each run of it into one space)
    r"\w+-\w+x", r"\w+x\d+y", r"\w+\b\s*\w+", r".{0,60}?but.{0,30}x",
    r"\s*\s*$", r"docs\s*[:,-]?\s*(?:is\s+)?wrong", r"(?<![\w-])[\w-]+\.md",
    # ambiguity outside any repeat is a constant factor
    r"(?:a|a)b", r"(?:ab|a)(?:b|)c",
])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert catastrophic(pattern) is None


@pytest.mark.parametrize(("pattern", "repeats", "run"), [
    (r"\w+\s*\w+x", "`\\w+` and `\\w+`", "a"), (r"\w+-?\w+$", "`\\w+` and `\\w+`", "a"),
    (r".*x.*y", "`.*` and `.*`", "x"), (r"[\w-]+-[\w-]+x", "`[...]+` and `[...]+`", "-"),
    (r"(?:docs\s+)?\w+\w*x", "`\\w+` and `\\w*`", "a"), (r"a.*?b.*?c", "`.*` and `.*`", "b"),
    (r"(?:\w+\s)+\w+\w+", "`\\w+` and `\\w+`", "a"),
    (r"(?:\w?)+\w+x", "`[...]+` and `\\w+`", "a"),
    # a small bound on a repeat of a repeat: its copies split one run (200 letters: 4.6 s)
    (r"(?:\w+\s?){1,3}!", "`\\w+` and `\\w+`", "a"), (r"x(?=\w+\w+y)", "`\\w+` and `\\w+`", "a"),
])
def test_two_repeats_that_share_a_run_are_refused(pattern: str, repeats: str, run: str) -> None:
    why = catastrophic(pattern)
    assert why is not None and "square or cube of a post's length" in why
    assert f"{repeats} are long repeats in a row that can both read a run of {run!r}" in why


def test_every_shipped_pattern_passes() -> None:
    """No false alarm on the shipped rules, pattern by pattern (loading checks them joined)."""
    rules = load_rules()
    sources = [s for rule in rules.rules for s in rule.sources]
    sources += [c.regex.pattern for c in rules.cancellers.values()]
    assert len(sources) > 100
    assert [s for s in sources if catastrophic(s)] == []


def test_bad_regex_is_left_to_the_caller() -> None:
    assert catastrophic("(a+") is None


@pytest.fixture
def slow_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "slow.yml").write_text(RULE.format(pattern="(?:a|aa)*c"), encoding="utf-8")
    return rules


def test_rules_check_names_the_file_line_and_fix(slow_rules: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "check", "--rules", str(slow_rules)])
    assert result.exit_code == 4, result.output
    assert "slow.yml:8:" in result.output and "backtrack exponentially" in result.output
    assert "drop an alternative the others already cover" in result.output


def test_detection_refuses_the_rule_instead_of_hanging(slow_rules: Path, tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": 1, "title": "t", "text": "a" * 40 + "!"}) + "\n",
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", "--input", str(posts), "--rules",
                                      str(slow_rules)])
    assert result.exit_code == 4, result.output
