"""The docs map (`rules/docs-map.yml`, format in `rules/README.md`): loaded once, validated with
`file:line` problems, as a `DocsMap` that `docsgap.docpages.pages` and `docsgap.docpages.pageid`
read."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from docsgap.errors import RulesError
from docsgap.paths import shipped_rules_dir
from docsgap.yamlload import SAFE_LOADER

DOCS_MAP_FILE = "docs-map.yml"


@dataclass(frozen=True, slots=True)
class Source:
    """Where one product's docs live: project path and docs directory inside it."""

    project: str
    dir: str


@dataclass(frozen=True, eq=False)
class DocsMap:
    """The loaded `docs-map.yml` (hashable by identity so mapping results can be cached)."""

    index_file: str
    index_names: frozenset[str]
    """Lower-cased last segments that mean "the section page"."""
    extensions: tuple[str, ...]
    site_hosts: frozenset[str]
    skip_segments: tuple[re.Pattern[str], ...]
    legacy_prefixes: frozenset[str]
    products: Mapping[str, Source]
    default: Source
    home_is_page: bool
    help_segment: str | None
    help: Source | None
    repo_hosts: frozenset[str]
    repos: Mapping[str, tuple[Source, str]]
    """Lower-cased project path -> (source as reported, docs dir inside that repository)."""
    bare_prefix: str | None
    bare_project: str | None
    sections: Mapping[str, frozenset[str]]
    file: str = ""
    identity: PageRules | None = None
    """How any docs site's URLs normalise to a page (`any_site`; dedup's page identity)."""
    other_sites: Mapping[str, OtherSite] = field(default_factory=dict)
    """Lower-cased project path -> a docs site that is not GitLab's (`other_sites`)."""


@dataclass(frozen=True, slots=True)
class OtherSite:
    """`other_sites` in the docs map: a project whose docs folder is published by a static site
    generator with directory URLs (MkDocs, Hugo, Docusaurus, VitePress): `<dir>/a/b.md` and
    `<dir>/a/b/index.md` are served at `<url>/a/b/`."""

    source: Source
    urls: tuple[str, ...]
    """Site prefixes (`host/path`, no scheme) the pages are served under, today's first."""
    source_urls: tuple[str, ...] = ()
    """Prefixes (`host/path`) of links to the source files themselves (`<prefix>/a/b.md`)."""


@dataclass(frozen=True, slots=True)
class PageRules:
    """`any_site` in the docs map: what a URL on any host drops to name its page."""

    drop_segments: tuple[re.Pattern[str], ...]
    """Path segments naming no page (versions, languages, branches), dropped anywhere but last."""
    host_prefixes: tuple[str, ...]
    """Host labels dropped from the front (`www.`)."""
    extensions: tuple[str, ...]
    """Suffixes dropped from the last segment (`.html`)."""
    aliases: Mapping[str, str]
    """Host (or host/path prefix) -> the one it is now known as (old and new URL eras)."""
    redirects: tuple[tuple[str, str], ...]
    """(host/path prefix, its new host/path prefix): moves the project knows, longest first."""
    not_pages: tuple[re.Pattern[str], ...]
    """`host/path` patterns naming no docs page (tracker items, images, downloads)."""
    repo_hosts: frozenset[str]
    """Code hosts whose first two path segments (owner/repository) belong to the site."""


# --- loading ----------------------------------------------------------------------------------

# Spec for the YAML walker: str/bool leaves, [spec] lists, dicts of keys ("?" = optional,
# "*" = any key).
_SOURCE = {"project": str, "dir": str}


class _Regex(str):
    """Spec marker: a word that must compile as a regex (checked where it is written)."""


_RE = _Regex
_SCHEMA: dict[str, Any] = {
    "index_file": str,
    "index_names": [str],
    "extensions": [str],
    "sites": {
        "hosts": [str],
        "skip_segments?": [_RE],
        "legacy_prefixes?": [str],
        "products?": [{"prefix": str, **_SOURCE}],
        "default": _SOURCE,
        "home_is_page?": bool,
    },
    "help?": {"segment": str, **_SOURCE},
    "repositories?": {"hosts": [str], "projects": {"*": {"dir": str, "same_as?": str}}},
    "bare_paths?": {"prefix": str, "project": str},
    "sections?": {"*": [str]},
    "any_site?": {
        "drop_segments?": [_RE],
        "host_prefixes?": [str],
        "extensions?": [str],
        "aliases?": {"*": str},
        "redirects?": [{"from": str, "to": str}],
        "not_pages?": [_RE],
        "repo_hosts?": [str],
    },
    "other_sites?": [{"project": str, "dir": str, "urls": [str], "source_urls?": [str]}],
}


class _Walker:
    """Turns YAML nodes into plain values while reporting `file:line: message` problems."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def err(self, node: Node, message: str) -> None:
        self.problems.append(f"{self.label}:{node.start_mark.line + 1}: {message}")

    def walk(self, node: Node, spec: Any, what: str) -> Any:
        if spec is _RE:
            value = self.walk(node, str, what)
            if value is not None:
                try:
                    re.compile(value)
                except _UNCOMPILABLE as exc:
                    self.err(node, f"{what}: bad regex {value!r}: {_why(exc)}")
                    return None
            return value
        if spec is str or spec is bool:
            if not isinstance(node, ScalarNode):
                self.err(node, f"{what}: expected a {'word' if spec is str else 'true/false'}")
                return None
            value = _yaml_bool(node) if spec is bool else str(node.value)
            if spec is bool and not isinstance(value, bool):
                self.err(node, f"{what}: expected true or false")
                return None
            return value
        if isinstance(spec, list):
            if not isinstance(node, SequenceNode):
                self.err(node, f"{what}: expected a list")
                return []
            items = (self.walk(item, spec[0], what) for item in node.value)
            return [v for v in items if v is not None]
        if not isinstance(node, MappingNode):
            self.err(node, f"{what}: expected a mapping")
            return None
        keys = {k.rstrip("?"): k for k in spec}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            inner = f"{what}.{key}" if what else key
            if key in out:
                self.err(key_node, f"{inner}: duplicate key")
            elif key in keys:
                out[key] = self.walk(value_node, spec[keys[key]], inner)
            elif "*" in spec:
                out[key] = self.walk(value_node, spec["*"], inner)
            else:
                allowed = ", ".join(sorted(keys))
                self.err(key_node, f"{inner}: unknown key (allowed: {allowed})")
        for key, raw in keys.items():
            if key not in out and not raw.endswith("?") and key != "*":
                self.err(node, f"{what or 'file'}: missing key {key!r}")
        return out


_UNCOMPILABLE = (re.error, OverflowError, RecursionError)
"""What `re.compile` raises for a bad pattern (OverflowError: a repeat past 4 billion;
RecursionError: parentheses nested ~1000 deep)."""


def _why(exc: Exception) -> str:
    return "parentheses nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _yaml_bool(node: ScalarNode) -> Any:
    """A scalar as YAML reads it when it is a bool (`!!bool maybe` is not), else None; other
    tags are never constructed (a `!!python/...` tag is an error, not code)."""
    if not node.tag.endswith(":bool"):
        return None
    try:
        return SafeConstructor().construct_object(node)
    except (yaml.YAMLError, KeyError, ValueError):
        return None


def docs_map_file(extra_dirs: Sequence[Path] = ()) -> Path:
    """The docs map in force: the last `docs-map.yml` in the user rules dirs, else the shipped."""
    chosen = shipped_rules_dir() / DOCS_MAP_FILE
    for directory in extra_dirs:
        candidate = Path(directory) / DOCS_MAP_FILE
        if candidate.is_file():
            chosen = candidate
    return chosen


def load_docs_map(extra_dirs: Sequence[Path] = ()) -> DocsMap:
    """Load (once per set of dirs) and validate the docs map; raise `RulesError` on problems."""
    return _load_for(tuple(Path(d) for d in extra_dirs))


@lru_cache(maxsize=8)
def _load_for(extra_dirs: tuple[Path, ...]) -> DocsMap:
    return _load(docs_map_file(extra_dirs))


@lru_cache(maxsize=8)
def _load(path: Path) -> DocsMap:
    label = str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{label}:0: cannot read: {exc}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise RulesError([f"{label}:{line}: invalid YAML: {exc}"]) from exc
    if node is None:
        raise RulesError([f"{label}:0: empty docs map"])
    walker = _Walker(label)
    data = walker.walk(node, _SCHEMA, "")
    if walker.problems or not isinstance(data, dict):
        raise RulesError(walker.problems or [f"{label}:1: expected a mapping"])
    return _build(data, label)


def _build(data: dict[str, Any], label: str) -> DocsMap:
    sites = data["sites"]
    patterns = []
    for raw in sites.get("skip_segments", []):
        try:
            patterns.append(re.compile(raw, re.I))
        except _UNCOMPILABLE as exc:
            raise RulesError([f"{label}:0: sites.skip_segments: bad regex {raw!r}: {_why(exc)}"]
                             ) from exc
    help_ = data.get("help")
    repos: dict[str, tuple[Source, str]] = {}
    for project, spec in data.get("repositories", {}).get("projects", {}).items():
        repos[project.lower()] = (Source(spec.get("same_as", project), spec["dir"]), spec["dir"])
    bare = data.get("bare_paths") or {}
    any_site = data.get("any_site")
    return DocsMap(
        index_file=data["index_file"],
        index_names=frozenset(n.lower() for n in data["index_names"]),
        extensions=tuple(e.lower() for e in data["extensions"]),
        site_hosts=frozenset(h.lower() for h in sites["hosts"]),
        skip_segments=tuple(patterns),
        legacy_prefixes=frozenset(p.lower() for p in sites.get("legacy_prefixes", [])),
        products={
            p["prefix"].lower(): Source(p["project"], p["dir"]) for p in sites.get("products", [])
        },
        default=Source(sites["default"]["project"], sites["default"]["dir"]),
        home_is_page=bool(sites.get("home_is_page", False)),
        help_segment=help_["segment"].lower() if help_ else None,
        help=Source(help_["project"], help_["dir"]) if help_ else None,
        repo_hosts=frozenset(h.lower() for h in data.get("repositories", {}).get("hosts", [])),
        repos=repos,
        bare_prefix=bare.get("prefix"),
        bare_project=bare.get("project"),
        sections={
            project: frozenset(s.strip("/") for s in paths)
            for project, paths in data.get("sections", {}).items()
        },
        file=label,
        identity=_page_rules(any_site, label) if any_site is not None else None,
        other_sites={
            o["project"].lower(): OtherSite(
                Source(o["project"], o["dir"].strip("/")),
                tuple(_prefix(u) for u in o["urls"]),
                tuple(_prefix(u) for u in o.get("source_urls", [])))
            for o in data.get("other_sites", [])
        },
    )


def _regexes(raws: list[str], what: str, label: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for raw in raws:
        try:
            out.append(re.compile(raw, re.I))
        except re.error as exc:
            raise RulesError([f"{label}:0: {what}: bad regex {raw!r}: {exc}"]) from exc
    return tuple(out)


def _page_rules(spec: dict[str, Any], label: str) -> PageRules:
    drop = _regexes(spec.get("drop_segments", []), "any_site.drop_segments", label)
    redirects = [(_prefix(r["from"]), _prefix(r["to"])) for r in spec.get("redirects", [])]
    return PageRules(
        drop_segments=drop,
        host_prefixes=tuple(p.lower().rstrip(".") + "." for p in spec.get("host_prefixes", [])),
        extensions=tuple(e.lower() for e in spec.get("extensions", [])),
        aliases={_prefix(k): _prefix(v) for k, v in spec.get("aliases", {}).items()},
        redirects=tuple(sorted(redirects, key=lambda r: -len(r[0]))),
        not_pages=_regexes(spec.get("not_pages", []), "any_site.not_pages", label),
        repo_hosts=frozenset(h.lower() for h in spec.get("repo_hosts", [])),
    )


def _prefix(text: str) -> str:
    """A host or host/path prefix as written in the map, without scheme or slashes around it."""
    return text.split("://", 1)[-1].strip("/").lower()


__all__ = ["DOCS_MAP_FILE", "DocsMap", "OtherSite", "PageRules", "Source", "docs_map_file",
           "load_docs_map"]
