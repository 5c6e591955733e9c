"""Cooked HTML or Markdown -> plain lines of the author's own words: quotes, oneboxes, code,
logs and images dropped, each link replaced by a marker that `Links` resolves to its URL."""

from __future__ import annotations

import html
import re

_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_ANY_TAG_RE = re.compile(r"<[^>]+>")
_MD_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]*>")
_EMPHASIS_RE = re.compile(r"\*\*|__|~~|\\(?=[\\`*_{}\[\]()#+\-.!])")
_SPACE_RE = re.compile(r"\s")
_URL_RE = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+", re.I)
_TRAILING = ".,;:!?)'\"*_"


class Links:
    """Collects URLs while text is cleaned; each URL becomes an in-text marker."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def mark(self, url: str) -> str:
        url = html.unescape(url).strip().rstrip(_TRAILING)
        if not url.lower().startswith(("http://", "https://")):
            return " "  # forum-relative links (/t/, /u/) and mailto: name no docs page
        self.urls.append(url)
        return f" \x01{len(self.urls) - 1}\x02 "

    def marks_in(self, fragment: str, src: str | None = None) -> str:
        """Markers for the URLs of a dropped region (quote, onebox) as a line of their own."""
        found = [src] if src else _HREF_RE.findall(fragment) or _URL_RE.findall(fragment)
        marks = " ".join(self.mark(u) for u in dict.fromkeys(found))
        return f"\n\n{marks}\n\n" if marks.strip() else "\n\n"



# --- HTML (Discourse cooked) ----------------------------------------------------------------

HTML_HINT = re.compile(r"</(?:p|div|aside|li|pre|blockquote|h[1-6]|td)>|<br\s*/?>", re.I)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_HREF_RE = re.compile(r"(?:href|data-onebox-src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_ONEBOX_SRC_RE = re.compile(r"data-onebox-src\s*=\s*[\"']([^\"']+)[\"']", re.I)
_CLASS_RE = re.compile(r"class\s*=\s*[\"']([^\"']*)[\"']", re.I)
_DROP_TAGS = frozenset({"aside", "blockquote", "pre", "code", "script", "style", "svg"})
_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "thead",
    "tbody", "hr", "summary", "details", "section", "article", "header", "footer",
})


def html_to_lines(text: str, links: Links) -> tuple[str, bool]:
    """Drop quotes, oneboxes, code and images; keep link targets."""
    if "<!--" in text:
        text = _COMMENT_RE.sub(" ", text)
    simple = _simple_html(text)
    return (simple, False) if simple is not None else _walk_html(text, links)


def _walk_html(text: str, links: Links) -> tuple[str, bool]:
    """Walk the tags once (comments already removed)."""
    out: list[str] = []
    pos = 0
    drop: tuple[str, str, int, int] | None = None  # (tag, open-tag attrs, depth, region start)
    anchors: list[tuple[str | None, int, bool]] = []  # (href, out index, is a mention)
    had_quote = False
    for m in _TAG_RE.finditer(text):
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if drop is not None:
            tag, tag_attrs, depth, start = drop
            if name == tag:
                depth += -1 if closing else 1
                drop = (tag, tag_attrs, depth, start)
                if depth == 0:
                    out.append(_dropped(tag, tag_attrs, text[start : m.start()], links))
                    pos, drop = m.end(), None
            continue
        out.append(text[pos : m.start()].replace("\n", " "))
        pos = m.end()
        classes = _CLASS_RE.search(attrs)
        cls = classes.group(1) if classes else ""
        if not closing and not attrs.rstrip().endswith("/") and (
            name in _DROP_TAGS or (name == "div" and "lightbox" in cls)
        ):
            had_quote = had_quote or (name in ("aside", "blockquote") and "onebox" not in cls)
            drop = (name, attrs, 1, m.end())
        elif name == "a" and not closing:
            found = _HREF_RE.search(attrs)
            anchors.append((found.group(1) if found else None, len(out), "mention" in cls))
        elif name == "a" and closing and anchors:
            href, start, mention = anchors.pop()
            if href and not mention:
                label = "".join(out[start:]).strip()
                if not label or label.startswith(("http://", "https://")):
                    del out[start:]
                out.append(links.mark(href))
        elif name == "br":
            out.append("\n")
        elif name in _BLOCK_TAGS:
            out.append("\n" if name in ("li", "tr") else "\n\n")
    if drop is None:
        out.append(text[pos:].replace("\n", " "))
    return html.unescape("".join(out)), had_quote


_LINE_TAGS = frozenset({"br", "li", "tr"})
_SLOW_TAGS = _DROP_TAGS | {"a"}


def _simple_html(text: str) -> str | None:
    """`html_to_lines` for HTML without links, quotes, code or lightboxes (most cooked posts):
    one substitution instead of the tag walk. `None` when a tag needs the walk."""
    slow = False

    def tag(m: re.Match[str]) -> str:
        nonlocal slow
        name = m.group(2).lower()
        if name in _SLOW_TAGS or name == "div" and "lightbox" in m.group(3):
            slow = True
        if name in _LINE_TAGS:
            return "\n"
        return "\n\n" if name in _BLOCK_TAGS else ""

    # Newlines outside tags become spaces, as in the walk; inside tags they do not matter.
    lines = _TAG_RE.sub(tag, text.replace("\n", " "))
    return None if slow else html.unescape(lines)


def _dropped(tag: str, attrs: str, inner: str, links: Links) -> str:
    """What a dropped region leaves behind: inline code keeps a short identifier; quotes and
    oneboxes keep their link targets on a line of their own; code blocks leave nothing."""
    if tag == "code":
        return _inline_code(html.unescape(_ANY_TAG_RE.sub("", inner)))
    if tag in ("aside", "blockquote"):
        src = _ONEBOX_SRC_RE.search(attrs)
        return links.marks_in(inner, src.group(1) if src else None)
    return "\n\n"


def _inline_code(code: str) -> str:
    # A single short token (a file or option name) reads as a word; anything longer is code.
    code = code.strip()
    return f" {code} " if code and len(code) <= 40 and not _SPACE_RE.search(code) else " […] "


# --- Markdown ------------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_BBQUOTE_RE = re.compile(r"\[quote[^\]]*\](.*?)(?:\[/quote\]|\Z)", re.S | re.I)
_BLOCKQUOTE_RE = re.compile(r"(?:^[ \t]{0,3}>[^\n]*(?:\n|$))+", re.M)
_INDENTED_RE = re.compile(r"(?:\n\n|\A)((?:(?: {4,}|\t)[^\n]*(?:\n|$))+)")
LOG_LINE_RE = re.compile(
    r"^\s*(?:\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d\S*|\[?(?:ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL|TRACE)"
    r"\b\]?:?|Traceback \(most recent|at [\w.$<>]+\(|File \"[^\"]+\", line \d+|\$ \S|#\s\S+@)"
    r"[^\n]*$",
    re.M,
)
_INLINE_CODE_RE = re.compile(r"(`+)([^`\n]+?)\1")
_MD_LINK_RE = re.compile(
    r"!\[[^\]\n]*\]\([^)\n]*\)"  # image: dropped
    r"|\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)"  # [label](url)
    r"|<(https?://[^>\s]+)>"  # autolink
    r"|(https?://[^\s<>\"'`\[\]{}|\\^]+)",  # bare URL
    re.I,
)
_REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*(\S+).*$", re.M)


def markdown_to_lines(text: str, links: Links) -> tuple[str, bool]:
    """Drop fenced/indented code, quotes and log lines; turn links into markers. Each step runs
    only when the text holds a string its pattern cannot match without (most posts are plain)."""
    had_quote = "[" in text and bool(_BBQUOTE_RE.search(text)) or (
        ">" in text and bool(_BLOCKQUOTE_RE.search(text))
    )
    if "```" in text or "~~~" in text:
        text = _FENCE_RE.sub("\n\n", text)
    if "<!--" in text:
        text = _COMMENT_RE.sub(" ", text)
    if "[" in text:
        text = _BBQUOTE_RE.sub(lambda m: links.marks_in(m.group(1)), text)
    if ">" in text:
        text = _BLOCKQUOTE_RE.sub(lambda m: links.marks_in(m.group(0)), text)
    if "    " in text or "\t" in text:
        text = _INDENTED_RE.sub("\n\n", text)
    if "`" in text:
        text = _INLINE_CODE_RE.sub(lambda m: _inline_code(m.group(2)), text)
    if "]:" in text:
        text = _REF_DEF_RE.sub(lambda m: links.mark(m.group(1)), text)
    if "[" in text or "://" in text:
        text = _MD_LINK_RE.sub(lambda m: _md_link(m, links), text)
    if "<" in text:
        text = _MD_TAG_RE.sub(" ", text)
    if "**" in text or "__" in text or "~~" in text or "\\" in text:
        text = _EMPHASIS_RE.sub("", text)
    return html.unescape(text), had_quote


def _md_link(m: re.Match[str], links: Links) -> str:
    if m.group(0).startswith("!"):
        return " "
    url = m.group(2) or m.group(3) or m.group(4)
    label = (m.group(1) or "").strip()
    if m.group(4):
        # A bare URL may end with sentence punctuation; a trailing ')' closes a parenthesis.
        core = url.rstrip(_TRAILING)
        return links.mark(core) + url[len(core) :]
    if not label or label == url or label.startswith("http"):
        return links.mark(url)
    return f"{label}{links.mark(url)}"
