"""A state file as an older docsgap left it, for the upgrade tests."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from docsgap.state.schema import migrations


def state_before(path: Path, migration: str) -> Database:
    """The state at `path` with every schema step before `migration` applied and recorded, as
    the docsgap that had not that step yet wrote it (open: the caller adds rows, then closes)."""
    db = Database(path)
    for m in list(migrations.pending(db)):
        if m.name == migration:
            return db
        m.fn(db)
        db.table("_sqlite_migrations").insert(
            {"migration_set": "docsgap", "name": m.name, "applied_at": "2026-12-01"})
    raise AssertionError(f"no schema step {migration}")
