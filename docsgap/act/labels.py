"""The labels an issue docsgap opens is filed with: the plan's (`docsgap.docs.owners` gave each
its reason), the owners' checked against the project's labels first. GitLab applies a label
name it does not know by creating it as a project label (`Labels::FindOrCreateService`, for a
user who may), so an unchecked typo in a page's front matter would leave a junk label in the
project; those are left out, and the run says so."""

from __future__ import annotations

import logging
from datetime import timedelta

from docsgap import compose
from docsgap.config import Config
from docsgap.errors import RateLimitedError, RemoteError
from docsgap.models import Action, GapType
from docsgap.state import StateStore, iso, utcnow
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

KNOWN_FOR = timedelta(days=1)
"""How long an owner label found in the project is taken to be there without asking again.
Group labels are long-lived; a day bounds what a deleted one could cost (GitLab would make
it a project label again)."""


def planned_labels(action: Action, gap: GapType, config: Config) -> tuple[str, ...]:
    """The labels the plan gives the issue (the configured ones for a plan without them)."""
    g = config.gitlab
    if not action.labels:
        return compose.labels_for(gap, (*g.issue_labels, g.marker_label), g.labels_by_gap)
    return tuple(label.name for label in action.labels)


def issue_labels(action: Action, gap: GapType, config: Config, tracker: Tracker,
                 store: StateStore) -> tuple[tuple[str, ...], str | None]:
    """The labels to file the issue with and what was left out (None: nothing). Owner labels
    are looked up in the project once per name (`Tracker.label_titles`) unless the state saw
    them there within `KNOWN_FOR`; one the project writes in another case is sent as the
    project writes it."""
    if not any(label.owner for label in action.labels):
        return planned_labels(action, gap, config), None
    fixed = [label.name for label in action.labels if not label.owner]
    owners = [label.name for label in action.labels if label.owner]
    kept, note = present_owner_labels(owners, tracker, store)
    if note:
        log.warning("%s: %s", action.key, note)
    return tuple(dict.fromkeys([*fixed, *kept])), note


def present_owner_labels(owners: list[str], tracker: Tracker, store: StateStore
                         ) -> tuple[list[str], str | None]:
    """The owner labels the project or its groups have (in the project's spelling), and what
    was left out (None: nothing). Asked once per name unless seen within `KNOWN_FOR`."""
    try:
        found = _known(store, owners)
        asked = [n for n in owners if n not in found]
        if asked:
            fresh = tracker.label_titles(asked)
            _remember(store, fresh)
            found.update(fresh)
    except RateLimitedError:
        raise
    except RemoteError as exc:  # the issue or MR matters more than its routing labels
        return [], (f"owner labels left out ({', '.join(owners)}): looking them up failed: "
                    f"{exc}")
    dropped = [n for n in owners if not found.get(n)]
    note = None
    if dropped:
        note = (f"owner labels left out: {', '.join(dropped)}: no such label in "
                f"{tracker.project} or its groups (GitLab would create it)")
    return [str(found[n]) for n in owners if found.get(n)], note


def _known(store: StateStore, names: list[str]) -> dict[str, str | None]:
    """The names the project had within `KNOWN_FOR` (a label not found is asked again: it
    may have been created since)."""
    since = iso(utcnow() - KNOWN_FOR)
    marks = ", ".join("?" for _ in names)
    rows = store.db.execute(f"select name, title from label_titles where name in ({marks}) "
                            "and checked_at >= ?", [*names, since])
    return {str(name): str(title) for name, title in rows}


def _remember(store: StateStore, found: dict[str, str | None]) -> None:
    now = iso(utcnow())
    with store.db.conn:
        store.db.conn.executemany(
            "insert or replace into label_titles (name, title, checked_at) values (?, ?, ?)",
            [(name, title, now) for name, title in found.items() if title])
