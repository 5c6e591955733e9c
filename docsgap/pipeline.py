"""Wire the stages for one run: sync the tracker cache, scan the forum, detect, deduplicate,
plan, apply. Takes injected Forum, Tracker and StateStore, so fakes and the sandbox slot in."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from docsgap import compose
from docsgap.apply import Applier
from docsgap.config import Config
from docsgap.dedupe.matcher import Matcher, group_signals
from docsgap.detect.detector import Detector
from docsgap.errors import RateLimitedError
from docsgap.forum.interface import Forum
from docsgap.models import (
    ItemKind,
    MatchResult,
    Outcome,
    Plan,
    RunResult,
    Signal,
    Thread,
    TrackerItem,
)
from docsgap.plan import PlanContext, ThreadMeta, build_plan
from docsgap.state import StateStore, iso, parse_iso, utcnow
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

FORUM_CURSOR = "forum.last_post_id"
PENDING_TOPICS = "forum.pending_topics"
TRACKER_CURSOR = "tracker.updated_after"
"""The sync cursor older states shared for issues and MRs; read as a fallback only."""
TRACKER_CURSORS: tuple[tuple[ItemKind, str], ...] = (
    ("issue", "tracker.issues_updated_after"), ("merge_request", "tracker.mrs_updated_after"))
SYNC_PAGE = 100
"""Items per saved sync step: one GitLab page."""

Progress = Callable[[str, int, int], None]

_ITEM_URL = re.compile(r"https?://[^\s<>()\]\[\"']+/-/(?:issues|merge_requests)/\d+")


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class Pipeline:
    """One docsgap run over injected services."""

    config: Config
    forum: Forum
    tracker: Tracker
    store: StateStore
    detector: Detector
    progress: Progress = _quiet
    stopped_early: str | None = None
    """Why the scan stopped before the end (budget or rate limit); the next run resumes."""
    notes: list[str] = field(default_factory=list)
    before_apply: Callable[[Plan], None] | None = None
    """Called with the plan before its first write (`run --apply` checks credentials here)."""

    # stages ----------------------------------------------------------------------------------
    def sync_tracker(self) -> int:
        """Refresh the local cache of doc issues/MRs incrementally (`updated_after`). Each kind
        keeps its own cursor, saved after every page, so a first sync of a very large project
        cut short by the budget resumes where it stopped."""
        count = 0
        for kind, name in TRACKER_CURSORS:
            since = parse_iso(self.store.cursor(name) or self.store.cursor(TRACKER_CURSOR))
            # Overlap a little: GitLab's updated_after is strict and clocks differ.
            after = since - timedelta(seconds=1) if since else None
            batch: list[TrackerItem] = []
            for item in self.tracker.doc_items(after, kind=kind):
                batch.append(item)
                if len(batch) >= SYNC_PAGE:
                    count += self._save_synced(batch, name)
                    self.progress("sync", count, 0)
            count += self._save_synced(batch, name)
        log.info("tracker cache: %d item(s) refreshed", count)
        return count

    def _save_synced(self, batch: list[TrackerItem], cursor: str) -> int:
        """Upsert a page of synced items and move the kind's cursor to its newest update."""
        stamps = [i.updated_at for i in batch if i.updated_at]
        with self.store.db.atomic():
            saved = self.store.upsert_items(batch)
            if stamps:
                self.store.set_cursor(cursor, iso(max(stamps)) or "")
        batch.clear()
        return saved

    def scan(self) -> list[Thread]:
        """Read the threads that changed since the last run; keeps a queue so an interrupted
        scan resumes where it stopped instead of skipping topics."""
        pending: list[int] = json.loads(self.store.cursor(PENDING_TOPICS) or "[]")
        last = self.store.cursor(FORUM_CURSOR)
        try:
            changed = self.forum.changed_topics(
                int(last) if last else None, max_pages=self.config.forum.initial_pages
            )
        except RateLimitedError as exc:
            self.stopped_early = str(exc)
            changed = None
        if changed is not None:
            pending = list(dict.fromkeys([*pending, *changed.topic_ids]))
            with self.store.db.atomic():
                self.store.set_cursor(PENDING_TOPICS, json.dumps(pending))
                if changed.newest_post_id is not None:
                    self.store.set_cursor(FORUM_CURSOR, str(changed.newest_post_id))
        threads: list[Thread] = []
        for n, topic_id in enumerate(list(pending), 1):
            try:
                thread = self.forum.thread(topic_id)
            except RateLimitedError as exc:
                self.stopped_early = str(exc)
                break
            self._record_thread(thread)
            threads.append(thread)
            pending.remove(topic_id)
            self.store.set_cursor(PENDING_TOPICS, json.dumps(pending))
            self.progress("scan", n, len(pending) + n)
        return threads

    def _record_thread(self, thread: Thread) -> None:
        self.store.record_thread(
            {
                "id": thread.id, "slug": thread.slug, "title": thread.title, "url": thread.url,
                "category_id": thread.category_id, "tags": json.dumps(list(thread.tags)),
                "closed": int(thread.closed), "archived": int(thread.archived),
                "posts_count": len(thread.posts), "created_at": iso(thread.created_at),
                "last_posted_at": iso(thread.last_posted_at),
            }
        )
        self._adopt_own_posts(thread)
        verdict = self.detector.detect_thread(
            thread, ignore_usernames=self.config.forum.bot_usernames
            + self.config.forum.staff_usernames,
        )
        for link in verdict.existing_links:
            self.store.record_link(thread.id, link, source="thread")
        for signal in verdict.signals:
            self.store.record_signal(signal)

    def reconcile(self) -> int:
        """Link signals to the issues docsgap itself opened for them, found by the issue marker
        and the thread URL the issue lists. Rebuilds links after a lost state or a crash between
        opening an issue and recording it, so the signal is never matched against its own issue."""
        own = [i for i in self.store.items_containing(compose.MARKER_PREFIX + "issue:")
               if any(k.startswith("issue:") for k in compose.find_markers(i.description))]
        if not own:
            return 0
        linked = {(r["thread_id"], r["item_url"]) for r in self.store.links()}
        count = 0
        for s in self.store.signals():
            for item in own:
                if (s.thread_id, item.web_url) in linked or s.thread_url not in item.description:
                    continue
                self.store.record_link(s.thread_id, item.web_url, source="docsgap",
                                       signal_key=s.key, gap_type=s.gap_type.value,
                                       page_url=s.page.url if s.page else None)
                count += 1
        if count:
            log.info("reconciled %d link(s) from docsgap's issue markers", count)
        return count

    def _adopt_own_posts(self, thread: Thread) -> None:
        """docsgap's own replies and follow-ups in the thread (found by marker) become links
        with their post URLs, so a lost state still knows what was said and follows up."""
        bots = {u.lower() for u in self.config.forum.bot_usernames}
        for post in thread.posts:
            if post.username.lower() not in bots:
                continue
            text = post.raw or post.cooked
            keys = compose.find_markers(text)
            field = ("reply_url" if any(k.startswith("reply:") for k in keys)
                     else "followup_url" if any(k.startswith("followup:") for k in keys)
                     else None)
            if field is None:
                continue
            for url in dict.fromkeys(_ITEM_URL.findall(text)):
                self.store.record_link(thread.id, url, source="docsgap")
                self.store.set_link_field(thread.id, url, **{field: f"{thread.url}/{post.number}"})

    def match(self, signals: Sequence[Signal]) -> dict[str, MatchResult]:
        """Deduplicate every signal against the cached doc issues and MRs."""
        d = self.config.dedup
        matcher = Matcher(
            self.store.items(), link_threshold=d.link_threshold,
            review_threshold=d.review_threshold, closed_within_days=d.closed_within_days,
            declined_labels=self.config.gitlab.wontdo_labels, cache=self.store,
        )
        return dict(zip((s.key for s in signals), matcher.match_many(signals), strict=True))

    def plan(self) -> Plan:
        """Plan actions for every stored signal whose thread is not linked yet."""
        signals = list(self.store.signals())
        context = self.context()
        open_signals = [s for s in signals if not context.linked.get(s.thread_id)]
        matches = self.match(open_signals)
        plan = build_plan(signals, matches, self.config, context, group_signals)
        return plan

    def context(self) -> PlanContext:
        """What the state already knows, for the planner."""
        threads = {
            r["id"]: ThreadMeta(
                closed=bool(r["closed"]), archived=bool(r["archived"]),
                category_id=r["category_id"], tags=tuple(json.loads(r["tags"] or "[]")),
            )
            for r in self.store.db["threads"].rows
        }
        linked: dict[int, set[str]] = {}
        replied: set[tuple[int, str]] = set()
        unreplied: dict[str, str] = {}
        for r in self.store.links():
            linked.setdefault(r["thread_id"], set()).add(r["item_url"])
            if r["reply_url"]:
                replied.add((r["thread_id"], r["item_url"]))
            elif r["source"] == "docsgap" and r["signal_key"]:
                unreplied[r["signal_key"]] = r["item_url"]
        verdicts = {r["key"]: r["verdict"] for r in self.store.db["verdicts"].rows}
        done = frozenset(r["key"] for r in self.store.ledger() if r["status"] == "done")
        return PlanContext(
            threads=threads, linked={k: frozenset(v) for k, v in linked.items()},
            replied=frozenset(replied), verdicts=verdicts, done=done, unreplied=unreplied,
        )

    def run(self, *, apply: bool) -> RunResult:
        """sync -> scan -> detect -> dedupe -> plan -> apply (writes only when `apply`)."""
        started: datetime = utcnow()
        self.sync_tracker()
        threads = self.scan()
        self.reconcile()
        plan = self.plan()
        if apply and self.before_apply is not None:
            self.before_apply(plan)  # may stop the run: nothing is written before this
        signals = {s.key: s for s in plan.signals}
        outcomes: list[Outcome] = Applier(
            self.forum, self.tracker, self.store, self.config, signals
        ).apply(plan, write=apply)
        result = RunResult(plan=plan, outcomes=tuple(outcomes), threads_scanned=len(threads))
        self.store.record_run(started, apply, {"threads": len(threads),
                                               "actions": len(plan.actions)})
        return result
