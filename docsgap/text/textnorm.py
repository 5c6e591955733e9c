"""Text as dedup compares it: templated prefixes, boilerplate, markers, URLs and code removed
(the words themselves, stems and concepts: `docsgap.text.words`, re-exported here).

Fast on purpose: the matcher normalises every cached issue once per run, tens of thousands of
them. Regexes run only where a cheap `in` test says they can match, ASCII words come from one
`translate` and `split`, and bounded caches keep what each distinct word, run and URL gives.
tests/unit/test_textnorm_speed.py holds each fast path to the plain one."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from docsgap.text.words import STOP_WORDS, WORD_RE, concepts, stem, words

# docsgap's own hidden markers and any other HTML comment.
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.S)
_FENCE_RE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.S | re.M)
_PRE_RE = re.compile(r"<(pre|code|script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]{0,300}>")
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Case spelled out rather than re.I, which is several times slower on long texts; the first
# letter is a plain class (checked again by the lookbehinds) so the engine scans for it in C.
_URL_RE = re.compile(
    r"[hHwW](?:(?<=[hH])[tT][tT][pP][sS]?://|(?<=[wW])[wW]{2}\.)[^\s<>\"'`)\]]+")
_ENTITY_RE = re.compile(r"&(?:[a-z]+|#\d+);", re.I)
_UNCHECKED_RE = re.compile(r"^\s*[-*]\s*\[ ?\]\s.*$", re.M)
_QUOTE_RE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
# The lookbehind stops retries inside every shorter run (quadratic otherwise).
_BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/=]{40,}")
# Bytes of the base64 alphabet -> "a", all others (non-ASCII bytes too) -> " ": a text has a
# base64-like run exactly when its translated UTF-8 holds 40 "a"s in a row, which C finds
# far faster than the regex scans a text that has none (the usual case).
_B64_BYTES = bytes(
    0x61 if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/=") else 0x20
    for b in range(256))
_B64_RUN = b"a" * 40

# Questions issue templates ask; the answers after them are kept.
_TEMPLATE_LINE_RE = re.compile(
    r"^\W*(?:describe the (?:bug|problem|issue)[^\n]*|steps to reproduce|"
    r"(?:what is the )?(?:current|expected|actual) (?:behaviou?r|result)s?\??|"
    r"additional (?:context|information)|screenshots?|environment|"
    r"please provide [^\n]*|change the title above[^\n]*|"
    r"(?:which|what) (?:page|version|browser)[^\n]*\?|"
    r"(?:bug|feature request|proposal),? (?:or|/) [^\n]*)\W*$",
    re.I | re.M,
)
# Every match of `_TEMPLATE_LINE_RE` in an ASCII text holds one of these once lower-cased (or
# "?" and one of `_TEMPLATE_WH`): a few `in` tests rule out most texts faster than the regex.
# (Not for other texts: under re.I, "s" also matches "\u017f", "k" the Kelvin sign and so on.)
_TEMPLATE_KEYS = ("result", "behavio", "screenshot", "environment", "bug", "proposal",
                  "feature request", "describe the ", "steps to reproduce", "additional ",
                  "please provide ", "change the title above")
_TEMPLATE_WH = ("which ", "what ")


def _may_hold_template_line(text: str) -> bool:
    """False when `_TEMPLATE_LINE_RE` surely finds nothing in `text`."""
    if not text.isascii():
        return True
    low = text.lower()
    for key in _TEMPLATE_KEYS:
        if key in low:
            return True
    return "?" in low and ("which " in low or "what " in low)


# Template placeholders left in a title ("[REPLACE WITH SHORT DESCRIPTION]", "<title here>").
_PLACEHOLDER_RE = re.compile(
    r"\b(?:replace|insert|enter|write|add|put|your)\b[^\n]{0,30}\b(?:title|description|summary|"
    r"here)\b|\b(?:short|brief) (?:description|summary|title)\b", re.I
)
# A leading `[tag]`, `(tag)` or `**tag**` run, e.g. "[docs] [BUG]".
_BRACKETS_RE = re.compile(
    r"^\s*(?:[\[(【][^\])】\s]{1,20}(?:\s[^\])】\s]{1,20}){0,2}[\])】]\s*[:\-–]?\s*)+"
)
_BRACKET_OPENERS = ("[", "(", "【")
"""What a `_BRACKETS_RE` match starts with, after white space."""
# A leading `word:` / `scope(sub):` prefix of at most three words.
_PREFIX_RE = re.compile(r"^\s*((?:[\w.#/-]+\s){0,2}[\w.#/-]+(?:\([^)\n]{0,30}\))?)!?\s*[:|]\s+")
# Prefixes that are templated wherever they appear (more are learned from the pool).
KNOWN_PREFIXES = frozenset(
    {
        "doc", "docs", "documentation", "docs feedback", "doc feedback", "feedback", "bug",
        "feature", "feature request", "request", "question", "help", "typo", "broken link",
        "proposal", "fix", "chore", "issue", "problem", "suggestion", "enhancement", "page",
        "docs issue", "documentation issue", "content", "website", "site", "re", "fwd",
    }
)

def strip_markup(text: str) -> str:
    """Drop HTML comments (docsgap markers), code blocks, images, tags, URLs and entities;
    keep link texts and inline code words."""
    if not text:
        return ""
    # Each pass only when its trigger (a literal every match holds) is there: most texts have
    # no markup at all. One character is looked for first: `in` finds one far faster than two.
    if "<" in text and "<!--" in text:
        text = _COMMENT_RE.sub(" ", text)
    if ("`" in text and "```" in text) or ("~" in text and "~~~" in text):
        text = _FENCE_RE.sub(" ", text)
    if "<" in text and "</" in text:
        text = _PRE_RE.sub(" ", text)
    if "]" in text and "](" in text:
        text = _MD_LINK_RE.sub(r" \1 ", _IMAGE_RE.sub(" ", text))
    if "<" in text and ">" in text:
        text = _TAG_RE.sub(" ", text)
    text = _sub_urls(text)
    if "&" in text and ";" in text:
        text = _ENTITY_RE.sub(" ", text)
    if _B64_RUN not in text.encode("utf-8", "surrogatepass").translate(_B64_BYTES):
        return text
    return _BASE64_RE.sub(" ", text)


# Every URL match holds "://" 4 or 5 characters after its start, or "ww." (any case) 1 after.
_WWW = ("ww.", "wW.", "Ww.", "WW.")
_URL_END_RE = re.compile(r"[\s<>\"'`)\]]")
"""A character no URL match holds (the complement of its tail's class)."""


def _sub_urls(text: str) -> str:
    """`_URL_RE.sub(_host, text)`, the regex run only over the span its matches can be in: from
    5 characters before the first "://" or "www." to the first character no URL holds after the
    last one. Most of a long text is outside it, and `_URL_RE` tries every "h" and "w" of it."""
    lo = hi = -1
    if ":" in text:
        lo = text.find("://")
        if lo >= 0:
            hi = text.rfind("://")
    # Lower-cased ASCII has the same indices; other texts are searched for each spelling.
    spellings = () if "." not in text else ((text.lower(), "ww."),) if text.isascii() else (
        (text, w) for w in _WWW)
    for low, www in spellings:
        at = low.find(www)
        if at >= 0:
            lo = at if lo < 0 else min(lo, at)
            hi = max(hi, low.rfind(www))
    if lo < 0:
        return text
    lo = max(lo - 5, 0)
    # A match's tail starts at most 3 characters after its anchor and runs to such a character.
    end = _URL_END_RE.search(text, hi + 3)
    hi = end.start() if end else len(text)
    return f"{text[:lo]}{_URL_RE.sub(_host, text[lo:hi])}{text[hi:]}"


_HOSTS: dict[str, str] = {}
"""URL -> `_host` of it: the same few sites are linked over and over."""
_HOSTS_MAX = 100_000
_LABEL_SPLIT_RE = re.compile(r"[.-]")


def _host(m: re.Match[str]) -> str:
    """A URL stands for its site: "https://docs.example.com/a/b" -> "docs.example.com docs
    example"."""
    whole = m.group(0)
    out = _HOSTS.get(whole)
    if out is None:
        out = _host_of(whole)
        if len(_HOSTS) < _HOSTS_MAX:
            _HOSTS[whole] = out
    return out


def _host_of(url: str) -> str:
    """`_host` of a URL, uncached."""
    url = url.split("://", 1)[-1]
    host = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].lower().removeprefix("www.")
    # Its labels too: mirrors and translations share them ("go-tour-es.appspot.com").
    labels = " ".join(p for p in _LABEL_SPLIT_RE.split(host)[:-1] if len(p) > 1)
    return f" {host} {labels} "


_LINE_KEYS: dict[str, str] = {}
_LETTERS_RE = re.compile(r"[a-z]+")


def line_key(line: str) -> str:
    """A line reduced to its letters, to spot the same template line in many items (cached:
    template lines repeat, which is the point; long lines are never template lines)."""
    if len(line) > 200:
        return ""
    key = _LINE_KEYS.get(line)
    if key is None:
        key = " ".join(_LETTERS_RE.findall(line.lower()))
        if len(_LINE_KEYS) < 200_000:
            _LINE_KEYS[line] = key
    return key


def prefix_of(title: str) -> str | None:
    """The `scope:`-style prefix of a title, lower-cased and without its `(scope)`, if any."""
    if ":" not in title and "|" not in title:
        return None  # the colon (or bar) every prefix ends in
    title = title.replace("*", "").replace("_", " ")
    m = _PREFIX_RE.match(title)
    if not m:
        return None
    prefix = m.group(1)
    return (_SCOPE_RE.sub("", prefix) if "(" in prefix else prefix).lower()


_SCOPE_RE = re.compile(r"\(.*\)$")
_ALNUM_RE = re.compile(r"[a-z0-9]+")


def _title_key(title: str) -> str:
    return " ".join(_ALNUM_RE.findall(title.lower()))


@dataclass(frozen=True)
class Boilerplate:
    """Template text to strip: title prefixes and body lines seen in many items of the pool."""

    prefixes: frozenset[str] = KNOWN_PREFIXES
    lines: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    """Whole titles repeated verbatim (placeholders such as "Docs feedback")."""

    @classmethod
    def learn(cls, items: Iterable[tuple[str, str]], *, min_count: int = 3,
              min_share: float = 0.01) -> Boilerplate:
        """Learn from (title, body) pairs, bodies already passed through `strip_markup`: a
        prefix, line or title counts as template text when it appears in at least `min_count`
        items and `min_share` of them."""
        prefixes: Counter[str] = Counter()
        lines: Counter[str] = Counter()
        all_titles: list[str] = []
        for title, body in items:
            all_titles.append(title)
            p = prefix_of(title)
            if p:
                prefixes[p] += 1
            keys = {line_key(ln) for ln in body.splitlines()}
            lines.update(k for k in keys if k.count(" ") >= 1)
        floor = max(min_count, int(len(all_titles) * min_share))
        learned = cls(prefixes=KNOWN_PREFIXES | {p for p, n in prefixes.items() if n >= floor})
        # Titles are compared once their prefixes are gone ("tour: [REPLACE ME]").
        titles = Counter(_title_key(learned.title(t)) for t in all_titles)
        return cls(
            prefixes=learned.prefixes,
            lines=frozenset(k for k, n in lines.items() if n >= floor),
            titles=frozenset(k for k, n in titles.items() if n >= floor and k),
        )

    def title(self, title: str) -> str:
        """The title without templated brackets and prefixes ("[docs] tour: X" -> "X")."""
        text = strip_markup(title).replace("*", " ").replace("`", " ").strip()
        for _ in range(3):
            before = text
            if text.lstrip()[:1] in _BRACKET_OPENERS:
                text = _BRACKETS_RE.sub("", text)
            p = prefix_of(text)
            if p and p in self.prefixes:
                text = _PREFIX_RE.sub("", text.replace("*", ""), count=1)
            if text == before:
                break
        if (self.titles and _title_key(text) in self.titles) or (
            len(text.split()) <= 6 and _PLACEHOLDER_RE.search(text)
        ):
            return ""
        return text.strip()

    def body(self, body: str, *, stripped: bool = False) -> str:
        """The body without markup (unless already `stripped`), template questions, unticked
        boxes, quotes and learned template lines."""
        text = body if stripped else strip_markup(body)
        if "[ ]" in text or "[]" in text:
            text = _UNCHECKED_RE.sub(" ", text)
        if ">" in text:
            text = _QUOTE_RE.sub(" ", text)
        if _may_hold_template_line(text):
            text = _TEMPLATE_LINE_RE.sub(" ", text)
        if self.lines:
            lines = self.lines
            text = "\n".join(ln for ln in text.splitlines() if line_key(ln) not in lines)
        return text


def surface_forms(text: str) -> dict[str, str]:
    """stem -> the first word of `text` with that stem ("protect" -> "protected")."""
    out: dict[str, str] = {}
    for w in WORD_RE.findall(strip_markup(text).lower()):
        w = w.strip("'.+-")
        if len(w) >= 2:
            out.setdefault(stem(w), w)
    return out


__all__ = ["KNOWN_PREFIXES", "STOP_WORDS", "Boilerplate", "concepts", "line_key", "prefix_of",
           "stem", "strip_markup", "surface_forms", "words"]
