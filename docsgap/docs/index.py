"""Search over the indexed docs pages with dedup's text machinery: the same markup stripping and
words (`docsgap.dedupe.textnorm`), the same inverted index of tf-idf weights
(`docsgap.dedupe.index.Postings`). The unit is a page section (page title and heading words
count extra), so a hit names the section that answers, and a page scores as its best section.

Also finds a page by any of its URLs, and where a removed or moved page now lives."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from docsgap.config import Config
from docsgap.dedupe.index import Counts, Floats, Ints, Postings
from docsgap.dedupe.textnorm import strip_markup, words
from docsgap.docs.model import DocsPage, Section
from docsgap.docs.pages import DocsMap, load_docs_map, map_url
from docsgap.docs.store import DocsStore
from docsgap.state import StateStore

TITLE_WEIGHT = 3.0
"""Page title words count this many times in each of its sections: the title names the topic."""
HEADING_WEIGHT = 2.0
"""Heading words count twice in their section."""
SECTION_CHARS = 4000
"""Only the start of a long section is indexed (reference tables and logs add noise)."""
QUERY_TITLE_WEIGHT = 2.0
"""A question's title words count twice: the title says what is asked."""
SECTION_SHARE = 0.8
"""A headed section within this share of its page's untitled intro is named instead."""


@dataclass(frozen=True, slots=True)
class Hit:
    """A page that matches a query, with the section that matched best."""

    page: DocsPage
    section: Section | None
    score: float
    """Cosine similarity (0-1) of the query and the best section."""
    shared: tuple[str, ...] = ()
    """The rarest words the query and that section share (for the explanation)."""

    @property
    def url(self) -> str:
        """Today's URL of the page, with the section's anchor."""
        return self.page.section_url(self.section.anchor if self.section else None)


def _add(counts: dict[str, float], text: str, weight: float) -> None:
    for word in words(strip_markup(text)):
        counts[word] = counts.get(word, 0.0) + weight


def unit_words(page: DocsPage, section: Section) -> dict[str, float]:
    """The weighted words of one section as indexed (title and heading words count extra)."""
    counts: dict[str, float] = {}
    _add(counts, page.title, TITLE_WEIGHT)
    _add(counts, section.heading, HEADING_WEIGHT)
    _add(counts, section.text[:SECTION_CHARS], 1.0)
    return counts


def query_words(title: str, body: str = "") -> dict[str, float]:
    """The weighted words of a question (its title counts double)."""
    counts: dict[str, float] = {}
    _add(counts, title, QUERY_TITLE_WEIGHT)
    _add(counts, body, 1.0)
    return counts


class DocsIndex:
    """The pages of the local docs index, searchable by words and findable by URL."""

    def __init__(self, pages: Sequence[DocsPage], docs_map: DocsMap | None = None) -> None:
        self.docs_map = docs_map or load_docs_map()
        self.pages = list(pages)
        self.by_key = {p.key: p for p in self.pages}
        self._by_url: dict[str, DocsPage] = {}
        for page in self.pages:
            for url in page.urls:
                self._by_url.setdefault(_norm(url), page)
        self.projects = frozenset(p.project for p in self.pages)
        self._units: list[tuple[int, Section]] = []
        self._vocab: dict[str, int] = {}
        self._build()

    def _build(self) -> None:
        vocab = self._vocab
        word_chunks: list[Ints] = []
        count_chunks: list[Counts] = []
        sizes: list[int] = []
        for n, page in enumerate(self.pages):
            if page.redirect_to:
                continue  # a stub that points elsewhere answers nothing
            for section in page.sections or (Section("", "", 0, ""),):
                counts = unit_words(page, section)
                ids = [vocab.setdefault(w, len(vocab)) for w in counts]
                word_chunks.append(np.asarray(ids, dtype=np.int32))
                count_chunks.append(np.fromiter(counts.values(), dtype=np.float64,
                                                count=len(counts)))
                sizes.append(len(ids))
                self._units.append((n, section))
        if not self._units:
            word_chunks, count_chunks = [np.zeros(0, np.int32)], [np.zeros(0)]
        self._postings, self._idf, self._norms = Postings.build(
            word_chunks, count_chunks, np.asarray(sizes, dtype=np.int64), len(vocab))
        self._unit_page = np.asarray([n for n, _ in self._units], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.pages)

    # search ----------------------------------------------------------------------------------
    def search(self, title: str, body: str = "", *, limit: int = 5) -> list[Hit]:
        """The best pages for a question, best first; each page once, with its best section."""
        query = query_words(title, body)
        spans = []
        qnorm = 0.0
        for word, tf in query.items():
            wid = self._vocab.get(word)
            if wid is None or self._idf[wid] <= 0:
                continue
            weight = (1 + math.log(tf)) * float(self._idf[wid])
            qnorm += weight * weight
            lo, hi = self._postings.span(wid)
            spans.append((lo, hi, weight * float(self._idf[wid])))
        if not spans or not self._units:
            return []
        dots, reached = self._postings.accumulate(spans, len(self._units))
        scores = dots / (self._norms * math.sqrt(qnorm))
        units = np.flatnonzero(reached)
        order = units[np.argsort(-scores[units], kind="stable")]
        hits: list[Hit] = []
        seen: set[int] = set()
        ranked = order.tolist()
        for unit in ranked:
            n, section = self._units[unit]
            if n in seen:
                continue
            seen.add(n)
            page = self.pages[n]
            score = float(scores[unit])
            if not section.heading:
                section = self._headed(ranked, scores, n, score) or section
            hits.append(Hit(page, section if section.heading else None, score,
                            self._shared(query, page, section)))
            if len(hits) >= limit:
                break
        return hits

    def _headed(self, ranked: list[int], scores: Floats, n: int, best: float) -> Section | None:
        """When a page wins on its untitled intro, its best headed section if that scores
        nearly as well: a reply should point at the section, not the top of the page."""
        for unit in ranked:
            page, section = self._units[unit]
            if float(scores[unit]) < SECTION_SHARE * best:
                return None
            if page == n and section.heading:
                return section
        return None

    def _shared(self, query: dict[str, float], page: DocsPage, section: Section) -> tuple[str, ...]:
        mine = unit_words(page, section)
        common = [w for w in query if w in mine and not w.startswith("~")]
        common.sort(key=lambda w: -float(self._idf[self._vocab[w]]))
        return tuple(common[:6])

    # addresses -------------------------------------------------------------------------------
    def find(self, url: str) -> DocsPage | None:
        """The indexed page a docs URL (any era) or source path names, if it exists."""
        page = self._by_url.get(_norm(url))
        if page is not None:
            return page
        mapped = map_url(url, self.docs_map)
        if mapped.path:
            return self.by_key.get(mapped.key)
        return self._moved(_norm(url))

    def _moved(self, where: str) -> DocsPage | None:
        """A page at the address the docs map's `any_site` aliases and redirects move it to."""
        rules = self.docs_map.identity
        if rules is None:
            return None
        host, _, path = where.partition("/")
        where = f"{rules.aliases.get(host, host)}/{path}".rstrip("/")
        for old, new in rules.redirects:
            if where == old or where.startswith(old + "/"):
                where = new + where[len(old):]
                break
        return self._by_url.get(where)

    def knows(self, project: str | None) -> bool:
        """Whether the index holds `project`'s docs (so a missing page is really missing)."""
        return project is not None and project in self.projects


def _norm(url: str) -> str:
    """URLs compared without scheme, `www.`, query, anchor, `.html` or trailing slash."""
    text = url.strip().split("#", 1)[0].split("?", 1)[0]
    text = text.split("://", 1)[-1].removeprefix("www.").rstrip("/")
    return text.removesuffix(".html").lower()


def load_index(config: Config, store: StateStore) -> DocsIndex | None:
    """The searchable index of what the last syncs stored (None when nothing was synced)."""
    pages = DocsStore(store.db).pages()
    return DocsIndex(pages, load_docs_map(config.rules_dirs)) if pages else None
