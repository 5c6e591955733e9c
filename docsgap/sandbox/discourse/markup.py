"""A tiny Markdown -> Discourse `cooked` HTML renderer, plus link extraction and excerpts.

It covers what the demo posts use and what docsgap parses (CONTRACTS.md §A3): paragraphs
with `<br>` line breaks, fenced code (`<pre data-code-wrap>`), inline code, `> ` blockquotes,
`[quote]` asides, lists, headings, links (inline oneboxes for docs links, full oneboxes for a
URL alone on a line) and `@mentions`. It is not CommonMark and does not try to be.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

LINK_REL = 'rel="noopener nofollow ugc"'
_FENCE = re.compile(r"^(```|~~~)\s*([\w+-]*)\s*$")
_QUOTE_OPEN = re.compile(
    r'^\[quote(?:="([^",\]]+)(?:,\s*post:(\d+))?(?:,\s*topic:(\d+))?[^\]]*")?\]\s*$'
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\d+[.)]\s+(.*)$")
_URL = re.compile(r"https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_MENTION = re.compile(r"(?<![\w@/.`])@([A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_])")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")

UserExists = Callable[[str], bool]


@dataclass(frozen=True)
class Link:
    """An external link found in a post (feeds `link_counts`)."""

    url: str
    title: str


def link_title(url: str) -> str:
    """A plausible page title for a URL, as a onebox would fetch it."""
    parts = urlsplit(url)
    last = [p for p in parts.path.split("/") if p and p not in ("index.html", "_index.md")]
    name = last[-1] if last else parts.netloc
    name = re.sub(r"\.(html|md)$", "", name).replace("_", " ").replace("-", " ").strip()
    site = "GitLab Docs" if parts.netloc == "docs.gitlab.com" else parts.netloc
    return f"{name[:1].upper()}{name[1:]} | {site}" if name else site


def links(raw: str) -> list[Link]:
    """External links in `raw`, outside code, first occurrence order, no duplicates."""
    seen: dict[str, Link] = {}
    for line in _prose_lines(raw):
        for m in _URL.finditer(_INLINE_CODE.sub("", line)):
            seen.setdefault(m.group(0), Link(m.group(0), link_title(m.group(0))))
    return list(seen.values())


def _prose_lines(raw: str) -> list[str]:
    """Lines of `raw` that are not inside fenced code."""
    out: list[str] = []
    fence: str | None = None
    for line in raw.splitlines():
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            out.append(line)
    return out


def excerpt(cooked: str, limit: int = 300) -> tuple[str, bool]:
    """Plain-text excerpt of cooked HTML and whether it was truncated (as `/posts.json`)."""
    text = re.sub(r"<aside class=\"onebox.*?</aside>", "", cooked, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + "&hellip;", True


def cook(raw: str, user_exists: UserExists = lambda _name: True) -> str:
    """Render `raw` Markdown to Discourse-style cooked HTML."""
    return "\n".join(_blocks(raw.splitlines(), user_exists))


def _blocks(lines: list[str], user_exists: UserExists) -> list[str]:
    out: list[str] = []
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(_paragraph(paragraph, user_exists))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        quote = _QUOTE_OPEN.match(line)
        if fence:
            flush()
            end = _until(lines, i + 1, _is_line(fence.group(1)))
            out.append(_code_block(fence.group(2), lines[i + 1 : end]))
            i = end + 1
        elif quote:
            flush()
            end = _until(lines, i + 1, lambda s: s.strip() == "[/quote]")
            out.append(_aside(quote.groups(), lines[i + 1 : end], user_exists))
            i = end + 1
        elif line.startswith(">"):
            flush()
            end = _until(lines, i, lambda s: not s.startswith(">"))
            inner = [re.sub(r"^> ?", "", s) for s in lines[i:end]]
            quoted = "\n".join(_blocks(inner, user_exists))
            out.append(f"<blockquote>\n{quoted}\n</blockquote>")
            i = end
        elif _BULLET.match(line) or _NUMBERED.match(line):
            flush()
            pattern = _BULLET if _BULLET.match(line) else _NUMBERED
            end = _until(lines, i, _not_matching(pattern))
            tag = "ul" if pattern is _BULLET else "ol"
            items = [_inline(_match_text(pattern, s), user_exists) for s in lines[i:end]]
            out.append(f"<{tag}>\n" + "\n".join(f"<li>{x}</li>" for x in items) + f"\n</{tag}>")
            i = end
        elif _HEADING.match(line):
            flush()
            hashes, text = _HEADING.match(line).groups()  # type: ignore[union-attr]
            level = len(hashes)
            slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
            out.append(f'<h{level}><a name="{slug}" class="anchor" href="#{slug}"></a>'
                       f"{_inline(text, user_exists)}</h{level}>")
            i += 1
        elif not line.strip():
            flush()
            i += 1
        else:
            paragraph.append(line)
            i += 1
    flush()
    return out


def _is_line(text: str) -> Callable[[str], bool]:
    return lambda s: s.strip() == text


def _not_matching(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda s: pattern.match(s) is None


def _match_text(pattern: re.Pattern[str], line: str) -> str:
    m = pattern.match(line)
    return m.group(1) if m else line


def _until(lines: list[str], start: int, stop: Callable[[str], bool]) -> int:
    """Index of the first line from `start` where `stop` holds (or len(lines))."""
    for j in range(start, len(lines)):
        if stop(lines[j]):
            return j
    return len(lines)


def _code_block(lang: str, body: list[str]) -> str:
    code = html.escape("\n".join(body) + "\n", quote=False)
    if lang:
        return f'<pre data-code-wrap="{lang}"><code class="lang-{lang}">{code}</code></pre>'
    return f'<pre><code class="lang-auto">{code}</code></pre>'


def _aside(groups: tuple[str | None, ...], body: list[str], user_exists: UserExists) -> str:
    username, post, topic = groups
    attrs = ""
    title = ""
    if username:
        attrs = f' data-username="{html.escape(username)}"'
        attrs += f' data-post="{post}"' if post else ""
        attrs += f' data-topic="{topic}"' if topic else ""
        title = (
            '<div class="title">\n<div class="quote-controls"></div>\n'
            f'<img alt="" width="24" height="24" src="/letter_avatar/{html.escape(username)}'
            f'/48/1.png" class="avatar"> {html.escape(username)}:</div>\n'
        )
    inner = "\n".join(_blocks(body, user_exists))
    return (f'<aside class="quote no-group"{attrs}>\n{title}<blockquote>\n{inner}\n'
            "</blockquote>\n</aside>")


def _onebox(url: str) -> str:
    u = html.escape(url)
    host = html.escape(urlsplit(url).netloc)
    title = html.escape(link_title(url))
    return (
        f'<aside class="onebox allowlistedgeneric" data-onebox-src="{u}">\n'
        f'  <header class="source">\n    <a href="{u}" target="_blank" {LINK_REL}>{host}</a>\n'
        f"  </header>\n  <article class=\"onebox-body\">\n"
        f'    <h3><a href="{u}" target="_blank" {LINK_REL}>{title}</a></h3>\n'
        f"  </article>\n  <div class=\"onebox-metadata\"></div>\n"
        f'  <div style="clear: both"></div>\n</aside>'
    )


def _paragraph(lines: list[str], user_exists: UserExists) -> str:
    if len(lines) == 1 and _URL.fullmatch(lines[0].strip()):
        return _onebox(lines[0].strip())
    return "<p>" + "<br>\n".join(_inline(s, user_exists) for s in lines) + "</p>"


def _inline(text: str, user_exists: UserExists) -> str:
    """Inline Markdown: code spans are set aside first so nothing inside them is rendered."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"\x00{len(stash) - 1}\x00"

    text = _INLINE_CODE.sub(lambda m: keep(f"<code>{html.escape(m.group(1))}</code>"), text)
    text = _MD_LINK.sub(lambda m: keep(_md_link(m.group(1), m.group(2))), text)
    text = _URL.sub(lambda m: keep(_inline_link(m.group(0))), text)
    text = _MENTION.sub(lambda m: keep(_mention(m.group(1), user_exists)), text)
    text = html.escape(text, quote=False)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: stash[int(m.group(1))], text)


def _md_link(label: str, url: str) -> str:
    return f'<a href="{html.escape(url)}" {LINK_REL}>{html.escape(label)}</a>'


def _inline_link(url: str) -> str:
    u = html.escape(url)
    if urlsplit(url).netloc == "docs.gitlab.com":
        return f'<a href="{u}" class="inline-onebox" {LINK_REL}>{html.escape(link_title(url))}</a>'
    return f'<a href="{u}" {LINK_REL}>{u}</a>'


def _mention(name: str, user_exists: UserExists) -> str:
    if user_exists(name):
        return f'<a class="mention" href="/u/{html.escape(name.lower())}">@{html.escape(name)}</a>'
    return f'<span class="mention">@{html.escape(name)}</span>'
