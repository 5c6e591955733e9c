"""One writer per state file: `run`, `followup --apply` and `mr --apply` hold an exclusive lock
on `<state>.lock` while they work, so two of them never interleave their writes and cursors.
The lock is the kernel's (flock): it goes with its process, so a crashed run never blocks the
next one, and there is no stale lock file to clean up by hand."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from docsgap.errors import StateError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not locked there
    fcntl = None  # type: ignore[assignment]


def lock_path(state: Path) -> Path:
    """Where the lock of a state file lives (beside it)."""
    return state.with_name(state.name + ".lock")


@contextlib.contextmanager
def state_lock(state: Path, what: str) -> Iterator[None]:
    """Hold the state's lock for `what` (e.g. "docsgap run --apply"); raise `StateError` at once,
    naming the holder, when another process holds it."""
    if str(state) == ":memory:" or fcntl is None:
        yield
        return
    if state.is_dir():  # `--state /` or `--state ''` (the current folder): no lock name
        raise StateError(f"state {state} is a folder, not a state file",
                         hint=f"give a file path, e.g. --state {state / 'state.db'}")
    path = lock_path(state)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot create the lock {path}: {exc.strerror or exc}",
                         hint="state_path must be in a writable directory") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
            raise StateError(
                f"state {state} is in use: {holder}",
                hint="wait for it to finish, or give this run its own --state; the lock is "
                "released when that process ends, even if it crashed",
            ) from None
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"{what} (pid {os.getpid()}, since {started})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
