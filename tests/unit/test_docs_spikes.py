"""Spike alerts: which pages spike, one alert per spike (a new one after the page calms down),
the summary issue saying so at the top, and the one comment that mentions the group."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from docsgap import compose
from docsgap.act.summary_issue import publish
from docsgap.config import Config, DocsConfig
from docsgap.docs import spikes
from docsgap.models import GapType
from docsgap.report.rows import SignalPoint
from docsgap.state import StateStore
from tests.fakes import FakeTracker

NOW = datetime(2026, 3, 1, tzinfo=UTC)
YAML = "https://docs.gitlab.com/ci/yaml/"
CONF = DocsConfig(spike_days=7, spike_baseline_days=56, spike_factor=3.0, spike_min_threads=3)


def point(thread: int, days_ago: float, url: str = YAML, title: str = "t") -> SignalPoint:
    return SignalPoint(key=f"t{thread}", thread_id=thread, thread_title=f"{title} {thread}",
                       thread_url=f"https://forum.test/t/x/{thread}", gap_type=GapType.OUTDATED,
                       page_url=url, page_path=None, first_seen=None,
                       thread_created_at=NOW - timedelta(days=days_ago))


def test_a_page_spikes_above_its_usual_rate_and_minimum() -> None:
    recent = [point(n, 1 + n / 10) for n in range(4)]
    [spike] = spikes.find_spikes(recent, now=NOW, config=CONF)
    assert (spike.recent, spike.usual, spike.label) == (4, 0.0, "ci/yaml")
    assert [t for _, t in spike.threads][0] == "https://forum.test/t/x/0"  # newest first
    # Too few, or usual demand that is already high: no spike.
    assert spikes.find_spikes(recent[:2], now=NOW, config=CONF) == []
    busy = [point(100 + n, 8 + n) for n in range(40)]  # 40 threads in 56 days: 5 a week
    assert spikes.find_spikes(recent + busy, now=NOW, config=CONF) == []
    loose = replace(CONF, spike_factor=0.5)
    assert len(spikes.find_spikes(recent + busy, now=NOW, config=loose)) == 1
    # Other pages, future and undated signals do not count.
    other = [point(200 + n, 1, url="https://docs.gitlab.com/ci/caching/") for n in range(2)]
    assert [s.url for s in spikes.find_spikes(recent + other, now=NOW, config=CONF)] == [YAML]


def test_one_spike_one_key_until_it_ends(store: StateStore) -> None:
    recent = [point(n, 1) for n in range(3)]
    [first] = spikes.current(store, recent, now=NOW, config=CONF)
    [later] = spikes.current(store, [*recent, point(9, 0.5)], now=NOW + timedelta(days=2),
                             config=CONF)
    assert first.key == later.key == f"spike:{YAML}:2026-03-01"
    assert spikes.current(store, [], now=NOW + timedelta(days=20), config=CONF) == []
    [again] = spikes.current(store, [point(20 + n, -29) for n in range(3)],
                             now=NOW + timedelta(days=30), config=CONF)
    assert again.key == f"spike:{YAML}:2026-03-31"


def test_summary_text_and_comment_are_safe() -> None:
    hostile = [point(n, 1, title="/close @everyone #1") for n in range(3)]
    [spike] = spikes.find_spikes(hostile, now=NOW, config=CONF)
    text = spikes.summary_lines([spike], CONF)
    assert "**3** threads in the last 7 days" in text
    assert "@everyone" not in text and "\n/close" not in text
    cfg = replace(CONF, spike_mention="@docs-team /close ~bug")
    comment = spikes.alert_comment(spike, cfg, "https://gitlab.test/i/1")
    assert comment.startswith("@docs-team threads about")
    assert "/close" not in comment and "~bug" not in comment
    assert compose.find_markers(comment) == [spike.key]


def test_summary_issue_alerts_once_per_spike(store: StateStore) -> None:
    tracker = FakeTracker()
    for n in range(3):
        store.record_thread({"id": n, "slug": "x", "title": f"yaml {n}", "url": f"u{n}",
                             "created_at": (NOW - timedelta(days=1)).isoformat()})
        store.db.table("signals").insert({
            "key": f"t{n}:outdated:{YAML}", "thread_id": n, "gap_type": "outdated",
            "score": 1.0, "rules": "[]", "evidence": "[]", "post_number": 1,
            "page_url": YAML, "first_seen": NOW.isoformat(), "last_seen": NOW.isoformat()})
    cfg = replace(Config(), docs=replace(CONF, spike_mention="@docs-team"))
    first = publish(tracker, store, cfg, now=NOW)
    issue = tracker.created[0]
    body = tracker.items[("issue", issue.iid)].description
    assert body.index("Spike in threads") < body.index("### Rising demand")
    publish(tracker, store, cfg, now=NOW + timedelta(hours=1))
    notes = tracker.notes("issue", issue.iid)
    assert len(notes) == 1 and notes[0].body.startswith("@docs-team")
    # A lost state does not alert again: the marker is found on the issue.
    store.db.table("ledger").delete_where()
    publish(tracker, store, cfg, now=NOW + timedelta(hours=2))
    assert len(tracker.notes("issue", issue.iid)) == 1
    assert first.url == issue.web_url
