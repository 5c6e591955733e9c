"""Docs pages: normalise a docs URL and map it to the project and source file behind it.

Which hosts, prefixes, projects and directories exist is data (`rules/docs-map.yml`, format in
`rules/README.md`); this module only interprets it. No network: `path` is a best guess of the
current source file (section pages become `<dir>/_index.md`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from docsgap.errors import RulesError
from docsgap.models import DocPage
from docsgap.paths import shipped_rules_dir

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


# --- loading ----------------------------------------------------------------------------------

# Spec for the YAML walker: str/bool leaves, [spec] lists, dicts of keys ("?" = optional,
# "*" = any key).
_SOURCE = {"project": str, "dir": str}
_SCHEMA: dict[str, Any] = {
    "index_file": str,
    "index_names": [str],
    "extensions": [str],
    "sites": {
        "hosts": [str],
        "skip_segments?": [str],
        "legacy_prefixes?": [str],
        "products?": [{"prefix": str, **_SOURCE}],
        "default": _SOURCE,
        "home_is_page?": bool,
    },
    "help?": {"segment": str, **_SOURCE},
    "repositories?": {"hosts": [str], "projects": {"*": {"dir": str, "same_as?": str}}},
    "bare_paths?": {"prefix": str, "project": str},
    "sections?": {"*": [str]},
}


class _Walker:
    """Turns YAML nodes into plain values while reporting `file:line: message` problems."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def err(self, node: Node, message: str) -> None:
        self.problems.append(f"{self.label}:{node.start_mark.line + 1}: {message}")

    def walk(self, node: Node, spec: Any, what: str) -> Any:
        if spec is str or spec is bool:
            if not isinstance(node, ScalarNode):
                self.err(node, f"{what}: expected a {'word' if spec is str else 'true/false'}")
                return None
            value = yaml.safe_load(yaml.serialize(node)) if spec is bool else str(node.value)
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
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
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
        except re.error as exc:
            raise RulesError([f"{label}:0: sites.skip_segments: bad regex {raw!r}: {exc}"]) from exc
    help_ = data.get("help")
    repos: dict[str, tuple[Source, str]] = {}
    for project, spec in data.get("repositories", {}).get("projects", {}).items():
        repos[project.lower()] = (Source(spec.get("same_as", project), spec["dir"]), spec["dir"])
    bare = data.get("bare_paths") or {}
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
    )


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

