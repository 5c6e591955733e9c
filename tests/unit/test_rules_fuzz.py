"""Seeded fuzzing of the rules loader: a shipped rules file with lines dropped, doubled,
re-indented or cut, values replaced by YAML oddities (`.inf`, `0x1F`, `1:30`, tags, aliases,
flow junk) and patterns by bad or huge regexes must load or raise `RulesError` whose every
problem is `file:line: message` for a file that was loaded, never another exception (exit 1).
Deterministic: a fixed seed and case count. The ReDoS check (`detect.redos`, ~1 s for the
shipped patterns) is stubbed here: it is not what is fuzzed, and it runs only on patterns that
compile."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.cli import common, detect_cmd
from docsgap.detect import patterns, rules
from docsgap.detect.rules import load_rules
from docsgap.docpages.docsmap import _load as _load_map
from docsgap.errors import ExitCode, RulesError
from docsgap.paths import shipped_rules_dir

CASES = 80
SIGNALS = shipped_rules_dir() / "signals"
VALUES = [
    ".inf", "-.inf", ".nan", "1e400", "0x1F", "0o17", "0b101", "190:20:30", "1_000", "+5", "-3",
    "0", "~", "null", "true", "yes", "[]", "{}", "[a, [b]]", "{a: {b: c}}", '"unterminated', "[",
    "!!binary aGk=", "!!python/object:os.system x", "*nope", "&a x", "!!int x", "!!float y",
    "!!bool maybe", "2024-01-01", "|", "- - -", "? x", "'a{99999999999}'", "'(?i)x'",
    "'(?P<g>x)'", "'('", "'\\'", "'x{1,2}{3}'", "'{nope}'", "'(?:)'",
    "'" + "(" * 1200 + "x" + ")" * 1200 + "'", "\t", '"\\x00"', "9" * 400,
]
EXTRA = ["x: 1", "- y", "foo:", "z: [", "  - ", "id: broken_link.link-broken", "cancel: [nope]"]


@pytest.fixture(autouse=True)
def _no_redos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "catastrophic", lambda _pattern: None)


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        valued = [n for n, line in enumerate(lines) if re.match(r"\s*(- )?[\w-]+: \S", line)]
        items = [n for n, line in enumerate(lines) if line.lstrip().startswith("- ")]
        roll = rng.random()
        if roll < 0.7 and (valued or items):
            n = rng.choice(valued if valued and (rng.random() < 0.6 or not items) else items)
            line = lines[n]
            cut = line.index(": ") + 2 if n in valued and ": " in line else line.index("- ") + 2
            lines[n] = line[:cut] + rng.choice(VALUES)
            continue
        n = rng.randrange(len(lines))
        if roll < 0.8:
            del lines[n]
        elif roll < 0.85:
            lines.insert(n, lines[n])
        elif roll < 0.9:
            lines[n] = " " * rng.randint(0, 7) + lines[n].lstrip()
        elif roll < 0.95:
            lines.insert(n, " " * rng.randint(0, 6) + rng.choice(EXTRA))
        else:
            lines = [*lines[:n], lines[n][: rng.randrange(len(lines[n]) + 1)]]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


def _load(monkeypatch: pytest.MonkeyPatch, files: list[Path]) -> str:
    """`load_rules` over just `files` (the docs vocabulary and one rules file): 'loaded' or
    'rejected', with every problem checked to name a loaded file and a line."""
    monkeypatch.setattr(rules, "rules_files", lambda _dirs=(): files)
    try:
        load_rules()
    except RulesError as exc:
        problems = exc.problems
    else:
        return "loaded"
    names = "|".join(re.escape(str(f)) for f in files)
    bad = [p for p in problems if not re.match(rf"(?:{names}):\d+: \S", p)]
    assert problems and not bad, bad
    return "rejected"


def test_mutated_rules_file_loads_or_is_a_rules_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261207)
    vocabulary = SIGNALS / "docs_refs.yml"
    names = sorted(p.name for p in SIGNALS.glob("*.yml"))
    outcomes = {"loaded": 0, "rejected": 0}
    for n in range(CASES):
        name = rng.choice(names)
        path = tmp_path / f"case{n}.yml"
        path.write_text(_mutate((SIGNALS / name).read_text(encoding="utf-8"), rng),
                        encoding="utf-8")
        files = [path] if name == "docs_refs.yml" else [vocabulary, path]
        try:
            outcomes[_load(monkeypatch, files)] += 1
        except Exception as exc:  # noqa: BLE001 - the fuzz reports any escape with its case
            pytest.fail(f"case {n} ({path}): {type(exc).__name__}: {exc}")
    # Not vacuous: most mutations are caught, and some leave a loadable file.
    assert outcomes["rejected"] > 0.5 * CASES, outcomes
    assert outcomes["loaded"] > 0, outcomes


# --- escapes the fuzz found (each failed before its fix) ----------------------------------------

RULE = """rules:
  - id: x.one
    gap_type: missing
    description: d
    weight: {weight}
    near_docs: {near}
    patterns: ['{pattern}']
    examples: {{match: ["no docs for it"]}}
"""


def _rule_file(tmp_path: Path, **over: str) -> list[Path]:
    values = {"weight": "1", "near": "sentence", "pattern": r"\bno docs\b", **over}
    path = tmp_path / "x.yml"
    path.write_text(RULE.format(**values), encoding="utf-8")
    return [SIGNALS / "docs_refs.yml", path]


@pytest.mark.parametrize(("field", "value", "line", "message"), [
    ("weight", ".inf", 5, "expected a number above 0"),  # float('.inf'): ValueError
    ("weight", "1.0e+400", 5, "expected a number above 0"),  # parsed as inf and accepted
    ("weight", "!!int x", 5, "expected a number above 0"),
    ("near", "0x10", 0, ""),  # int('0x10'): ValueError; YAML reads 16
    ("pattern", "a{99999999999}", 7, "the repetition number is too large"),  # OverflowError
    ("pattern", "(" * 1200 + "x" + ")" * 1200, 7, "nested too deeply"),  # RecursionError
])
def test_rules_value_yaml_or_re_reads_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: str, line: int,
    message: str,
) -> None:
    files = _rule_file(tmp_path, **{field: value})
    if not message:
        assert _load(monkeypatch, files) == "loaded"
        return
    with pytest.raises(RulesError) as caught:
        load_rules_only(monkeypatch, files)
    assert any(p.startswith(f"{files[1]}:{line}: ") and message in p
               for p in caught.value.problems), caught.value.problems


def load_rules_only(monkeypatch: pytest.MonkeyPatch, files: list[Path]) -> None:
    monkeypatch.setattr(rules, "rules_files", lambda _dirs=(): files)
    load_rules()


def test_docs_refs_that_do_not_combine_are_a_rules_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docs pattern with a global flag compiles alone but not in the docs alternation:
    re.error escaped from `assemble`."""
    path = tmp_path / "docs_refs.yml"
    text = (SIGNALS / "docs_refs.yml").read_text(encoding="utf-8")
    assert "\ndocs_refs:\n  phrases:\n" in text
    path.write_text(text.replace("\ndocs_refs:\n", "\ndocs_refs:\n  patterns: ['(?i)docs']\n", 1),
                    encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules_only(monkeypatch, [path])
    assert any(p.startswith(f"{path}:") and "global flags" in p for p in caught.value.problems)


def test_cli_rules_check_exits_with_the_rules_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    text = RULE.format(weight=".inf", near="sentence", pattern="a{99999999999}")
    (bad / "x.yml").write_text(text, encoding="utf-8")
    app = typer.Typer()
    detect_cmd.register(app, common.add_groups(app))
    result = CliRunner().invoke(app, ["rules", "check", "--rules", str(bad)])
    assert result.exit_code == int(ExitCode.RULES), result.output
    assert "x.yml:5: " in result.output and "x.yml:7: " in result.output


# --- the docs map (rules/docs-map.yml), loaded with the rules ----------------------------------

DOCS_MAP = shipped_rules_dir() / "docs-map.yml"
MAP_CASES = 150


def test_mutated_docs_map_loads_or_is_a_rules_error(tmp_path: Path) -> None:
    rng = random.Random("docs-map-20261207")
    text = DOCS_MAP.read_text(encoding="utf-8")
    outcomes = {"loaded": 0, "rejected": 0}
    for n in range(MAP_CASES):
        path = tmp_path / f"map{n}.yml"
        path.write_text(_mutate(text, rng), encoding="utf-8")
        try:
            _load_map(path)
        except RulesError as exc:
            problems = exc.problems
        except Exception as exc:  # noqa: BLE001 - the fuzz reports any escape with its case
            pytest.fail(f"case {n} ({path}): {type(exc).__name__}: {exc}")
        else:
            outcomes["loaded"] += 1
            continue
        outcomes["rejected"] += 1
        assert problems and all(re.match(rf"{re.escape(str(path))}:\d+: \S", p)
                                for p in problems), problems
    assert outcomes["rejected"] > 0.5 * MAP_CASES and outcomes["loaded"] > 0, outcomes


@pytest.mark.parametrize(("old", "new", "message"), [
    # yaml.safe_load(yaml.serialize(node)) raised KeyError, ConstructorError, ParserError.
    ("home_is_page: false", "home_is_page: !!bool maybe", "expected true or false"),
    ("home_is_page: false", "home_is_page: !!python/object:os.system x", "expected true or false"),
    ("home_is_page: false", "home_is_page: !!int x", "expected true or false"),
    # re's OverflowError and RecursionError escaped the `re.error` handlers.
    ("    - '\\d+\\.\\d+'", "    - 'a{99999999999}'", "repetition number is too large"),
    ("    - '\\d+\\.\\d+'", "    - '" + "(" * 1200 + "x" + ")" * 1200 + "'", "nested too deeply"),
])
def test_docs_map_value_of_the_wrong_kind_is_a_rules_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = DOCS_MAP.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "docs-map.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        _load_map(path)
    assert any(p.startswith(f"{path}:") and message in p for p in caught.value.problems), (
        caught.value.problems)
