"""The report's input: `ReportRow` (one thread <-> issue/MR link) and the extras (every signal,
the review queue) read from the state, as frozen values every format renders."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from docsgap.config import GitLabConfig
from docsgap.models import GapType, ItemKind
from docsgap.report.groups import label_group, owner_group, page_groups
from docsgap.report.queue import ReviewQueue, queue_from_state
from docsgap.state import StateStore, parse_iso

DONE_STATES = frozenset({"closed", "merged"})
_DECLINED = frozenset(label.lower() for label in GitLabConfig().wontdo_labels)
"""Item states after which the thread deserves a follow-up reply."""

_ITEM_URL = re.compile(
    r"^https?://[^/]+/(?P<project>.+?)/-/(?P<kind>issues|merge_requests)/(?P<iid>\d+)"
)


def safe_url(url: str | None) -> str | None:
    """`url` when it is http(s), else None: other schemes (javascript:, data:) never get linked."""
    if url and re.match(r"^https?://[^\s]+$", url, re.IGNORECASE):
        return url
    return None


def gap_type_of(value: str | None) -> GapType | None:
    """The GapType for a stored value; unknown or empty values give None."""
    try:
        return GapType(value) if value else None
    except ValueError:
        return None


def page_label(page_path: str | None, page_url: str | None) -> str:
    """A short human name for a docs page, from its URL as readers know it (`ci/yaml` for
    https://docs.gitlab.com/ci/yaml/), else from its source file (`doc/ci/yaml/_index.md`)."""
    if page_url:
        label = re.sub(r"^https?://[^/]+/", "", page_url).split("#", 1)[0].split("?", 1)[0]
        label = re.sub(r"^ee/", "", label)
        label = re.sub(r"(/index)?\.html$", "", label).strip("/")
        if label:
            return label
    if page_path:
        label = re.sub(r"^docs?/", "", page_path)
        label = re.sub(r"(/_?index)?\.md$", "", label)
        return label or page_path
    return page_url or ""


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One thread <-> issue/MR link with what the docs team wants to see about it."""

    thread_id: int
    thread_title: str
    thread_url: str
    gap_type: GapType | None
    page_url: str | None
    page_path: str | None
    item_url: str
    item_kind: ItemKind | None
    item_title: str | None
    item_state: str | None
    """`opened`, `closed`, `merged`, `locked`, or None when the item is not in the cache."""
    item_closed_at: datetime | None
    item_labels: tuple[str, ...]
    source: str
    """Who made the link: `docsgap` (opened or linked by us) or `thread` (already in the thread)."""
    reply_url: str | None
    followup_url: str | None
    linked_at: datetime | None
    signal_first_seen: datetime | None
    thread_created_at: datetime | None
    why: str | None = None
    """Why docsgap made the link: the match (candidate, scores, shared words, runners-up) and
    the policy, as the plan said; None for links found in the thread or made before."""
    cached_project: str | None = None
    """The item's project path as GitLab gave it (the cache), when the item is cached."""
    reply_state: str | None = None
    """`queued` (docsgap's reply waits for a forum moderator) or `rejected` (a moderator
    refused it) while there is no reply in the thread; else None."""
    followup_skipped: str | None = None
    """Why `docsgap followup` decided this link gets no follow-up (docsgap's reply in the
    thread was deleted or hidden); None otherwise."""
    item_confidential: bool = False
    """A confidential issue: its title and the match's `why` are left out (None), since the
    report is published (Pages, wiki, a public job's artifacts) to readers who may not see it."""
    page_group: str | None = None
    """The docs page's owning group from its front matter (the docs index), as written."""

    @property
    def group(self) -> str | None:
        """The owning product group: the item's `group::` label (how the docs team triaged
        it), else the page's front matter group, in lower case as the labels write it."""
        return owner_group(self.item_labels, self.page_group)

    @property
    def group_from(self) -> str | None:
        """Where `group` comes from: `label`, `front matter`, or None."""
        if label_group(self.item_labels):
            return "label"
        return "front matter" if self.group else None

    @property
    def item_ref(self) -> str:
        """`group/project#12` or `group/project!34`, else the URL."""
        m = _ITEM_URL.match(self.item_url)
        project = self.item_project
        if not m or not project:
            return self.item_url
        return f"{project}{'#' if m['kind'] == 'issues' else '!'}{m['iid']}"

    @property
    def item_project(self) -> str | None:
        """The project path of the item: the cached one when the URL holds it (a GitLab under
        a path, such as https://example.com/gitlab, puts that path before it), else parsed
        from the URL."""
        m = _ITEM_URL.match(self.item_url)
        if not m:
            return None
        known = self.cached_project
        return known if known and m["project"].endswith(f"/{known}") else m["project"]

    @property
    def short_ref(self) -> str:
        """`#12` / `!34` (the project left out), else the URL."""
        project = self.item_project
        return self.item_ref[len(project):] if project else self.item_url

    @property
    def replied(self) -> bool:
        """True when docsgap (or someone) posted the link in the thread."""
        return bool(self.reply_url)

    @property
    def reply_cell(self) -> str:
        """What a table shows for the reply when there is none: why, or a dash."""
        return {"queued": "queued", "rejected": "refused"}.get(
            "" if self.replied else self.reply_state or "", "–")

    @property
    def item_done(self) -> bool:
        """True when the issue is closed or the MR merged/closed."""
        return self.item_state in DONE_STATES

    @property
    def declined(self) -> bool:
        """Closed with a won't-do label (the default `gitlab.wontdo_labels`)."""
        return any(label.lower() in _DECLINED for label in self.item_labels)

    @property
    def state_label(self) -> str:
        """The item's state for a reader: GitLab's word, `closed (won't do)` when declined."""
        state = self.item_state or "unknown"
        return f"{state} (won't do)" if state == "closed" and self.declined else state

    @property
    def awaiting_followup(self) -> bool:
        """The item was fixed (merged, or closed and not declined) and the thread docsgap
        replied in has not been told yet: exactly what `docsgap followup` would post."""
        fixed = self.item_state == "merged" or (
            self.item_kind == "issue" and self.item_state == "closed" and not self.declined
        )
        return fixed and self.replied and not self.followup_url and not self.followup_skipped

    @property
    def reported_at(self) -> datetime | None:
        """When the thread raised the gap: thread creation, else first detection, else link."""
        return self.thread_created_at or self.signal_first_seen or self.linked_at

    @property
    def page_key(self) -> str | None:
        """What groups rows by page: the source file, else the URL."""
        return self.page_path or self.page_url

    @property
    def page_label(self) -> str:
        """Short page name for tables and charts."""
        return page_label(self.page_path, self.page_url)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict: every field (ISO datetimes, lists) plus the derived ones."""
        return {
            "thread_id": self.thread_id,
            "thread_title": self.thread_title,
            "thread_url": self.thread_url,
            "gap_type": self.gap_type.value if self.gap_type else None,
            "page_url": self.page_url,
            "page_path": self.page_path,
            "page_label": self.page_label,
            "item_url": self.item_url,
            "item_ref": self.item_ref,
            "item_kind": self.item_kind,
            "item_title": self.item_title,
            "item_state": self.item_state,
            "item_closed_at": _iso(self.item_closed_at),
            "item_labels": list(self.item_labels),
            "source": self.source,
            "reply_url": self.reply_url,
            "followup_url": self.followup_url,
            "linked_at": _iso(self.linked_at),
            "signal_first_seen": _iso(self.signal_first_seen),
            "thread_created_at": _iso(self.thread_created_at),
            "replied": self.replied,
            "reply_state": None if self.replied else self.reply_state,
            "awaiting_followup": self.awaiting_followup,
            "why": self.why,
            "item_confidential": self.item_confidential,
            "group": self.group,
            "group_from": self.group_from,
        }


@dataclass(frozen=True, slots=True)
class SignalPoint:
    """One detected gap (linked or not), for the weekly chart and the rising-demand check."""

    key: str
    thread_id: int
    thread_title: str
    thread_url: str
    gap_type: GapType | None
    page_url: str | None
    page_path: str | None
    first_seen: datetime | None
    thread_created_at: datetime | None
    page_group: str | None = None
    """The page's owning group from its front matter (the docs index), as written."""

    @property
    def reported_at(self) -> datetime | None:
        """When the thread raised it (thread creation, else first detection)."""
        return self.thread_created_at or self.first_seen

    @property
    def page_key(self) -> str | None:
        """The source file, else the URL."""
        return self.page_path or self.page_url


@dataclass(frozen=True, slots=True)
class ReportExtras:
    """What the state holds beyond the links; every format works without it."""

    signals: tuple[SignalPoint, ...] = ()
    queue: ReviewQueue | None = None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _kind(value: str | None, url: str) -> ItemKind | None:
    if value == "issue" or (value is None and "/-/issues/" in url):
        return "issue"
    if value == "merge_request" or (value is None and "/-/merge_requests/" in url):
        return "merge_request"
    return None


def row_from_dict(r: dict[str, Any]) -> ReportRow:
    """Build a ReportRow from one `StateStore.report_rows()` dict."""
    item_url = str(r.get("item_url") or "")
    confidential = bool(r.get("item_confidential"))
    return ReportRow(
        thread_id=int(r["thread_id"]),
        thread_title=str(r.get("thread_title") or f"Thread {r['thread_id']}"),
        thread_url=str(r.get("thread_url") or ""),
        gap_type=gap_type_of(r.get("gap_type")),
        page_url=r.get("page_url") or None,
        page_path=r.get("page_path") or None,
        item_url=item_url,
        item_kind=_kind(r.get("item_kind"), item_url),
        item_title=None if confidential else r.get("item_title") or None,
        item_state=r.get("item_state") or None,
        item_closed_at=parse_iso(r.get("item_closed_at")),
        item_labels=tuple(json.loads(r.get("item_labels") or "[]")),
        source=str(r.get("source") or ""),
        reply_url=r.get("reply_url") or None,
        followup_url=r.get("followup_url") or None,
        linked_at=parse_iso(r.get("linked_at")),
        signal_first_seen=parse_iso(r.get("signal_first_seen")),
        thread_created_at=parse_iso(r.get("thread_created_at")),
        why=None if confidential else r.get("why") or None,
        cached_project=r.get("item_project") or None,
        reply_state=r.get("reply_state") or None,
        followup_skipped=r.get("followup_skipped") or None,
        item_confidential=confidential,
    )


def reading_order(rows: Sequence[ReportRow]) -> list[ReportRow]:
    """The rows as a person reads the tables: each issue/MR's threads together, open items
    before done ones, the item with the most threads first; ties and each item's threads in
    link order."""
    threads = Counter(r.item_url for r in rows)
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        first.setdefault(r.item_url, i)
    return sorted(rows, key=lambda r: (r.item_done, -threads[r.item_url], first[r.item_url]))


def rows_from_state(store: StateStore) -> list[ReportRow]:
    """One ReportRow per thread <-> issue/MR link, oldest link first, with its page's group."""
    groups = page_groups(store)
    return [_grouped(row_from_dict(r), groups) for r in store.report_rows()]


def _grouped(row: ReportRow, groups: dict[str, str]) -> ReportRow:
    group = groups.get(row.page_path or "") or groups.get(row.page_url or "")
    return replace(row, page_group=group) if group else row


def signals_from_state(store: StateStore) -> list[SignalPoint]:
    """Every stored signal with its thread's title, URL and creation time."""
    sql = """
        select s.key, s.thread_id, t.title, t.url, s.gap_type, s.page_url, s.page_path,
               s.first_seen, t.created_at
        from signals s left join threads t on t.id = s.thread_id
        order by s.first_seen, s.key
    """
    groups = page_groups(store)
    return [
        SignalPoint(
            key=key, thread_id=int(tid), thread_title=title or f"Thread {tid}",
            thread_url=url or "",
            gap_type=gap_type_of(gap), page_url=page_url or None, page_path=page_path or None,
            first_seen=parse_iso(first), thread_created_at=parse_iso(created),
            page_group=groups.get(page_path or "") or groups.get(page_url or ""),
        )
        for key, tid, title, url, gap, page_url, page_path, first, created in store.db.execute(sql)
    ]


def extras_from_state(store: StateStore) -> ReportExtras:
    """Signals and the review queue, for the charts and the summary issue."""
    return ReportExtras(signals=tuple(signals_from_state(store)), queue=queue_from_state(store))


def signals_of(rows: Sequence[ReportRow], extras: ReportExtras | None) -> tuple[SignalPoint, ...]:
    """The extras' signals, else one per (thread, gap type, page) derived from the rows."""
    if extras and extras.signals:
        return extras.signals
    seen: dict[str, SignalPoint] = {}
    for r in rows:
        key = f"t{r.thread_id}:{r.gap_type.value if r.gap_type else '-'}:{r.page_key or '-'}"
        if key not in seen:
            seen[key] = SignalPoint(
                key=key, thread_id=r.thread_id, thread_title=r.thread_title,
                thread_url=r.thread_url, gap_type=r.gap_type, page_url=r.page_url,
                page_path=r.page_path, first_seen=r.signal_first_seen or r.linked_at,
                thread_created_at=r.thread_created_at, page_group=r.page_group,
            )
    return tuple(seen.values())
