"""Page identity on any docs site: the URLs of one page across versions, languages, mirrors and
URL eras normalise to one `PageId` (site, page, section), so dedup can tell "the same page" from
"another page of the same site".

GitLab's own docs URLs map to their source file (`docsgap.docpages.pages.map_url`); any other
host is normalised by the `any_site` rules of the docs map (`rules/docs-map.yml`): host prefixes
and aliases, known redirects, version and language segments, extensions and index names
dropped."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from docsgap.docpages.pages import (
    _BARE_RE,
    _TRAILING,
    _URL_RE,
    DocsMap,
    bare_path_page,
    load_docs_map,
    map_url,
)

_REPO_VERBS = frozenset({"blob", "tree", "raw", "edit", "wiki"})


@dataclass(frozen=True, slots=True)
class PageId:
    """One docs page, whatever URL named it."""

    site: str
    """The docs site: the GitLab project for GitLab's docs, else the canonical host (plus the
    repository on code hosts)."""
    page: str
    """The page within the site: its source file for GitLab's docs, else its normalised path
    ("" for the site's home page)."""
    section: str | None = None
    """The URL's anchor, lower-cased."""

    @property
    def key(self) -> str:
        """Site and page as one string (the section left out)."""
        return f"{self.site}|{self.page}"


def page_id(url: str, docs_map: DocsMap | None = None) -> PageId | None:
    """The page a URL names; None for a non-URL, a tracker item, an image or download."""
    return _page_id(url.strip().rstrip(_TRAILING), docs_map or load_docs_map())


@lru_cache(maxsize=16384)
def _page_id(url: str, m: DocsMap) -> PageId | None:
    page = map_url(url, m)
    section = page.section.lower() if page.section else None
    if page.path and page.project:
        return PageId(page.project, page.path, section)
    if "://" not in page.url or m.identity is None:
        return None
    rules = m.identity
    where = page.url.split("://", 1)[1]
    host, _, path = where.partition("/")
    host = host.split(":")[0]
    for prefix in rules.host_prefixes:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix):]
    where = f"{rules.aliases.get(host, host)}/{path}".lower()
    for old, new in rules.redirects:
        if where == old or where.startswith(old + "/"):
            where = new + where[len(old):]
            break
    if any(p.search(where) for p in rules.not_pages):
        return None
    host, *segs = [s for s in where.split("/") if s]
    site = host
    if host in rules.repo_hosts:
        site, segs = "/".join([host, *segs[:2]]), segs[2:]
        if segs[:1] == ["-"]:
            segs = segs[1:]
        if segs[:1] and segs[0] in _REPO_VERBS:
            segs = segs[2:]  # the verb and the ref (its first segment)
    segs = [s for k, s in enumerate(segs)
            if k == len(segs) - 1 or not any(p.fullmatch(s) for p in rules.drop_segments)]
    if segs:
        last = segs[-1]
        for ext in rules.extensions:
            if last.endswith(ext):
                last = last[: -len(ext)]
                break
        segs[-1] = last
        if last in m.index_names or not last:
            segs.pop()
    # A version or language as the last segment is the home page of that version; a plain
    # number there is a page of its own ("welcome/2").
    if segs and not segs[-1].isdigit() and any(p.fullmatch(segs[-1]) for p in rules.drop_segments):
        segs.pop()
    return PageId(site, "/".join(segs), section)


def page_ids(text: str, docs_map: DocsMap | None = None) -> set[PageId]:
    """Every page named in `text`: by URL (any host) or bare source path (`doc/x.md`)."""
    m = docs_map or load_docs_map()
    found: set[PageId] = set()
    for raw in _URL_RE.findall(text):
        got = page_id(raw, m)
        if got is not None:
            found.add(got)
    for raw in _BARE_RE.findall(text):
        page = bare_path_page(raw, m)
        if page is not None and page.project and page.path:
            found.add(PageId(page.project, page.path))
    return found


__all__ = ["PageId", "page_id", "page_ids"]
