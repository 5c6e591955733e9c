"""Deduplication: match a docs-gap signal against the cached doc issues and open MRs (page
first, then words), decide `link`, `review` or `new`, and explain the decision.

The `Matcher` indexes the cache once per run (an inverted index of tf-idf weights plus a page
index), so matching many signals costs no API calls and little time; large caches are indexed,
and long signal lists matched, on two processes (`docsgap.dedupe.index`). Given a `DedupCache`
(the state store), each item's processed text is kept between runs, keyed on its text and the
learned template text, so a scheduled run only processes the items that changed (the row
format: `docsgap.dedupe.cache`). The decision and its explanation live in
`docsgap.dedupe.decision`, grouping of one run's signals in `docsgap.dedupe.grouping`; both are
re-exported here.
"""

from __future__ import annotations

import gc
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from docsgap.dedupe import cache as dedupe_cache
from docsgap.dedupe import textnorm
from docsgap.dedupe import words as textwords
from docsgap.dedupe.cache import (
    CACHE_VERSION,
    IDS,
    NARROW,
    WIDE,
    DedupCache,
    NewWords,
    RawFeatures,
    cache_stamp,
    count_bytes,
    fresh_rows,
    pack_text,
    unpack_row,
)
from docsgap.dedupe.decision import decide, field_value, text_evidence
from docsgap.dedupe.grouping import group_signals
from docsgap.dedupe.index import Counts, Floats, Ints, Postings, split_map, split_parts, top
from docsgap.dedupe.textnorm import Boilerplate, strip_markup, surface_forms, words
from docsgap.docs import pages as docpages
from docsgap.docs.pages import docs_map_file, page_keys
from docsgap.models import Candidate, DocPage, MatchResult, Signal, TrackerItem

DECLINED_LABELS = (
    "won't do", "wontdo", "wontfix", "won't fix", "declined", "duplicate", "invalid",
    "not planned", "workflow::won't do", "closed::won't do",
)
"""Labels that say a closed issue was declined rather than fixed (config can pass its own)."""

TITLE_WEIGHT = 2.0
"""Title words count twice in the word vectors: titles say what the problem is."""
BODY_CHARS = 3000
"""Only the start of a body is compared; long templates and logs add noise, not evidence."""
SHORTLIST = 30
"""Items scored in full per signal, besides the ones on the same page."""
PAGE_CANDIDATES = 30
"""At most this many same-page items are scored (the best by words first)."""
POSTINGS_BUDGET = 4_000
"""Index entries read per signal to find the shortlist, rarest words first; the common words
left out are added to the shortlist's scores afterwards."""
EXPLAINED = 3
"""Candidates that get their shared words listed (the best and the runners-up the reason
names); finding them re-reads the item's text."""
LEARN_SAMPLE = 5_000
"""Items read to learn template text (prefixes, lines, placeholder titles)."""

# How the evidence adds up to a score out of 100; tuned on labelled data (`docsgap eval dedup`).
W_WORDS = 0.7
"""Cosine of the tf-idf word vectors (title words twice): shared rare words weigh most."""
W_TITLE = 0.3
"""rapidfuzz token-set ratio of the normalised titles: catches re-ordered, re-inflected titles."""
PAGE_BONUS = 12.0
"""Added when the item names the same docs page; half for the same page path on another host."""
MIN_TEXT_FOR_PAGE = 20.0
"""A page match counts only with some textual likeness: same page, different problem is common."""
OPEN_BONUS = 5.0
"""An open item is where a gap is tracked now; among near-equals it wins over a closed one."""
RECENT_BONUS = 6.0
"""Reports of one incident come in bursts: the newest items get up to this much, halving every
`RECENT_DAYS` days back (or every `RECENT_NUMBERS` item numbers when the items carry no
dates)."""
RECENT_DAYS = 14.0
RECENT_NUMBERS = 30.0
REF_BONUS = 15.0
"""Added to an item the report itself names (its URL, or `#12` when the report's project is
known): a strong hint, but like the open/recent priors it ranks and never links on its own
("unlike #12" names an item too)."""
PARALLEL_ITEMS = 4_000
"""Caches at least this large are indexed on two processes (smaller ones are not worth a fork)."""
PARALLEL_SIGNALS = 200
"""`match_many` splits at least this many signals over two processes."""


class _Part(NamedTuple):
    """Some consecutive items, processed on their own (perhaps in a forked child)."""

    features: list[tuple[str, frozenset[str], frozenset[str], tuple[str, ...]]]
    """Per item: normalised title, page keys, path tails, the other items it mentions."""
    sizes: npt.NDArray[np.int64]
    """How many distinct words each item has."""
    words: Ints
    """Their word ids, item by item; an id from `known` on is `new[id - known]`."""
    counts: Counts
    """Their term frequencies (4-byte floats when every one is exactly one, else 8-byte)."""
    known: int
    """How many words the vocabulary had when the part began."""
    new: list[str]
    """Words the vocabulary did not have, in the order they were given ids."""
    fresh: list[tuple[int, str, str, bytes]]
    """(item's place in the part, url, stamp, packed text) of each item computed rather than
    read from the cache (its cache row is finished once the new words have their ids)."""


_Fields = tuple[tuple[str, float], ...]
_Scored = tuple[float, int, _Fields]
"""(score, item, fields) of one scored item."""


class _Ranked(NamedTuple):
    """A scored item, maybe credited with another item's match."""

    score: float
    n: int
    fields: _Fields
    via: int | None = None
    """The duplicate (closed into this item) whose text matched."""
    continues: int | None = None
    """The closed issue this open item references and continues, whose text matched."""


@dataclass(slots=True)
class _Query:
    title: str
    body: str
    vector: dict[str, float]
    norm: float
    pages: frozenset[str]
    tails: frozenset[str]
    words: set[str] = field(default_factory=set)
    surface: dict[str, str] = field(default_factory=dict)
    """stem -> a word as the report wrote it, for explanations."""
    refs: frozenset[int] = frozenset()
    """The items the report names."""


def page_tails(text: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The last two path segments of every URL ("moretypes/18"): the same page on a mirror,
    a translation or a moved host."""
    out = set()
    for url in [*extra, *_urls(text)]:
        path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in path.split("/")[1:] if p]
        if parts and parts[-1].split(".")[0] in ("index", "_index", "readme"):
            parts = parts[:-1]
        if len(parts) >= 2:
            out.add("/".join(parts[-2:]).lower().removesuffix(".html").removesuffix(".md"))
    return frozenset(out)


# The sign comes first so the regex engine scans for it in C; the lookbehind then checks the
# character before it (same matches as `(?<![\w/&])([#!])...`).
_REF_RE = re.compile(r"([#!])(?<![\w/&][#!])(\d{1,9})\b")


def _urls(text: str) -> list[str]:
    return _urls_of(text.split())


def _urls_of(parts: list[str]) -> list[str]:
    return [w.strip(").,;]>'\"") for w in parts if "://" in w]


def _vector(title_words: list[str], body_words: list[str]) -> dict[str, float]:
    """Term frequencies, title words counting `TITLE_WEIGHT` times."""
    tf: dict[str, float] = dict(Counter(body_words))
    for w in title_words:
        tf[w] = tf.get(w, 0.0) + TITLE_WEIGHT
    return tf


def cache_fingerprint(boilerplate: Boilerplate) -> str:
    """The fingerprint of this matcher's cache rows (`dedupe_cache.cache_fingerprint`): the
    weights, this code and the text and page processing it uses."""
    return dedupe_cache.cache_fingerprint(
        boilerplate, f"{TITLE_WEIGHT}|{BODY_CHARS}",
        (Path(__file__), Path(dedupe_cache.__file__), Path(textnorm.__file__),
         Path(textwords.__file__),
         Path(docpages.__file__), docs_map_file()))


def resolve_mentions(item: TrackerItem, refs: tuple[str, ...], urls: tuple[str, ...],
                     by_ref: dict[tuple[str, str, int], str], known: set[str]
                     ) -> tuple[str, ...]:
    """The other items of this run an item mentions (`#12`, `!34` in its project, or their
    URL), sorted."""
    found = {by_ref.get((item.project, r[0], int(r[1:]))) for r in refs}
    found |= {u for u in urls if u in known}
    found -= {None, item.web_url}
    return tuple(sorted(u for u in found if u is not None))


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
    ) -> None:
        """`cache` (the state store) keeps each item's processed text between runs: only new
        and changed items are processed again; the results are the same without it."""
        self.link_threshold = link_threshold
        self.review_threshold = review_threshold
        self.declined_labels = frozenset(label.lower() for label in declined_labels)
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=closed_within_days)
        self.items = [i for i in items if _eligible(i, cutoff)]
        self.boilerplate = Boilerplate()
        self._titles: list[str] = []
        """Normalised, stemmed title of each item."""
        self._norms: list[float] = []
        """Length of each item's tf-idf vector."""
        self._vocab: dict[str, int] = {}
        """word -> its id in the postings (and in the cache rows)."""
        self._postings = Postings(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                                  np.zeros(0))
        self._idf: dict[str, float] = {}
        """The idf of every word some item uses."""
        self._pages: dict[str, set[int]] = {}
        self._tails: dict[str, set[int]] = {}
        self._page_cache: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._related: dict[str, set[str]] = {}
        """url -> urls of items it mentions or is mentioned by (an MR and the issue it closes)."""
        # Filing order: creation time when every item has one, else the item number.
        self.dated = bool(self.items) and all(i.created_at is not None for i in self.items)
        self._now = now.timestamp()
        self._order = [i.created_at.timestamp() if self.dated and i.created_at else float(i.iid)
                       for i in self.items]
        self._latest = max(self._order, default=0.0)
        self._order_array = np.array(self._order)
        self._page_arrays: dict[tuple[bool, str], npt.NDArray[np.intp]] = {}
        """`_pages` (True) and `_tails` (False) entries as arrays, made when first read."""
        self._cache = cache
        self._cached: dict[str, tuple[str, bytes]] = {}
        """url -> (stamp, row) read from the cache."""
        self.cache_hits = 0
        """Items whose processed data came from the cache (the rest were processed)."""
        self._build()

    # --- index --------------------------------------------------------------------------------
    def _build(self) -> None:
        # The index is hundreds of thousands of acyclic objects: with the cyclic collector on,
        # building it spends as long in collections (each rescanning what is built so far) as
        # in the work itself. It is switched off meanwhile (in the forked child too).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._build_index()
        finally:
            if enabled:
                gc.enable()

    def _build_index(self) -> None:
        items = self.items
        # Template text is common by definition: a sample of the items shows it.
        step = max(1, len(items) // LEARN_SAMPLE)
        self.boilerplate = Boilerplate.learn(
            (items[n].title, strip_markup(items[n].description[:BODY_CHARS]))
            for n in range(0, len(items), step))
        self._by_ref = {(i.project, "#" if i.kind == "issue" else "!", i.iid): i.web_url
                        for i in items}
        self._urls = {i.web_url for i in items}
        self._url_index = {i.web_url.rstrip("/"): n for n, i in enumerate(items)}
        key, vocabulary = "", list[str]()
        if self._cache is not None and items:
            key = cache_fingerprint(self.boilerplate)
            vocabulary, self._cached = self._cache.load_dedup_cache(key)
        self._vocab = {w: n for n, w in enumerate(vocabulary)}
        known = len(self._vocab)
        self._fresh: list[tuple[str, str, bytes]] = []
        self._join_parts(split_parts(self._index_part, len(items), min_parallel=PARALLEL_ITEMS))
        self.cache_hits = len(items) - len(self._fresh)
        if self._cache is not None and self._fresh:
            self._cache.save_dedup_cache(key, self._fresh, list(self._vocab)[known:],
                                         known=known)
        self._cached, self._fresh = {}, []
        self._unknown_idf = math.log(1 + max(len(items), 1))
        self._originals = self._find_originals()

    def _index_part(self, lo: int, hi: int, damaged: frozenset[str] = frozenset()) -> _Part:
        """Items `lo:hi` on their own: per item its normalised title, page keys, path tails,
        the other items it mentions (`#12`, `!34` or their URL, resolved against this run's
        items, never cached), and its words (vocabulary ids; words new to the vocabulary get
        ids of this part's own) and their counts; read from its cache row when the row is for
        the same text, else computed (and returned for a new row). Items whose rows name
        impossible ids or counts are computed again (`damaged`)."""
        known = len(self._vocab)
        ids = NewWords(self._vocab)
        word_id = ids.__getitem__
        by_ref, urls_known, cached = self._by_ref, self._urls, self._cached
        use_cache = self._cache is not None
        features: list[tuple[str, frozenset[str], frozenset[str], tuple[str, ...]]] = []
        sizes: list[int] = []
        id_chunks: list[bytes] = []
        count_chunks: list[bytes] = []
        fresh: list[tuple[int, str, str, bytes]] = []
        from_cache: list[bool] = []
        widths: list[int] = []
        for k, item in enumerate(self.items[lo:hi]):
            got = None
            if use_cache:
                mark = cache_stamp(item)
                row = cached.get(item.web_url)
                if row is not None and row[0] == mark and item.web_url not in damaged:
                    got = unpack_row(row[1])
            if got is None:
                title, vec, pages, tails, refs, urls = self._raw_features(item)
                size = len(vec)
                id_chunks.append(np.fromiter(map(word_id, vec), IDS, size).tobytes())
                count_chunks.append(count_bytes(vec.values(), size))
                widths.append(len(count_chunks[-1]) // size if size else NARROW.itemsize)
                if use_cache:
                    text = pack_text(title, pages, tails, refs, urls)
                    if text is not None:
                        fresh.append((k, item.web_url, mark, text))
            else:
                size, word_bytes, row_counts, width, title, pages, tails, refs, urls = got
                id_chunks.append(word_bytes)
                count_chunks.append(row_counts)
                widths.append(width)
            from_cache.append(got is not None)
            sizes.append(size)
            features.append((title, pages, tails,
                             resolve_mentions(item, refs, urls, by_ref, urls_known)))
        if all(w == NARROW.itemsize for w in widths):
            counts: Counts = np.frombuffer(b"".join(count_chunks), NARROW)
        else:  # some need 8 bytes: all get them (only a title weight with a long fraction)
            counts = np.frombuffer(b"".join(
                c if w == WIDE.itemsize else np.frombuffer(c, NARROW).astype(WIDE).tobytes()
                for c, w in zip(count_chunks, widths, strict=True)), WIDE)
        part = _Part(features, np.array(sizes, dtype=np.int64),
                     np.frombuffer(b"".join(id_chunks), IDS), counts, known, ids.added, fresh)
        # A row read from the cache can only use the ids the vocabulary had, and counts > 0.
        fine = (part.words >= 0) & (part.counts > 0) & np.isfinite(part.counts)
        fine &= part.words < np.repeat(np.where(from_cache, known, known + len(ids.added)),
                                       part.sizes)
        if not fine.all():
            bad = np.unique(np.repeat(np.arange(lo, hi), part.sizes)[~fine]).tolist()
            return self._index_part(lo, hi, damaged | {self.items[n].web_url for n in bad})
        return part

    def _join_parts(self, parts: list[_Part]) -> None:
        """Join the parts (in item order, emptying the list) into the index: the new words
        get their ids, then the postings, idf and norms come from whole-array operations."""
        items, vocab = self.items, self._vocab
        n = 0
        word_chunks: list[Ints] = []
        count_chunks: list[Counts] = []
        for features, sizes, ids, counts, known, new, fresh in parts:
            if new:  # this part's ids for new words -> the ids they get now
                final = np.fromiter((vocab.setdefault(w, len(vocab)) for w in new), np.int32,
                                    len(new))
                ids = ids.astype(np.int32)
                later = ids >= known
                ids[later] = final[ids[later] - known]
            word_chunks.append(ids)
            count_chunks.append(counts)
            if fresh:
                self._fresh.extend(fresh_rows(fresh, sizes, ids, counts))
            for title, pages, tails, mentioned in features:
                for key in pages:
                    self._pages.setdefault(key, set()).add(n)
                for key in tails:
                    self._tails.setdefault(key, set()).add(n)
                self._titles.append(title)
                if mentioned:
                    url = items[n].web_url
                    for other in mentioned:
                        self._related.setdefault(url, set()).add(other)
                        self._related.setdefault(other, set()).add(url)
                n += 1
        sizes = np.concatenate([p.sizes for p in parts])
        del parts[:], ids, counts  # the chunks are the only references left: freed when read
        self._postings, idf, norms = Postings.build(word_chunks, count_chunks, sizes,
                                                    len(vocab))
        self._norms = norms.tolist()
        vocabulary = list(vocab)
        used = np.flatnonzero(idf > 0)
        self._idf = dict(zip([vocabulary[w] for w in used.tolist()], idf[used].tolist(),
                             strict=True))

    def _find_originals(self) -> dict[int, int]:
        """Closed issue -> the issue it was closed as a duplicate of (GitLab's
        `closed_as_duplicate_of`, else a "Duplicate of #12" line in its description), chains
        followed to their end; only originals in this cache count."""
        direct: dict[int, int] = {}
        for n, item in enumerate(self.items):
            if item.kind != "issue" or item.state != "closed":
                continue
            target = item.duplicate_of or _duplicate_line(item, self._by_ref)
            o = self._url_index.get(target.rstrip("/")) if target else None
            if o is not None and o != n:
                direct[n] = o
        out = {}
        for n, o in direct.items():
            seen = {n}
            while o in direct and o not in seen:  # a cycle ends where it closes
                seen.add(o)
                o = direct[o]
            if o != n:
                out[n] = o
        return out

    def _raw_features(self, item: TrackerItem) -> RawFeatures:
        """What an item's own text gives (all a cache row holds): normalised title, term
        frequencies, page keys, path tails, `#`/`!` references and URLs."""
        bp = self.boilerplate
        stripped = strip_markup(item.description[:BODY_CHARS])
        title = words(bp.title(item.title))
        vec = _vector(title, words(bp.body(stripped, stripped=True)))
        text = f"{item.title}\n{item.description}"
        parts = text.split()
        pages, tails = self._page_info(parts)
        refs = tuple(dict.fromkeys(f"{sign}{num}" for sign, num in _REF_RE.findall(text))) if (
            "#" in text or "!" in text) else ()
        urls = tuple(dict.fromkeys(_urls_of(parts)))
        return " ".join(title), vec, pages, tails, refs, urls

    def _page_info(self, parts: list[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Page keys and path tails named in a text (given as its words); cached on its
        link-like words, which repeat across items far more than whole texts do."""
        linky = " ".join([w for w in parts if "://" in w or "doc" in w])
        found = self._page_cache.get(linky)
        if found is None:
            found = (frozenset(page_keys(linky)), page_tails(linky)) if linky else (
                frozenset(), frozenset())
            if len(self._page_cache) < 100_000:
                self._page_cache[linky] = found
        return found

    def related(self, a: str, b: str) -> bool:
        """Whether two items reference each other (then they track the same gap)."""
        return b in self._related.get(a, ())

    def _texts(self, title: str, body: str) -> tuple[list[str], list[str]]:
        return (words(self.boilerplate.title(title)),
                words(self.boilerplate.body(body[:BODY_CHARS])))

    def _named(self, raw: str, project: str | None) -> frozenset[int]:
        """The items a report names: by URL (any project), or by `#12` / `!34` in `project`."""
        found = {self._url_index.get(u.split("#", 1)[0].split("?", 1)[0].rstrip("/"))
                 for u in _urls(raw)} if "://" in raw else set()
        if project and ("#" in raw or "!" in raw):
            found |= {self._url_index.get(self._by_ref.get((project, sign, int(num)), ""))
                      for sign, num in _REF_RE.findall(raw)}
        return frozenset(n for n in found if n is not None)

    def _query(self, title: str, body: str, page: DocPage | None,
               project: str | None = None) -> _Query:
        t, b = self._texts(title, body)
        vec = _vector(t, b)
        weights = {w: (1 + math.log(tf)) * self._idf.get(w, self._unknown_idf)
                   for w, tf in vec.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        raw = f"{title}\n{body}"
        pages = set(page_keys(raw))
        extra: list[str] = []
        if page is not None:
            pages.add(page.key)
            extra.append(page.url)
        return _Query(" ".join(t), " ".join(b), weights, norm, frozenset(pages),
                      page_tails(raw, extra), set(vec), surface_forms(raw),
                      self._named(raw, project))

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
        """The best `limit` candidates, highest score first, each with its explanation
        (`as_of`, `replay` and `project` as for `match`)."""
        if not self.items:
            return []
        q = self._query(title, body, page, project)
        acc, reached, skipped = self._accumulate(q)
        if as_of is not None and replay:
            reached &= self._order_array < as_of
        same_page = self._same_page(q, reached)
        pool = top(SHORTLIST, np.flatnonzero(reached), acc)
        pool.update(top(PAGE_CANDIDATES, np.array(sorted(same_page), dtype=np.intp), acc))
        named = {n for n in q.refs if not self._filed_later(n, as_of, replay)}
        pool.update(named)
        dots = self._complete(pool, acc, skipped)
        scored = [self._score(q, n, dots[n], same_page.get(n, 0.0), as_of) for n in pool]
        ranked = self._to_continuations(self._to_originals(scored, as_of, replay=replay),
                                        as_of, replay=replay)
        ranked = [r._replace(score=round(min(100.0, r.score + REF_BONUS), 1),
                             fields=(*r.fields, ("ref", REF_BONUS))) if r.n in named else r
                  for r in ranked]
        ranked.sort(key=lambda r: (-r.score, self.items[r.n].web_url))
        return [self._candidate(q, r, explain=k < EXPLAINED) for k, r in enumerate(ranked[:limit])]

    def _credit(self, to: int, score: float, fields: _Fields, as_of: float | None
                ) -> tuple[float, _Fields]:
        """Another item's text and page evidence with `to`'s own open/recent priors."""
        opened, recent = self._priors(to, as_of)
        return (round(min(100.0, text_evidence(score, fields) + opened + recent), 1),
                (*fields[:3], ("open", opened), ("recent", round(recent, 1))))

    def _filed_later(self, n: int, as_of: float | None, replay: bool) -> bool:
        return replay and as_of is not None and self._order[n] >= as_of

    def _to_originals(self, scored: list[_Scored], as_of: float | None, *, replay: bool
                      ) -> list[_Ranked]:
        """A duplicate's match is its original's: the original takes the duplicate's text and
        page evidence with its own open/recent priors (when that beats its own score), and
        the duplicate leaves the ranking; replayed, only an original filed before the report
        counts."""
        best = {n: _Ranked(score, n, fields) for score, n, fields in scored}
        for score, n, fields in scored:
            o = self._originals.get(n)
            if o is None or self._filed_later(o, as_of, replay):
                continue
            del best[n]
            credited, credited_fields = self._credit(o, score, fields, as_of)
            moved = _Ranked(credited, o, credited_fields, via=n)
            if o not in best or moved.score > best[o].score:
                best[o] = moved
        return list(best.values())

    def _to_continuations(self, ranked: list[_Ranked], as_of: float | None, *, replay: bool
                          ) -> list[_Ranked]:
        """A fixed (closed, not declined) issue's match also counts for a later open item that
        references it and resembles the report on its own (a regression, a follow-up): such
        an item takes the closed one's evidence with its own priors when that beats its own
        score. The closed issue stays in the ranking; `decide` never links automatically
        through a continuation."""
        by_n = {r.n: r for r in ranked}
        by_url = {self.items[r.n].web_url: r.n for r in ranked}
        out = dict(by_n)
        for r in ranked:
            item = self.items[r.n]
            if item.kind != "issue" or item.state != "closed" or self._state(item) != "closed":
                continue
            for url in self._related.get(item.web_url, ()):
                o = by_url.get(url)  # only items the report itself reached
                if o is None or self.items[o].state != "opened" or (
                        self._order[o] <= self._order[r.n]) or self._filed_later(o, as_of, replay):
                    continue
                if text_evidence(by_n[o].score, by_n[o].fields) < MIN_TEXT_FOR_PAGE:
                    continue
                score, fields = self._credit(o, r.score, r.fields, as_of)
                if score > out[o].score:
                    out[o] = _Ranked(score, o, fields, continues=r.n)
        return list(out.values())

    def _age(self, n: int, as_of: float | None) -> float:
        """How far apart the item and the report were filed: days (dated items), else item
        numbers, which count every issue filed between them, not just the cached ones. Either
        side counts: matched against the whole pool (no `replay`), a burst also follows the
        report."""
        if self.dated:
            end = self._now if as_of is None else as_of
            return abs(end - self._order[n]) / 86400
        end = self._latest + 1 if as_of is None else as_of
        return abs(end - self._order[n])

    def _accumulate(self, q: _Query) -> tuple[Floats, npt.NDArray[np.bool_],
                                              list[tuple[int, int, float]]]:
        """Dot products with every item sharing a word, rarest words first, within a budget
        (and which items share one); also the postings of the common words left out
        (`_complete` adds them for the shortlist)."""
        idf, vocab, span = self._idf, self._vocab, self._postings.span
        present = []
        for w, weight in q.vector.items():
            if w in idf:
                lo, hi = span(vocab[w])
                present.append((hi - lo, w, lo, hi, weight * idf[w]))
        present.sort()
        budget, used = POSTINGS_BUDGET, 0
        for size, *_ in present:
            if size > budget:  # and so are all the later ones: the order is by size
                break
            budget -= size
            used += 1
        spans = [(lo, hi, qw) for _, _, lo, hi, qw in present]
        acc, reached = self._postings.accumulate(spans[:used], len(self.items))
        return acc, reached, spans[used:]

    def _complete(self, pool: set[int], acc: Floats, skipped: list[tuple[int, int, float]]
                  ) -> dict[int, float]:
        """The dot products of a few items with the skipped common words added (postings
        are sorted by item, so each lookup is a bisection), making their cosine exact."""
        items = np.array(sorted(pool), dtype=np.intp)
        dots = self._postings.complete(items, acc[items], skipped)
        return dict(zip(items.tolist(), dots.tolist(), strict=True))

    def _same_page(self, q: _Query, reached: npt.NDArray[np.bool_]) -> dict[int, float]:
        """Items sharing words with the report that name its page: 1.0 for the same page,
        0.5 for the same path tail on another host."""
        found: dict[int, float] = {}
        for is_page, keys, value in ((False, q.tails, 0.5), (True, q.pages, 1.0)):
            for key in keys:
                ids = self._page_array(is_page, key)
                found.update(dict.fromkeys(ids[reached[ids]].tolist(), value))
        return found

    def _page_array(self, is_page: bool, key: str) -> npt.NDArray[np.intp]:
        """The items naming a page key (`is_page`) or path tail, as an array."""
        found = self._page_arrays.get((is_page, key))
        if found is None:
            ids = (self._pages if is_page else self._tails).get(key, set())
            found = np.array(sorted(ids), dtype=np.intp)
            self._page_arrays[(is_page, key)] = found
        return found

    def _score(self, q: _Query, n: int, dot: float, page: float,
               as_of: float | None) -> _Scored:
        """(score, item, fields) for one item; Candidates are built only for the top few."""
        cos = dot / (q.norm * self._norms[n])
        theirs = self._titles[n]
        if q.title and theirs:
            title = fuzz.token_set_ratio(q.title, theirs)
            text = 100 * W_WORDS * cos + W_TITLE * title
        else:  # a placeholder or template-only title says nothing: the words decide alone
            title = 0.0
            text = 100 * (W_WORDS + W_TITLE) * cos
        bonus = PAGE_BONUS * page if text >= MIN_TEXT_FOR_PAGE else 0.0
        opened, recent = self._priors(n, as_of)
        score = round(min(100.0, text + bonus + opened + recent), 1)
        fields = (("words", round(100 * cos, 1)), ("title", round(title, 1)),
                  ("page", round(bonus, 1)), ("open", opened), ("recent", round(recent, 1)))
        return score, n, fields

    def _priors(self, n: int, as_of: float | None) -> tuple[float, float]:
        """The open and recent bonuses of one item."""
        opened = OPEN_BONUS if self.items[n].state == "opened" else 0.0
        half = RECENT_DAYS if self.dated else RECENT_NUMBERS
        return opened, RECENT_BONUS * 0.5 ** (self._age(n, as_of) / half)

    def _candidate(self, q: _Query, r: _Ranked, *, explain: bool) -> Candidate:
        item = self.items[r.n]
        # The text that matched: the item's own, or the duplicate's or closed issue's it got.
        matched = r.via if r.via is not None else r.continues if r.continues is not None else r.n
        return Candidate(
            url=item.web_url, title=item.title, state=self._state(item), score=r.score,
            fields=r.fields, shared_words=self._shared(q, matched) if explain else (),
            page_match=field_value(r.fields, "page") > 0 or self._names_page(q, matched),
            via="" if r.via is None else self.items[r.via].web_url,
            continues="" if r.continues is None else self.items[r.continues].web_url,
        )

    def _names_page(self, q: _Query, n: int) -> bool:
        return any(n in self._pages.get(k, ()) for k in q.pages) or any(
            n in self._tails.get(k, ()) for k in q.tails)

    def _shared(self, q: _Query, n: int, top: int = 6) -> tuple[str, ...]:
        """The rarest words both texts use, most distinctive first."""
        t, b = self._texts(self.items[n].title, self.items[n].description)
        theirs = {*t, *b}
        both = [w for w in q.words if w in theirs]
        both.sort(key=lambda w: (-self._idf.get(w, 0.0), w))
        return tuple(q.surface.get(w, w) for w in both[:top])

    def _state(self, item: TrackerItem) -> str:
        if item.kind == "merge_request":
            return "merged" if item.state == "merged" else item.state
        if item.state == "closed":
            labels = {label.lower() for label in item.labels}
            return "declined" if labels & self.declined_labels else "closed"
        return item.state

    def __len__(self) -> int:
        return len(self.items)


_DUPLICATE_LINE_RE = re.compile(
    r"^\W*(?:closed as (?:a )?)?dup(?:licate)?(?: of)?:?\s+(#\d+|https?://\S+?)[).,;]?\s*$",
    re.IGNORECASE | re.MULTILINE)
"""A line saying which issue this one duplicates: "Duplicate of #12", "dup: <URL>"."""


def _duplicate_line(item: TrackerItem, by_ref: dict[tuple[str, str, int], str]) -> str | None:
    """The issue a closed issue's description names on a line of its own as the one it
    duplicates (GitHub-style; GitLab's `/duplicate` is read from the API instead)."""
    if "dup" not in item.description.lower():
        return None
    m = _DUPLICATE_LINE_RE.search(item.description)
    if m is None:
        return None
    ref = m.group(1)
    return by_ref.get((item.project, "#", int(ref[1:]))) if ref.startswith("#") else ref


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
           "cache_stamp", "decide", "group_signals", "page_tails"]
