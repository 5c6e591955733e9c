"""Wire the stages for one run: sync the tracker cache, scan the forum, detect, deduplicate,
plan, apply. Takes injected Forum, Tracker and StateStore, so fakes and the sandbox slot in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from docsgap import compose
from docsgap.act.answers import plan_replies
from docsgap.act.apply import Applier
from docsgap.act.plan import PlanContext, ThreadMeta, build_plan, extend_plan
from docsgap.config import Config
from docsgap.dedupe.matcher import Matcher, group_signals
from docsgap.dedupe.ranker import load_ranker, ranker_file
from docsgap.dedupe.sticky import hold_reviews
from docsgap.detect.detector import Detector
from docsgap.docs.checks import annotate, check_signals
from docsgap.docs.index import DocsIndex, load_index
from docsgap.docs.owners import label_issues
from docsgap.errors import RateLimitedError
from docsgap.forum.interface import Forum
from docsgap.loop.handlinks import apply_hand_links
from docsgap.loop.matchcache import MatchCache, items_stamp
from docsgap.models import (
    ItemKind,
    MatchResult,
    Outcome,
    Plan,
    RunResult,
    Signal,
    Skip,
    TrackerItem,
)
from docsgap.scan.scanner import Scanner
from docsgap.state import StateStore, iso, parse_iso, utcnow
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)

TRACKER_CURSOR = "tracker.updated_after"
"""The sync cursor older states shared for issues and MRs; read as a fallback only."""
TRACKER_CURSORS: tuple[tuple[ItemKind, str], ...] = (
    ("issue", "tracker.issues_updated_after"), ("merge_request", "tracker.mrs_updated_after"))
SYNC_PAGE = 100
"""Items per saved sync step: one GitLab page."""
OVERLAP = timedelta(seconds=1)
"""How far before its cursor a sync asks again: an update GitLab stamped before the cursor may
commit after the listing that set it. A listing that starts at least this long after that one
and re-reads the window completes it: later syncs start at the cursor itself (`VERIFIED`), so
a burst of updates in the cursor's last second is not listed again by every run."""
SEEN, VERIFIED = ".seen_at", ".verified"
"""Cursor suffixes: when (docsgap's clock) a listing first set the cursor, and the cursor whose
overlap window a later listing re-read."""

Progress = Callable[[str, int, int], None]


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
    notice: Callable[[str], None] = log.warning
    """Where the cost of a first scan is said before it is paid."""
    before_apply: Callable[[Plan], None] | None = None
    """Called with the plan before its first write (`run --apply` checks credentials here)."""
    withheld: dict[str, Skip] = field(default_factory=dict)
    """Topics and posts this run read but must not use (deleted, hidden, withdrawn,
    read-restricted), with why: they join the plan's skips."""
    synced: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per kind of item, how many the last `sync_tracker` listed and how many had changed."""
    _docs_index: DocsIndex | Literal[False] | None = field(default=None, repr=False)

    # stages ----------------------------------------------------------------------------------
    def sync_tracker(self) -> int:
        """Refresh the local cache of doc issues/MRs incrementally (`updated_after`). Each kind
        keeps its own cursor, saved after every page, so a first sync of a very large project
        cut short by the budget resumes where it stopped. `synced` says, per kind, how many
        items were listed and how many of them had changed."""
        count = 0
        self.synced = {}
        for kind, name in TRACKER_CURSORS:
            held = self.store.cursor(name) or self.store.cursor(TRACKER_CURSOR)
            since = parse_iso(held)
            verified = held is not None and self.store.cursor(name + VERIFIED) == held
            after = since if since is None or verified else since - OVERLAP
            started = utcnow()
            batch: list[TrackerItem] = []
            tally = self.synced.setdefault(kind, {"listed": 0, "changed": 0})
            for item in self.tracker.doc_items(after, kind=kind):
                batch.append(item)
                if len(batch) >= SYNC_PAGE:
                    count += self._save_synced(batch, name, tally)
                    self.progress("sync", count, 0)
            count += self._save_synced(batch, name, tally)
            seen = parse_iso(self.store.cursor(name + SEEN))
            if held is not None and not verified and self.store.cursor(name) == held:
                if seen is None:  # a cursor an older docsgap set: as if set by this listing
                    self.store.set_cursor(name + SEEN, iso(started) or "")
                elif started - seen >= OVERLAP:
                    self.store.set_cursor(name + VERIFIED, held)
        log.info("tracker cache: %d item(s) refreshed", count)
        return count

    def _save_synced(self, batch: list[TrackerItem], cursor: str,
                     tally: dict[str, int]) -> int:
        """Upsert a page of synced items and move the kind's cursor to its newest update
        (noting when it moved, for `OVERLAP`); count what changed in `tally`."""
        stamps = [i.updated_at for i in batch if i.updated_at]
        held = self._held_stamps([i.web_url for i in batch])
        tally["listed"] += len(batch)
        tally["changed"] += sum(1 for i in batch if held.get(i.web_url, "") != iso(i.updated_at))
        with self.store.db.atomic():
            saved = self.store.upsert_items(batch)
            before = parse_iso(self.store.cursor(cursor))
            # Forward only: a first page of the overlap's re-listing is older than the cursor.
            if stamps and (before is None or max(stamps) > before):
                self.store.set_cursor(cursor, iso(max(stamps)) or "")
                self.store.set_cursor(cursor + SEEN, iso(utcnow()) or "")
        batch.clear()
        return saved

    def _held_stamps(self, urls: list[str]) -> dict[str, str | None]:
        """The cached `updated_at` of each of `urls` docsgap holds."""
        if not urls or not self.store.db.table("items").exists():
            return {}
        marks = ",".join("?" * len(urls))
        return {str(r["url"]): r["updated_at"] for r in self.store.db.query(
            f"select url, updated_at from items where url in ({marks})", urls)}

    def scan(self) -> int:
        """Read what changed on the forum since the last run (`docsgap.scan`): judge every new
        post from the latest-posts pages, read threads only for candidate topics. Returns how
        many topics had new posts; a budget or rate limit stops it cleanly (`stopped_early`)
        and the next run resumes where it stopped."""
        scanner = Scanner(self.config, self.forum, self.store, self.detector, self.progress,
                          self.notice)
        for step in (scanner.walk, scanner.judge_queued):
            try:
                step()
            except RateLimitedError as exc:
                self.stopped_early = self.stopped_early or str(exc)
        self.withheld.update(scanner.withheld)
        return len(scanner.touched)

    def reconcile(self) -> int:
        """Link signals to the issues docsgap itself opened for them, found by the issue marker
        and the thread URL the issue lists. Rebuilds links after a lost state or a crash between
        opening an issue and recording it, so the signal is never matched against its own issue.
        Markers are public text: an item counts only when GitLab lists it among the issues the
        token's user opened (`find_issue_with_marker`), asked only when something is to link."""
        own = [i for i in self.store.items_containing(compose.MARKER_PREFIX + "issue:")
               if any(k.startswith("issue:") for k in compose.find_markers(i.description))]
        if not own:
            return 0
        linked = {(r["thread_id"], r["item_url"]) for r in self.store.links()}
        pairs = [(s, item) for s in self.store.signals() for item in own
                 if (s.thread_id, item.web_url) not in linked
                 and s.thread_url in item.description]
        trusted = self._opened_by_docsgap({item.web_url: item for _, item in pairs}.values())
        count = 0
        for s, item in pairs:
            if item.web_url not in trusted:
                continue
            self.store.record_link(s.thread_id, item.web_url, source="docsgap",
                                   signal_key=s.key, gap_type=s.gap_type.value,
                                   page_url=s.page.url if s.page else None)
            count += 1
        if count:
            log.info("reconciled %d link(s) from docsgap's issue markers", count)
        return count

    def _opened_by_docsgap(self, items: Iterable[TrackerItem]) -> set[str]:
        """The web URLs of `items` that docsgap's own user opened with their issue marker."""
        trusted = set()
        for item in items:
            keys = [k for k in compose.find_markers(item.description) if k.startswith("issue:")]
            found = [self.tracker.find_issue_with_marker(compose.marker(k)) for k in keys]
            if any(f is not None and f.web_url == item.web_url for f in found):
                trusted.add(item.web_url)
            else:
                log.warning("%s carries a docsgap issue marker but docsgap's user did not open "
                            "it with that marker: not linked", item.web_url)
        return trusted

    def match(self, signals: Sequence[Signal]) -> dict[str, MatchResult]:
        """Deduplicate every signal against the cached doc issues and MRs; a result kept from
        an earlier run is reused while the signal, the cached items and the settings are the
        same (`docsgap.loop.matchcache`), so an unchanged rerun builds no index at all."""
        d = self.config.dedup
        declined = self.config.gitlab.wontdo_labels
        settings = {"link": d.link_threshold, "review": d.review_threshold,
                    "closed_within_days": d.closed_within_days, "declined": sorted(declined)}
        weights = ranker_file(self.config.rules_dirs)  # a team's retrained ranker, if any
        stamp = items_stamp(self.store, settings, utcnow(), weights)
        cache = MatchCache(self.store)
        found = cache.load(signals, stamp)
        todo = [s for s in signals if s.key not in found]
        if todo:
            matcher = Matcher(
                self.store.items(), link_threshold=d.link_threshold,
                review_threshold=d.review_threshold, closed_within_days=d.closed_within_days,
                declined_labels=declined, cache=self.store, ranker=load_ranker(weights),
            )
            fresh = hold_reviews(
                cache.previous(todo),
                dict(zip((s.key for s in todo), matcher.match_many(todo), strict=True)),
                review_threshold=d.review_threshold)
            cache.save({s.key: (s, fresh[s.key]) for s in todo}, stamp)
            found.update(fresh)
        # A reviewer's own link (`review --link`) replaces docsgap's match, cached or not.
        return apply_hand_links(self.store, {s.key: found[s.key] for s in signals})

    def plan(self, topics: Collection[int] | None = None) -> Plan:
        """Plan actions for every stored signal (of `topics`, when given) whose thread is not
        linked yet."""
        stored = [s for s in self.store.signals() if topics is None or s.thread_id in topics]
        signals = check_signals(stored, self.docs_index(), self.config)
        context = self.context()
        open_signals = [s for s in signals if not context.linked.get(s.thread_id)]
        matches = self.match(open_signals)
        plan = build_plan(signals, matches, self.config, context, group_signals)
        plan = replace(plan, skips=plan.skips + tuple(self.withheld.values()))
        replies = [a for a in plan_replies(self.store, self.docs_index(), self.config, context,
                                           now=utcnow())
                   if topics is None or a.thread_ids[0] in topics]
        plan = annotate(plan, stored, signals, self.config)
        plan = label_issues(plan, self.docs_index(), self.config)
        return extend_plan(plan, replies, self.config, context)

    def docs_index(self) -> DocsIndex | None:
        """The local docs index (`docsgap docs sync`), loaded once per run; None when empty."""
        if self._docs_index is None:
            self._docs_index = load_index(self.config, self.store) or False
        return self._docs_index or None

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

    def run(self, *, apply: bool, topic: int | None = None) -> RunResult:
        """sync -> scan -> detect -> dedupe -> plan -> apply (writes only when `apply`).

        With `topic`, the loop runs for that one thread: it is read fresh (only the posts not
        held), judged and planned alone, under the same policies, markers and ledger; the
        forum walk is left for the next scheduled run."""
        started: datetime = utcnow()
        self.sync_tracker()
        if topic is None:
            scanned = self.scan()
        else:
            scanner = Scanner(self.config, self.forum, self.store, self.detector,
                              self.progress, self.notice)
            scanner.judge_topic(topic)
            self.withheld.update(scanner.withheld)
            scanned = 1
        self.reconcile()
        plan = self.plan(None if topic is None else {topic})
        if apply and self.before_apply is not None:
            self.before_apply(plan)  # may stop the run: nothing is written before this
        signals = {s.key: s for s in plan.signals}
        outcomes: list[Outcome] = Applier(
            self.forum, self.tracker, self.store, self.config, signals, progress=self.progress
        ).apply(plan, write=apply)
        result = RunResult(plan=plan, outcomes=tuple(outcomes), threads_scanned=scanned)
        self.store.record_run(started, apply, {"threads": scanned,
                                               "actions": len(plan.actions)})
        return result
