"""Deduplication: match a docs-gap signal against the cached doc issues and open MRs (page
first, then words), rank the candidates with the fitted ranker, decide `link`, `review` or
`new`, and explain the decision.

The `Matcher` indexes the cache once per run (`docsgap.dedupe.itemindex`), so matching many
signals costs no API calls and little time; long signal lists are matched on two processes. The
features it measures live in `docsgap.dedupe.features`, their weights in
`docsgap.dedupe.ranker`, duplicate chains in `docsgap.dedupe.chains`, the decision and its
explanation in `docsgap.dedupe.decision`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from docsgap.dedupe import chains
from docsgap.dedupe.cache import CACHE_VERSION, DedupCache, cache_stamp
from docsgap.dedupe.chains import Ranked
from docsgap.dedupe.decision import decide
from docsgap.dedupe.features import (
    FEATURES,
    MIN_TEXT_FOR_PAGE,
    Query,
    Vector,
    combine,
    likeness,
    make_query,
    prior_features,
    text_features,
)
from docsgap.dedupe.grouping import group_signals
from docsgap.dedupe.index import split_map, top
from docsgap.dedupe.itemindex import ItemIndex, cache_fingerprint
from docsgap.dedupe.links import REF_RE, page_tails, urls_in
from docsgap.dedupe.ranker import RANKER_FILE, Ranker, load_ranker, probabilities
from docsgap.docpages import pages as docpages
from docsgap.docpages.pages import docs_map_file
from docsgap.models import Candidate, DocPage, MatchResult, Signal, TrackerItem

DECLINED_LABELS = (
    "won't do", "wontdo", "wontfix", "won't fix", "declined", "duplicate", "invalid",
    "not planned", "workflow::won't do", "closed::won't do",
)
"""Labels that say a closed issue was declined rather than fixed (config can pass its own)."""

SHORTLIST = 30
"""Items scored in full per signal, besides the ones on the same page."""
PAGE_CANDIDATES = 30
"""At most this many same-page items are scored (the best by words first)."""
EXPLAINED = 3
"""Candidates that get their shared words listed (the best and the runners-up the reason
names); finding them re-reads the item's text."""
PARALLEL_SIGNALS = 200
"""`match_many` splits at least this many signals over two processes."""


class Matcher:
    """Matches signals against a fixed set of tracker items, indexed once."""

    def __init__(
        self,
        items: Sequence[TrackerItem],
        *,
        link_threshold: float,
        review_threshold: float,
        closed_within_days: int,
        now: datetime | None = None,
        declined_labels: Sequence[str] = DECLINED_LABELS,
        cache: DedupCache | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        """Thresholds are probabilities in percent (0-100) that the best candidate is the
        report's original. `cache` (the state store) keeps each item's processed text between
        runs: only new and changed items are processed again; the results are the same without
        it. `ranker` defaults to the shipped weights."""
        self.link_threshold = link_threshold
        self.review_threshold = review_threshold
        self.declined_labels = frozenset(label.lower() for label in declined_labels)
        self.ranker = ranker or load_ranker()
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=closed_within_days)
        self.items = [i for i in items if _eligible(i, cutoff)]
        self.index = ItemIndex(self.items, cache)
        # Filing order: creation time when every item has one, else the item number.
        self.dated = bool(self.items) and all(i.created_at is not None for i in self.items)
        self._now = now.timestamp()
        self._order = [filing_order(i.created_at, i.iid, self.dated) for i in self.items]
        self._order_array = np.array(self._order)
        self._originals = chains.find_originals(self.index)

    @property
    def cache_hits(self) -> int:
        """Items whose processed data came from the cache (the rest were processed)."""
        return self.index.cache_hits

    # --- matching -----------------------------------------------------------------------------
    def match_signal(self, signal: Signal) -> MatchResult:
        """Match a detected signal: its thread title, the evidence sentences and its page."""
        return self.match(*_report(signal))

    def match_many(self, signals: Sequence[Signal]) -> list[MatchResult]:
        """`match_signal` for each signal, in order; long lists run on two processes."""
        return self.match_texts([_report(s) for s in signals])

    def match_texts(self, reports: Sequence[tuple[str, str, DocPage | None]]
                    ) -> list[MatchResult]:
        """`match(title, body, page)` for each report, in order; long lists run on two
        processes (same results)."""
        return split_map(lambda lo, hi: [self.match(*r) for r in reports[lo:hi]],
                         len(reports), min_parallel=PARALLEL_SIGNALS)

    def match(self, title: str, body: str, page: DocPage | None = None, *,
              as_of: float | None = None, replay: bool = True,
              project: str | None = None) -> MatchResult:
        """Rank the cached items against one report and decide link / review / new.

        `as_of` (evaluation) is the report's place in the items' order: its number, or its
        creation timestamp when every item has one. Recency is measured from it, and with
        `replay` the items filed after it are ignored, as they did not exist yet. `project` is
        the report's own project, when it has one: its `#12` then names that project's issue."""
        return decide(self.rank(title, body, page, as_of=as_of, replay=replay, project=project),
                      link_threshold=self.link_threshold, review_threshold=self.review_threshold,
                      related=self.related)

    def rank(self, title: str, body: str, page: DocPage | None = None, *,
             as_of: float | None = None, replay: bool = True, project: str | None = None,
             limit: int = 10) -> list[Candidate]:
        """The best `limit` candidates, most probable first, each with its explanation
        (`as_of`, `replay` and `project` as for `match`)."""
        q, ranked = self._ranked(title, body, page, as_of, replay, project)
        probs = probabilities([r.logit for r in ranked])
        order = sorted(range(len(ranked)), key=lambda k: (-ranked[k].logit,
                                                          self.items[ranked[k].n].web_url))
        return [self._candidate(q, ranked[k], probs[k], explain=i < EXPLAINED)
                for i, k in enumerate(order[:limit])]

    def feature_rows(self, title: str, body: str, page: DocPage | None = None, *,
                     as_of: float | None = None, replay: bool = True,
                     project: str | None = None) -> list[tuple[str, Vector]]:
        """Every scored candidate's URL and feature vector (`features.FEATURES` order), as the
        ranker sees them: what `docsgap train dedup` fits the weights on."""
        _, ranked = self._ranked(title, body, page, as_of, replay, project)
        return [(self.items[r.n].web_url, combine(r.text, r.priors)) for r in ranked]

    def _ranked(self, title: str, body: str, page: DocPage | None, as_of: float | None,
                replay: bool, project: str | None) -> tuple[Query, list[Ranked]]:
        if not self.items:
            return make_query(self.index, title, body, page, frozenset()), []
        raw = f"{title}\n{body}"
        q = make_query(self.index, title, body, page, self._named(raw, project))
        acc, reached, skipped = self.index.accumulate(q.vector)
        if as_of is not None and replay:
            reached &= self._order_array < as_of
        same_page = self.index.same_page(q.pages, q.tails, reached)
        pool = top(SHORTLIST, np.flatnonzero(reached), acc)
        pool.update(top(PAGE_CANDIDATES, np.array(sorted(same_page), dtype=np.intp), acc))
        named = {n for n in q.refs if not self.filed_later(n, as_of, replay)}
        pool.update(named)
        dots = self.index.complete(pool, acc, skipped)

        def priors(n: int) -> tuple[float, ...]:
            # Undated items and no report time: item numbers alone say nothing of recency
            # (issue and MR numbers are separate sequences).
            age = self._age(n, as_of) if self.dated or as_of is not None else math.inf
            return prior_features(self.items[n].state == "opened", age, self.dated,
                                  n in named)

        def filed_later(n: int) -> bool:
            return self.filed_later(n, as_of, replay)

        score = self._score
        ranked = []
        for n in pool:
            text, own = text_features(q, self.index, n, dots[n]), priors(n)
            ranked.append(Ranked(n, text, own, score(text, own)))
        ranked = chains.to_originals(ranked, self._originals, filed_later, priors, score)
        ranked = chains.to_continuations(
            ranked, self.index, self._order,
            fixed=lambda item: item.state == "closed" and self._state(item) == "closed",
            resembles=lambda r: likeness(r.text[0], r.text[1] or None) >= MIN_TEXT_FOR_PAGE,
            filed_later=filed_later, score=score)
        return q, ranked

    def _score(self, text: tuple[float, ...], priors: tuple[float, ...]) -> float:
        return self.ranker.logit(combine(text, priors))

    def filed_later(self, n: int, as_of: float | None, replay: bool) -> bool:
        """Whether item `n` was filed after a report at `as_of` (and so is ignored, replaying)."""
        return replay and as_of is not None and self._order[n] >= as_of

    def _age(self, n: int, as_of: float | None) -> float:
        """How far apart the item and the report were filed: days (dated items), else item
        numbers, which count every issue filed between them, not just the cached ones. Either
        side counts: matched against the whole pool (no `replay`), a burst also follows the
        report."""
        if self.dated:
            end = self._now if as_of is None else as_of
            return abs(end - self._order[n]) / 86400
        return abs((as_of or 0.0) - self._order[n])

    def _named(self, raw: str, project: str | None) -> frozenset[int]:
        """The items a report names: by URL (any project), or by `#12` / `!34` in `project`."""
        url_index, by_ref = self.index.url_index, self.index.by_ref
        found = {url_index.get(u.split("#", 1)[0].split("?", 1)[0].rstrip("/"))
                 for u in urls_in(raw)} if "://" in raw else set()
        if project and ("#" in raw or "!" in raw):
            found |= {url_index.get(by_ref.get((project, sign, int(num)), ""))
                      for sign, num in REF_RE.findall(raw)}
        return frozenset(n for n in found if n is not None)

    def _candidate(self, q: Query, r: Ranked, probability: float, *, explain: bool
                   ) -> Candidate:
        item = self.items[r.n]
        # The text that matched: the item's own, or the duplicate's or closed issue's it got.
        matched = r.via if r.via is not None else r.continues if r.continues is not None else r.n
        page = r.text[FEATURES.index("page")] > 0 or r.text[FEATURES.index("tail")] > 0
        return Candidate(
            url=item.web_url, title=item.title, state=self._state(item),
            score=round(100 * probability, 1),
            fields=self.ranker.contributions(combine(r.text, r.priors)),
            shared_words=self._shared(q, matched) if explain else (),
            page_match=page or self._names_page(q, matched),
            via="" if r.via is None else self.items[r.via].web_url,
            continues="" if r.continues is None else self.items[r.continues].web_url,
            confidential=item.confidential,
        )

    def _names_page(self, q: Query, n: int) -> bool:
        return any(n in self.index.pages.get(k, ()) for k in q.keys) or any(
            n in self.index.tails.get(k, ()) for k in q.tails)

    def _shared(self, q: Query, n: int, top: int = 6) -> tuple[str, ...]:
        """The rarest words both texts use, most distinctive first."""
        t, b = self.index.texts(self.items[n].title, self.items[n].description)
        theirs = {*t, *b}
        both = [w for w in q.words if w in theirs]
        both.sort(key=lambda w: (-self.index.idf.get(w, 0.0), w))
        return tuple(q.surface.get(w, w) for w in both[:top])

    def related(self, a: str, b: str) -> bool:
        """Whether two items reference each other (then they track the same gap)."""
        return b in self.index.related.get(a, ())

    def _state(self, item: TrackerItem) -> str:
        if item.kind == "merge_request":
            return "merged" if item.state == "merged" else item.state
        if item.state == "closed":
            labels = {label.lower() for label in item.labels}
            return "declined" if labels & self.declined_labels else "closed"
        return item.state

    def __len__(self) -> int:
        return len(self.items)


TIE_BREAK = 1e-6
"""Seconds per item number added to a creation time: dates of a day's precision (many labelled
sets have no more) tie, and within a project the item number says which was filed first
(at most a fraction of a second for any real number, so real timestamps keep their order)."""


def filing_order(created_at: datetime | None, iid: int, dated: bool) -> float:
    """An item's (or a report's) place in filing order: its creation time, ties broken by its
    number, when the items are `dated`; else its number."""
    if dated and created_at is not None:
        return created_at.timestamp() + iid * TIE_BREAK
    return float(iid)


def match_fingerprint(ranker: Path = RANKER_FILE) -> str:
    """What every match result depends on besides the items and the signal: the dedup code,
    the ranker's weights (`ranker`, the file the run uses) and the docs map (a cache of match
    results keys on it)."""
    h = hashlib.sha256(f"{CACHE_VERSION}".encode())
    for path in (*sorted(Path(__file__).parent.glob("*.py")), ranker, docs_map_file(),
                 *sorted(Path(docpages.__file__).parent.glob("*.py"))):
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(f"unreadable {path}".encode())
    return h.hexdigest()


def _report(signal: Signal) -> tuple[str, str, DocPage | None]:
    """What of a signal is matched: its thread title, its evidence sentences, its page."""
    return signal.thread_title, "\n".join(dict.fromkeys(e.text for e in signal.evidence)), \
        signal.page


def _eligible(item: TrackerItem, cutoff: datetime) -> bool:
    """Open issues and MRs, merged MRs and recently closed issues."""
    if item.kind == "merge_request":
        return item.state == "opened"
    if item.state != "closed":
        return True
    when = item.closed_at or item.updated_at
    return when is None or when >= cutoff


__all__ = ["CACHE_VERSION", "DECLINED_LABELS", "DedupCache", "Matcher", "cache_fingerprint",
           "cache_stamp", "decide", "filing_order", "group_signals", "match_fingerprint",
           "page_tails"]
