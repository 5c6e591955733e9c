"""The cached items as the matcher reads them, indexed once per run: each item's normalised
title, word vector (an inverted index of tf-idf weights, `docsgap.dedupe.index`), the docs pages
it names (`docsgap.docpages.pageid`), the path tails of its URLs and the items it mentions.

Large caches are indexed on two processes. Given a `DedupCache` (the state store), each item's
processed text is kept between runs, keyed on its text and the learned template text, so a
scheduled run only processes the items that changed (the row format: `docsgap.dedupe.cache`)."""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from docsgap.dedupe import cache as dedupe_cache
from docsgap.dedupe import links
from docsgap.dedupe.cache import (
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
from docsgap.dedupe.index import Counts, Floats, Ints, Postings, split_parts
from docsgap.dedupe.links import REF_RE, page_tails, resolve_mentions, urls_of
from docsgap.docpages import docsmap
from docsgap.docpages import pageid as docpageid
from docsgap.docpages import pages as docpages
from docsgap.docpages.pageid import PageId, page_ids
from docsgap.docpages.pages import docs_map_file
from docsgap.models import TrackerItem
from docsgap.text import textnorm
from docsgap.text import words as textwords
from docsgap.text.textnorm import Boilerplate, strip_markup, words

TITLE_WEIGHT = 2.0
"""Title words count twice in the word vectors: titles say what the problem is."""
BODY_CHARS = 3000
"""Only the start of a body is compared; long templates and logs add noise, not evidence."""
POSTINGS_BUDGET = 4_000
"""Index entries read per signal to find the shortlist, rarest words first; the common words
left out are added to the shortlist's scores afterwards."""
LEARN_SAMPLE = 5_000
"""Items read to learn template text (prefixes, lines, placeholder titles)."""
PARALLEL_ITEMS = 4_000
"""Caches at least this large are indexed on two processes (smaller ones are not worth a fork)."""
_NONE: frozenset[str] = frozenset()


def encode(pid: PageId) -> str:
    """A page id as one string (site, page and section joined by `|`, which no URL here holds):
    how the cache rows and the index keep it."""
    return f"{pid.site}|{pid.page}|{pid.section or ''}"


def page_key(encoded: str) -> str:
    """The site and page of an `encode`d id (the section left out)."""
    return encoded.rsplit("|", 1)[0]


def site_of(encoded: str) -> str:
    """The site of an `encode`d id."""
    return encoded.split("|", 1)[0]


def vector(title_words: list[str], body_words: list[str]) -> dict[str, float]:
    """Term frequencies, title words counting `TITLE_WEIGHT` times."""
    tf: dict[str, float] = dict(Counter(body_words))
    for w in title_words:
        tf[w] = tf.get(w, 0.0) + TITLE_WEIGHT
    return tf


def cache_fingerprint(boilerplate: Boilerplate) -> str:
    """The fingerprint of the cache rows (`dedupe_cache.cache_fingerprint`): the weights, this
    code and the text and page processing it uses (the docs map included)."""
    return dedupe_cache.cache_fingerprint(
        boilerplate, f"{TITLE_WEIGHT}|{BODY_CHARS}",
        (Path(__file__), Path(dedupe_cache.__file__), Path(textnorm.__file__),
         Path(textwords.__file__), Path(docpages.__file__), Path(docpageid.__file__),
         Path(docsmap.__file__), Path(links.__file__),
         docs_map_file()))


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


class ItemIndex:
    """The processed text, pages and mentions of a fixed list of items."""

    def __init__(self, items: Sequence[TrackerItem], cache: DedupCache | None = None) -> None:
        """`cache` (the state store) keeps each item's processed text between runs: only new
        and changed items are processed again; the results are the same without it."""
        self.items = list(items)
        self.cache = cache
        self.boilerplate = Boilerplate()
        self.titles: list[str] = []
        """Normalised, stemmed title of each item."""
        self.norms: list[float] = []
        """Length of each item's tf-idf vector."""
        self.vocab: dict[str, int] = {}
        """word -> its id in the postings (and in the cache rows)."""
        self.postings = Postings(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                                 np.zeros(0))
        self.idf: dict[str, float] = {}
        """The idf of every word some item uses."""
        self.pages: dict[str, set[int]] = {}
        """Page key (`page_key`) -> the items naming that page."""
        self.item_pages: list[frozenset[str]] = []
        """Each item's `encode`d page ids."""
        self.tails: dict[str, set[int]] = {}
        self.item_tails: list[frozenset[str]] = []
        self.related: dict[str, set[str]] = {}
        """url -> urls of items it mentions or is mentioned by (an MR and the issue it closes)."""
        self._page_arrays: dict[tuple[bool, str], npt.NDArray[np.intp]] = {}
        """`pages` (True) and `tails` (False) entries as arrays, made when first read."""
        self._page_cache: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._cached: dict[str, tuple[str, bytes]] = {}
        """url -> (stamp, row) read from the cache."""
        self._fresh: list[tuple[str, str, bytes]] = []
        self.cache_hits = 0
        """Items whose processed data came from the cache (the rest were processed)."""
        self.by_ref = {(i.project, "#" if i.kind == "issue" else "!", i.iid): i.web_url
                       for i in self.items}
        self.urls = {i.web_url for i in self.items}
        self.url_index = {i.web_url.rstrip("/"): n for n, i in enumerate(self.items)}
        # The index is hundreds of thousands of acyclic objects: with the cyclic collector on,
        # building it spends as long in collections (each rescanning what is built so far) as
        # in the work itself. It is switched off meanwhile (in the forked child too).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._build()
        finally:
            if enabled:
                gc.enable()
        self.unknown_idf = math.log(1 + max(len(self.items), 1))

    def _build(self) -> None:
        items = self.items
        # Template text is common by definition: a sample of the items shows it.
        step = max(1, len(items) // LEARN_SAMPLE)
        self.boilerplate = Boilerplate.learn(
            (items[n].title, strip_markup(items[n].description[:BODY_CHARS]))
            for n in range(0, len(items), step))
        key, vocabulary = "", list[str]()
        if self.cache is not None and items:
            key = cache_fingerprint(self.boilerplate)
            vocabulary, self._cached = self.cache.load_dedup_cache(key)
        self.vocab = {w: n for n, w in enumerate(vocabulary)}
        known = len(self.vocab)
        self._join_parts(split_parts(self._index_part, len(items), min_parallel=PARALLEL_ITEMS))
        self.cache_hits = len(items) - len(self._fresh)
        if self.cache is not None and self._fresh:
            self.cache.save_dedup_cache(key, self._fresh, list(self.vocab)[known:], known=known)
        self._cached, self._fresh = {}, []

    def _index_part(self, lo: int, hi: int, damaged: frozenset[str] = frozenset()) -> _Part:
        """Items `lo:hi` on their own: per item its normalised title, page keys, path tails,
        the other items it mentions (`#12`, `!34` or their URL, resolved against this run's
        items, never cached), and its words (vocabulary ids; words new to the vocabulary get
        ids of this part's own) and their counts; read from its cache row when the row is for
        the same text, else computed (and returned for a new row). Items whose rows name
        impossible ids or counts are computed again (`damaged`)."""
        known = len(self.vocab)
        ids = NewWords(self.vocab)
        word_id = ids.__getitem__
        by_ref, urls_known, cached = self.by_ref, self.urls, self._cached
        use_cache = self.cache is not None
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
        items, vocab = self.items, self.vocab
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
                    self.pages.setdefault(page_key(key), set()).add(n)
                for key in tails:
                    self.tails.setdefault(key, set()).add(n)
                self.item_pages.append(pages or _NONE)
                self.item_tails.append(tails or _NONE)
                self.titles.append(title)
                if mentioned:
                    url = items[n].web_url
                    for other in mentioned:
                        self.related.setdefault(url, set()).add(other)
                        self.related.setdefault(other, set()).add(url)
                n += 1
        sizes = np.concatenate([p.sizes for p in parts])
        del parts[:], ids, counts  # the chunks are the only references left: freed when read
        self.postings, idf, norms = Postings.build(word_chunks, count_chunks, sizes, len(vocab))
        self.norms = norms.tolist()
        vocabulary = list(vocab)
        used = np.flatnonzero(idf > 0)
        self.idf = dict(zip([vocabulary[w] for w in used.tolist()], idf[used].tolist(),
                            strict=True))

    def _raw_features(self, item: TrackerItem) -> RawFeatures:
        """What an item's own text gives (all a cache row holds): normalised title, term
        frequencies, page keys, path tails, `#`/`!` references and URLs."""
        bp = self.boilerplate
        stripped = strip_markup(item.description[:BODY_CHARS])
        title = words(bp.title(item.title))
        vec = vector(title, words(bp.body(stripped, stripped=True)))
        text = f"{item.title}\n{item.description}"
        parts = text.split()
        pages, tails = self._page_info(parts)
        refs = tuple(dict.fromkeys(f"{sign}{num}" for sign, num in REF_RE.findall(text))) if (
            "#" in text or "!" in text) else ()
        urls = tuple(dict.fromkeys(urls_of(parts)))
        return " ".join(title), vec, pages, tails, refs, urls

    def _page_info(self, parts: list[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Page ids (`encode`d) and path tails named in a text (given as its words); cached on its
        link-like words, which repeat across items far more than whole texts do."""
        linky = " ".join([w for w in parts if "://" in w or "doc" in w])
        found = self._page_cache.get(linky)
        if found is None:
            found = (frozenset(map(encode, page_ids(linky))), page_tails(linky)) if linky else (
                frozenset(), frozenset())
            if len(self._page_cache) < 100_000:
                self._page_cache[linky] = found
        return found


    def accumulate(self, vector: dict[str, float]) -> tuple[Floats, npt.NDArray[np.bool_],
                                              list[tuple[int, int, float]]]:
        """Dot products with every item sharing a word, rarest words first, within a budget
        (and which items share one); also the postings of the common words left out
        (`complete` adds them for the shortlist)."""
        idf, vocab, span = self.idf, self.vocab, self.postings.span
        present = []
        for w, weight in vector.items():
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
        acc, reached = self.postings.accumulate(spans[:used], len(self.items))
        return acc, reached, spans[used:]

    def complete(self, pool: set[int], acc: Floats, skipped: list[tuple[int, int, float]]
                  ) -> dict[int, float]:
        """The dot products of a few items with the skipped common words added (postings
        are sorted by item, so each lookup is a bisection), making their cosine exact."""
        items = np.array(sorted(pool), dtype=np.intp)
        dots = self.postings.complete(items, acc[items], skipped)
        return dict(zip(items.tolist(), dots.tolist(), strict=True))

    def same_page(self, pages: frozenset[str], tails: frozenset[str],
                  reached: npt.NDArray[np.bool_]) -> dict[int, float]:
        """Items sharing words with the report that name its page (`encode`d ids): 1.0 for
        the same page, 0.5 for the same path tail on another host."""
        found: dict[int, float] = {}
        keys_of = {page_key(p) for p in pages}
        for is_page, keys, value in ((False, tails, 0.5), (True, keys_of, 1.0)):
            for key in keys:
                ids = self._page_array(is_page, key)
                found.update(dict.fromkeys(ids[reached[ids]].tolist(), value))
        return found

    def _page_array(self, is_page: bool, key: str) -> npt.NDArray[np.intp]:
        """The items naming a page key (`is_page`) or path tail, as an array."""
        found = self._page_arrays.get((is_page, key))
        if found is None:
            ids = (self.pages if is_page else self.tails).get(key, set())
            found = np.array(sorted(ids), dtype=np.intp)
            self._page_arrays[(is_page, key)] = found
        return found

    def texts(self, title: str, body: str) -> tuple[list[str], list[str]]:
        """The words of a report's title and body, as the items' are read."""
        return (words(self.boilerplate.title(title)),
                words(self.boilerplate.body(body[:BODY_CHARS])))

    def __len__(self) -> int:
        return len(self.items)
