"""The templates in `rules/templates/`: loading, rendering and checking them.

Templates are data: `{name}` placeholders (`{{`/`}}` for literal braces), no attribute access.
A line whose placeholders all render empty is dropped, which is how optional lines work.
`issue.md` and `mr_description.md` open with a `Title: ...` line and a blank line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from docsgap.compose.inert import gitlab_title
from docsgap.compose.markers import marker
from docsgap.errors import RulesError
from docsgap.paths import templates_dir


@dataclass(frozen=True, slots=True)
class _Spec:
    fields: frozenset[str]
    """Placeholders the body may use."""
    required: frozenset[str] = frozenset()
    title_fields: frozenset[str] | None = None
    """Placeholders of the `Title:` line; `None`: the template has no title line."""
    forum: bool = False
    """Posted on the forum (else GitLab): decides which checks apply to the template text."""


_PAGE_FIELDS = ("page_url", "page_link", "page_name", "source", "section")
SPECS: Mapping[str, _Spec] = {
    "issue.md": _Spec(
        frozenset({"gap_label", "gap_type", "subject", "thread_title", "threads", "thread_count",
                   "rules", "docs_evidence", *_PAGE_FIELDS}),
        frozenset({"threads"}),
        frozenset({"gap_label", "gap_type", "subject", "thread_title", "page_name", "section"})),
    "evidence_note.md": _Spec(
        frozenset({"item_url", "threads", "thread_count", "gap_labels", "rules"}),
        frozenset({"threads"})),
    "reply.md": _Spec(
        frozenset({"item_url", "item_noun", "state_note", "gap_phrase", *_PAGE_FIELDS}),
        frozenset({"item_url"}), forum=True),
    "followup.md": _Spec(
        frozenset({"item_url", "item_noun", "done_phrase", *_PAGE_FIELDS}),
        frozenset({"item_url"}), forum=True),
    "docs_reply.md": _Spec(
        frozenset({"page_link", "page_title", "section_title", "page_url"}),
        frozenset({"page_link"}), forum=True),
    "mr_description.md": _Spec(
        frozenset({"subject", "file_path", "summary", "issue_url", "threads", "thread_count",
                   *_PAGE_FIELDS}),
        frozenset({"threads"}),
        frozenset({"subject", "file_path", "page_name", "section"})),
}
"""Each template's placeholders: allowed, required, and those of the `Title:` line."""

_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class _Template:
    title: str | None
    body: str


def _path(name: str, templates: Path | None) -> Path:
    """The user's template when `templates` has one, else the shipped one."""
    if templates is not None and (templates / name).is_file():
        return templates / name
    return templates_dir() / name


def _parse(text: str) -> _Template:
    first, _, rest = text.partition("\n")
    if first.startswith("Title:"):
        return _Template(first.removeprefix("Title:").strip(), rest.lstrip("\n"))
    return _Template(None, text)


def _load(name: str, templates: Path | None) -> _Template:
    path = _path(name, templates)
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{path}:0: cannot read template: {exc}"]) from exc


def _render(template: str, values: Mapping[str, str], fields: frozenset[str]) -> str:
    """Substitute `{name}` (names outside `fields` stay as written); drop every line whose
    placeholders are all known and came out empty; squeeze blank runs."""

    def sub(m: re.Match[str]) -> str:
        token, name = m.group(0), m.group(1)
        if name is None:
            return token[0] if token in ("{{", "}}") else token
        return values.get(name, "") if name in fields else token

    lines = []
    for line in template.split("\n"):
        names = [m.group(1) for m in _PLACEHOLDER_RE.finditer(line) if m.group(1) is not None]
        if names and all(n in fields and not values.get(n) for n in names):
            continue
        lines.append(_PLACEHOLDER_RE.sub(sub, line).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def render_body(name: str, values: Mapping[str, str], key: str, templates: Path | None) -> str:
    text = _render(_load(name, templates).body, values, SPECS[name].fields)
    return f"{text}\n\n{marker(key)}\n"


def render_title(name: str, raw: Mapping[str, str], templates: Path | None, default: str) -> str:
    """The `Title:` line rendered with raw values, then neutralised once as a whole."""
    line = _load(name, templates).title or default
    fields = SPECS[name].title_fields or frozenset()
    return gitlab_title(" ".join(_render(line, raw, fields).split()))


def check_templates(dir: Path | None = None) -> list[str]:
    """Every template problem as `file:line: message`: missing or unreadable file, missing
    `Title:` line, unknown or missing placeholder, stray brace, a GitLab template line that
    would run a quick action, an @mention in a forum template, an unknown file in `dir`.
    `dir` is a user templates directory laid over the shipped one."""
    problems: list[str] = []
    if dir is not None:
        if not dir.is_dir():
            return [f"{dir}:0: templates directory does not exist"]
        problems += [f"{p}:0: unknown template (docsgap reads {', '.join(SPECS)})"
                     for p in sorted(dir.glob("*.md")) if p.name not in SPECS]
    for name, spec in SPECS.items():
        path = _path(name, dir)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}:0: missing or unreadable template: {exc}")
            continue
        problems += _check_text(path, text, spec)
    return problems


def _check_text(path: Path, text: str, spec: _Spec) -> list[str]:
    problems = []
    lines = text.split("\n")
    titled = lines[0].startswith("Title:")
    if spec.title_fields is not None and not titled:
        problems.append(f"{path}:1: the first line must be `Title: ...`")
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        is_title = titled and number == 1 and spec.title_fields is not None
        allowed = spec.title_fields if is_title and spec.title_fields else spec.fields
        for m in _PLACEHOLDER_RE.finditer(line):
            name = m.group(1)
            if m.group(0) in ("{", "}"):
                problems.append(f"{path}:{number}: stray `{m.group(0)}` (write `{{{{` or `}}}}`)")
            elif name is not None and name not in allowed:
                where = "title" if is_title else "body"
                problems.append(f"{path}:{number}: unknown placeholder {{{name}}} in the {where}"
                                f" (known: {', '.join(sorted(allowed))})")
            elif name is not None:
                seen.add(name)
        static = _PLACEHOLDER_RE.sub("", line)
        if not spec.forum and re.match(r"/\w", static.lstrip()):
            problems.append(f"{path}:{number}: a line starting with `/` runs a GitLab quick action")
        if spec.forum and re.search(r"(?<![\w`])@\w", static):
            problems.append(f"{path}:{number}: `@` would mention someone on the forum")
        if spec.forum and re.fullmatch(r"\s*(?:\{(?:page_url|item_url)\}|https?://\S+)\s*", line):
            problems.append(f"{path}:{number}: a URL alone on a line is oneboxed on the forum")
    problems += [f"{path}:0: missing placeholder {{{n}}}" for n in sorted(spec.required - seen)]
    return problems
