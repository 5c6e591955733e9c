"""Measure deduplication on labelled data: recall@1, recall@5, MRR and the precision and recall
of automatic `link` decisions, for docsgap's matcher beside a naive baseline (rapidfuzz on
titles only). Also reads the pool and query files that `docsgap match` takes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from docsgap.dedupe.decision import candidate_json
from docsgap.dedupe.features import Vector
from docsgap.dedupe.matcher import Matcher
from docsgap.dedupe.ranker import Ranker
from docsgap.docs.pages import map_url
from docsgap.errors import ConfigError
from docsgap.jsonl import read_jsonl
from docsgap.models import Candidate, Decision, DocPage, MatchResult, TrackerItem
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
    `created_at`, `kind`, `closed_as_duplicate_of`: the original's URL) as tracker items; the
    docs URL joins the description."""
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


def _filed(item: TrackerItem, dated: bool) -> float:
    """An item's place in filing order, as `Matcher` orders items: its creation time when
    every item has one (`dated`), else its number."""
    return item.created_at.timestamp() if dated and item.created_at else float(item.iid)


def report_time(q: Query, *, dated: bool, own_project: bool) -> float | None:
    """The report's place in that order (see `Matcher.match`): its `created_at` among dated
    items, else its number, which only means something in its `own_project`."""
    if dated:
        return q.created_at.timestamp() if q.created_at else None
    number = _number(q.url)
    return float(number) if number and own_project else None


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


# --- metrics ---------------------------------------------------------------------------------

RankFn = Callable[[Query], list[Candidate]]


@dataclass
class Scores:
    """Quality of one matcher over the labelled queries."""

    name: str
    queries: int = 0
    labelled: int = 0
    hits1: int = 0
    hits5: int = 0
    rr: float = 0.0
    links: int = 0
    right_links: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall1(self) -> float:
        """Share of queries whose original is ranked first."""
        return self.hits1 / self.labelled if self.labelled else 0.0

    @property
    def recall5(self) -> float:
        """Share of queries whose original is in the top five."""
        return self.hits5 / self.labelled if self.labelled else 0.0

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the original (0 when not in the top ten)."""
        return self.rr / self.labelled if self.labelled else 0.0

    @property
    def link_precision(self) -> float:
        """Share of `link` decisions that name the right item (1.0 when there are none)."""
        return self.right_links / self.links if self.links else 1.0

    @property
    def link_recall(self) -> float:
        """Share of labelled queries linked automatically to the right item."""
        return self.right_links / self.labelled if self.labelled else 0.0

    def figures(self) -> dict[str, Any]:
        """The headline numbers."""
        return {"recall@1": round(self.recall1, 4), "recall@5": round(self.recall5, 4),
                "mrr": round(self.mrr, 4), "links": self.links,
                "link_precision": round(self.link_precision, 4),
                "link_recall": round(self.link_recall, 4)}


def rank_all(queries: Sequence[Query], rank: RankFn) -> list[list[Candidate]]:
    """Rank every query once (decisions at several thresholds reuse the ranking)."""
    return [rank(q) for q in queries]


def evaluate(queries: Sequence[Query], ranked: Sequence[Sequence[Candidate]], name: str, *,
             decide: Callable[[Sequence[Candidate]], MatchResult]) -> Scores:
    """Score rankings and decisions: recall@k and MRR from the ranks, link precision/recall
    from the decisions. A query without `duplicate_of` should end `new`; linking it counts as
    a wrong link."""
    s = Scores(name, queries=len(queries))
    for q, cands in zip(queries, ranked, strict=True):
        result = decide(cands)
        urls = [c.url for c in cands]
        linked = result.best.url if result.decision == "link" and result.best else None
        if linked:
            s.links += 1
            s.right_links += linked == q.duplicate_of
        if not q.duplicate_of:
            continue
        s.labelled += 1
        pos = urls.index(q.duplicate_of) + 1 if q.duplicate_of in urls else 0
        s.hits1 += pos == 1
        s.hits5 += 0 < pos <= 5
        s.rr += 1 / pos if pos else 0.0
        if pos != 1:
            s.misses.append({"id": q.id, "expected": q.duplicate_of, "rank": pos or None,
                             "got": urls[0] if urls else None, "decision": result.decision})
    return s


def baseline_ranker(items: Sequence[TrackerItem], *, replay: bool = True) -> RankFn:
    """The naive baseline: rapidfuzz WRatio on raw titles, on the same items docsgap sees
    (the query's project; with `replay`, items filed before it)."""
    by_project: dict[str, list[TrackerItem]] = {}
    for item in items:
        by_project.setdefault(item.project, []).append(item)

    def rank(q: Query) -> list[Candidate]:
        pool = by_project.get(q.project or "", list(items))
        dated = all(i.created_at for i in pool)
        as_of = report_time(q, dated=dated, own_project=q.project in by_project)
        if replay and as_of is not None:
            pool = [i for i in pool if _filed(i, dated) < as_of]
        found = process.extract(q.title, [i.title for i in pool], scorer=fuzz.WRatio, limit=10)
        return [Candidate(pool[n].web_url, pool[n].title, pool[n].state, round(s, 1),
                          (("title", round(s, 1)),)) for _, s, n in found]

    return rank


def baseline_decide(link_threshold: float, review_threshold: float
                    ) -> Callable[[Sequence[Candidate]], MatchResult]:
    """Thresholds on the title score alone."""

    def decide(cands: Sequence[Candidate]) -> MatchResult:
        best = cands[0] if cands else None
        score = best.score if best else 0.0
        decision: Decision = ("link" if score >= link_threshold else
                              "review" if score >= review_threshold else "new")
        return MatchResult(decision, best, tuple(cands), "title similarity only")

    return decide


def to_json(main: Scores, baseline: Scores, *, threshold: float,
            sweep: Sequence[tuple[float, Scores]] = ()) -> dict[str, Any]:
    """Figures as JSON: docsgap, baseline, link precision/recall at other thresholds, misses."""
    return {
        "queries": main.queries, "labelled": main.labelled, "link_threshold": threshold,
        "docsgap": main.figures(), "baseline": baseline.figures(),
        "thresholds": [{"link_threshold": t, **{k: v for k, v in s.figures().items()
                                                 if k.startswith("link")}} for t, s in sweep],
        "misses": main.misses,
    }


def render_text(main: Scores, baseline: Scores, *, threshold: float,
                sweep: Sequence[tuple[float, Scores]] = ()) -> str:
    """A small table for people."""
    lines = [f"{main.queries} queries ({main.labelled} with a known original), "
             f"link threshold {threshold:g}", "",
             f"{'':<16}{'docsgap':>10}{'baseline':>10}"]
    a, b = main.figures(), baseline.figures()
    lines += [f"{key:<16}{a[key]:>10}{b[key]:>10}" for key in a]
    if sweep:
        lines += ["", "link decisions at other thresholds (docsgap):"]
        lines += [f"  {t:>5g}: {s.links} links, precision {s.link_precision:.3f}, "
                  f"recall {s.link_recall:.3f}" for t, s in sweep]
    if main.misses:
        lines += ["", "not ranked first:"]
        lines += [f"  {m['id']}: expected {m['expected']} (rank {m['rank'] or '>10'}), "
                  f"got {m['got']}" for m in main.misses]
    return "\n".join(lines)
