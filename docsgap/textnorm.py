"""Text as dedup compares it: templated prefixes, boilerplate, markers, URLs and code removed,
then words lower-cased, stop words dropped and reduced to a crude stem.

Fast on purpose: the matcher normalises every cached issue once per run, tens of thousands of
them. Regexes run only where a cheap `in` test says they can match, ASCII words come from one
`translate` and `split`, and bounded caches keep what each distinct word, run and URL gives.
tests/unit/test_textnorm_speed.py holds each fast path to the plain one."""

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

_LETTER = "a-z0-9\u00c0-\u024f"
# One letter, then optionally more ending in a letter or "+": the same words as the two-way
# alternative `[L][...]*[L+]|[L]`, but a leading plain class lets the engine scan for it in C.
_WORD_RE = re.compile(f"[{_LETTER}](?:[{_LETTER}_'\u2019.+-]*[{_LETTER}+])?")

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
_SUFFIX_ENDS = tuple(s for s, _ in _SUFFIXES)
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
        for suffix, repl in _SUFFIXES if out.endswith(_SUFFIX_ENDS) else ():
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
# Two-word phrases, found on the token stream: (first-word class, second-word class) -> concept.
# A class lists exact words, and word beginnings ending in "*".
_HEADS: dict[str, tuple[str, ...]] = {
    "neg": ("not", "never", "cannot", "cant", "wont", "dont", "doesnt", "isnt", "*n't"),
    "failto": ("fail*", "refus*"), "blank": ("blank", "white"),
    "bad": ("dead", "broken", "bad", "wrong", "invalid"), "missing": ("missing",),
    "page": ("page",), "timed": ("timed",), "dark": ("dark", "night"),
    "dup": ("duplicate", "duplicated"), "no": ("no",), "old": ("old",), "removed": ("removed",),
    "of": ("of",), "local": ("local",), "mac": ("mac",), "os": ("os",), "big": ("big",),
    "typ": ("type", "typing"),
}
_TAILS: dict[str, tuple[str, ...]] = {
    "loadish": ("load*", "open*", "function*", "respond*"), "work": ("work*",),
    "found": ("found",), "screen": ("page", "screen"), "link": ("link", "links", "url", "urls"),
    "page": ("page",), "missing": ("missing",), "out": ("out",),
    "mode": ("mode", "modes", "theme", "themes"), "words": ("word", "words"),
    "longer": ("longer",), "version": ("version",), "in": ("in",), "date": ("date",),
    "machine": ("machine", "copy", "install*"), "os": ("os",), "x": ("x",), "sur": ("sur",),
    "into": ("in", "into"),
}
_PAIRS: dict[tuple[str, str], str] = {
    ("neg", "loadish"): "~outage", ("failto", "loadish"): "~outage", ("neg", "work"): "~broken",
    ("neg", "found"): "~notfound", ("blank", "screen"): "~outage", ("bad", "link"): "~notfound",
    ("missing", "page"): "~notfound", ("page", "missing"): "~notfound",
    ("timed", "out"): "~outage", ("dark", "mode"): "~darkmode", ("dup", "words"): "~typo",
    ("no", "longer"): "~outdated", ("old", "version"): "~outdated",
    ("removed", "in"): "~outdated", ("of", "date"): "~outdated", ("local", "machine"): "~offline",
    ("mac", "os"): "~mac", ("os", "x"): "~mac", ("big", "sur"): "~mac", ("typ", "into"): "~edit",
}
_SKIP = frozenset({"to", "is", "are", "was"})
"""Words a phrase may have in between ("fails to load", "page is missing")."""


def _index(table: dict[str, tuple[str, ...]]) -> tuple[dict[str, tuple[str, ...]],
                                                     tuple[tuple[str, str], ...],
                                                     tuple[tuple[str, str], ...]]:
    """(exact word -> classes, (prefix, class) pairs, (suffix, class) pairs) of a class table."""
    exact: dict[str, tuple[str, ...]] = {}
    prefixes, suffixes = [], []
    for name, members in table.items():
        for m in members:
            if m.startswith("*"):
                suffixes.append((m[1:], name))
            elif m.endswith("*"):
                prefixes.append((m[:-1], name))
            else:
                exact[m] = (*exact.get(m, ()), name)
    return exact, tuple(prefixes), tuple(suffixes)


_HEAD_INDEX = _index(_HEADS)
_TAIL_INDEX = _index(_TAILS)


_HEAD_ENDS = (tuple(p for p, _ in _HEAD_INDEX[1]), tuple(s for s, _ in _HEAD_INDEX[2]))
_TAIL_ENDS = (tuple(p for p, _ in _TAIL_INDEX[1]), tuple(s for s, _ in _TAIL_INDEX[2]))
"""All the prefixes and all the suffixes of each index, for one C-level test that rules most
words out."""


def _classes(token: str, index: tuple[dict[str, tuple[str, ...]], tuple[tuple[str, str], ...],
                                      tuple[tuple[str, str], ...]],
             ends: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    exact, prefixes, suffixes = index
    found = exact.get(token, ())
    if token.startswith(ends[0]):
        found += tuple(n for p, n in prefixes if token.startswith(p))
    if token.endswith(ends[1]):
        found += tuple(n for s, n in suffixes if token.endswith(s))
    return found


_EXACT = {w: c for c, ws in _CONCEPT_WORDS.items() for w in ws if not w.endswith("*")}
_PREFIXES = tuple((w[:-1], c) for c, ws in _CONCEPT_WORDS.items() for w in ws if w.endswith("*"))
_PREFIX_STARTS = tuple(p for p, _ in _PREFIXES)


def _concept_of(token: str) -> str:
    if token in _EXACT:
        return _EXACT[token]
    if not token.startswith(_PREFIX_STARTS):
        return ""
    return next((c for prefix, c in _PREFIXES if token.startswith(prefix)), "")


_Token = tuple[str, str, tuple[str, ...], tuple[str, ...]]
_TOKENS_MAX = _RUNS_MAX = 500_000
_RUN_KEY_MAX = 64
"""Longer runs are not cached by `words` (their words still are, by `_token`)."""
_TOKENS: dict[str, _Token] = {}
"""raw token -> (stem or "" when dropped, concept or "", phrase head classes, tail classes);
computed once per distinct token, up to a cap."""
_PLAIN: dict[str, str] = {}
"""raw token -> its stem (or ""), for the tokens (most of them) that express no concept, start
no phrase and end none: `words` takes a short path for them."""


def _token(raw: str) -> _Token:
    w = raw.strip("'.+-").replace("\u2019", "'")
    stemmed = "" if len(w) < 2 or w in STOP_WORDS or (w.isdigit() and len(w) > 6) else stem(w)
    out = (stemmed, _concept_of(w), _classes(w, _HEAD_INDEX, _HEAD_ENDS),
           _classes(w, _TAIL_INDEX, _TAIL_ENDS))
    if len(_TOKENS) < _TOKENS_MAX:
        _TOKENS[raw] = out
        if not (out[1] or out[2] or out[3]) and raw not in _SKIP:
            _PLAIN[raw] = stemmed
    return out


def concepts(text: str) -> list[str]:
    """The "~concept" words a text expresses (see `_CONCEPT_WORDS`, `_PAIRS`), once each."""
    return [w for w in words(text) if w.startswith("~")]


# ASCII fast path of `_WORD_RE.findall(text.lower())`: one `translate` lower-cases the text and
# blanks every character no word can hold, then `split` gives the runs of word characters. A
# run holds exactly one word, from its first letter to its last letter or "+" (the regex starts
# a word at a letter, runs on greedily and backs off to a letter or "+", and the rest of the run
# has neither), or none when it has no letter.
_RUN_TABLE = str.maketrans({
    c: c.lower() if re.fullmatch(f"[{_LETTER}_'.+-]", c.lower()) else " "
    for c in map(chr, range(128))})
_RUN_HEAD = "_'\u2019.+-"
_RUN_TAIL = "_'\u2019.-"
_RUNS: dict[str, str] = {}
"""word run (see `_RUN_TABLE`) -> the stem of its word (or "") when that word is in `_PLAIN`:
the runs `words` does not have to look at one by one."""
_RunInfo = tuple[str, str, tuple[str, ...], tuple[str, ...], bool]
_RUN_INFO: dict[str, _RunInfo] = {}
"""word run -> what `words` does with it: (stem or "", concept or "", phrase head classes, tail
classes, whether it keeps the phrase open as a word of `_SKIP` does)."""
_NO_WORD: _RunInfo = ("", "", (), (), True)
"""A run without a word: no word for `_WORD_RE`, so nothing to add and no phrase broken."""


def _word_of(run: str) -> str:
    """The word `_WORD_RE` finds in a run of word characters ("" when none)."""
    return run.lstrip(_RUN_HEAD).rstrip(_RUN_TAIL)


def _run_info(run: str) -> _RunInfo:
    """A run's `_RunInfo` (cached in `_RUN_INFO`), or its stem cached in `_RUNS` when plain."""
    raw = _word_of(run)
    if not raw:
        info = _NO_WORD
    else:
        plain = _PLAIN.get(raw)
        if plain is None:
            stemmed, concept, heads, tails = _TOKENS.get(raw) or _token(raw)
            info = (stemmed, concept, heads, tails, raw in _SKIP)
            plain = _PLAIN.get(raw)  # set by `_token` when the word turned out plain
        else:
            info = (plain, "", (), (), False)
        if plain is not None:
            if len(_RUNS) < _RUNS_MAX and len(run) <= _RUN_KEY_MAX:
                _RUNS[run] = plain
            return info
    if len(_RUN_INFO) < _RUNS_MAX and len(run) <= _RUN_KEY_MAX:
        _RUN_INFO[run] = info
    return info


def _raw_words(text: str) -> list[str]:
    """`_WORD_RE.findall(text.lower())`, the simple path of `words`."""
    return _WORD_RE.findall(text.lower())


def words(text: str) -> list[str]:
    """Lower-cased words of already-stripped text, stop words removed, stemmed, after the
    "~concept" words it expresses."""
    if not text.isascii():
        return _words(_raw_words(text))
    runs = text.translate(_RUN_TABLE).split()
    stems: list[str | None] = list(map(_RUNS.get, runs))
    odd = stems.count(None)
    if not odd:
        return list(filter(None, stems))
    # The runs not in `_RUNS` (words that express a concept or may be part of a phrase, runs
    # without a word, and the rare ones) are looked at one by one, in order, as `_words` would.
    found: set[str] = set()
    get = _RUN_INFO.get
    find = stems.index
    heads: tuple[str, ...] = ()
    i, last = -1, -2
    for _ in range(odd):
        i = find(None, i + 1)
        if i != last + 1:
            heads = ()  # a plain word came in between
        last = i
        run = runs[i]
        stems[i], concept, own_heads, tails, keep = get(run) or _run_info(run)
        if concept:
            found.add(concept)
        if heads and tails:
            found.update(_PAIRS[(h, t)] for h in heads for t in tails if (h, t) in _PAIRS)
        if not keep:
            heads = own_heads
    return sorted(found) + list(filter(None, stems))


def _words(tokens: list[str]) -> list[str]:
    """`words` from the words `_WORD_RE` found in the lower-cased text."""
    out: list[str] = []
    found: set[str] = set()
    get = _TOKENS.get
    plain = _PLAIN.get
    append = out.append
    heads: tuple[str, ...] = ()
    for raw in tokens:
        stemmed = plain(raw)
        if stemmed is not None:
            if stemmed:
                append(stemmed)
            heads = ()
            continue
        stemmed, concept, own_heads, tails = get(raw) or _token(raw)
        if stemmed:
            append(stemmed)
        if concept:
            found.add(concept)
        if heads and tails:
            found.update(_PAIRS[(h, t)] for h in heads for t in tails if (h, t) in _PAIRS)
        if raw not in _SKIP:
            heads = own_heads
    return sorted(found) + out


def surface_forms(text: str) -> dict[str, str]:
    """stem -> the first word of `text` with that stem ("protect" -> "protected")."""
    out: dict[str, str] = {}
    for w in _WORD_RE.findall(strip_markup(text).lower()):
        w = w.strip("'.+-")
        if len(w) >= 2:
            out.setdefault(stem(w), w)
    return out
