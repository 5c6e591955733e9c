"""Docs pages: normalise a docs URL and map it to the project and source file behind it.

Which hosts, prefixes, projects and directories exist is data (`rules/docs-map.yml`, format in
`rules/README.md`, loaded by `docsgap.docpages.docsmap`); this module only interprets it. No
network: `path` is a best guess of the current source file (section pages become
`<dir>/_index.md`)."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from docsgap.docpages.docsmap import (
    DOCS_MAP_FILE,
    DocsMap,
    PageRules,
    Source,
    docs_map_file,
    load_docs_map,
)
from docsgap.models import DocPage

# --- mapping ----------------------------------------------------------------------------------


def map_url(url: str, docs_map: DocsMap | None = None) -> DocPage:
    """The page behind `url`: normalised URL (https, lower-case host, no query or anchor), the
    anchor as `section`, and for known docs URLs the source `project` and `path`. Never fails:
    anything unrecognised comes back with the URL only."""
    return _map(url.strip(), docs_map or load_docs_map())


_HOSTLIKE_RE = re.compile(r"[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#]|$)")


@lru_cache(maxsize=8192)
def _map(url: str, docs_map: DocsMap) -> DocPage:
    if "://" in url:
        text = url
    elif url.startswith("//") or _HOSTLIKE_RE.match(url):
        text = f"https://{url.lstrip('/')}"
    else:
        return DocPage(url=url)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return DocPage(url=url)
    if parts.scheme.lower() not in ("http", "https") or not host:
        return DocPage(url=url)
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    section = unquote(parts.fragment).strip() or None
    found = _source(docs_map, host.split(":")[0], unquote(path))
    project, source = found if found else (None, None)
    return DocPage(url=f"https://{host}{path}", project=project, path=source, section=section)


def _source(m: DocsMap, host: str, path: str) -> tuple[str, str] | None:
    segments = [s for s in path.split("/") if s]
    trailing = path.endswith("/")
    if host in m.site_hosts:
        return _site_source(m, segments, trailing)
    if host in m.repo_hosts:
        found = _repo_source(m, segments)
        if found is not None:
            return found
    if m.help is not None and segments and segments[0].lower() == m.help_segment:
        return _file(m, m.help, segments[1:], trailing=False, legacy=False, is_home=True)
    return None


def _site_source(m: DocsMap, segs: list[str], trailing: bool) -> tuple[str, str] | None:
    while segs and any(p.fullmatch(segs[0]) for p in m.skip_segments):
        segs = segs[1:]
    legacy = bool(segs) and segs[0].lower() in m.legacy_prefixes
    if legacy:
        segs = segs[1:]
    source = m.default
    if not legacy and segs and segs[0].lower() in m.products:
        source, segs = m.products[segs[0].lower()], segs[1:]
    is_home = source is m.default
    return _file(m, source, segs, trailing=trailing, legacy=legacy, is_home=is_home)


def _file(
    m: DocsMap, source: Source, segs: list[str], *, trailing: bool, legacy: bool, is_home: bool
) -> tuple[str, str] | None:
    """Apply the index-file convention to the segments below a docs dir."""
    segs = list(segs)
    had_ext = False
    if segs:
        last = segs[-1]
        for ext in m.extensions:
            if last.lower().endswith(ext):
                segs[-1], had_ext = last[: -len(ext)], True
                break
        if segs[-1].lower() in m.index_names:
            segs.pop()
            had_ext = False
            trailing = legacy = True  # explicitly a section page
        elif not segs[-1]:
            segs.pop()
    if not segs:
        if is_home and not m.home_is_page:
            return None
        return source.project, f"{source.dir}/{m.index_file}"
    rel = "/".join(segs)
    if had_ext:
        is_section = False
    elif legacy and trailing:
        is_section = True  # Nanoc era: `/ee/ci/yaml/` was `ci/yaml/index.html`
    else:
        is_section = len(segs) == 1 or rel in m.sections.get(source.project, ())
    file = f"{source.dir}/{rel}/{m.index_file}" if is_section else f"{source.dir}/{rel}.md"
    return source.project, file


_REPO_VERBS = frozenset({"blob", "tree", "raw", "edit"})


def _repo_source(m: DocsMap, segs: list[str]) -> tuple[str, str] | None:
    """`/<project>/-/blob/<ref>/<dir>/<file>`; the ref may hold slashes, the dir cannot be empty."""
    lowered = [s.lower() for s in segs]
    for i, seg in enumerate(lowered):
        if seg not in _REPO_VERBS:
            continue
        end = i - 1 if i and lowered[i - 1] == "-" else i
        entry = m.repos.get("/".join(lowered[:end]))
        if entry is None:
            continue
        source, docs_dir = entry
        dir_parts = docs_dir.lower().split("/")
        rest = lowered[i + 2 :]  # skip the verb and the first segment of the ref
        for j in range(len(rest) - len(dir_parts) + 1):
            if rest[j : j + len(dir_parts)] == dir_parts:
                below = segs[i + 2 + j + len(dir_parts) :]
                if not below:
                    return source.project, f"{source.dir}/{m.index_file}"
                if seg == "tree" or below[-1].lower().endswith(".md"):
                    return _file(m, source, below, trailing=True, legacy=True, is_home=False)
                return None  # an image or other non-page file
        return None
    return None


# --- pages named in free text -------------------------------------------------------------------

_URL_RE = re.compile(
    r"https?://[^\s<>\"'`\[\]{}|\\^()]+|(?<![\w/.@-])docs\.gitlab\.com/[^\s<>\"'`\[\]{}|\\^()]*",
    re.I,
)
_BARE_RE = re.compile(r"(?<![\w/.-])(docs?/[\w./-]+?\.md)(?![\w/-])")
_TRAILING = ".,;:!?'\"*_>"


def page_keys(text: str, docs_map: DocsMap | None = None) -> set[str]:
    """The `DocPage.key` of every URL and bare source path (`doc/ci/yaml/_index.md`) in `text`.

    URLs the map does not know keep their normalised URL as key, so matching by intersection
    also works for pages outside GitLab's docs."""
    m = docs_map or load_docs_map()
    keys: set[str] = set()
    for raw in _URL_RE.findall(text):
        url = raw.rstrip(_TRAILING)
        if url:
            keys.add(map_url(url, m).key)
    for raw in _BARE_RE.findall(text):
        page = bare_path_page(raw, m)
        if page is not None:
            keys.add(page.key)
    return keys


def bare_path_page(path: str, docs_map: DocsMap | None = None) -> DocPage | None:
    """A bare source path (`doc/ci/yaml/index.md`) as a page of the bare-path project, with the
    section file named the current way; `None` when the path is not under the bare prefix."""
    m = docs_map or load_docs_map()
    if not m.bare_prefix or not m.bare_project or not path.startswith(m.bare_prefix):
        return None
    source = Source(m.bare_project, m.bare_prefix.rstrip("/"))
    segs = [s for s in path[len(m.bare_prefix) :].split("/") if s]
    found = _file(m, source, segs, trailing=True, legacy=True, is_home=False)
    if found is None:
        return None
    return DocPage(url=found[1], project=found[0], path=found[1])


def pages_in(text: str, docs_map: DocsMap | None = None) -> list[DocPage]:
    """Every docs page (with a known source file) named by URL in `text`, in order, no repeats."""
    m = docs_map or load_docs_map()
    seen: dict[str, DocPage] = {}
    for raw in _URL_RE.findall(text):
        page = map_url(raw.rstrip(_TRAILING), m)
        if page.path is not None:
            seen.setdefault(page.key, page)
    return list(seen.values())


__all__ = ["DOCS_MAP_FILE", "DocsMap", "PageRules", "Source", "bare_path_page", "docs_map_file",
           "load_docs_map", "map_url", "page_keys", "pages_in"]
