"""How GitLab answers `search=` on issue and merge request lists.

Issues use PostgreSQL full-text search (`PgFullTextSearchable`): the title (weight A) and the
description (weight B) go through `to_tsvector('english', ...)` after GitLab drops runs of 50+
letters, digits, `+`, `/` and `@`; every query word becomes a prefix term (`word:*`), all of
which must match, quoted phrases must match in order, and English stemming applies to both
sides. Releases differ in one way that matters to markers: `unwrap` (the default) replaces each
`<tag>` or `<!-- comment -->` by its inside before indexing; `raw` (older releases) indexes the
raw text, where PostgreSQL's parser drops a tag or comment whole. Merge requests, and queries
with non-Latin letters, use the trigram `ILIKE` search instead (`Gitlab::SQL::Pattern`): every
word of 3+ characters must occur in one and the same field.

The PostgreSQL parser is modelled by a regular expression (words, hyphenated words, numbers,
versions, hosts, URLs, e-mail addresses, file paths, tags, entities); `scripts/check_tsvector.py`
compares it with a real PostgreSQL where one is at hand. See the sandbox README for the gaps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import snowballstemmer

SEARCH_MODES = ("unwrap", "raw")
LONG_WORDS = re.compile(r"[A-Za-z0-9+/@]{50,}")
XML_TAG = re.compile(r"</?([^>]+)>")
URL_SCHEME = re.compile(r"(?:(?<=\W)|^)\w+://(?=\w)")
DISALLOWED = {"unwrap": re.compile(r"[^a-zA-Z0-9 .@/\-_\"]"),
              "raw": re.compile(r"[^a-zA-Z0-9 .@/\-\"]")}
QUOTED = re.compile(r'(?:(?<= )|^)"[^"]+"(?= |$)')
LATIN = re.compile("[\u0000-\u02ff\u1e00-\u1eff\u2070-\u218f]*")
# PostgreSQL 15's tsearch_data/english.stop: a stop word takes a position but no lexeme.
_STOP_TEXT = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that
these those am is are was were be been being have has had having do does did doing a an the and
but if or because as until while of at by for with about against between into through during
before after above below to from up down in out on off over under again further then once here
there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
_PATH = r"/[A-Za-z0-9_.~%/#?=&+:@!$,;-]+"
_TOKEN = re.compile(
    r"(?P<tag><!--.*?-->|</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);)"
    rf"|[A-Za-z][A-Za-z0-9+.-]*://(?P<url>(?P<uhost>{_HOST})(?P<upath>{_PATH})?)"
    rf"|(?P<email>[A-Za-z0-9][A-Za-z0-9._+-]*@{_HOST})"
    rf"|(?P<hostpath>(?P<host>{_HOST})(?P<path>{_PATH})?)"
    r"|(?P<file>(?:[A-Za-z0-9_.-]+)?(?:/[A-Za-z0-9_.-]+)+|[A-Za-z][A-Za-z0-9]*(?:\.[\w-]+)+)"
    r"|(?P<version>\d+(?:\.\d+){2,})"
    r"|(?P<float>\d+(?:\.\d+)?[eE][-+]?\d+|\d+\.\d+)"
    r"|(?P<int>(?<![A-Za-z0-9])[-+]\d+|(?<=\d)-\d+)"
    r"|(?P<hword>[^\W\d_][^\W_]*(?:-[^\W_]+)+)"
    r"|(?P<word>[^\W_]+)",
    re.DOTALL,
)


@cache
def _stem(word: str) -> str:
    stemmed: str = snowballstemmer.stemmer("english").stemWord(word)
    return stemmed


def _lexeme(word: str) -> str | None:
    """A word through the `english` configuration: lower case, stop words dropped, letters-only
    words stemmed (Snowball English, as `english_stem`), words with digits kept as they are."""
    word = word.lower()
    if any(c.isdigit() for c in word):
        return word
    return None if word in STOP_WORDS else _stem(word)


def parse(text: str) -> list[tuple[str | None, int]]:
    """(lexeme or None for a stop word, position) for each token, positions from 1, as
    `to_tsvector('english', text)` produces them."""
    result: list[tuple[str | None, int]] = []

    def add(lexeme: str | None) -> None:
        result.append((lexeme, len(result) + 1))

    for m in _TOKEN.finditer(text):
        group = m.group
        if group("tag") or group("entity"):
            continue
        if group("url") or group("hostpath"):
            host, path = (group("uhost"), group("upath")) if group("url") else (
                group("host"), group("path"))
            if path:
                add((host + path).lower())
            add(host.lower())
            if path:
                add(path.lower())
        elif group("hword"):
            whole = group("hword")
            digits = any(c.isdigit() for c in whole)
            add(whole.lower() if digits else _lexeme(whole))
            for part in whole.split("-"):
                add(_lexeme(part))
        elif group("word"):
            add(_lexeme(group("word")))
        else:  # e-mail, file, version, float, int: the `simple` dictionary
            add(m.group(0).lower())
    return result


def transliterate(text: str) -> str:
    """ASCII look-alikes for accented letters; `?` for anything else (as Rails does)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if ord(c) < 128 else "?" for c in plain)


def indexed_text(text: str, mode: str = "unwrap") -> str:
    """What GitLab hands to `to_tsvector` for one column."""
    text = transliterate(LONG_WORDS.sub(" ", text)[: 1 << 20])
    if mode == "unwrap":
        text = XML_TAG.sub(r" \1 ", text)
    return text


@dataclass(frozen=True)
class Vector:
    """An issue's `search_vector`: lexeme -> positions, per weight (A title, B description)."""

    weights: dict[str, dict[str, frozenset[int]]]

    def positions(self, lexeme: str, prefix: bool, weights: str) -> set[int]:
        """Where `lexeme` (or any lexeme it prefixes) occurs, in the given weights."""
        found: set[int] = set()
        for weight, lexemes in self.weights.items():
            if weights and weight not in weights:
                continue
            for word, where in lexemes.items():
                if word == lexeme or (prefix and word.startswith(lexeme)):
                    found |= where
        return found


def vector(fields: Iterable[tuple[str, str]], mode: str = "unwrap") -> Vector:
    """`setweight(to_tsvector(...), 'A') || setweight(..., 'B')` over (weight, text) pairs;
    `||` shifts the second part's positions past the first's."""
    weights: dict[str, dict[str, set[int]]] = {}
    offset = 0
    for weight, text in fields:
        if not text.strip():
            continue
        tokens = parse(indexed_text(text, mode))
        table = weights.setdefault(weight, {})
        for lexeme, pos in tokens:
            if lexeme is not None:
                table.setdefault(lexeme, set()).add(pos + offset)
        offset += max((p for _, p in tokens), default=0)
    return Vector({w: {k: frozenset(v) for k, v in t.items()} for w, t in weights.items()})


Phrase = tuple[tuple[str, int, bool], ...]
"""Lexemes with their offset from the first and whether each is a prefix."""


def query(search: str, mode: str = "unwrap") -> list[list[Phrase]]:
    """GitLab's `build_tsquery`: an AND of terms, each an OR of phrases. A number also matches
    its negative (`(12:* | -12:*)`); a quoted phrase matches exact words in order; every other
    word is a prefix. Words that parse to nothing (stop words, punctuation) drop out."""
    text = DISALLOWED[mode].sub(" ", transliterate(URL_SCHEME.sub("", search)))
    quoted = [q[1:-1] for q in QUOTED.findall(text)]
    terms = QUOTED.sub("", text).split() + quoted
    result: list[list[Phrase]] = []
    for term in dict.fromkeys(terms):
        if term.isdigit():
            options = [_phrase(term, prefix=True), _phrase("-" + term, prefix=True)]
        else:
            options = [_phrase(term, prefix=" " not in term)]
        kept = [o for o in options if o]
        if kept:
            result.append(kept)
    return result


def _phrase(term: str, *, prefix: bool) -> Phrase:
    """An operand of `to_tsquery`: its own lexemes joined by `<->` (at parser distances)."""
    tokens = [(lex, pos) for lex, pos in parse(term) if lex is not None]
    if not tokens:
        return ()
    first = tokens[0][1]
    return tuple((lex, pos - first, prefix) for lex, pos in tokens)


def matches(vec: Vector, terms: list[list[Phrase]], weights: str = "") -> bool:
    """`search_vector @@ to_tsquery(...)`; no terms (only stop words) matches nothing."""
    if not terms:
        return False
    return all(any(_phrase_at(vec, phrase, weights) for phrase in options) for options in terms)


def _phrase_at(vec: Vector, phrase: Phrase, weights: str) -> bool:
    (head, _, head_prefix), *rest = phrase
    starts = vec.positions(head, head_prefix, weights)
    for lexeme, offset, prefix in rest:
        where = vec.positions(lexeme, prefix, weights)
        starts = {p for p in starts if p + offset in where}
    return bool(starts)


def full_text(search: str) -> bool:
    """Whether GitLab uses full-text search for this term (Latin script only)."""
    return LATIN.fullmatch(search) is not None


def fuzzy(search: str, texts: list[str]) -> bool:
    """`Gitlab::SQL::Pattern#fuzzy_search`: every 3+ character word `ILIKE '%word%'` in one of
    the fields (all words in the same field); without such a word, the whole query must equal
    a field, case-insensitively."""
    words = QUOTED.sub("", search).split() + [q[1:-1] for q in QUOTED.findall(search)]
    long_words = [w.lower() for w in words if len(w) >= 3]
    lowered = [t.lower() for t in texts]
    if not long_words:
        return any(t == search.strip().lower() for t in lowered)
    return any(all(w in t for w in long_words) for t in lowered)
