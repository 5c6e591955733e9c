"""Words as dedup compares them: lower-cased, stop words dropped, reduced to a crude stem,
plus shared "~concept" words for the usual ways of saying the same thing ("down", "not
loading"). Fast on purpose (see `docsgap.text.textnorm`); tests/unit/test_textnorm_speed.py
holds each fast path to the plain one."""

from __future__ import annotations

import re

_LETTER = "a-z0-9\u00c0-\u024f"
# One letter, then optionally more ending in a letter or "+": the same words as the two-way
# alternative `[L][...]*[L+]|[L]`, but a leading plain class lets the engine scan for it in C.
WORD_RE = re.compile(f"[{_LETTER}](?:[{_LETTER}_'\u2019.+-]*[{_LETTER}+])?")

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


# ASCII fast path of `WORD_RE.findall(text.lower())`: one `translate` lower-cases the text and
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
"""A run without a word: no word for `WORD_RE`, so nothing to add and no phrase broken."""


def _word_of(run: str) -> str:
    """The word `WORD_RE` finds in a run of word characters ("" when none)."""
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
    """`WORD_RE.findall(text.lower())`, the simple path of `words`."""
    return WORD_RE.findall(text.lower())


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
    """`words` from the words `WORD_RE` found in the lower-cased text."""
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
