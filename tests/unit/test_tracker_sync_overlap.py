"""The tracker sync asks again from a second before its cursor (an update stamped earlier may
commit after the listing): a burst of updates in that second was listed again by every run,
5 pages for 500 issues in bench/scale.py's `run --topic`. Once a listing that started a second
or more after the one that set the cursor has re-read that window, later syncs start at the
cursor; a late update inside the window is still found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docsgap.config import Config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.loop import pipeline as pipeline_mod
from docsgap.loop.pipeline import Pipeline
from docsgap.loop.summary import sync_line
from docsgap.models import ItemKind, TrackerItem
from docsgap.state import StateStore
from tests.fakes import FakeForum, FakeTracker

T = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class GitLabLike(FakeTracker):
    """`updated_after` inclusive, as GitLab and the sandbox answer it; records what was asked
    and how many items each listing returned."""

    listed: list[int]

    def doc_items(self, updated_after: datetime | None, *, kind: ItemKind | None = None
                  ) -> Iterator[TrackerItem]:
        out = [i for i in self.items.values() if kind in (None, i.kind)
               and (updated_after is None or (i.updated_at and i.updated_at >= updated_after))]
        self.listed.append(len(out))
        yield from sorted(out, key=lambda i: i.updated_at or T)


def burst(tracker: GitLabLike, n: int, end: datetime) -> None:
    """`n` issues updated within the 0.2 s before `end`, one per millisecond or so."""
    for k in range(n):
        item = tracker.add("issue", f"burst {k}")
        tracker.items[("issue", item.iid)] = replace(
            item, updated_at=end - timedelta(milliseconds=200 * (n - 1 - k) // max(n - 1, 1)))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [T + timedelta(minutes=5)]
    monkeypatch.setattr(pipeline_mod, "utcnow", lambda: now[0])
    return now


def test_a_burst_in_the_cursors_last_second_is_listed_again_once(
        tmp_path: Path, clock: list[datetime]) -> None:
    tracker = GitLabLike()
    tracker.listed = []
    burst(tracker, 150, T)
    cfg = Config(state_path=tmp_path / "state.db")
    pipe = Pipeline(cfg, FakeForum([]), tracker, StateStore(cfg.state_path),
                    Detector(load_rules()))

    pipe.sync_tracker()  # the first sync: everything
    assert pipe.synced["issue"] == {"listed": 150, "changed": 150}
    clock[0] += timedelta(milliseconds=400)
    pipe.sync_tracker()  # too soon after: the window is re-read, not yet complete
    assert pipe.synced["issue"] == {"listed": 150, "changed": 0}
    assert "150 unchanged, re-listed by the 1 s overlap" in sync_line(pipe.synced)

    # An update stamped inside the window that committed after those listings.
    late = tracker.add("issue", "late commit")
    tracker.items[("issue", late.iid)] = replace(late, updated_at=T - timedelta(
        milliseconds=500))
    clock[0] += timedelta(seconds=30)
    pipe.sync_tracker()  # re-reads the window once more: finds it, and the window is complete
    assert pipe.synced["issue"] == {"listed": 151, "changed": 1}
    assert pipe.store.item(late.web_url) is not None

    clock[0] += timedelta(minutes=10)
    pipe.sync_tracker()
    assert pipe.synced["issue"]["listed"] == 1  # only the item at the cursor itself
    assert sync_line(pipe.synced) == ""  # one page a kind: nothing to explain

    newer = tracker.add("issue", "newer")
    tracker.items[("issue", newer.iid)] = replace(newer, updated_at=T + timedelta(hours=1))
    pipe.sync_tracker()
    assert pipe.synced["issue"] == {"listed": 2, "changed": 1}
    pipe.sync_tracker()  # the cursor moved: its own window is re-read until complete
    assert pipe.synced["issue"]["listed"] == 1
    pipe.store.close()


def test_a_cursor_from_an_older_docsgap_is_verified_from_the_next_listing_on(
        tmp_path: Path, clock: list[datetime]) -> None:
    tracker = GitLabLike()
    tracker.listed = []
    burst(tracker, 150, T)
    cfg = Config(state_path=tmp_path / "state.db")
    store = StateStore(cfg.state_path)
    pipe = Pipeline(cfg, FakeForum([]), tracker, store, Detector(load_rules()))
    pipe.sync_tracker()
    store.db.table("cursors").delete_where("name like ?", ["%.seen_at"])  # as an older state
    for step, listed in ((60, 150), (60, 150), (60, 1)):
        clock[0] += timedelta(seconds=step)
        pipe.sync_tracker()
        assert pipe.synced["issue"]["listed"] == listed
    store.close()
