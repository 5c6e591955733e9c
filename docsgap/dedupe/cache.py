"""The matcher's per-item cache rows: each cached item's processed text (word ids and counts as
bytes, plus its title, page keys, path tails, references and URLs), keyed by a fingerprint of
everything that processing depends on, so a scheduled run only reprocesses changed items."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from docsgap.dedupe.index import Counts, Ints
from docsgap.models import TrackerItem
from docsgap.text.textnorm import Boilerplate

CACHE_VERSION = 3
"""Bumped when what a cache row holds, or how it is computed, changes."""

RawFeatures = tuple[str, dict[str, float], frozenset[str], frozenset[str], tuple[str, ...],
                    tuple[str, ...]]
"""What an item's own text gives: normalised title, term frequencies, page keys, path tails,
`#12`/`!34` references and URLs (the last two resolved against each run's items)."""

SEP, _LIST = "\x1f", "\x1e"
"""Field and list-entry separators of a row's text: control characters that no word, key or
URL holds (words are letters and digits; keys and URLs come from `str.split()`, which splits
on them)."""
HEAD = struct.Struct("<IIB")
"""A cache row (bytes) starts with the checksum of the rest, its number of words and the
width of its counts, then come the word ids (vocabulary ids, 4-byte ints), their counts
(4-byte floats when they are exact as such, as they are unless the title weight has a long
fraction, else 8-byte), all little-endian, and its other fields as packed text (UTF-8). The
index reads the ids and counts of all rows as two arrays, with no work per word."""
IDS, NARROW, WIDE = np.dtype("<i4"), np.dtype("<f4"), np.dtype("<f8")


class DedupCache(Protocol):
    """Where the matcher keeps each item's processed text between runs (`StateStore`)."""

    def load_dedup_cache(self, fingerprint: str
                         ) -> tuple[list[str], dict[str, tuple[str, bytes]]]:
        """The vocabulary stored under `fingerprint` (a word's id is its place) and its rows,
        url -> (stamp, data)."""
        ...

    def save_dedup_cache(self, fingerprint: str, rows: Iterable[tuple[str, str, bytes]],
                         words: Sequence[str] = (), *, known: int = 0) -> None:
        """Append `words` to the vocabulary of `fingerprint` (they get the ids from `known`
        on) and store (url, stamp, data) rows under it, dropping other fingerprints; store
        nothing if that vocabulary no longer has exactly `known` words."""
        ...


def cache_fingerprint(boilerplate: Boilerplate, settings: str, sources: Iterable[Path]) -> str:
    """What every row depends on besides its item: the format, the learned template text,
    the matcher's `settings`, and the code and data (`sources`) that turn text into words and
    page keys. Any change gives another fingerprint, and so recomputes every item."""
    h = hashlib.sha256(f"{CACHE_VERSION}|{settings}".encode())
    for part in (boilerplate.prefixes, boilerplate.lines, boilerplate.titles):
        h.update(SEP.join(sorted(part)).encode() + b"\x1d")
    for path in sources:
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(f"unreadable {path}".encode())
    return h.hexdigest()


def cache_stamp(item: TrackerItem) -> str:
    """Which version of an item a row was made from: its update time and a digest of its
    text (an edit the update time misses still changes the digest)."""
    digest = hashlib.blake2b(f"{item.title}\n{item.description}".encode("utf-8", "surrogatepass"),
                             digest_size=12).hexdigest()
    return f"{item.updated_at.isoformat() if item.updated_at else '-'}|{digest}"


def pack_text(title: str, pages: frozenset[str], tails: frozenset[str],
               refs: tuple[str, ...], urls: tuple[str, ...]) -> bytes | None:
    """A cache row's text fields (None if a value holds a separator or is not valid UTF-8:
    such an item is simply processed every run)."""
    if any(SEP in v or _LIST in v for part in (pages, tails, refs, urls) for v in part):
        return None
    text = SEP.join((title, *(_LIST.join(sorted(p)) for p in (pages, tails)),
                      _LIST.join(refs), _LIST.join(urls)))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: SQLite could not store it either
        return None


def pack_row(word_ids: bytes, counts: bytes, width: int, text: bytes) -> bytes:
    """A cache row from its word ids (`IDS`), its counts (`NARROW` or `WIDE`, of that
    `width`) and `pack_text`."""
    body = word_ids + counts + text
    return HEAD.pack(zlib.crc32(body), len(word_ids) // IDS.itemsize, width) + body


def count_bytes(counts: Iterable[float], size: int) -> bytes:
    """Counts as `NARROW` floats when every one is exact as such, else `WIDE`."""
    wide = np.fromiter(counts, WIDE, size)
    narrow = wide.astype(NARROW)
    return narrow.tobytes() if (narrow == wide).all() else wide.tobytes()


Row = tuple[int, bytes, bytes, int, str, frozenset[str], frozenset[str], tuple[str, ...],
             tuple[str, ...]]
"""A cache row's number of words, word ids and counts (bytes), the counts' width, normalised
title, page keys, path tails, `#`/`!` references and URLs."""


def unpack_row(data: bytes) -> Row | None:
    """`pack_row` undone; None for a row that is damaged (the checksum, the lengths, the
    text) or of another format."""
    try:
        check, n, width = HEAD.unpack_from(data)
        start, mid = HEAD.size, HEAD.size + n * IDS.itemsize
        end = mid + n * width
        if zlib.crc32(memoryview(data)[start:]) != check or len(data) < end or width not in (
                NARROW.itemsize, WIDE.itemsize):
            return None
        title, pages, tails, refs, urls = data[end:].decode("utf-8").split(SEP)
    except (struct.error, TypeError, ValueError):
        return None
    return (n, data[start:mid], data[mid:end], width, title, _set(pages), _set(tails),
            _tuple(refs), _tuple(urls))


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split(_LIST)) if text else frozenset()


def _tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split(_LIST)) if text else ()


class NewWords(dict[str, int]):
    """A copy of a vocabulary that gives each word it lacks the next id (in `added`)."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        super().__init__(vocabulary)
        self.added: list[str] = []

    def __missing__(self, word: str) -> int:
        self[word] = n = len(self)
        self.added.append(word)
        return n


def fresh_rows(fresh: list[tuple[int, str, str, bytes]], sizes: npt.NDArray[np.int64],
                word_ids: Ints, counts: Counts) -> list[tuple[str, str, bytes]]:
    """The cache rows (url, stamp, row) of a part's computed items, from the part's arrays
    (its word ids final)."""
    ends = np.cumsum(sizes).tolist()
    id_bytes = word_ids.astype(IDS, copy=False).tobytes()
    kind = NARROW if counts.dtype.itemsize == NARROW.itemsize else WIDE
    count_bytes = counts.astype(kind, copy=False).tobytes()
    i, f = IDS.itemsize, kind.itemsize
    rows = []
    for k, url, mark, text in fresh:
        start, end = ends[k] - int(sizes[k]), ends[k]
        rows.append((url, mark, pack_row(id_bytes[i * start:i * end],
                                          count_bytes[f * start:f * end], f, text)))
    return rows
