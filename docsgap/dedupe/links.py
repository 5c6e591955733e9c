"""Links and references in issue text: URLs, the path tails that name one page on any host,
and `#12` / `!34` references resolved against the run's items."""

from __future__ import annotations

import re
from collections.abc import Iterable

from docsgap.models import TrackerItem


def page_tails(text: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The last two path segments of every URL ("moretypes/18"): the same page on a mirror,
    a translation or a moved host."""
    out = set()
    for url in [*extra, *urls_in(text)]:
        path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in path.split("/")[1:] if p]
        if parts and parts[-1].split(".")[0] in ("index", "_index", "readme"):
            parts = parts[:-1]
        if len(parts) >= 2:
            out.add("/".join(parts[-2:]).lower().removesuffix(".html").removesuffix(".md"))
    return frozenset(out)


# The sign comes first so the regex engine scans for it in C; the lookbehind then checks the
# character before it (same matches as `(?<![\w/&])([#!])...`).
REF_RE = re.compile(r"([#!])(?<![\w/&][#!])(\d{1,9})\b")


def urls_in(text: str) -> list[str]:
    """The URL-like words of a text."""
    return urls_of(text.split())


def urls_of(parts: list[str]) -> list[str]:
    """The URL-like words of a text given as its words."""
    return [w.strip(").,;]>'\"") for w in parts if "://" in w]


def resolve_mentions(item: TrackerItem, refs: tuple[str, ...], urls: tuple[str, ...],
                     by_ref: dict[tuple[str, str, int], str], known: set[str]
                     ) -> tuple[str, ...]:
    """The other items of this run an item mentions (`#12`, `!34` in its project, or their
    URL), sorted."""
    found = {by_ref.get((item.project, r[0], int(r[1:]))) for r in refs}
    found |= {u for u in urls if u in known}
    found -= {None, item.web_url}
    return tuple(sorted(u for u in found if u is not None))


__all__ = ["REF_RE", "page_tails", "resolve_mentions", "urls_in", "urls_of"]
