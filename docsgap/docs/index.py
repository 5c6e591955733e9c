"""Search over the indexed docs pages with the text machinery dedup uses: the same markup
stripping and words (`docsgap.text.textnorm`). The unit is a page section, so a hit names the
section that answers, and a page scores as its best section. Two rankings over the same words:

- `search`, what answers a question: BM25F over the fields page title, heading and text
  (`docsgap.docs.bm25`), the question's template and log lines left out
  (`docsgap.docs.querytext`), optionally among one project's pages;
- `similar`, how closely a section covers a text: cosine of tf-idf vectors (dedup's
  `docsgap.dedupe.index.Postings`; page title and heading words count extra), which
  `docs.cover_threshold` is set on.

Also finds a page by any of its URLs, and where a removed or moved page now lives."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from docsgap.config import Config
from docsgap.dedupe.index import Counts, Floats, Ints, Postings
from docsgap.docpages.pages import DocsMap, load_docs_map, map_url
from docsgap.docs.bm25 import Bm25, FieldCounts, query_weights
from docsgap.docs.model import DocsPage, Section
from docsgap.docs.querytext import question_prose
from docsgap.docs.store import DocsStore
from docsgap.state import StateStore
from docsgap.text.textnorm import strip_markup, words

TITLE_WEIGHT = 3.0
"""Page title words count this many times in each of its sections: the title names the topic."""
HEADING_WEIGHT = 2.0
"""Heading words count twice in their section."""
SECTION_CHARS = 4000
"""Only the start of a long section is indexed (reference tables and logs add noise)."""
QUERY_TITLE_WEIGHT = 2.0
"""A question's title words count twice in `similar`: the title says what is asked."""
SECTION_SHARE = 0.8
"""A headed section within this share of its page's untitled intro is named instead."""
NOTES_RE = re.compile(r"(?:^|/)(?:changelog|change[-_]?log|release[-_]?notes)(?:/index)?\.md$",
                      re.I)
"""Release notes and changelogs: they name every feature in passing and answer nothing, so
`search` never suggests them (on the tuning split they ranked first for 5 of 34 questions)."""


def is_release_notes(page: DocsPage) -> bool:
    """Whether a page is a changelog or release notes, by its file name."""
    return NOTES_RE.search(page.path) is not None


@dataclass(frozen=True, slots=True)
class Hit:
    """A page that matches a query, with the section that matched best."""

    page: DocsPage
    section: Section | None
    score: float
    """How well the best section answers the query, 0-1: the normalised BM25F score for
    `search`, the cosine similarity for `similar`."""
    shared: tuple[str, ...] = ()
    """The rarest words the query and that section share (for the explanation)."""

    @property
    def url(self) -> str:
        """Today's URL of the page, with the section's anchor."""
        return self.page.section_url(self.section.anchor if self.section else None)


def _tally(found: list[str]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for word in found:
        counts[word] = counts.get(word, 0.0) + 1.0
    return counts


def _words_of(text: str) -> list[str]:
    return words(strip_markup(text))


def _weighted(parts: Sequence[tuple[list[str], float]]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for found, weight in parts:
        for word in found:
            counts[word] = counts.get(word, 0.0) + weight
    return counts


def unit_words(page: DocsPage, section: Section) -> dict[str, float]:
    """The weighted words of one section as `similar` indexes it (title and heading words
    count extra)."""
    return _weighted(((_words_of(page.title), TITLE_WEIGHT),
                      (_words_of(section.heading), HEADING_WEIGHT),
                      (_words_of(section.text[:SECTION_CHARS]), 1.0)))


def query_words(title: str, body: str = "") -> dict[str, float]:
    """The weighted words of a text for `similar` (its title counts double)."""
    return _weighted(((_words_of(title), QUERY_TITLE_WEIGHT), (_words_of(body), 1.0)))


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
        fields: list[tuple[FieldCounts, FieldCounts, FieldCounts]] = []

        def field(found: list[str]) -> FieldCounts:
            tally = _tally(found)
            ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in tally), np.int32,
                              count=len(tally))
            return ids, np.fromiter(tally.values(), np.float32, count=len(tally))

        for n, page in enumerate(self.pages):
            if page.redirect_to:
                continue  # a stub that points elsewhere answers nothing
            title = _words_of(page.title)
            title_field = field(title)
            for section in page.sections or (Section("", "", 0, ""),):
                heading = _words_of(section.heading)
                text = _words_of(section.text[:SECTION_CHARS])
                counts = _weighted(((title, TITLE_WEIGHT), (heading, HEADING_WEIGHT),
                                    (text, 1.0)))
                ids = [vocab.setdefault(w, len(vocab)) for w in counts]
                word_chunks.append(np.asarray(ids, dtype=np.int32))
                count_chunks.append(np.fromiter(counts.values(), dtype=np.float64,
                                                count=len(counts)))
                sizes.append(len(ids))
                fields.append((title_field, field(heading), field(text)))
                self._units.append((n, section))
        if not self._units:
            word_chunks, count_chunks = [np.zeros(0, np.int32)], [np.zeros(0)]
        self._postings, self._idf, self._norms = Postings.build(
            word_chunks, count_chunks, np.asarray(sizes, dtype=np.int64), len(vocab))
        self._bm25 = Bm25.build(fields, len(vocab))
        self._unit_page = np.asarray([n for n, _ in self._units], dtype=np.int64)
        names = sorted(self.projects)
        self._project_ids = {p: i for i, p in enumerate(names)}
        self._unit_project = np.asarray(
            [self._project_ids[self.pages[n].project] for n, _ in self._units], dtype=np.int64)
        notes = np.asarray([is_release_notes(p) for p in self.pages] or [False], dtype=bool)
        self._unit_answers = ~notes[self._unit_page] if self._units else np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return len(self.pages)

    # search ----------------------------------------------------------------------------------
    def search(self, title: str, body: str = "", *, limit: int = 5,
               projects: Collection[str] | None = None) -> list[Hit]:
        """The pages that best answer a question, best first (BM25F; its post's template,
        code and log lines left out; release notes never), only `projects`' pages when given;
        each page once, with its best section."""
        title_words = _words_of(title)
        body_words = _words_of(question_prose(body))
        weights = query_weights(title_words, body_words)
        query = {self._vocab[w]: q for w, q in weights.items() if w in self._vocab}
        if not query or not self._units:
            return []
        scores, _ = self._bm25.scores(query)
        reached = (scores > 0) & self._unit_answers
        if projects is not None:
            wanted = [self._project_ids[p] for p in projects if p in self._project_ids]
            reached &= np.isin(self._unit_project, wanted)
        return self._hits(scores, reached, weights, limit)

    def similar(self, title: str, body: str = "", *, limit: int = 5) -> list[Hit]:
        """The pages whose sections are most similar to a text (cosine of tf-idf vectors),
        best first; each page once, with its best section."""
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
        return self._hits(dots / (self._norms * math.sqrt(qnorm)), reached, query, limit)

    def _hits(self, scores: Floats, reached: npt.NDArray[np.bool_], query: dict[str, float],
              limit: int) -> list[Hit]:
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
