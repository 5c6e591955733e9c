"""Measure deduplication on labelled data: recall@1, recall@5, MRR and the precision and recall
of automatic `link` decisions, for docsgap's matcher beside a naive baseline (rapidfuzz on
titles only). Also reads the pool and query files that `docsgap match` takes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from docsgap.dedupe.decision import candidate_json
from docsgap.dedupe.features import Vector
from docsgap.dedupe.matcher import Matcher, filing_order
from docsgap.dedupe.ranker import Ranker
from docsgap.docpages.pages import map_url
from docsgap.errors import ConfigError
from docsgap.jsonl import read_jsonl
from docsgap.models import Candidate, DocPage, MatchResult, TrackerItem
from docsgap.state import parse_iso

_NUMBER_RE = re.compile(r"/(?:issues|pull|merge_requests|-/issues|-/merge_requests)/(\d+)/?$")
_PROJECT_RE = re.compile(r"^https?://[^/]+/(.+?)(?:/-)?/(?:issues|pull|merge_requests)/\d+/?$")
STATES = {"open": "opened", "opened": "opened", "closed": "closed", "merged": "merged",
          "locked": "locked"}


@dataclass(frozen=True)
class Query:
    """One report to match: its text, page and (when labelled) the item it duplicates."""

    id: str
    title: str
    body: str
    docs_url: str | None = None
    url: str | None = None
    project: str | None = None
    duplicate_of: str | None = None
    created_at: datetime | None = None


def _project(record: dict[str, Any], url: str) -> str:
    m = _PROJECT_RE.match(url)
    return str(record.get("repo") or record.get("project") or (m.group(1) if m else ""))


def _number(url: str | None) -> int | None:
    m = _NUMBER_RE.search(url or "")
    return int(m.group(1)) if m else None


def read_pool(path: Path) -> list[TrackerItem]:
    """Pool records `{"url", "title", "body", "state", "docs_url"}` (optional `repo`, `labels`,
    `created_at`, `kind`, `closed_as_duplicate_of`: the original's URL, `confidential`) as
    tracker items; the docs URL joins the description."""
    return _pool_items(read_jsonl(path), str(path))


def read_pool_records(records: Sequence[dict[str, Any]], where: str) -> list[TrackerItem]:
    """`read_pool` on records already read (`where` names them in errors)."""
    return _pool_items(enumerate(records, 1), where)


def _pool_items(records: Iterable[tuple[int, dict[str, Any]]], path: str) -> list[TrackerItem]:
    items = []
    for n, r in records:
        url = r.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"{path}:{n}: pool record without a url")
        body = str(r.get("body") or "")
        docs_url = r.get("docs_url")
        if isinstance(docs_url, str) and docs_url and docs_url not in body:
            body = f"{body}\n\n{docs_url}"
        kind = r.get("kind") or ("merge_request" if re.search(r"/(pull|merge_requests)/", url)
                                 else "issue")
        created = r.get("created_at")
        when = _when(created, f"{path}:{n}") if created else None
        items.append(TrackerItem(
            kind="merge_request" if kind == "merge_request" else "issue",
            project=_project(r, url), iid=_number(url) or n, title=str(r.get("title") or ""),
            description=body, state=STATES.get(str(r.get("state", "open")).lower(), "opened"),
            web_url=url, labels=tuple(str(x) for x in r.get("labels") or ()),
            created_at=when,
            duplicate_of=str(r["closed_as_duplicate_of"]) if r.get("closed_as_duplicate_of")
            else None,
            # As GitLab's issue JSON says it: never linked without a person, and said so.
            confidential=kind != "merge_request" and r.get("confidential") is True,
        ))
    return items


def _when(value: object, where: str) -> datetime:
    """An ISO 8601 time with its zone (one without is taken as UTC)."""
    try:
        when = parse_iso(str(value))
    except ValueError:
        when = None
    if when is None:
        raise ConfigError(f"{where}: created_at {value!r} is not an ISO 8601 time")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def filed_at(item: TrackerItem, dated: bool) -> float:
    """An item's place in filing order, as `Matcher` orders items: its creation time when
    every item has one (`dated`), ties broken by its number, else its number."""
    return filing_order(item.created_at, item.iid, dated)


def report_time(q: Query, *, dated: bool, own_project: bool) -> float | None:
    """The report's place in that order (see `Matcher.match`): its `created_at` among dated
    items (in its `own_project`, ties with items of the same day broken by its number, so an
    original filed earlier that day counts as there), else its number, which only means
    something in its `own_project`."""
    number = _number(q.url) if own_project else None
    if dated:
        return filing_order(q.created_at, number or 0, True) if q.created_at else None
    return float(number) if number else None


def read_queries(path: Path) -> list[Query]:
    """Query records `{"id", "query": {"title", "body", "docs_url"}}`, optionally with
    `duplicate_of` (labelled) and `repo` / `query.url` (the report's own project and number)."""
    out = []
    for n, r in read_jsonl(path):
        q = r.get("query")
        if not isinstance(q, dict):
            raise ConfigError(f"{path}:{n}: record without a 'query' object")
        url = q.get("url") if isinstance(q.get("url"), str) else None
        created = q.get("created_at") or r.get("created_at")
        out.append(Query(
            id=str(r.get("id", n)), title=str(q.get("title") or ""), body=str(q.get("body") or ""),
            docs_url=q.get("docs_url") or None, url=url,
            project=r.get("repo") or q.get("repo") or (_project({}, url) if url else None) or None,
            duplicate_of=r.get("duplicate_of"),
            created_at=_when(created, f"{path}:{n}") if created else None,
        ))
    return out


class PoolMatcher:
    """One `Matcher` per project of the pool: a report is matched within its own project (as
    docsgap matches within one GitLab project), and with `replay` only against the items filed
    before it. Recency is measured from the report's own time (its `created_at` when the pool
    is dated, else its number) and, failing that, from the pool's newest item, so a result
    never depends on the day the evaluation runs."""

    def __init__(self, items: Sequence[TrackerItem], *, link_threshold: float,
                 review_threshold: float, closed_within_days: int, replay: bool = True,
                 ranker: Ranker | None = None) -> None:
        self.replay = replay
        dates = [i.created_at for i in items if i.created_at is not None]
        now = max(dates) + timedelta(seconds=1) if dates else datetime(2000, 1, 1, tzinfo=UTC)
        kw = {"link_threshold": link_threshold, "review_threshold": review_threshold,
              "closed_within_days": closed_within_days, "now": now, "ranker": ranker}
        by_project: dict[str, list[TrackerItem]] = {}
        for item in items:
            by_project.setdefault(item.project, []).append(item)
        self.all = Matcher(items, **kw)  # type: ignore[arg-type]
        self.projects = {p: Matcher(v, **kw) for p, v in by_project.items()}  # type: ignore[arg-type]

    def _args(self, q: Query) -> tuple[Matcher, DocPage | None, float | None]:
        matcher = self.projects.get(q.project or "", self.all)
        page = map_url(q.docs_url) if q.docs_url else None
        return matcher, page, self.as_of(q, matcher)

    def as_of(self, q: Query, matcher: Matcher) -> float | None:
        """The report's place in the matcher's order of items (see `Matcher.match`)."""
        return report_time(q, dated=matcher.dated, own_project=matcher is not self.all)

    def match(self, q: Query) -> MatchResult:
        """Match one query (within its project when the pool has it)."""
        matcher, page, as_of = self._args(q)
        return matcher.match(q.title, q.body, page, as_of=as_of, replay=self.replay,
                             project=q.project)

    def original_exists(self, q: Query) -> bool:
        """Whether the query's labelled original was there to be found: in the pool it is
        matched against and, replaying, filed before it."""
        if not q.duplicate_of:
            return False
        matcher, _, as_of = self._args(q)
        n = matcher.index.url_index.get(q.duplicate_of.rstrip("/"))
        return n is not None and not matcher.filed_later(n, as_of, self.replay)

    def related(self, a: str, b: str) -> bool:
        """Whether two pool items reference each other (see `Matcher.related`)."""
        return self.all.related(a, b)

    def feature_rows(self, q: Query) -> list[tuple[str, Vector]]:
        """Every scored candidate's URL and features for one query (see `Matcher`)."""
        matcher, page, as_of = self._args(q)
        return matcher.feature_rows(q.title, q.body, page, as_of=as_of, replay=self.replay,
                                    project=q.project)

    def rank(self, q: Query) -> list[Candidate]:
        """The ranked candidates for one query, best first."""
        matcher, page, as_of = self._args(q)
        return matcher.rank(q.title, q.body, page, as_of=as_of, replay=self.replay,
                            project=q.project)


def result_json(query_id: str, result: MatchResult) -> dict[str, Any]:
    """One output line of `docsgap match`."""
    return {"id": query_id, "decision": result.decision,
            "best": result.best.url if result.best else None, "reason": result.reason,
            "candidates": [candidate_json(c) for c in result.candidates]}
