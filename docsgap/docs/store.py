"""Reads and writes of the docs index's tables in the state (`docs_pages`, `docs_sources`;
created by the state's migrations). Takes the `StateStore`'s database, so the index lives in
the same SQLite file as everything else and travels with it (CI state push/pull)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database

from docsgap.docs.model import DocsPage, Section
from docsgap.state import iso, utcnow


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the last sync of one docs project saw."""

    project: str
    dir: str
    ref: str
    commit: str
    origin: str
    """`archive` (GitLab API) or `path` (a local checkout)."""
    pages: int
    committed_at: str | None = None
    synced_at: str | None = None
    owned: int = 0
    """Pages whose front matter names a stage or group (`sources()` counts them)."""


class DocsStore:
    """The docs index in the state database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # sources ---------------------------------------------------------------------------------
    def source(self, project: str) -> SourceState | None:
        """The last sync of `project`, if any."""
        rows = list(self.db.table("docs_sources").rows_where("project = ?", [project]))
        return _source(rows[0]) if rows else None

    def sources(self) -> list[SourceState]:
        """Every synced docs project, with how many of its pages name their owners."""
        owned = dict(self.db.execute(
            "select project, count(*) from docs_pages where coalesce(stage, '') != '' "
            "or coalesce(owner_group, '') != '' group by project").fetchall())
        return [replace(_source(r), owned=int(owned.get(r["project"], 0)))
                for r in self.db.table("docs_sources").rows_where(order_by="project")]

    def set_source(self, state: SourceState) -> None:
        """Record a finished sync (committed with its pages, see `replace_pages`)."""
        self.db.table("docs_sources").upsert(
            {"project": state.project, "dir": state.dir, "ref": state.ref,
             "commit_id": state.commit, "committed_at": state.committed_at,
             "origin": state.origin, "pages": state.pages, "synced_at": iso(utcnow())},
            pk="project")

    # pages -----------------------------------------------------------------------------------
    def digests(self, project: str) -> dict[str, tuple[str, str]]:
        """path -> (content digest, commit first seen) of the project's indexed pages."""
        rows = self.db.execute(
            "select path, digest, commit_id from docs_pages where project = ?", [project])
        return {str(p): (str(d), str(c or "")) for p, d, c in rows}

    def replace_pages(self, project: str, changed: Sequence[tuple[DocsPage, str]],
                      removed: Iterable[str], source: SourceState) -> None:
        """Write changed (page, digest) rows, drop removed paths and record the source, in one
        transaction: a sync that dies half way leaves the previous index whole."""
        now = iso(utcnow())
        rows = [_row(page, digest, now) for page, digest in changed]
        with self.db.conn:
            self.db.conn.executemany(
                "delete from docs_pages where key = ?", ([f"{project}:{p}"] for p in removed))
            if rows:
                cols = list(rows[0])
                self.db.conn.executemany(
                    f"insert or replace into docs_pages ({', '.join(cols)}) "
                    f"values ({', '.join('?' for _ in cols)})",
                    ([r[c] for c in cols] for r in rows))
            self.db.conn.execute(
                "insert or replace into docs_sources (project, dir, ref, commit_id, "
                "committed_at, origin, pages, synced_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [project, source.dir, source.ref, source.commit, source.committed_at,
                 source.origin, source.pages, now])

    def pages(self, projects: Sequence[str] | None = None) -> list[DocsPage]:
        """Every indexed page (of `projects` when given), ordered by project and path."""
        where, args = "", []
        if projects:
            where = f"where project in ({', '.join('?' for _ in projects)})"
            args = list(projects)
        rows = self.db.execute(
            "select project, path, url, urls, title, sections, redirect_to, commit_id, stage, "
            f"owner_group from docs_pages {where} order by project, path", args)
        return [_page(r) for r in rows]

    def owner_of(self, project: str, path: str) -> tuple[str, str] | None:
        """(stage, group) a page's front matter names, or None when the page is not indexed
        or was indexed before docsgap kept owners."""
        row = self.db.execute("select stage, owner_group from docs_pages where project = ? "
                              "and path = ?", [project, path]).fetchone()
        if row is None or row[0] is None:
            return None
        return str(row[0] or ""), str(row[1] or "")

    def count(self) -> int:
        """How many pages the index holds."""
        return int(self.db.execute("select count(*) from docs_pages").fetchone()[0])


def _row(page: DocsPage, digest: str, now: str | None) -> dict[str, Any]:
    return {
        "key": page.key, "project": page.project, "path": page.path, "url": page.url,
        "urls": json.dumps(list(page.urls)), "title": page.title,
        "sections": json.dumps([[s.anchor, s.heading, s.level, s.text] for s in page.sections],
                               ensure_ascii=False),
        "redirect_to": page.redirect_to, "digest": digest, "commit_id": page.commit,
        "updated_at": now, "stage": page.stage, "owner_group": page.group,
    }


def _page(r: Sequence[Any]) -> DocsPage:
    project, path, url, urls, title, sections, redirect_to, commit, stage, group = r
    return DocsPage(
        project=project, path=path, url=url, title=title or "",
        sections=tuple(Section(a, h, int(lv), t) for a, h, lv, t in json.loads(sections or "[]")),
        urls=tuple(json.loads(urls or "[]")), redirect_to=redirect_to or None,
        commit=commit or "", stage=stage or "", group=group or "",
        owners_read=stage is not None)


def _source(r: dict[str, Any]) -> SourceState:
    return SourceState(
        project=r["project"], dir=r["dir"] or "", ref=r["ref"] or "", commit=r["commit_id"] or "",
        origin=r["origin"] or "", pages=int(r["pages"] or 0), committed_at=r["committed_at"],
        synced_at=r["synced_at"])
