"""Which saved copy a local state was restored from, so `state push` never replaces a copy it
has not seen.

`docsgap state pull` writes `<state>.pulled` beside the state: the registry location and the
sha256 of the copy it restored (none when the registry had none). `docsgap state push` compares
that with the registry's newest copy first. A scheduled job and a person reviewing the queue at
a terminal both pull, work and push: without the check, the later push silently dropped what
the other saved (the person's review verdicts, which nothing can rebuild, or the run's cursors
and records). A state never pulled (no such file) is pushed as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from docsgap.errors import DocsgapError, StateError

log = logging.getLogger(__name__)
L = TypeVar("L", contravariant=True)


class NewestCopy(Protocol[L]):
    """The part of `ci.StateRegistry` the check needs (ci.py imports this module)."""

    def newest_sha256(self, location: L) -> str | None:
        """The sha256 of the newest copy of `location`, None when there is none."""
        ...

SUFFIX = ".pulled"


@dataclass(frozen=True)
class Pulled:
    """The saved copy a local state came from."""

    location: str
    sha256: str | None
    """None: the registry held no copy when it was pulled."""


def file_sha256(path: Path) -> str:
    """The sha256 of a file, as GitLab reports a package file's `file_sha256`."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar(state: Path) -> Path:
    """Where the record of `state`'s pull lives."""
    return Path(f"{state}{SUFFIX}")


def record(state: Path, location: str, sha256: str | None) -> None:
    """Remember that `state` now stands for the copy `sha256` of `location` (atomically)."""
    target = sidecar(state)
    tmp = Path(f"{target}.tmp")
    tmp.write_text(json.dumps({"location": location, "sha256": sha256}) + "\n",
                   encoding="utf-8")
    os.replace(tmp, target)


def read(state: Path, location: str) -> Pulled | None:
    """What `state` was pulled from, for `location`; None when it was never pulled from there
    (no record, another location, or a record that cannot be read)."""
    try:
        data = json.loads(sidecar(state).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("location") != location:
        return None
    sha = data.get("sha256")
    return Pulled(location, sha if isinstance(sha, str) else None)


def refuse_if_replaced(registry: NewestCopy[L], path: Path, location: L) -> None:
    """Raise `StateError` when `path` was pulled from `location` and another copy was saved
    there since; a registry that cannot tell (no listing for this token) lets it through."""
    seen = read(path, str(location))
    if seen is None:
        return
    try:
        newest = registry.newest_sha256(location)
    except DocsgapError as exc:
        log.warning("cannot tell whether %s changed since it was pulled: %s", location, exc)
        return
    if newest == seen.sha256:
        return
    raise StateError(
        f"the saved state {location} changed since {path} was pulled from it: another run "
        "saved a copy meanwhile (a scheduled job, or someone else's push), and pushing this "
        "one would drop what that run recorded; nothing was uploaded",
        hint="pull again (`docsgap state pull`; this copy is kept as "
        f"{path.name}.bak) and redo your review on the new one, or pass --force to replace "
        "the saved copy anyway")
