"""Text as dedup compares it: templated prefixes, boilerplate, markers, URLs and code removed,
then words lower-cased, stop words dropped and reduced to a crude stem.

Fast on purpose (regexes and a cached stemmer): the matcher normalises every cached issue once
per run, tens of thousands of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# docsgap's own hidden markers and any other HTML comment.
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.S)
_FENCE_RE = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.S | re.M)
_PRE_RE = re.compile(r"<(pre|code|script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]{0,300}>")
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]]+", re.I)
_ENTITY_RE = re.compile(r"&(?:[a-z]+|#\d+);", re.I)
_UNCHECKED_RE = re.compile(r"^\s*[-*]\s*\[ ?\]\s.*$", re.M)
_QUOTE_RE = re.compile(r"^\s*>.*$", re.M)
_BASE64_RE = re.compile(r"[A-Za-z0-9+/=]{40,}")

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
# Template placeholders left in a title ("[REPLACE WITH SHORT DESCRIPTION]", "<title here>").
_PLACEHOLDER_RE = re.compile(
    r"\b(?:replace|insert|enter|write|add|put|your)\b[^\n]{0,30}\b(?:title|description|summary|"
    r"here)\b|\b(?:short|brief) (?:description|summary|title)\b", re.I
)
# A leading `[tag]`, `(tag)` or `**tag**` run, e.g. "[docs] [BUG]".
_BRACKETS_RE = re.compile(
    r"^\s*(?:[\[(【][^\])】\s]{1,20}(?:\s[^\])】\s]{1,20}){0,2}[\])】]\s*[:\-–]?\s*)+"
)
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

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9_'.+-]*[a-z0-9+]|[a-z0-9]")

_STOP_TEXT = """a about above after again against all also am an and any are aren't as at
    be because been
    before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't during each etc few for from further get gets got had hadn't
    has hasn't have haven't having he her here hers herself him himself his how i i'm i've
    if in into is isn't it it's its itself just let's me more most my myself no nor not now
    of off on once only or other ought our ours ourselves out over own same she should
    shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they're this those through to too under until up us very was wasn't
    we we're were weren't what when where which while who whom why will with won't would
    wouldn't you you're your yours yourself hi hello thanks thank please regards cheers dear
    team anyone someone guys hey ok okay im dont doesnt cant isnt wont ive id"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_SUFFIXES = (
    ("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("ousness", "ous"),
    ("iveness", "ive"), ("ability", "able"), ("ibility", "ible"), ("ment", ""), ("ation", "ate"),
    ("ing", ""), ("edly", ""), ("ied", "y"), ("able", ""), ("ible", ""), ("ness", ""), ("er", ""),
    ("or", ""), ("ly", ""), ("ed", ""),
)
_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """A crude, consistent stem ("editable", "editor", "edited" -> "edit"); cached."""
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    out = word
    if len(word) > 3 and word.isalpha():
        # Plurals first, so "variables" and "variable" take the same path below.
        if out.endswith("ies") and len(out) > 4:
            out = out[:-3] + "y"
        elif out.endswith("s") and not out.endswith(("ss", "us", "is")):
            out = out[:-1]
        for suffix, repl in _SUFFIXES:
            if out.endswith(suffix) and len(out) - len(suffix) >= 3:
                out = out[: -len(suffix)] + repl
                if suffix in ("ing", "ed", "er", "able") and len(out) > 3 and (
                    out[-1] == out[-2] and out[-1] not in "lsz"
                ):
                    out = out[:-1]  # "running" -> "run", "stopped" -> "stop"
                break
        if out.endswith("e") and len(out) > 3:
            out = out[:-1]
    if len(_STEMS) < 500_000:
        _STEMS[word] = out
    return out


def strip_markup(text: str) -> str:
    """Drop HTML comments (docsgap markers), code blocks, images, tags, URLs and entities;
    keep link texts and inline code words."""
    if not text:
        return ""
    text = _COMMENT_RE.sub(" ", text)
    text = _FENCE_RE.sub(" ", text)
    text = _PRE_RE.sub(" ", text)
    text = _IMAGE_RE.sub(" ", text)
    text = _MD_LINK_RE.sub(r" \1 ", text)
    text = _TAG_RE.sub(" ", text)
    text = _URL_RE.sub(_host, text)
    text = _ENTITY_RE.sub(" ", text)
    return _BASE64_RE.sub(" ", text)


def _host(m: re.Match[str]) -> str:
    """A URL stands for its site: "https://docs.example.com/a/b" -> "docs.example.com"."""
    url = m.group(0).split("://", 1)[-1]
    host = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].lower()
    return f" {host.removeprefix('www.')} "


def line_key(line: str) -> str:
    """A line reduced to its letters, to spot the same template line in many items."""
    return " ".join(re.findall(r"[a-z]+", line.lower()))


def prefix_of(title: str) -> str | None:
    """The `scope:`-style prefix of a title, lower-cased and without its `(scope)`, if any."""
    title = title.replace("*", "").replace("_", " ")
    m = _PREFIX_RE.match(title)
    return re.sub(r"\(.*\)$", "", m.group(1)).lower() if m else None


def _title_key(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


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
            text = _BRACKETS_RE.sub("", text)
            p = prefix_of(text)
            if p and p in self.prefixes:
                text = _PREFIX_RE.sub("", text.replace("*", ""), count=1)
            if text == before:
                break
        if _title_key(text) in self.titles or (
            _PLACEHOLDER_RE.search(text) and len(text.split()) <= 6
        ):
            return ""
        return text.strip()

    def body(self, body: str, *, stripped: bool = False) -> str:
        """The body without markup (unless already `stripped`), template questions, unticked
        boxes, quotes and learned template lines."""
        text = body if stripped else strip_markup(body)
        text = _UNCHECKED_RE.sub(" ", text)
        text = _QUOTE_RE.sub(" ", text)
        text = _TEMPLATE_LINE_RE.sub(" ", text)
        if self.lines:
            text = "\n".join(ln for ln in text.splitlines() if line_key(ln) not in self.lines)
        return text


# Ways of saying the same thing in docs reports; each adds a shared "~concept" word, so
# "the site is down" and "docs not loading" have something in common besides "the".
# Single words (a trailing "*" matches any ending) are looked up per token, which is cheap;
# phrases need a regex pass.
_CONCEPT_WORDS: dict[str, tuple[str, ...]] = {
    "~notfound": ("404", "redirect*"),
    "~outage": ("down", "outage", "unavailable", "unreachable", "dead", "500", "502", "503",
                "504", "timeout"),
    "~broken": ("broken", "fail*", "error", "errors", "crash*"),
    "~language": ("translat*", "language", "languages", "locale", "english", "spanish",
                  "español", "espanol", "french", "français", "german", "deutsch", "russian",
                  "chinese", "japanese", "korean", "portuguese", "italian", "turkish", "polish",
                  "ukrainian", "arabic", "hindi", "dutch", "vietnamese", "indonesian", "persian",
                  "hebrew", "thai", "czech", "greek", "swedish"),
    "~darkmode": ("dark",),
    "~image": ("image", "images", "picture", "pictures", "pic", "pics", "png", "svg", "diagram",
               "diagrams", "illustration", "illustrations"),
    "~example": ("example", "examples", "sample", "samples", "demo", "demos", "snippet",
                 "snippets", "stackblitz", "plunk*", "playground"),
    "~edit": ("edit*", "modif*", "input", "keyboard"),
    "~typo": ("typo", "typos", "misspell*", "spelling", "grammar*", "repeated"),
    "~outdated": ("outdated", "obsolete", "deprecated", "stale"),
    "~offline": ("offline", "locally"),
    "~mac": ("macos", "osx", "macbook", "catalina", "mojave", "monterey", "ventura", "sonoma"),
}
_CONCEPT_PHRASES: tuple[tuple[str, str], ...] = (
    ("~notfound", r"not found|(?:dead|broken|bad|wrong|invalid) (?:link|url)s?|missing page|"
                  r"page (?:is )?missing"),
    ("~outage", r"(?:blank|white) (?:page|screen)|(?:not|n't|never|won't|fails? to|refus\w* to) "
                r"(?:load|open|function|respond|come up)\w*|timed? out"),
    ("~broken", r"(?:not|n't|never) work\w*"),
    ("~darkmode", r"(?:dark|night) ?(?:mode|theme)s?"),
    ("~edit", r"typ(?:e|ing) (?:in|into)"),
    ("~typo", r"duplicated? words?"),
    ("~outdated", r"out of date|no longer|old version|removed in"),
    ("~offline", r"local (?:machine|install\w*|copy)"),
    ("~mac", r"mac os|os x|big sur"),
)
_PHRASE_RE = re.compile("|".join(
    f"(?P<c{n}>\\b(?:{pattern})\\b)" for n, (_, pattern) in enumerate(_CONCEPT_PHRASES)
))
_EXACT = {w: c for c, ws in _CONCEPT_WORDS.items() for w in ws if not w.endswith("*")}
_PREFIXES = tuple((w[:-1], c) for c, ws in _CONCEPT_WORDS.items() for w in ws if w.endswith("*"))


def _concept_of(token: str) -> str:
    if token in _EXACT:
        return _EXACT[token]
    return next((c for prefix, c in _PREFIXES if token.startswith(prefix)), "")


def concepts(text: str) -> list[str]:
    """The "~concept" words a lower-cased text expresses (see `_CONCEPT_WORDS`), once each."""
    found = dict.fromkeys(_concept_of(w) for w in _WORD_RE.findall(text))
    text = text.replace("\u2019", "'")
    found.update(dict.fromkeys(_CONCEPT_PHRASES[int(str(m.lastgroup)[1:])][0]
                               for m in _PHRASE_RE.finditer(text)))
    return [c for c in found if c]


_TOKENS: dict[str, tuple[str, str]] = {}
"""raw token -> (stem or "" when dropped, concept or ""); grows to a cap."""


def _token(raw: str) -> tuple[str, str]:
    w = raw.strip("'.+-")
    stemmed = "" if len(w) < 2 or w in STOP_WORDS or (w.isdigit() and len(w) > 6) else stem(w)
    out = (stemmed, _concept_of(w))
    if len(_TOKENS) < 500_000:
        _TOKENS[raw] = out
    return out


def words(text: str) -> list[str]:
    """Lower-cased words of already-stripped text, stop words removed, stemmed, plus the
    "~concept" words it expresses."""
    low = text.lower()
    out: list[str] = []
    found: set[str] = set()
    get = _TOKENS.get
    for raw in _WORD_RE.findall(low):
        pair = get(raw)
        if pair is None:
            pair = _token(raw)
        if pair[0]:
            out.append(pair[0])
        if pair[1]:
            found.add(pair[1])
    found.update(_CONCEPT_PHRASES[int(str(m.lastgroup)[1:])][0]
                 for m in _PHRASE_RE.finditer(low.replace("\u2019", "'")))
    return sorted(found) + out


def surface_forms(text: str) -> dict[str, str]:
    """stem -> the first word of `text` with that stem ("protect" -> "protected")."""
    out: dict[str, str] = {}
    for w in _WORD_RE.findall(strip_markup(text).lower()):
        w = w.strip("'.+-")
        if len(w) >= 2:
            out.setdefault(stem(w), w)
    return out
