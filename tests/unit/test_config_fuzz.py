"""Seeded fuzzing of the configuration: docsgap.toml.example with keys dropped or given values
of other types (TOML's inf and nan, huge and negative numbers, fractions, nested tables and
lists of junk) must give a well-typed `Config` or a `ConfigError` naming the key (exit 3),
never another exception or a value that breaks a run later (a list in `ignore_tags`, a nan
timeout). The TOML text itself is cut and garbled too. Deterministic: fixed seeds and counts."""

from __future__ import annotations

import dataclasses
import math
import random
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

from docsgap.config import load_config
from docsgap.config.schema import Config
from docsgap.config.validate import apply_mapping, check_merged
from docsgap.errors import ConfigError, ExitCode
from tests.unit.mutate import mutants

CASES = 500
TEXT_CASES = 150
EXAMPLE = Path(__file__).resolve().parents[2] / "docsgap.toml.example"


def _toml_only(value: Any) -> Any:
    """TOML has no null: a `None` the mutator put in is left out, as a user cannot write it."""
    if isinstance(value, dict):
        return {k: _toml_only(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_only(v) for v in value if v is not None]
    return value


def _check(cfg: Config) -> None:
    """Every value has its declared type, so the run can use it."""
    for part in (cfg, cfg.forum, cfg.gitlab, cfg.dedup, cfg.policy, cfg.docs):
        hints = typing.get_type_hints(type(part))
        for f in dataclasses.fields(part):
            value, kind = getattr(part, f.name), hints[f.name]
            if kind is int:
                assert type(value) is int, (f.name, value)
            elif kind is float:
                assert type(value) in (int, float) and math.isfinite(value), (f.name, value)
            elif kind is str:
                assert isinstance(value, str), (f.name, value)
            elif kind == tuple[str, ...]:
                assert all(isinstance(v, str) for v in value), (f.name, value)
            elif kind == tuple[int, ...]:
                assert all(type(v) is int for v in value), (f.name, value)
    assert all(isinstance(v, str) for vs in cfg.gitlab.labels_by_gap.values() for v in vs)
    assert all(isinstance(p, Path) for p in (cfg.state_path, *cfg.rules_dirs))


def test_mutated_config_is_usable_or_a_config_error_naming_the_key() -> None:
    base = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    outcomes = {"usable": 0, "rejected": 0}
    for n, (data, done) in enumerate(mutants(base, random.Random("config-20261207"), CASES)):
        data = _toml_only(data)
        message = None
        try:
            cfg = apply_mapping(Config(), data, "docsgap.toml")
            check_merged(cfg)
        except ConfigError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - the fuzz reports any escape with its case
            pytest.fail(f"case {n} ({'; '.join(done)}): {type(exc).__name__}: {exc}")
        if message is None:
            _check(cfg)
            outcomes["usable"] += 1
            continue
        outcomes["rejected"] += 1
        # Named: a key the mutation touched (or its section) appears in the message.
        keys = {str(step) for line in done for step in _path_of(line)}
        assert any(k in message for k in keys), (n, done, message)
    # Not vacuous: most mutations are refused, and some leave a usable config.
    assert outcomes["rejected"] > 0.5 * CASES, outcomes
    assert outcomes["usable"] > 0.1 * CASES, outcomes


def _path_of(line: str) -> tuple[Any, ...]:
    """The path in a mutation's record ("set ('forum', 'timeout') = nan")."""
    start, end = line.index("("), line.index(")")
    return tuple(p.strip(" '\"") for p in line[start + 1 : end].split(",") if p.strip())


GARBLE = ["", "=", "[", "]", "[[x]]", '"', "'''", "\\", "inf", "nan", "1979-05-27", "{", "}",
          "[forum]", "x.y.z = 1", "\x00", "\ufeff", "\t", "= =", "a = [1, 'b']"]


def test_garbled_config_text_is_a_config_error(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    rng = random.Random("config-text")
    outcomes = {"usable": 0, "rejected": 0}
    for n in range(TEXT_CASES):
        lines = text.splitlines()
        at = rng.randrange(len(lines))
        if rng.random() < 0.3:
            garbled = text[: rng.randrange(len(text))]
        else:
            lines.insert(at, rng.choice(GARBLE) + rng.choice(["", " ", " = 1"]))
            garbled = "\n".join(lines)
        path = tmp_path / f"c{n}.toml"
        path.write_text(garbled, encoding="utf-8")
        try:
            _check(load_config(path, env={}))
        except ConfigError as exc:
            message = str(exc)
        else:
            outcomes["usable"] += 1
            continue
        outcomes["rejected"] += 1
        # The file (a syntax error, a key in it) or the merged key (`dedup.x = ...`).
        assert str(path) in message or "." in message.split(" ")[0], message
    assert outcomes["rejected"] > 0.3 * TEXT_CASES and outcomes["usable"] > 0, outcomes


# --- escapes the fuzz found (each failed before its fix) ----------------------------------------


@pytest.mark.parametrize(("toml", "named"), [
    ("max_actions = inf", "max_actions"),  # int(inf): OverflowError
    ("[forum]\ninitial_pages = -inf", "initial_pages"),
    ("[forum]\ntimeout = nan", "timeout"),  # nan passed the `<= 0` check
    ("[gitlab]\ntimeout = inf", "timeout"),
    ("[forum]\ninitial_pages = 1.5", "initial_pages"),  # silently 1
    ("[forum]\nmax_requests = true", "max_requests"),  # silently 1
    ("[forum]\nignore_tags = [[]]", "ignore_tags"),  # act/plan.py set(ignore_tags): unhashable list
    ("[gitlab]\nissue_labels = [1, {a = 2}]", "issue_labels"),
    ("[gitlab.labels_by_gap]\nmissing = [{a = 1}]", "labels_by_gap.missing"),
    ("state_path = 5", "state_path"),
    ("rules_dirs = [{a = 1}]", "rules_dirs"),
])
def test_config_value_of_the_wrong_kind_is_a_config_error(
    tmp_path: Path, toml: str, named: str
) -> None:
    path = tmp_path / "docsgap.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as caught:
        load_config(path, env={})
    assert caught.value.exit_code is ExitCode.CONFIG
    assert str(path) in str(caught.value)
