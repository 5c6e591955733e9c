"""Seeded fuzzing of the state file: a real state cut short, with bytes overwritten, or
replaced by random bytes must either open and work, or give `StateError` (exit 9) and stay
byte for byte as it was; damage SQLite only notices later, mid-run, is recognised by
`corrupt_state` (which the CLI turns into exit 9 too), never a traceback. A state from a newer
docsgap (an unknown schema step) is refused untouched. Deterministic: fixed seed and count."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.cli import common
from docsgap.errors import ExitCode, StateError
from docsgap.state import StateStore
from docsgap.state.usable import corrupt_state

CASES = 60


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real state (every migration applied, a few rows), folded back into one file."""
    path = tmp_path_factory.mktemp("good") / "state.db"
    store = StateStore(path)
    store.set_cursor("posts", "1234")
    store.db.table("verdicts").insert({"key": "a:1", "verdict": "accept"}, alter=True)
    store.close()
    return path.read_bytes()


def _damaged(good: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.4:
        return good[: rng.randrange(1, len(good))]
    if roll < 0.8:
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return rng.randbytes(rng.randint(1, 9000))


def _use(path: Path) -> None:
    """Open, read and write, as a run does."""
    store = StateStore(path)
    store.verdicts()
    store.cursor("posts")
    store.set_cursor("posts", "5678")
    store.close()


def test_damaged_state_works_or_is_a_state_error_and_left_alone(
    good: bytes, tmp_path: Path
) -> None:
    rng = random.Random(20261207)
    outcomes = {"works": 0, "refused": 0, "damaged mid-run": 0}
    for n in range(CASES):
        data = _damaged(good, rng)
        path = tmp_path / f"s{n}.db"
        path.write_bytes(data)
        try:
            _use(path)
            outcomes["works"] += 1
        except StateError:
            outcomes["refused"] += 1
            assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest(), n
            assert not path.with_name(path.name + "-wal").exists(), n
        except Exception as exc:  # noqa: BLE001 - must be damage the CLI recognises
            if corrupt_state(exc) is None:
                pytest.fail(f"case {n}: {type(exc).__name__}: {exc}")
            outcomes["damaged mid-run"] += 1
    # Not vacuous: most damage is refused at open.
    assert outcomes["refused"] > 0.5 * CASES, outcomes


def test_state_from_a_newer_docsgap_is_refused_untouched(good: bytes, tmp_path: Path) -> None:
    """Before, an unknown schema step was ignored and the file written (journal mode, new
    rows) as if it were this version's."""
    path = tmp_path / "state.db"
    path.write_bytes(good)
    with sqlite3.connect(path) as conn:
        conn.execute("insert into _sqlite_migrations (migration_set, name, applied_at) "
                     "values ('docsgap', 'm999_from_the_future', '2030-01-01')")
    conn.close()
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StateError, match="newer docsgap .*m999_from_the_future"):
            StateStore(path, read_only=read_only)
    assert path.read_bytes() == before


def test_damaged_schema_text_is_a_state_error(good: bytes, tmp_path: Path) -> None:
    """A flipped byte in the schema's text raised UnicodeDecodeError from the open."""
    data = bytearray(good)
    at = data.index(b'CREATE TABLE "cursors"')
    data[at + 4] = 0xBA  # the "T" of CREATE: a lone UTF-8 continuation byte
    path = tmp_path / "state.db"
    path.write_bytes(bytes(data))
    with pytest.raises(StateError, match="cannot open state"):
        StateStore(path)
    assert path.read_bytes() == bytes(data)


def test_damage_met_mid_run_exits_with_the_state_code() -> None:
    app = typer.Typer()

    @app.command()
    @common.handle_errors
    def run() -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    @app.command()
    @common.handle_errors
    def bug() -> None:
        raise sqlite3.OperationalError("no such column: nope")

    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == int(ExitCode.STATE), result.output
    assert "damaged" in result.output
    assert CliRunner().invoke(app, ["bug"]).exit_code == 1  # bad SQL stays a bug
