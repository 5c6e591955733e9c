"""The tracker cache sync: per-kind cursors saved after every page, so a first sync of a very
large project that the budget cuts short resumes where it stopped, without skipping MRs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from docsgap.config import Config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.errors import RateLimitedError
from docsgap.loop.pipeline import Pipeline
from docsgap.models import ItemKind, TrackerItem
from docsgap.state import StateStore
from tests.fakes import FakeForum, FakeTracker


class CutTracker(FakeTracker):
    """Runs out of budget after `allowance` items; records the `updated_after` it was asked."""

    allowance: int = 10**9
    asked: list[tuple[ItemKind | None, datetime | None]]

    def doc_items(
        self, updated_after: datetime | None, *, kind: ItemKind | None = None
    ) -> Iterator[TrackerItem]:
        self.asked.append((kind, updated_after))
        for item in super().doc_items(updated_after, kind=kind):
            if self.allowance <= 0:
                raise RateLimitedError("gitlab request budget exhausted")
            self.allowance -= 1
            yield item


def pipeline(tmp_path: Path, tracker: FakeTracker) -> Pipeline:
    cfg = Config(state_path=tmp_path / "state.db")
    return Pipeline(cfg, FakeForum([]), tracker, StateStore(cfg.state_path),
                    Detector(load_rules()))


def test_budget_cut_first_sync_resumes_from_the_last_saved_page(tmp_path: Path) -> None:
    tracker = CutTracker()
    tracker.asked = []
    for n in range(250):
        tracker.add("merge_request" if n % 5 == 0 else "issue", f"item {n}")
    tracker.allowance = 150
    pipe = pipeline(tmp_path, tracker)
    with pytest.raises(RateLimitedError):
        pipe.sync_tracker()
    saved = len(list(pipe.store.items()))
    assert saved == 100  # the first full page was kept, with its cursor

    tracker.allowance = 10**9
    tracker.asked.clear()
    pipe.sync_tracker()
    assert len(list(pipe.store.items())) == 250
    (kind1, after1), (kind2, after2) = tracker.asked
    assert (kind1, kind2) == ("issue", "merge_request")
    assert after1 is not None  # resumed, not restarted
    assert after2 is None  # merge requests were never reached: not skipped by the issue cursor
