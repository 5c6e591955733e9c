"""Post text as a person reads it: cooked HTML or Markdown -> own sentences plus link targets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docsgap.detect.doclinks import is_docs_url
from docsgap.detect.markup import (
    HTML_HINT,
    LOG_LINE_RE,
    Links,
    html_to_lines,
    markdown_to_lines,
)

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
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
_BULLET_RE = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|#{1,6})\s+")
_SPACE_PUNCT_RE = re.compile(r"\s+([.,;:!?])(?=\s|$)")
_WORDY_RE = re.compile(r"[^\W_]|\x01")
_MARK_RE = re.compile(r"\x01(\d+)\x02")


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
    links = Links()
    text = text.translate(_QUOTES).replace("\r\n", "\n")
    if HTML_HINT.search(text):
        lines, had_quote = html_to_lines(text, links)
    else:
        lines, had_quote = markdown_to_lines(text, links)
    lines = LOG_LINE_RE.sub("", lines)
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


def extract_docs_urls(text: str) -> list[str]:
    """Docs-like URLs of a post (HTML hrefs, oneboxes, Markdown links, bare URLs), in order,
    without duplicates; URLs inside code blocks and logs are ignored."""
    return clean_post(text).docs_urls()
