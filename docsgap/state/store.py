"""`StateStore`: every read and write of the local SQLite state (through sqlite-utils). Whether
a file may be opened at all, and how a damaged or full disk's errors read, is `state/usable.py`.

SQLite is the fast ledger, not the only truth: every write docsgap makes also carries a hidden
marker remotely, so a lost database never causes a duplicate (see `act/apply.py`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from docsgap.errors import StateError
from docsgap.models import DocPage, Evidence, GapType, Signal, TrackerItem
from docsgap.state import dedupcache, times
from docsgap.state.schema import migrations
from docsgap.state.times import iso, parse_iso
from docsgap.state.usable import CORRUPT_HINT, check_usable, refuse_newer


class StateStore:
    """All reads and writes of the local state go through here. `read_only` opens the file
    without writing anything (not even the journal mode), for `docsgap report`; a state from
    an older docsgap is then read through an upgraded copy (`upgraded`)."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        memory = self.path == ":memory:"
        if not memory:
            check_usable(Path(self.path), read_only=read_only)
        try:
            if read_only and not memory:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self.db = Database(sqlite3.connect(uri, uri=True))
                refuse_newer(self.db, self.path)
                if migrations.pending(self.db):
                    self._read_upgraded()
                return
            if not memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(self.path)
            refuse_newer(self.db, self.path)  # before the journal mode or a migration writes
            if not memory:
                # WAL + NORMAL: a commit per write stays durable against crashes of docsgap
                # without an fsync each (10 ms on ext4); CI saves the file with the backup API.
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            migrations.apply(self.db)
        except (sqlite3.DatabaseError, OSError, UnicodeDecodeError) as exc:
            # UnicodeDecodeError: a damaged page turned schema or migration text into bad UTF-8.
            if hasattr(self, "db"):
                self.db.close()  # nothing was written: SQLite removes its empty -wal and -shm
            if self._scratch is not None:
                Path(self._scratch).unlink(missing_ok=True)
            raise StateError(f"cannot open state {self.path}: {exc}", hint=CORRUPT_HINT) from exc

    upgraded = False
    """Read only: the file is from an older docsgap and is read through an upgraded copy."""
    _scratch: str | None = None

    def _read_upgraded(self) -> None:
        """A state an older docsgap wrote, read without writing it: copied (SQLite's backup
        API) into a scratch file beside nothing of the user's, upgraded there, and read from
        it; the scratch file goes on `close`. The docs team reading a report has no command
        that writes the state, so refusing it left them nothing to run."""
        fd, scratch = tempfile.mkstemp(prefix="docsgap-state-", suffix=".db")
        os.close(fd)
        self._scratch = scratch
        copy = sqlite3.connect(scratch)
        self.db.conn.backup(copy)
        self.db.close()
        self.db = Database(copy)
        migrations.apply(self.db)
        self.upgraded = True

    def close(self) -> None:
        """Close the connection (folding the WAL back into the file)."""
        if self.path != ":memory:" and not self.read_only:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
        self.db.close()
        if self._scratch is not None:
            Path(self._scratch).unlink(missing_ok=True)
            self._scratch = None

    def verdicts(self) -> dict[str, str]:
        """Review verdicts: action or signal key -> accept | reject | skip."""
        return {str(r["key"]): str(r["verdict"]) for r in self.db.table("verdicts").rows}

    # cursors ---------------------------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        """A stored cursor value."""
        row = self._get("cursors", name)
        return None if row is None else str(row["value"])

    def set_cursor(self, name: str, value: str) -> None:
        """Store a cursor (committed at once)."""
        self.db.table("cursors").upsert(
            {"name": name, "value": value, "updated_at": iso(times.utcnow())}, pk="name"
        )

    # threads and signals ---------------------------------------------------------------------
    def record_thread(self, row: dict[str, Any]) -> None:
        """Upsert what docsgap knows about a thread."""
        self.db.table("threads").upsert({**row, "scanned_at": iso(times.utcnow())}, pk="id")

    def thread_row(self, thread_id: int) -> dict[str, Any] | None:
        """The stored row of a thread."""
        return self._get("threads", thread_id)

    def record_signal(self, signal: Signal) -> None:
        """Upsert a signal, keeping when it was first seen."""
        now = iso(times.utcnow())
        old = self._get("signals", signal.key)
        page = signal.page
        self.db.table("signals").upsert(
            {
                "key": signal.key,
                "thread_id": signal.thread_id,
                "gap_type": signal.gap_type.value,
                "score": signal.score,
                "rules": json.dumps(list(signal.rules)),
                "evidence": json.dumps(
                    [
                        {"rule_id": e.rule_id, "text": e.text, "matched": e.matched,
                         "post_number": e.post_number}
                        for e in signal.evidence
                    ]
                ),
                "post_number": signal.post_number,
                "page_url": page.url if page else None,
                "page_project": page.project if page else None,
                "page_path": page.path if page else None,
                "page_section": page.section if page else None,
                "existing_links": json.dumps(list(signal.existing_links)),
                "first_seen": old["first_seen"] if old else now,
                "last_seen": now,
            },
            pk="key",
        )

    def signals(self) -> Iterator[Signal]:
        """Every stored signal, rebuilt as domain objects."""
        threads = {r["id"]: r for r in self.db.table("threads").rows}
        for r in self.db.table("signals").rows_where(order_by="first_seen"):
            t = threads.get(r["thread_id"], {})
            page = (
                DocPage(r["page_url"], r["page_project"], r["page_path"], r["page_section"])
                if r["page_url"]
                else None
            )
            yield Signal(
                thread_id=r["thread_id"],
                thread_title=t.get("title") or "",
                thread_url=t.get("url") or "",
                gap_type=GapType(r["gap_type"]),
                score=r["score"],
                rules=tuple(json.loads(r["rules"] or "[]")),
                evidence=tuple(Evidence(**e) for e in json.loads(r["evidence"] or "[]")),
                page=page,
                post_number=r["post_number"] or 1,
                existing_links=tuple(json.loads(r["existing_links"] or "[]")),
            )

    # tracker cache ---------------------------------------------------------------------------
    def upsert_items(self, items: Iterable[TrackerItem]) -> int:
        """Write tracker items into the cache; returns how many."""
        now = iso(times.utcnow())
        rows = [
            {
                "url": i.web_url,
                "kind": i.kind,
                "project": i.project,
                "iid": i.iid,
                "title": i.title,
                "description": i.description,
                "state": i.state,
                "labels": json.dumps(list(i.labels)),
                "created_at": iso(i.created_at),
                "updated_at": iso(i.updated_at),
                "closed_at": iso(i.closed_at),
                "duplicate_of": i.duplicate_of,
                "confidential": int(i.confidential),
                "synced_at": now,
            }
            for i in items
        ]
        if rows:
            self.db.table("items").upsert_all(rows, pk="url")
        return len(rows)

    def items(self) -> list[TrackerItem]:
        """Every cached issue and MR."""
        return [self._item(r) for r in self.db.table("items").rows]

    def items_containing(self, text: str) -> list[TrackerItem]:
        """Cached items whose description contains `text` (a marker), found by SQLite."""
        rows = self.db.table("items").rows_where("instr(description, ?) > 0", [text])
        return [self._item(r) for r in rows]

    def item(self, url: str) -> TrackerItem | None:
        """One cached item by URL."""
        row = self._get("items", url)
        return None if row is None else self._item(row)

    @staticmethod
    def _item(r: dict[str, Any]) -> TrackerItem:
        return TrackerItem(
            kind=r["kind"],
            project=r["project"],
            iid=r["iid"],
            title=r["title"] or "",
            description=r["description"] or "",
            state=r["state"],
            web_url=r["url"],
            labels=tuple(json.loads(r["labels"] or "[]")),
            created_at=parse_iso(r["created_at"]),
            updated_at=parse_iso(r["updated_at"]),
            closed_at=parse_iso(r["closed_at"]),
            duplicate_of=r.get("duplicate_of") or None,
            confidential=bool(r.get("confidential")),
        )

    # links -----------------------------------------------------------------------------------
    def record_link(
        self,
        thread_id: int,
        item_url: str,
        *,
        source: str,
        signal_key: str | None = None,
        gap_type: str | None = None,
        page_url: str | None = None,
    ) -> None:
        """Remember that a thread and an issue/MR belong together (keeps reply info)."""
        old = self.link(thread_id, item_url) or {}
        self.db.table("links").upsert(
            {
                "thread_id": thread_id,
                "item_url": item_url,
                "signal_key": signal_key or old.get("signal_key"),
                "gap_type": gap_type or old.get("gap_type"),
                "page_url": page_url or old.get("page_url"),
                "source": old.get("source") or source,
                "created_at": old.get("created_at") or iso(times.utcnow()),
            },
            pk=("thread_id", "item_url"),
        )

    def link(self, thread_id: int, item_url: str) -> dict[str, Any] | None:
        """One link row."""
        return self._get("links", (thread_id, item_url))

    def set_link_field(self, thread_id: int, item_url: str, **fields: str) -> None:
        """Set `reply_url` or `followup_url` on a link."""
        self.db.table("links").update((thread_id, item_url), fields)

    def links(self) -> list[dict[str, Any]]:
        """All link rows."""
        return list(self.db.table("links").rows_where(order_by="created_at"))

    def report_rows(self) -> list[dict[str, Any]]:
        """One row per thread <-> issue/MR link, joined with thread, signal and item state,
        and `why`: the reason of the write that made the link (the match and the policy);
        `reply_state` is `queued` or `rejected` while docsgap's reply in the thread waits for,
        or was refused by, a forum moderator; `followup_skipped` why `followup` decided the link
        gets none (docsgap's reply was deleted)."""
        sql = """
            select l.thread_id, t.title as thread_title, t.url as thread_url,
                   coalesce(l.gap_type, s.gap_type) as gap_type,
                   coalesce(l.page_url, s.page_url) as page_url, s.page_path,
                   l.item_url, i.kind as item_kind, i.title as item_title, i.state as item_state,
                   i.closed_at as item_closed_at, i.labels as item_labels,
                   i.project as item_project, i.confidential as item_confidential,
                   l.source, l.reply_url, l.followup_url,
                   l.created_at as linked_at,
                   s.first_seen as signal_first_seen, t.created_at as thread_created_at,
                   (select g.reason from ledger g
                    where g.remote_url = l.item_url and g.status = 'done'
                      and g.kind in ('open_issue', 'link_existing', 'open_draft_mr')
                      and exists (select 1 from json_each(g.thread_ids)
                                  where value = l.thread_id)
                    order by g.finished_at desc limit 1) as why,
                   (select g.status from ledger g
                    where g.kind = 'reply' and g.status in ('queued', 'rejected')
                      and exists (select 1 from json_each(g.thread_ids)
                                  where value = l.thread_id)
                    order by g.finished_at desc limit 1) as reply_state,
                   (select g.error from ledger g
                    where g.key = 'followup:t' || l.thread_id || ':' || l.item_url
                      and g.status = 'done' and g.remote_url is null) as followup_skipped
            from links l
            left join threads t on t.id = l.thread_id
            left join signals s on s.key = l.signal_key
            left join items i on i.url = l.item_url
            order by l.created_at, l.thread_id
        """
        return [dict(r) for r in self.db.query(sql)]

    # ledger ----------------------------------------------------------------------------------
    def ledger_entry(self, key: str) -> dict[str, Any] | None:
        """The ledger row for an idempotency key."""
        return self._get("ledger", key)

    def ledger_start(self, key: str, kind: str, thread_ids: Iterable[int], reason: str) -> None:
        """Record that a write is about to happen (so a crash leaves a trace)."""
        old = self.ledger_entry(key) or {}
        self.db.table("ledger").upsert(
            {
                "key": key,
                "kind": kind,
                "status": "started",
                "thread_ids": json.dumps(sorted(set(thread_ids))),
                "reason": reason,
                "attempts": int(old.get("attempts") or 0) + 1,
                "started_at": iso(times.utcnow()),
                "error": None,
            },
            pk="key",
        )

    def ledger_finish(
        self, key: str, status: str, *, remote_url: str | None = None, error: str | None = None
    ) -> None:
        """Record the outcome of a write, committed at once."""
        self.db.table("ledger").upsert(
            {
                "key": key,
                "status": status,
                "remote_url": remote_url,
                "error": error,
                "finished_at": iso(times.utcnow()),
            },
            pk="key",
        )

    def ledger(self) -> list[dict[str, Any]]:
        """All ledger rows."""
        return list(self.db.table("ledger").rows_where(order_by="started_at"))

    # verdicts --------------------------------------------------------------------------------
    def verdict(self, key: str) -> dict[str, Any] | None:
        """A reviewer's verdict on an action key."""
        return self._get("verdicts", key)

    def set_verdict(self, key: str, verdict: str, *, body: str | None = None,
                    note: str | None = None) -> None:
        """Record accept / reject / skip (and an edited body) for an action key."""
        self.db.table("verdicts").upsert(
            {"key": key, "verdict": verdict, "body": body, "note": note,
             "decided_at": iso(times.utcnow())},
            pk="key",
        )

    # runs ------------------------------------------------------------------------------------
    def record_run(self, started_at: datetime, apply: bool, summary: dict[str, Any]) -> None:
        """Append a run summary."""
        self.db.table("runs").insert(
            {"started_at": iso(started_at), "finished_at": iso(times.utcnow()), "apply": int(apply),
             "summary": json.dumps(summary)}
        )

    def _get(self, table: str, pk: Any) -> dict[str, Any] | None:
        try:
            return dict(self.db.table(table).get(pk))
        except NotFoundError:
            return None

    # dedup cache -----------------------------------------------------------------------------
    def load_dedup_cache(self, fingerprint: str
                         ) -> tuple[list[str], dict[str, tuple[str, bytes]]]:
        """The matcher's cached vocabulary and rows under `fingerprint` (`dedupcache.load`)."""
        return dedupcache.load(self.db, fingerprint)

    def save_dedup_cache(self, fingerprint: str, rows: Iterable[tuple[str, str, bytes]],
                         words: Sequence[str] = (), *, known: int = 0) -> None:
        """Store the matcher's new words and rows under `fingerprint` (`dedupcache.save`)."""
        dedupcache.save(self.db, fingerprint, rows, words, known=known)
