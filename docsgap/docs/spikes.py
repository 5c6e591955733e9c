"""Spike alerts: a docs page whose forum threads in the last `docs.spike_days` exceed its usual
rate (the `docs.spike_baseline_days` before) by `docs.spike_factor`, with at least
`docs.spike_min_threads` threads. Said at the top of the summary issue; with `docs.spike_mention`
set, one comment on the summary issue mentions that group, once per spike (a spike starts when
a page begins spiking and ends when it stops; its marker and the state remember it)."""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from docsgap import compose
from docsgap.config import DocsConfig
from docsgap.models import TrackerItem
from docsgap.report.markdown import md_link, md_text
from docsgap.report.rows import SignalPoint, page_label
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

ACTIVE_CURSOR = "docs.spikes_active"
"""page key -> the day its current spike began (JSON), so one spike is one alert."""


@dataclass(frozen=True, slots=True)
class Spike:
    """A page whose threads spiked."""

    page_key: str
    label: str
    url: str | None
    recent: int
    """Distinct threads in the last `days`."""
    usual: float
    """Threads per `days` over the baseline period before."""
    threads: tuple[tuple[str, str], ...]
    """(title, url) of the recent threads, newest first."""
    since: str = ""
    """The day this spike began (set by `track`): part of its alert's key."""

    @property
    def key(self) -> str:
        """The alert's idempotency key: the page and the day its spike began."""
        return f"spike:{self.page_key}:{self.since}"


def find_spikes(signals: Sequence[SignalPoint], *, now: datetime, config: DocsConfig
                ) -> list[Spike]:
    """Pages whose recent threads exceed `spike_factor` times their usual rate."""
    days, base = config.spike_days, config.spike_baseline_days
    start = now - timedelta(days=days)
    base_start = start - timedelta(days=base)
    recent: dict[str, dict[int, tuple[datetime, SignalPoint]]] = defaultdict(dict)
    before: dict[str, set[int]] = defaultdict(set)
    for s in signals:
        when = s.reported_at
        if not s.page_key or when is None or when > now:
            continue
        if when > start:
            recent[s.page_key][s.thread_id] = (when, s)
        elif when > base_start:
            before[s.page_key].add(s.thread_id)
    spikes = []
    for key, threads in recent.items():
        usual = len(before[key] - set(threads)) * days / base if base else 0.0
        if len(threads) < config.spike_min_threads or len(threads) <= config.spike_factor * usual:
            continue
        newest = sorted(threads.values(), key=lambda ws: ws[0], reverse=True)
        first = newest[0][1]
        spikes.append(Spike(key, page_label(first.page_path, first.page_url), first.page_url,
                            len(threads), usual,
                            tuple((s.thread_title, s.thread_url) for _, s in newest)))
    spikes.sort(key=lambda s: (-s.recent, s.label))
    return spikes


def track(store: StateStore, spikes: Sequence[Spike], *, now: datetime) -> list[Spike]:
    """Give each spike the day it began: kept while the page keeps spiking, forgotten when it
    stops, so the next spike of that page is a new one."""
    active: dict[str, str] = json.loads(store.cursor(ACTIVE_CURSOR) or "{}")
    current = {s.page_key: active.get(s.page_key) or f"{now:%Y-%m-%d}" for s in spikes}
    if current != active:
        store.set_cursor(ACTIVE_CURSOR, json.dumps(current, sort_keys=True))
    return [Spike(s.page_key, s.label, s.url, s.recent, s.usual, s.threads,
                  current[s.page_key]) for s in spikes]


def summary_lines(spikes: Sequence[Spike], config: DocsConfig) -> str:
    """The alert at the top of the summary issue (Markdown; forum text neutralised)."""
    if not spikes:
        return ""
    lines = ["### :rotating_light: Spike in threads about a docs page", ""]
    for s in spikes:
        threads = ", ".join(md_link(title, url) for title, url in s.threads[:5])
        more = f" and {len(s.threads) - 5} more" if len(s.threads) > 5 else ""
        lines.append(
            f"- {md_link(s.label, s.url)}: **{s.recent}** threads in the last "
            f"{config.spike_days} days (usually {s.usual:.1f}; alert at "
            f"{config.spike_factor:g}x and {config.spike_min_threads}+): {threads}{more}")
    return "\n".join(lines)


_MENTION_RE = re.compile(r"@[A-Za-z0-9_][\w.\-/]*")


def alert_comment(spike: Spike, config: DocsConfig, summary_url: str) -> str:
    """The one comment per spike that mentions `docs.spike_mention` (the only mention docsgap
    ever writes, and only from configuration: `@name` words only, so no quick action or other
    text rides along; the page label is neutralised)."""
    mention = " ".join(_MENTION_RE.findall(config.spike_mention or ""))
    label = md_text(spike.label)
    body = (f"{mention} threads about {label} spiked: {spike.recent} in the last "
            f"{config.spike_days} days (usually {spike.usual:.1f}). Details at the top of this "
            f"summary: {summary_url}")
    return f"{body.strip()}\n\n{compose.marker(spike.key)}\n"


def announce(tracker: Tracker, store: StateStore, issue: TrackerItem, spikes: Sequence[Spike],
             config: DocsConfig) -> list[str]:
    """One comment on the summary issue per spike when `docs.spike_mention` is set; the ledger,
    then the issue's notes (by marker) are checked first. Returns the keys commented now."""
    if not config.spike_mention or not spikes:
        return []
    notes: list[str] | None = None
    posted = []
    for spike in spikes:
        done = store.ledger_entry(spike.key)
        if done and done["status"] == "done":
            continue
        if notes is None:
            notes = [n.body for n in tracker.notes("issue", issue.iid) if n.own]
        mark = compose.marker(spike.key)
        if not any(mark in body for body in notes):
            store.ledger_start(spike.key, "spike_alert", (), f"{spike.recent} threads")
            tracker.add_note("issue", issue.iid, alert_comment(spike, config, issue.web_url))
            posted.append(spike.key)
            log.info("spike alert for %s posted on %s", spike.label, issue.web_url)
        else:
            store.ledger_start(spike.key, "spike_alert", (), "found by marker")
        store.ledger_finish(spike.key, "done", remote_url=issue.web_url)
    return posted


def current(store: StateStore, signals: Sequence[SignalPoint], *, now: datetime,
            config: DocsConfig) -> list[Spike]:
    """This run's spikes, each with the day it began."""
    return track(store, find_spikes(signals, now=now, config=config), now=now)
