"""The web addresses of a docs source file, in every URL era the docs map knows: the site today
(Hugo: `/ci/yaml/`), the Nanoc site (`/ee/ci/yaml/index.html`), in-product help
(`/help/ci/yaml/index.md`) and the file in its repository.

The inverse of `docsgap.docpages.pages.map_url`, built on it: every address is made from the map's
data and kept only when `map_url` takes it back to the same file, except today's site address,
which is kept even where the map's guess differs (the site serves it; the map cannot tell a
section from a page without the tree, the index can)."""

from __future__ import annotations

from functools import lru_cache

from docsgap.docpages.pages import DocsMap, Source, load_docs_map, map_url

REPO_HOST = "gitlab.com"
"""Where in-product help and repository links are written for (any instance serves /help)."""


def site_host(m: DocsMap) -> str:
    """The docs site's own host (`docs.gitlab.com`) among the map's mirrors."""
    return min(m.site_hosts, key=lambda h: (not h.startswith("docs."), len(h), h))


def source_of(project: str, m: DocsMap) -> tuple[Source, str | None] | None:
    """The map's docs source for a project and its site prefix (None: the default product)."""
    if m.default.project == project:
        return m.default, None
    for prefix, source in m.products.items():
        if source.project == project:
            return source, prefix
    found = m.repos.get(project.lower())
    if found:
        return found[0], None
    other = m.other_sites.get(project.lower())
    return (other.source, None) if other else None


def docs_dir(project: str, m: DocsMap | None = None) -> str | None:
    """The docs directory of `project` (`doc` for gitlab-org/gitlab), if the map knows it."""
    found = source_of(project, m or load_docs_map())
    return found[0].dir if found else None


def page_urls(project: str, path: str, m: DocsMap | None = None) -> tuple[str, ...]:
    """Today's site URL first, then the other eras' URLs that map back to this file."""
    return _page_urls(project, path, m or load_docs_map())


@lru_cache(maxsize=16384)
def _page_urls(project: str, path: str, m: DocsMap) -> tuple[str, ...]:
    found = source_of(project, m)
    if found is None or not path.startswith(found[0].dir + "/"):
        return (f"https://{REPO_HOST}/{project}/-/blob/master/{path}",)
    source, prefix = found
    rel = path[len(source.dir) + 1:]
    other = m.other_sites.get(project.lower())
    if other is not None and source is other.source:
        return _other_urls(other.urls, other.source_urls, rel, m)
    stem = rel[:-3] if rel.lower().endswith(".md") else rel
    parts = [p for p in stem.split("/") if p]
    section = bool(parts) and parts[-1].lower() in m.index_names
    segs = parts[:-1] if section else parts
    host = site_host(m)
    base = "/".join([*([prefix] if prefix else []), *segs])
    today = f"https://{host}/{base}/" if base else f"https://{host}/"
    candidates: list[str] = []
    inner = "/".join(segs)
    # The Nanoc site put the default product under /ee/ (earlier /ce/), the others under
    # their own prefix; a section was `<dir>/` or `<dir>/index.html`.
    old = sorted(m.legacy_prefixes, reverse=True) if prefix is None else [prefix]
    for lead in old:
        if section:
            candidates += [_url(host, lead, inner, "/"), _url(host, lead, inner, "/index.html"),
                           _url(host, lead, inner, "/README.html")]
        elif inner:
            candidates.append(_url(host, lead, inner, ".html"))
    if m.help is not None and m.help.project == project and m.help.dir == source.dir and segs:
        candidates.append(f"https://{REPO_HOST}/help/{inner}{'/index' if section else ''}.md")
    if project.lower() in m.repos:
        candidates.append(f"https://{REPO_HOST}/{project}/-/blob/master/{path}")
    key = f"{project}:{path}"
    kept = [today] + [u for u in candidates if map_url(u, m).key == key and u != today]
    return tuple(dict.fromkeys(kept))


def _other_urls(sites: tuple[str, ...], sources: tuple[str, ...], rel: str, m: DocsMap
                ) -> tuple[str, ...]:
    """A page of a site with directory URLs: `a/b.md` and `a/b/index.md` at `<site>/a/b/`, in
    each of the site's prefixes; then the source file's own links."""
    stem = rel[:-3] if rel.lower().endswith(".md") else rel
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1].lower() in m.index_names:
        parts = parts[:-1]
    inner = "/".join(parts)
    pages = [f"https://{site}/{inner}/" if inner else f"https://{site}/" for site in sites]
    return tuple(dict.fromkeys([*pages, *(f"https://{s}/{rel}" for s in sources)]))


def _url(host: str, *parts_and_suffix: str) -> str:
    """`https://host/a/b` + suffix from non-empty parts (the last argument is the suffix)."""
    *parts, suffix = parts_and_suffix
    path = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return f"https://{host}/{path}{suffix}" if path else f"https://{host}/"
