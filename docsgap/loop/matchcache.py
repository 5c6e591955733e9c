"""Match results kept between runs (`match_cache` table), so a run matches again only the
signals whose text changed, or all of them when the cached issues/MRs or the match settings
changed (or a day passed: eligibility and recency count from today)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from docsgap import __version__
from docsgap.dedupe.matcher import match_fingerprint
from docsgap.dedupe.ranker import RANKER_FILE
from docsgap.models import Candidate, MatchResult, Signal
from docsgap.state import StateStore


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def signal_fingerprint(signal: Signal) -> str:
    """What of a signal the matcher reads: thread title, evidence sentences and page."""
    page = signal.page
    return _digest([signal.thread_title, [e.text for e in signal.evidence],
                    [page.url, page.project, page.path, page.section] if page else None])


def items_stamp(store: StateStore, settings: Mapping[str, Any], today: datetime,
                ranker: Path = RANKER_FILE) -> str:
    """Changes when any cached issue/MR changes (a counter kept by triggers, with the count
    and newest `updated_at` besides), when the match settings, docsgap's version or the
    matcher (code, ranker weights, docs map) change, and each day."""
    row = store.db.execute(
        "select (select n from items_version), count(*), max(updated_at) from items").fetchone()
    return _digest([list(row), dict(settings), __version__, match_fingerprint(ranker),
                    today.date().isoformat()])


class MatchCache:
    """Per signal key: the fingerprint and items stamp a result was made under, and it."""

    def __init__(self, store: StateStore) -> None:
        self.db = store.db

    def load(self, signals: Sequence[Signal], stamp: str) -> dict[str, MatchResult]:
        """Cached results still valid for `signals` under `stamp`."""
        wanted = {s.key: signal_fingerprint(s) for s in signals}
        found: dict[str, MatchResult] = {}
        rows = self.db.execute(
            "select signal_key, fingerprint, result from match_cache where stamp = ? and "
            "signal_key in (select value from json_each(?))", [stamp, json.dumps(list(wanted))])
        for key, fingerprint, result in rows:
            if wanted.get(key) == fingerprint:
                found[key] = _result(json.loads(result))
        return found

    def previous(self, signals: Sequence[Signal]) -> dict[str, MatchResult]:
        """The last kept result of each signal whose text is the same, under any stamp (what
        the last run decided: `docsgap.dedupe.sticky` keeps its reviews in review)."""
        wanted = {s.key: signal_fingerprint(s) for s in signals}
        rows = self.db.execute(
            "select signal_key, fingerprint, result from match_cache where "
            "signal_key in (select value from json_each(?))", [json.dumps(list(wanted))])
        return {key: _result(json.loads(result)) for key, fingerprint, result in rows
                if wanted.get(key) == fingerprint}

    def save(self, results: Mapping[str, tuple[Signal, MatchResult]], stamp: str) -> None:
        """Keep fresh results; rows of older stamps go (they cannot be valid again)."""
        with self.db.atomic():
            self.db.execute("delete from match_cache where stamp != ?", [stamp])
            self.db.conn.executemany(
                "insert or replace into match_cache (signal_key, fingerprint, stamp, result) "
                "values (?, ?, ?, ?)",
                [(key, signal_fingerprint(s), stamp, json.dumps(asdict(r)))
                 for key, (s, r) in results.items()])


def _candidate(d: Mapping[str, Any]) -> Candidate:
    return Candidate(**{**d, "fields": tuple(tuple(f) for f in d.get("fields", ())),
                        "shared_words": tuple(d.get("shared_words", ()))})


def _result(d: Mapping[str, Any]) -> MatchResult:
    best = d.get("best")
    return MatchResult(d["decision"], _candidate(best) if best else None,
                       tuple(_candidate(c) for c in d.get("candidates", ())), d.get("reason", ""))
