"""What the answerability gate (`docsgap.docs.gate`) looks at: numbers the ranker already has
about a question and its best hits, each cheap and each explainable to a reviewer.

- `top_score`: the best section's normalised BM25F score (0-1);
- `margin`, `ratio`: how far it leads the second page (a clear winner, or one of many alike);
- `title_cover`: the share of the question title's words that the page title and the section
  heading hold (a page named for the question);
- `body_cover`: the share of the query's distinct words the section holds at all;
- `section_hit`: the hit names a headed section, not the top of a page;
- `query_words`: log(1 + distinct query words) (a one-line title is thin evidence);
- `cosine_agrees`: the tf-idf cosine ranking (`DocsIndex.similar`) puts the same page first
  (two rankings that agree are less often wrong)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from docsgap.docs.index import DocsIndex, Hit, unit_words
from docsgap.docs.model import Section
from docsgap.docs.querytext import question_prose
from docsgap.text.textnorm import strip_markup, words

FEATURES = ("top_score", "margin", "ratio", "title_cover", "body_cover", "section_hit",
            "query_words", "cosine_agrees")
"""The gate's inputs, in the order its weights are stored."""

COSINE_DEPTH = 20
"""How far down the cosine ranking to look for the first page of the question's projects."""


@dataclass(frozen=True, slots=True)
class Judged:
    """A question's hits and the gate's view of the best one."""

    hits: tuple[Hit, ...]
    features: dict[str, float]


def _plain(text: str) -> set[str]:
    return {w for w in words(strip_markup(text)) if not w.startswith("~")}


def judge(index: DocsIndex, title: str, text: str = "", *, limit: int = 5,
          projects: Collection[str] | None = None) -> Judged:
    """Search a question (`DocsIndex.search`) and measure its best hit; empty features when
    nothing matched."""
    hits = tuple(index.search(title, text, limit=max(limit, 2), projects=projects))
    if not hits:
        return Judged((), {})
    return Judged(hits[:limit], measure(index, title, text, hits, projects=projects))


def measure(index: DocsIndex, title: str, text: str, hits: Sequence[Hit], *,
            projects: Collection[str] | None = None) -> dict[str, float]:
    """The gate's features of a question whose best hits are `hits` (at least one)."""
    top = hits[0]
    first = top.score
    second = hits[1].score if len(hits) > 1 else 0.0
    section = top.section or Section("", "", 0, "")
    named = _plain(top.page.title) | _plain(section.heading)
    asked = _plain(title)
    query = asked | _plain(question_prose(text))
    held = unit_words(top.page, section)
    return {
        "top_score": first,
        "margin": first - second,
        "ratio": second / first if first > 0 else 1.0,
        "title_cover": len(asked & named) / len(asked) if asked else 0.0,
        "body_cover": sum(1 for w in query if w in held) / len(query) if query else 0.0,
        "section_hit": 1.0 if top.section is not None else 0.0,
        "query_words": math.log1p(len(query)),
        "cosine_agrees": 1.0 if _cosine_first(index, title, text, projects) == top.page.key
        else 0.0,
    }


def _cosine_first(index: DocsIndex, title: str, text: str,
                  projects: Collection[str] | None) -> str | None:
    for hit in index.similar(title, question_prose(text), limit=COSINE_DEPTH):
        if projects is None or hit.page.project in projects:
            return hit.page.key
    return None
