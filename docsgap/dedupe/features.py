"""What the matcher measures between a report and one cached item: the features the fitted
ranker weighs (`docsgap.dedupe.ranker`). Text features (shared rare words, title likeness, page
and section identity) come from the report and the item's own text; priors (open, recent,
named by the report) order candidates but never make a link on their own."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from docsgap.dedupe.itemindex import ItemIndex, encode, page_key, site_of, vector
from docsgap.dedupe.links import page_tails
from docsgap.docpages.pageid import page_id, page_ids
from docsgap.models import DocPage
from docsgap.text.textnorm import surface_forms

FEATURES = ("words", "title", "page", "section", "tail", "other_page", "open", "recent", "ref")
"""The features, in the order of a feature vector."""
PRIORS = ("open", "recent", "ref")
"""Features that order candidates but never make a link on their own."""
TEXT = tuple(f for f in FEATURES if f not in PRIORS)
MIN_TEXT_FOR_PAGE = 20.0
"""A page match counts only with some textual likeness (`likeness`, 0-100): the same page
with a different problem is common."""
RECENT_DAYS = 14.0
"""Reports of one incident come in bursts: `recent` halves every this many days back (or every
`RECENT_NUMBERS` item numbers when the items carry no dates)."""
RECENT_NUMBERS = 30.0

Vector = tuple[float, ...]
"""One value per name in `FEATURES`."""


@dataclass(slots=True)
class Query:
    """A report as the matcher reads it."""

    title: str
    body: str
    vector: dict[str, float]
    norm: float
    pages: frozenset[str]
    """`encode`d page ids the report names (its own page included)."""
    tails: frozenset[str]
    words: set[str] = field(default_factory=set)
    surface: dict[str, str] = field(default_factory=dict)
    """stem -> a word as the report wrote it, for explanations."""
    refs: frozenset[int] = frozenset()
    """The items the report names."""
    keys: frozenset[str] = frozenset()
    """Its page keys (site and page)."""
    sites: frozenset[str] = frozenset()
    """The sites of its pages (home pages left out)."""


def make_query(index: ItemIndex, title: str, body: str, page: DocPage | None,
               refs: frozenset[int]) -> Query:
    """The report's words (tf-idf weighted against the index), pages and path tails."""
    t, b = index.texts(title, body)
    vec = vector(t, b)
    weights = {w: (1 + math.log(tf)) * index.idf.get(w, index.unknown_idf)
               for w, tf in vec.items()}
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    raw = f"{title}\n{body}"
    pages = {encode(p) for p in page_ids(raw)}
    extra: list[str] = []
    if page is not None:
        own = page_id(page.url)
        if page.path and page.project:
            pages.add(f"{page.project}|{page.path}|{(page.section or '').lower()}")
        elif own is not None:
            pages.add(encode(own))
        extra.append(page.url)
    keys = frozenset(page_key(p) for p in pages)
    return Query(" ".join(t), " ".join(b), weights, norm, frozenset(pages),
                 page_tails(raw, extra), set(vec), surface_forms(raw), refs, keys,
                 frozenset(site_of(p) for p in pages if not page_key(p).endswith("|")))


def likeness(words: float, title: float | None) -> float:
    """Text likeness 0-100 from the word cosine and title ratio (both 0-1; None: no title):
    the gate for page evidence and for crediting a continuation."""
    return 100 * (0.7 * words + 0.3 * title) if title is not None else 100 * words


def text_features(q: Query, index: ItemIndex, n: int, dot: float) -> tuple[float, ...]:
    """The text features (`TEXT` order) of item `n`, given its dot product with the report."""
    cos = dot / (q.norm * index.norms[n])
    theirs = index.titles[n]
    # A placeholder or template-only title says nothing: the words stand in for it.
    title = fuzz.token_set_ratio(q.title, theirs) / 100 if q.title and theirs else None
    gate = likeness(cos, title) >= MIN_TEXT_FOR_PAGE
    own = index.item_pages[n]
    keys = {page_key(p) for p in own}
    same = bool(q.keys & keys)
    # The same anchor on the same page (an encoded id ends in "|" when it has no anchor).
    section = same and any(p in own for p in q.pages if not p.endswith("|"))
    tail = not same and bool(q.tails & index.item_tails[n])
    # Both name pages (not home pages) of one site, and no page in common.
    other = not same and bool(q.sites & {site_of(k) for k in keys if not k.endswith("|")})
    return (cos, cos if title is None else title, float(same and gate), float(section and gate),
            float(tail and gate), float(other))


def combine(text: tuple[float, ...], priors: tuple[float, ...]) -> Vector:
    """A whole feature vector from its text part and its priors (`PRIORS` order). `open` and
    `recent` count in proportion to the text likeness (0-1): they order items that resemble the
    report, and an unlike item gains nothing from being new or open (a fresh issue about
    another gap must not draw probability from the right one)."""
    gate = likeness(text[0], text[1]) / 100
    opened, recent, named = priors
    return (*text, opened * gate, recent * gate, named)


def prior_features(opened: bool, age: float, dated: bool, named: bool) -> tuple[float, ...]:
    """`open`, `recent` (halving every `RECENT_DAYS` days, or `RECENT_NUMBERS` numbers) and
    `ref` of one item."""
    half = RECENT_DAYS if dated else RECENT_NUMBERS
    return (float(opened), 0.5 ** (age / half), float(named))


__all__ = ["FEATURES", "MIN_TEXT_FOR_PAGE", "PRIORS", "TEXT", "Query", "Vector", "combine",
           "likeness", "make_query", "prior_features", "text_features"]
