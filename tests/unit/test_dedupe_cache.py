"""The per-item dedup cache never changes a result: warm == cold, changed items are
reprocessed, damaged rows are ignored."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from docsgap.dedupe import itemindex
from docsgap.dedupe.cache import HEAD, pack_row, unpack_row
from docsgap.dedupe.evaluate import read_pool, read_queries
from docsgap.dedupe.itemindex import cache_fingerprint
from docsgap.dedupe.matcher import Matcher
from docsgap.models import TrackerItem
from docsgap.state import StateStore

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _items() -> list[TrackerItem]:
    pool = read_pool(ASSETS / "dedup_pool.jsonl")
    extra = [TrackerItem("issue", "docs/gen", n, f"Cache keys page {n} is outdated",
                         f"See #{n % 7 + 1} and https://docs.gitlab.com/ee/ci/caching/ x{n}",
                         "opened", f"https://gitlab.example/docs/gen/-/issues/{n}",
                         created_at=NOW - timedelta(days=n), updated_at=NOW - timedelta(days=n))
             for n in range(1, 21)]
    return [*pool, *extra]


def _matcher(items: list[TrackerItem], store: StateStore | None) -> Matcher:
    return Matcher(items, link_threshold=80, review_threshold=60, closed_within_days=3650,
                   now=NOW, cache=store)


def _results(m: Matcher) -> list[object]:
    queries = read_queries(ASSETS / "dedup_queries.jsonl")
    texts = [(q.title, q.body, None) for q in queries]
    texts.append(("Cache keys page outdated", "the caching page is outdated", None))
    return [*m.match_texts(texts), sorted(m.index.related.items())]


def test_warm_equals_cold_and_changed_items_are_reprocessed() -> None:
    items = _items()
    store = StateStore(":memory:")
    cold = _matcher(items, None)
    first = _matcher(items, store)
    assert first.cache_hits == 0
    warm = _matcher(items, store)
    assert warm.cache_hits == len(warm) > 0
    assert _results(warm) == _results(first) == _results(cold)
    # One item changes: only it is processed again, and its new text counts.
    n = len(items) - 1
    items[n] = replace(items[n], description="Runner tags are missing entirely",
                       updated_at=NOW + timedelta(days=1))
    again = _matcher(items, store)
    assert again.cache_hits == len(again) - 1
    assert _results(again) == _results(_matcher(items, None))


def test_damaged_or_stale_rows_are_ignored() -> None:
    items = _items()
    store = StateStore(":memory:")
    _matcher(items, store)
    fp = cache_fingerprint(_matcher(items, None).index.boilerplate)
    vocabulary, rows = store.load_dedup_cache(fp)
    assert vocabulary
    known = len(vocabulary)
    url = items[-1].web_url
    stamp, data = rows[url]
    bad = data.replace(b"caching", b"cahcing")  # checksum no longer matches
    assert bad != data
    store.save_dedup_cache(fp, [(url, stamp, bad)], known=known)
    damaged = _matcher(items, store)
    assert damaged.cache_hits == len(damaged) - 1
    assert _results(damaged) == _results(_matcher(items, None))
    # A row whose checksum holds but whose word ids the vocabulary lacks is computed again.
    other = items[-2].web_url
    stamp, data = store.load_dedup_cache(fp)[1][other]
    row = unpack_row(data)
    assert row is not None and row[0] > 0
    _, ids, counts, width, *_ = row
    text = data[HEAD.size + len(ids) + len(counts):]
    assert pack_row(ids, counts, width, text) == data
    wrong = struct.pack("<i", known + 5) + ids[4:]  # the first word id, out of range
    assert unpack_row(pack_row(wrong, counts, width, text)) is not None  # checksum holds
    store.save_dedup_cache(fp, [(other, stamp, pack_row(wrong, counts, width, text))],
                           known=known)
    out_of_range = _matcher(items, store)
    assert out_of_range.cache_hits == len(out_of_range) - 1
    assert _results(out_of_range) == _results(_matcher(items, None))
    # Another fingerprint (other template text, code or format) is never read.
    assert store.load_dedup_cache("other") == ([], {})


def test_counts_that_need_eight_bytes_keep_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(itemindex, "TITLE_WEIGHT", 0.3)  # 1.3 is no exact 4-byte float
    items = _items()
    store = StateStore(":memory:")
    cold = _results(_matcher(items, None))
    _matcher(items, store)
    rows = store.load_dedup_cache(cache_fingerprint(_matcher(items, None).index.boilerplate))[1]
    widths = {row[3] for _, data in rows.values() if (row := unpack_row(data)) is not None}
    assert widths == {8}  # a part with some counts that need 8 bytes gives them all 8
    warm = _matcher(items, store)
    assert warm.cache_hits == len(warm)
    assert _results(warm) == cold


def test_rows_are_not_saved_against_a_vocabulary_that_changed() -> None:
    store = StateStore(":memory:")
    store.save_dedup_cache("fp", [("u1", "s1", b"one")], ["alpha", "beta"], known=0)
    assert store.load_dedup_cache("fp") == (["alpha", "beta"], {"u1": ("s1", b"one")})
    # Another run read the vocabulary when it had no words: its ids would clash.
    store.save_dedup_cache("fp", [("u2", "s2", b"two")], ["gamma"], known=0)
    assert store.load_dedup_cache("fp") == (["alpha", "beta"], {"u1": ("s1", b"one")})
    store.save_dedup_cache("fp", [("u2", "s2", b"two")], ["gamma"], known=2)
    assert store.load_dedup_cache("fp")[0] == ["alpha", "beta", "gamma"]
    # A new fingerprint starts its own vocabulary and drops the old rows.
    store.save_dedup_cache("fp2", [("u1", "s3", b"three")], ["delta"], known=0)
    assert store.load_dedup_cache("fp") == ([], {})
    assert store.load_dedup_cache("fp2") == (["delta"], {"u1": ("s3", b"three")})
