"""The GitLab summary issue: one issue, found by its hidden marker and rewritten in place each
run (like gitlab-triage summaries), never a new issue per run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from docsgap.act.items import parse_item_url
from docsgap.config import Config
from docsgap.docs import spikes
from docsgap.errors import NotFoundError
from docsgap.models import IssueDraft
from docsgap.report import extras_from_state, rows_from_state
from docsgap.report.summary import SUMMARY_MARKER, SummaryOptions, render_summary
from docsgap.state import StateStore, parse_iso
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

SUMMARY_CURSOR = "summary.issue_url"
SUMMARY_SINCE = "summary.updated_at"


@dataclass(frozen=True, slots=True)
class SummaryResult:
    """What `publish` did."""

    url: str
    created: bool
    changed: bool


def publish(tracker: Tracker, store: StateStore, config: Config, *, now: datetime) -> SummaryResult:
    """Create the summary issue once, then rewrite its description on every call. The state
    remembers its URL; a lost state finds it again by the marker, so there is never a second one."""
    since = parse_iso(store.cursor(SUMMARY_SINCE)) or now - timedelta(days=7)
    extras = extras_from_state(store)
    found = spikes.current(store, extras.signals, now=now, config=config.docs)
    body = render_summary(
        rows_from_state(store), extras, now=now,
        options=SummaryOptions(since=since, title=config.gitlab.summary_title,
                               alerts=spikes.summary_lines(found, config.docs)),
    )
    known = store.cursor(SUMMARY_CURSOR)
    item = None
    if known:
        _, iid = parse_item_url(known)
        try:
            item = tracker.get_item("issue", iid)
        except NotFoundError:  # deleted (or moved) since: look for the marker instead
            log.info("summary issue %s is gone; searching by its marker", known)
    if item is None or SUMMARY_MARKER not in item.description:
        item = tracker.find_issue_with_marker(SUMMARY_MARKER)
    if item is None:
        # No docs label: the summary must never enter the dedup cache as a doc issue.
        draft = IssueDraft(config.gitlab.summary_title, body, (config.gitlab.marker_label,))
        item = tracker.open_issue(draft)
        created, changed = True, True
    else:
        changed = _without_stamp(item.description) != _without_stamp(body)
        if changed:
            item = tracker.update_issue(item.iid, description=body)
        created = False
    store.set_cursor(SUMMARY_CURSOR, item.web_url)
    spikes.announce(tracker, store, item, found, config.docs)
    if changed:
        store.set_cursor(SUMMARY_SINCE, now.isoformat())
    log.info("summary issue %s: %s", item.web_url,
             "created" if created else "updated" if changed else "unchanged")
    return SummaryResult(item.web_url, created, changed)


def _without_stamp(text: str) -> str:
    # The "_Updated ..._" line changes every run; only rewrite when the content changed.
    return "\n".join(line for line in text.splitlines() if not line.startswith("_Updated "))
