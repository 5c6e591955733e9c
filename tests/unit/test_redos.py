"""A rule pattern that can backtrack exponentially is refused by `rules check` (and so by every
command that loads the rules), before one post can hang detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.detect.redos import catastrophic

RULE = """rules:
  - id: test.slow
    gap_type: missing
    description: A pattern with a repeat in a repeat.
    weight: 1.0
    patterns:
      - 'docs (?:are )?missing'
      - '{pattern}'
"""


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(?:\w+\s?)*!", r"(a|b+)+", r"(?:(?:ab)+)+", r"(x+x+)+y", r"(a+){2,}",
    r"(?:[\w-]+\s*)*wrong",
])
def test_nested_repeats_that_can_trade_characters_are_refused(pattern: str) -> None:
    assert catastrophic(pattern) is not None


@pytest.mark.parametrize("pattern", [
    r"(\s+\w+)+", r"(\w+\s)+", r"\w+\s+\w+", r"(?>a+)+", r"(a++)+", r"(?:x(a+))+",
    r"(?:links?|urls?)\s+(?:[\w-]+\s+)?(?:broken|dead)", r"not (?:working|found)",
    r"docs? (?:are )?(?:(?:very|really)\s*)+\w+ing", r"(?:\d+\s*x\s*)+",
])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert catastrophic(pattern) is None


@pytest.fixture
def slow_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "slow.yml").write_text(RULE.format(pattern="(a+)+$"), encoding="utf-8")
    return rules


def test_rules_check_names_the_file_and_line(slow_rules: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "check", "--rules", str(slow_rules)])
    assert result.exit_code == 4, result.output
    assert "slow.yml:8:" in result.output and "repeat inside another repeat" in result.output


def test_detection_refuses_the_rule_instead_of_hanging(slow_rules: Path, tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": 1, "title": "t", "text": "a" * 40 + "!"}) + "\n",
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", "--input", str(posts), "--rules",
                                      str(slow_rules)])
    assert result.exit_code == 4, result.output
