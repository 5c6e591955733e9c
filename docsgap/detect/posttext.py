"""Post text as a person reads it: cooked HTML or Markdown -> own sentences plus link targets."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from docsgap.docs.pages import map_url

DOCS_TOKEN = "<docslink>"
"""Stands for a docs-like URL inside `Sentence.text` (counts as a reference to the docs)."""
LINK_TOKEN = "<weblink>"
"""Stands for any other URL inside `Sentence.text`."""


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the author's own words; URLs are replaced by tokens, kept in `urls`."""

    text: str
    urls: tuple[str, ...] = ()
    """The URL behind each token of `text`, in order."""

    @property
    def norm(self) -> str:
        """Lower-cased text, what rules match against (same offsets as `text`)."""
        return self.text.lower()

    def render(self, start: int = 0, end: int | None = None) -> str:
        """`text[start:end]` with every token replaced by its URL (for evidence)."""
        urls = iter(self.urls[len(_TOKEN_RE.findall(self.text, 0, start)) :])
        return _TOKEN_RE.sub(lambda m: next(urls, m.group(0)), self.text[start:end])


@dataclass(frozen=True, slots=True)
class CleanPost:
    """A post reduced to its author's sentences."""

    sentences: tuple[Sentence, ...]
    had_quote: bool = False
    """The post quoted something (another post or the docs)."""

    @property
    def has_own_text(self) -> bool:
        """True when some sentence holds words, not only link tokens."""
        return any(_TOKEN_RE.sub("", s.text).strip(" .,:;-") for s in self.sentences)

    def docs_urls(self) -> list[str]:
        """Docs-like URLs in order of appearance, without duplicates."""
        found = dict.fromkeys(u for s in self.sentences for u in s.urls if is_docs_url(u))
        return list(found)


_TOKEN_RE = re.compile(r"<docslink>|<weblink>")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_ANY_TAG_RE = re.compile(r"<[^>]+>")
_MD_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]*>")
_EMPHASIS_RE = re.compile(r"\*\*|__|~~|\\(?=[\\`*_{}\[\]()#+\-.!])")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
_BULLET_RE = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|#{1,6})\s+")
_SPACES_RE = re.compile(r"\s+")
_SPACE_RE = re.compile(r"\s")
_SPACE_PUNCT_RE = re.compile(r"\s+([.,;:!?])(?=\s|$)")
_WORDY_RE = re.compile(r"[^\W_]|\x01")
_MARK_RE = re.compile(r"\x01(\d+)\x02")
_URL_RE = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+", re.I)
_TRAILING = ".,;:!?)'\"*_"


class _Links:
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

_HTML_HINT = re.compile(r"</(?:p|div|aside|li|pre|blockquote|h[1-6]|td)>|<br\s*/?>", re.I)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_HREF_RE = re.compile(r"(?:href|data-onebox-src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_ONEBOX_SRC_RE = re.compile(r"data-onebox-src\s*=\s*[\"']([^\"']+)[\"']", re.I)
_CLASS_RE = re.compile(r"class\s*=\s*[\"']([^\"']*)[\"']", re.I)
_DROP_TAGS = frozenset({"aside", "blockquote", "pre", "code", "script", "style", "svg"})
_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "thead",
    "tbody", "hr", "summary", "details", "section", "article", "header", "footer",
})


def _html_to_lines(text: str, links: _Links) -> tuple[str, bool]:
    """Drop quotes, oneboxes, code and images; keep link targets."""
    if "<!--" in text:
        text = _COMMENT_RE.sub(" ", text)
    simple = _simple_html(text)
    return (simple, False) if simple is not None else _walk_html(text, links)


def _walk_html(text: str, links: _Links) -> tuple[str, bool]:
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
    """`_html_to_lines` for HTML without links, quotes, code or lightboxes (most cooked posts):
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


def _dropped(tag: str, attrs: str, inner: str, links: _Links) -> str:
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
_LOG_LINE_RE = re.compile(
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


def _markdown_to_lines(text: str, links: _Links) -> tuple[str, bool]:
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


def _md_link(m: re.Match[str], links: _Links) -> str:
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


# --- sentences ------------------------------------------------------------------------------

_NEW_UNIT_RE = re.compile(r"^\s*(?:[-*+•]\s|\d{1,3}[.)]\s|#{1,6}\s|\||\x01)")
_SPLIT_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_ABBREV_RE = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|no|fig|mr|mrs|dr|resp|incl|ca|min|max|v)\.|\b[A-Z]\.)$",
    re.I,
)


def _units(lines_text: str) -> list[str]:
    """Blocks split on blank lines. Inside a block a line continues the previous one (hard-wrapped
    text) unless it starts a list item, or follows a heading, a label line or a colon."""
    units: list[str] = []
    for block in _BLANK_LINE_RE.split(lines_text):
        current, last = "", ""
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            if current and (
                _NEW_UNIT_RE.match(line)
                or _NEW_UNIT_RE.match(last) and last.startswith("#")
                or current.endswith((":", "|"))
                or (len(last) < 50 and line[0].isupper() and not last.endswith(","))
            ):
                units.append(current)
                current = ""
            current = f"{current} {line}" if current else line
            last = line
        if current:
            units.append(current)
    return units


def _split_sentences(unit: str) -> list[str]:
    parts: list[str] = []
    for piece in _SPLIT_RE.split(unit):
        if parts and _ABBREV_RE.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def _finish(raw: str, urls: list[str]) -> Sentence | None:
    raw = raw.strip()
    bullet = _BULLET_RE.match(raw)
    if bullet:
        raw = raw[bullet.end() :]
    # No whitespace at either end now: str.split collapses runs exactly like `\s+` (both use
    # Unicode isspace), and is cheaper than a regex.
    raw = " ".join(raw.split())
    raw = _SPACE_PUNCT_RE.sub(_group1, raw).strip(" |")
    if not _WORDY_RE.search(raw):
        return None
    if "\x01" not in raw:
        return Sentence(raw)
    found: list[str] = []

    def token(m: re.Match[str]) -> str:
        url = urls[int(m.group(1))]
        found.append(url)
        return DOCS_TOKEN if is_docs_url(url) else LINK_TOKEN

    return Sentence(_MARK_RE.sub(token, raw), tuple(found))


def _group1(m: re.Match[str]) -> str:
    return m.group(1)


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\xa0": " "})


def clean_post(text: str) -> CleanPost:
    """Sentences of the author's own words from cooked HTML or Markdown (detected by content)."""
    links = _Links()
    text = text.translate(_QUOTES).replace("\r\n", "\n")
    if _HTML_HINT.search(text):
        lines, had_quote = _html_to_lines(text, links)
    else:
        lines, had_quote = _markdown_to_lines(text, links)
    lines = _LOG_LINE_RE.sub("", lines)
    sentences: list[Sentence] = []
    for unit in _units(lines):
        for piece in _split_sentences(unit):
            sentence = _finish(piece, links.urls)
            if sentence is not None:
                sentences.append(sentence)
    return CleanPost(tuple(sentences), had_quote)


def sentences_of(text: str) -> list[Sentence]:
    """Plain text (a title) as sentences; URLs become tokens as in posts."""
    if _MARKUP_RE.search(text):
        return list(clean_post(text).sentences)
    found = (_finish(piece, []) for piece in _split_sentences(text.translate(_QUOTES).strip()))
    return [s for s in found if s is not None]


_MARKUP_RE = re.compile(r"[<>\[\]`*_#&\\\n]|://")


# --- docs URLs ------------------------------------------------------------------------------

_DOCS_HOST_RE = re.compile(r"^(?:docs?|documentation|wiki|help|developers?|learn)\.|readthedocs")
_DOCS_PATH_RE = re.compile(
    r"/(?:docs?|documentation|wiki|help|manual|guides?|tutorials?|handbook|reference|howto)"
    r"(?:/|$|\.)|\.(?:md|mdx|rst|adoc)$|readme|/-/wikis/",
    re.I,
)
_NOT_DOCS_RE = re.compile(
    r"/-/(?:issues|merge_requests|work_items|pipelines|jobs)/|/(?:issues|pull|pulls|commit)/\d"
    r"|\.(?:png|jpe?g|gif|svg|webp|zip|tar\.gz)$",
    re.I,
)


@lru_cache(maxsize=4096)
def is_docs_url(url: str) -> bool:
    """A link to documentation: docs.gitlab.com, `/help/` pages, pages the docs-URL map knows,
    or a generic docs-like address (docs.* hosts, /docs/ paths, README and .md files)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host, path = (parts.hostname or "").lower(), parts.path
    if _NOT_DOCS_RE.search(path):
        return False
    if _DOCS_HOST_RE.search(host) or _DOCS_PATH_RE.search(path):
        return True
    return url.startswith("http") and map_url(url).path is not None


def extract_docs_urls(text: str) -> list[str]:
    """Docs-like URLs of a post (HTML hrefs, oneboxes, Markdown links, bare URLs), in order,
    without duplicates; URLs inside code blocks and logs are ignored."""
    return clean_post(text).docs_urls()


_TRACKER_RE = re.compile(r"https?://[^\s\"'<>()\[\]]+?/-/(?:issues|merge_requests|work_items)/\d+")


def tracker_links(text: str) -> list[str]:
    """GitLab issue/MR/work item URLs anywhere in the text (any host), without anchors."""
    return list(dict.fromkeys(_TRACKER_RE.findall(text)))
