"""One docs source file (GitLab-docs Markdown: YAML front matter, then Markdown) read into what
the index needs: title, sections by heading (with the anchor the site gives each), and where a
moved page now lives (`redirect_to`). Pure: text in, values out."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

import yaml

from docsgap.docs.model import Section


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """What a source file says, before it is placed on the site."""

    title: str
    sections: tuple[Section, ...]
    redirect_to: str | None = None
    """The file this one was moved to, relative to the docs dir (from `redirect_to`)."""
    stage: str = ""
    group: str = ""
    """Who owns the page (front matter `stage`, `group`, as written; "" when absent)."""


_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_CUSTOM_ID_RE = re.compile(r"\s*\{#([\w-]+)\}\s*$")
_SHORTCODE_RE = re.compile(r"\{\{[<%].*?[>%]\}\}")
_ALERT_RE = re.compile(r"^(\s*>\s*)\[!\w+\]\s*$", re.M)
_ANCHOR_DROP_RE = re.compile(r"[^\w\- ]", re.U)
_MD_INLINE_RE = re.compile(r"`([^`]*)`|\*\*|__|\[([^\]]*)\]\([^)]*\)")


def heading_anchor(heading: str) -> str:
    """The id docs.gitlab.com gives a heading: lower case, punctuation dropped, spaces become
    hyphens (Hugo's GitHub-style ids); "`artifacts:expose_as`" -> "artifactsexpose_as"."""
    text = _MD_INLINE_RE.sub(lambda m: m.group(1) or m.group(2) or "", heading)
    text = _ANCHOR_DROP_RE.sub("", text.strip().lower())
    return text.replace(" ", "-")


def plain_heading(heading: str) -> str:
    """A heading without its Markdown (code spans, emphasis, links) and custom id."""
    heading = _CUSTOM_ID_RE.sub("", heading)
    return _MD_INLINE_RE.sub(lambda m: m.group(1) or m.group(2) or "", heading).strip()


def front_matter(text: str) -> tuple[dict[str, object], str]:
    """The YAML front matter (empty when there is none or it does not parse) and the rest."""
    m = _FRONT_RE.match(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), text[m.end():]


def parse_page(text: str, rel_path: str) -> ParsedPage:
    """Read one source file; `rel_path` is its path below the docs dir (for `redirect_to`)."""
    meta, body = front_matter(text.replace("\r\n", "\n"))
    body = _ALERT_RE.sub(r"\1", _SHORTCODE_RE.sub(" ", body))
    sections: list[Section] = []
    title = str(meta.get("title") or "").strip()
    anchor, heading, level, lines = "", "", 0, []
    fence = ""
    seen: dict[str, int] = {}
    for line in body.split("\n"):
        if fence:
            fence = "" if line.strip().startswith(fence) else fence
            lines.append(line)
            continue
        opened = _FENCE_RE.match(line)
        if opened:
            fence = opened.group(1)
            lines.append(line)
            continue
        m = _HEADING_RE.match(line)
        if not m:
            lines.append(line)
            continue
        raw = m.group(2)
        if len(m.group(1)) == 1 and not title:
            title = plain_heading(raw)  # the Nanoc era put the title in the only `#` heading
            continue
        sections.append(Section(anchor, heading, level, "\n".join(lines).strip()))
        custom = _CUSTOM_ID_RE.search(raw)
        anchor = custom.group(1) if custom else _unique(heading_anchor(raw), seen)
        heading, level, lines = plain_heading(raw), len(m.group(1)), []
    sections.append(Section(anchor, heading, level, "\n".join(lines).strip()))
    kept = tuple(s for s in sections if s.heading or s.text)
    return ParsedPage(title or _title_from_path(rel_path), kept, _redirect(meta, rel_path),
                      _owner_field(meta, "stage"), _owner_field(meta, "group"))


def _owner_field(meta: dict[str, object], name: str) -> str:
    """A front matter `stage` or `group` as written, one line (YAML may give a list or a
    number for a malformed one: those are not an owner)."""
    value = meta.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _unique(anchor: str, seen: dict[str, int]) -> str:
    """Repeated headings get `-1`, `-2`... as the site does."""
    n = seen.get(anchor, 0)
    seen[anchor] = n + 1
    return anchor if n == 0 else f"{anchor}-{n}"


def _title_from_path(rel_path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(rel_path))[0]
    if stem.lower() in ("_index", "index", "readme"):
        stem = posixpath.basename(posixpath.dirname(rel_path)) or stem
    return stem.replace("_", " ").replace("-", " ").strip().capitalize()


def _redirect(meta: dict[str, object], rel_path: str) -> str | None:
    target = meta.get("redirect_to")
    if not isinstance(target, str) or not target.strip():
        return None
    target = target.strip().split("#", 1)[0]
    if "://" in target:
        return target  # moved off the docs tree: kept as a URL
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel_path), target))
    return None if joined.startswith("..") else joined
