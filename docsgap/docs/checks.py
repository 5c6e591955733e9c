"""What the docs index says about a detected gap, before it is planned:

- a "missing" gap that no page covers gets that as evidence in its issue; one that a page does
  cover (its best section reaches `docs.cover_threshold`) becomes "confusing" (hard to find),
  with that page named (policy `docs_check`);
- a gap whose page no longer exists, or was moved (a `redirect_to` stub), becomes `broken_link`,
  with the page that replaces it named when the index knows it (policy `docs_moved`).

Both are review suggestions by default: the issue (or link) they change waits for a person even
when its own policy is `auto`, unless the check's policy is `auto` too."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace

from docsgap.config import Config
from docsgap.docs.index import DocsIndex, Hit
from docsgap.docs.model import DocsPage
from docsgap.models import Action, DocPage, GapType, Plan, Signal

MISSING_NOTE = "missing"
MOVED_NOTE = "moved"


def check_signals(signals: Sequence[Signal], index: DocsIndex | None, config: Config
                  ) -> list[Signal]:
    """`signals` with the index's findings applied (unchanged without an index or policy)."""
    if index is None:
        return list(signals)
    out = []
    for s in signals:
        threshold = config.docs.cover_threshold
        moved = _moved(s, index, threshold) if config.policy.docs_moved != "off" else None
        if moved is not None:
            out.append(moved)
        elif s.gap_type is GapType.MISSING and config.policy.docs_check != "off":
            out.append(_missing(s, index, threshold))
        else:
            out.append(s)
    return out


def _text_of(s: Signal) -> str:
    return " ".join(e.text for e in s.evidence if not e.rule_id.startswith("size-"))


def _missing(s: Signal, index: DocsIndex, threshold: float) -> Signal:
    hits = index.similar(s.thread_title, _text_of(s), limit=1)
    best: Hit | None = hits[0] if hits else None
    if best is None or best.score < threshold:
        closest = (f"; the closest is {_where(best)} at similarity {best.score:.2f}, below "
                   f"{threshold:g}" if best else "")
        note = (f"The docs index ({len(index)} pages) finds no page covering this{closest}.")
        return replace(s, docs_note=note)
    note = (f"The docs index finds this covered by {_where(best)} (similarity {best.score:.2f}): "
            "the gap looks hard to find rather than missing.")
    anchor = best.section.anchor if best.section else None
    page = s.page or DocPage(best.page.url, best.page.project, best.page.path, anchor)
    return replace(s, gap_type=GapType.CONFUSING, page=page, docs_note=note)


def _where(hit: Hit) -> str:
    section = f" > {hit.section.heading}" if hit.section else ""
    return f"{hit.page.title}{section} ({hit.url})"


_VERSIONED_RE = re.compile(r"^https?://[^/]+/(?:[a-z]{2}-[a-z]{2}/)?\d+\.\d+/")


def _moved(s: Signal, index: DocsIndex, threshold: float) -> Signal | None:
    """A `broken_link` signal when the page the thread reports is gone or was moved (a URL of
    an archived docs version keeps its gap type: the old page is still served there)."""
    page = s.page
    if page is None or page.path is None or not index.knows(page.project):
        return None
    found = index.find(page.url) or index.by_key.get(page.key)
    if found is not None and not found.redirect_to:
        return None  # the page is there (perhaps as a section the map could not tell)
    if found is not None:
        current = _follow(found, index)
        what = f"was moved (its source {found.path} only redirects now)"
    else:
        current = _replacement(page, index) or _closest(s, index, threshold)
        what = f"no longer exists ({page.path} is not in the docs)"
    now = f"; the current page is {current.title} ({current.url})" if current else ""
    note = f"The reported page {page.url} {what}{now}."
    if _VERSIONED_RE.match(page.url):
        return replace(s, docs_note=note.replace(" no longer exists", " (an archived version) "
                                                 "no longer exists today", 1))
    return replace(s, gap_type=GapType.BROKEN_LINK, docs_note=note)


def _closest(s: Signal, index: DocsIndex, threshold: float) -> DocsPage | None:
    """The page that now covers what the thread is about, if one does clearly enough."""
    assert s.page is not None
    words = (s.page.path or "").rsplit("/", 2)[-2:]
    hits = index.similar(f"{s.thread_title} {' '.join(words)}", _text_of(s), limit=1)
    return hits[0].page if hits and hits[0].score >= threshold else None


def _follow(stub: DocsPage, index: DocsIndex) -> DocsPage | None:
    page: DocsPage | None = stub
    for _ in range(5):
        if page is None or not page.redirect_to:
            return page
        if "://" in page.redirect_to:
            return index.find(page.redirect_to)
        page = index.by_key.get(f"{page.project}:{page.redirect_to}")
    return page


_INDEX_RE = re.compile(r"/(?:_index|index|README)\.md$", re.I)


def _replacement(page: DocPage, index: DocsIndex) -> DocsPage | None:
    """Where a missing source file's page lives now: the same page as a section (`x.md` <->
    `x/_index.md`, old `index.md`/`README.md` names) or a stub that redirects from there."""
    assert page.path is not None
    path = page.path
    candidates = []
    if _INDEX_RE.search(path):
        base = _INDEX_RE.sub("", path)
        candidates += [f"{base}/_index.md", f"{base}.md"]
    elif path.endswith(".md"):
        candidates.append(f"{path[:-3]}/_index.md")
    for candidate in candidates:
        found = index.by_key.get(f"{page.project}:{posixpath.normpath(candidate)}")
        if found is not None:
            return _follow(found, index)
    return None


def annotate(plan: Plan, original: Sequence[Signal], checked: Sequence[Signal],
             config: Config) -> Plan:
    """Actions carrying a signal the index commented on say so in their reason; those whose
    gap type it changed (downgraded, or now a broken link) wait for review while that check's
    policy is `review`. `checked` is `original` after `check_signals`, in the same order."""
    notes = {s.key: s for s in checked if s.docs_note}
    changed = {c.key for o, c in zip(original, checked, strict=True) if o.key != c.key}
    if not notes:
        return plan
    actions: list[Action] = []
    for a in plan.actions:
        touched = [notes[k] for k in a.signal_keys if k in notes]
        if not touched:
            actions.append(a)
            continue
        policy = ("docs_moved" if any(s.gap_type is GapType.BROKEN_LINK for s in touched)
                  else "docs_check")
        mode = getattr(config.policy, policy)
        reason = f"{a.reason}; docs index: {touched[0].docs_note} (policy {policy}={mode})"
        review = mode == "review" and any(s.key in changed for s in touched)
        actions.append(replace(a, reason=reason, needs_review=a.needs_review or review))
    return replace(plan, actions=tuple(actions))
