"""Whether a state file may be used (`check_usable`, `refuse_newer`), and SQLite's errors met
later that mean the file is damaged or the disk full, as `StateError`s (exit 9) that say what
to do: a state that would silently lose work is refused, never replaced."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from docsgap.errors import StateError
from docsgap.state.schema import migrations

CORRUPT_HINT = (
    "restore a saved copy (in CI: `docsgap state pull`); or move the file aside and run again: "
    "issues, notes and replies are found again by their markers, but review verdicts are lost"
)


def check_usable(path: Path, *, read_only: bool = False) -> None:
    """Refuse a state file that would silently lose work: an empty (0-byte) file is not a
    fresh start but a state that was cut short, and a read-only one must not be replaced."""
    if not path.exists():
        return
    if path.is_dir():  # SQLite's "unable to open database file" led to the corrupt-file advice
        raise StateError(f"state {path} is a folder, not a state file",
                         hint=f"give a file path, e.g. --state {path / 'state.db'}")
    if path.is_file() and path.stat().st_size == 0:
        raise StateError(
            f"state {path} is empty (0 bytes): it holds none of docsgap's records",
            hint="if it was cut short, restore a saved copy (in CI: `docsgap state pull`); "
            "to start afresh on purpose, delete it",
        )
    if read_only:
        return
    # SQLite writes its journal beside the database, so the directory must be writable too.
    for where in (path, path.parent):
        if not os.access(where, os.W_OK):
            raise StateError(
                f"state {path} is read-only ({where} is not writable)",
                hint=f"make it writable (chmod u+w {where}) or run as its owner; do not delete "
                "it: its review verdicts cannot be rebuilt. `docsgap report` reads it as it is",
            )


def refuse_newer(db: Database, path: str) -> None:
    """A state a newer docsgap migrated has steps this one does not know: writing it could
    break what those steps made, so it is refused untouched."""
    known = {m.name for m in migrations.pending(Database(memory=True))}  # all of this docsgap's
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if unknown:
        raise StateError(
            f"state {path} was written by a newer docsgap (schema step {unknown[-1]} is unknown "
            "to this one); it was left as it was",
            hint="upgrade docsgap (`pip install -U docsgap`), or point --state at another file",
        )


def corrupt_state(exc: BaseException) -> StateError | None:
    """SQLite's word, met after opening, that the file is damaged, as a `StateError`; None for
    any other exception. Damage is a bare `DatabaseError` (`database disk image is malformed`,
    `file is not a database`; its subclasses are bad SQL or a locked file), stored text that is
    not UTF-8, or a damaged column name, which `sqlite3` decodes inside sqlite-utils."""
    if type(exc) is sqlite3.DatabaseError or (
        isinstance(exc, sqlite3.OperationalError) and "decode to UTF-8" in str(exc)
    ):
        return StateError(f"the state file is damaged: {exc}", hint=CORRUPT_HINT)
    if isinstance(exc, UnicodeDecodeError) and _raised_in_sqlite_utils(exc):
        return StateError(f"the state file is damaged: {exc}", hint=CORRUPT_HINT)
    return None


def disk_full(exc: BaseException) -> StateError | None:
    """No room left where the state lives (SQLite's `database or disk is full`, or ENOSPC
    from any write) as a `StateError`; None for any other exception. SQLite rolls back the
    step it could not finish, so what was recorded before stays."""
    full = isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)
    if not full and not (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return None
    return StateError(
        f"no space left to write: {exc}",
        hint="free space on the disk that holds the state (state_path) and run the same "
        "command again: the step that failed was rolled back, what was recorded before is "
        "kept, and a write already made on GitLab or the forum is found again by its marker")


def _raised_in_sqlite_utils(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}sqlite_utils{os.sep}" in tb.tb_frame.f_code.co_filename
