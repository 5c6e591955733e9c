"""Rules as data: validation with file:line, examples, user overrides, `docsgap rules check`."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.cli import common, detect_cmd
from docsgap.detect.examples import check_rules
from docsgap.detect.rules import load_rules, rules_files
from docsgap.errors import ExitCode, RulesError
from docsgap.models import GapType
from docsgap.paths import shipped_rules_dir


def test_shipped_rules_are_valid_and_every_example_passes() -> None:
    assert check_rules() == []
    ruleset = load_rules()
    assert {r.gap_type for r in ruleset.rules} == set(GapType)
    assert all(r.examples.match for r in ruleset.rules)
    assert ruleset.docs_map is not None


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(extra: Path) -> list[str]:
    with pytest.raises(RulesError) as err:
        load_rules([extra])
    return err.value.problems


def test_unknown_key_bad_regex_and_duplicate_id_are_reported_with_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.yml", (
        "rules:\n"
        "  - id: mine.one\n"
        "    gap_type: missing\n"
        "    description: one\n"
        "    weight: 1\n"
        "    colour: blue\n"
        "    patterns: ['(unclosed']\n"
        "    examples: {match: [x]}\n"
        "  - id: incorrect.docs-are-wrong\n"
        "    gap_type: sideways\n"
        "    description: dup\n"
        "    weight: 1\n"
        "    phrases: [docs wrong]\n"
        "    examples: {match: [docs wrong]}\n"
    ))
    problems = _problems(tmp_path)
    label = str(path)
    assert any(p.startswith(f"{label}:6: ") and "unknown key 'colour'" in p for p in problems)
    assert any(p.startswith(f"{label}:7: ") and "bad regex" in p for p in problems)
    assert any(p.startswith(f"{label}:10: ") and "sideways" in p for p in problems)
    assert not any(p.startswith(f"{label}:9: ") for p in problems)  # bad rule never registered


def test_duplicate_rule_id_across_files(tmp_path: Path) -> None:
    path = _write(tmp_path, "extra.yml", (
        "rules:\n"
        "  - id: incorrect.docs-are-wrong\n"
        "    gap_type: incorrect\n"
        "    description: again\n"
        "    weight: 1\n"
        "    phrases: [docs wrong]\n"
        "    examples: {match: [docs wrong]}\n"
    ))
    problems = _problems(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:2: duplicate rule id 'incorrect.docs-are-wrong'")


def test_failing_examples_are_listed_by_check(tmp_path: Path) -> None:
    path = _write(tmp_path, "extra.yml", (
        "rules:\n"
        "  - id: extra.rule\n"
        "    gap_type: confusing\n"
        "    description: a phrase\n"
        "    weight: 1\n"
        "    phrases: [reads like a riddle]\n"
        "    examples:\n"
        "      match: [\"This page reads like a riddle.\", \"Nothing here.\"]\n"
        "      no_match: [\"The guide reads like a riddle.\"]\n"
    ))
    failures = check_rules([tmp_path])
    assert failures == [
        f"{path}:8: rule extra.rule: example must match but did not: 'Nothing here.'",
        f"{path}:9: rule extra.rule: example must not match but did: "
        "'The guide reads like a riddle.'",
    ]


def test_user_file_with_a_shipped_name_replaces_it(tmp_path: Path) -> None:
    _write(tmp_path, "broken_link.yml", (
        "rules:\n"
        "  - id: broken_link.only\n"
        "    gap_type: broken_link\n"
        "    description: only this\n"
        "    weight: 1\n"
        "    phrases: [link rot]\n"
        "    examples: {match: [\"Link rot everywhere.\"]}\n"
    ))
    ruleset = load_rules([tmp_path])
    ids = [r.id for r in ruleset.rules if r.gap_type is GapType.BROKEN_LINK]
    assert ids == ["broken_link.only"]
    assert tmp_path / "broken_link.yml" in rules_files([tmp_path])
    assert shipped_rules_dir() / "signals" / "broken_link.yml" not in rules_files([tmp_path])


def test_user_docs_map_is_not_read_as_a_signals_file(tmp_path: Path) -> None:
    shipped = (shipped_rules_dir() / "docs-map.yml").read_text(encoding="utf-8")
    _write(tmp_path, "docs-map.yml", shipped.replace("archives.docs.gitlab.com", "docs.example"))
    ruleset = load_rules([tmp_path])
    assert tmp_path / "docs-map.yml" not in rules_files([tmp_path])
    assert ruleset.docs_map is not None
    assert "docs.example" in ruleset.docs_map.site_hosts


def test_missing_rules_dir_is_a_problem(tmp_path: Path) -> None:
    problems = _problems(tmp_path / "nope")
    assert problems == [f"{tmp_path / 'nope'}:0: rules directory does not exist"]


def _app() -> typer.Typer:
    app = typer.Typer()
    detect_cmd.register(app, common.add_groups(app))
    return app


def test_cli_rules_check_passes_on_shipped_rules() -> None:
    result = CliRunner().invoke(_app(), ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_cli_rules_check_exit_codes(tmp_path: Path) -> None:
    _write(tmp_path / "bad", "x.yml", "rules:\n  - id: Bad Id\n")
    result = CliRunner().invoke(_app(), ["rules", "check", "--rules", str(tmp_path / "bad")])
    assert result.exit_code == int(ExitCode.RULES)
    assert "x.yml:2: " in result.output
    _write(tmp_path / "ex", "x.yml", (
        "rules:\n  - id: x.one\n    gap_type: missing\n    description: d\n    weight: 1\n"
        "    phrases: [nope nope]\n    examples: {match: [\"something else\"]}\n"
    ))
    result = CliRunner().invoke(_app(), ["rules", "check", "--rules", str(tmp_path / "ex")])
    assert result.exit_code == int(ExitCode.CHECK_FAILED)
    assert "x.yml:7: rule x.one: example must match but did not" in result.output


def test_cli_rules_check_checks_the_rules_dirs_run_loads(tmp_path: Path) -> None:
    # Found walking the README: with rules_dirs in docsgap.toml, `run` stopped with exit 4 and
    # doctor said "run `docsgap rules check`", which checked only the shipped rules: "OK".
    _write(tmp_path / "mine", "my.yml", "rules:\n  - id: my.rule\n    patterns: [\"foo\n")
    config = _write(tmp_path, "docsgap.toml", f"rules_dirs = [{str(tmp_path / 'mine')!r}]\n")
    result = CliRunner().invoke(_app(), ["rules", "check", "--config", str(config)])
    assert result.exit_code == int(ExitCode.RULES), result.output
    assert "my.yml:4: invalid YAML" in result.output
    shipped = CliRunner().invoke(_app(), ["rules", "check", "--config", str(config),
                                          "--rules", str(shipped_rules_dir())])
    assert shipped.exit_code == 0, shipped.output  # --rules replaces the config's


def test_thread_cancellers_are_not_listed_in_rules_and_only_staff_replies_boost(
        tmp_path: Path) -> None:
    path = _write(tmp_path, "extra.yml", (
        "cancellers:\n"
        "  - id: mine.boost\n"
        "    scope: author-later\n"
        "    boost: 0.5\n"
        "    phrases: [thanks]\n"
        "rules:\n"
        "  - id: incorrect.mine\n"
        "    gap_type: incorrect\n"
        "    description: mine\n"
        "    weight: 1\n"
        "    phrases: [docs are off]\n"
        "    cancel: [staff-confirms]\n"
        "    examples: {match: [the docs are off]}\n"
    ))
    problems = _problems(tmp_path)
    assert problems[0] == f"{path}:4: canceller mine.boost: boost needs scope: staff-reply"
    assert "judges the thread" in problems[1]
    assert problems[1].startswith(f"{path}:12:")
