"""The matcher's per-item cache in the state (`dedup_cache` rows and their `dedup_words`
vocabulary, under one fingerprint): read whole, appended to, never the only truth."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from sqlite_utils import Database


def load(db: Database, fingerprint: str) -> tuple[list[str], dict[str, tuple[str, bytes]]]:
    """The matcher's stored data made under `fingerprint`: its vocabulary (a word's id is
    its place) and per item url -> (stamp, data). Rows of another fingerprint are not read
    (they cannot be valid); a vocabulary with a gap in its ids counts as none at all."""
    try:
        vocabulary: list[str] = []
        for n, (i, w) in enumerate(db.execute(
                "select id, word from dedup_words where fingerprint = ? order by id",
                [fingerprint])):
            if i != n:
                return [], {}
            vocabulary.append(str(w))
        rows = db.execute("select url, stamp, data from dedup_cache where fingerprint = ?",
                          [fingerprint])
        return vocabulary, {str(u): (str(s), d) for u, s, d in rows if isinstance(d, bytes)}
    except sqlite3.Error:
        return [], {}  # an unreadable cache only costs the recomputation


def save(db: Database, fingerprint: str, rows: Iterable[tuple[str, str, bytes]],
         words: Sequence[str] = (), *, known: int = 0) -> None:
    """Append `words` to the vocabulary of `fingerprint` (ids from `known` on) and store
    (url, stamp, data) rows under it, dropping the rows and words of any other fingerprint
    (items are never removed from the cache, so neither are their rows). Nothing is stored
    if the vocabulary no longer has `known` words: another run added its own since it was
    read, and these rows' ids could name other words."""
    conn = db.conn
    try:
        with conn:
            conn.execute("delete from dedup_cache where fingerprint != ?", [fingerprint])
            conn.execute("delete from dedup_words where fingerprint != ?", [fingerprint])
            (count,) = conn.execute("select count(*) from dedup_words where fingerprint = ?",
                                    [fingerprint]).fetchone()
            if count != known:
                return
            conn.executemany(
                "insert into dedup_words (id, word, fingerprint) values (?, ?, ?)",
                ((known + n, w, fingerprint) for n, w in enumerate(words)))
            conn.executemany(
                "insert or replace into dedup_cache (url, stamp, fingerprint, data) "
                "values (?, ?, ?, ?)",
                ((url, stamp, fingerprint, data) for url, stamp, data in rows))
    except sqlite3.Error:
        pass  # rolled back: the next run recomputes; the cache is never the only truth
