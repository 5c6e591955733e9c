"""The matcher on two processes gives exactly the one-process results; the faster regexes and
shortcuts behind it match exactly what the plain ones match."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from docsgap.dedupe import index as dedupe_index
from docsgap.dedupe import itemindex, links
from docsgap.dedupe import matcher as dedupe
from docsgap.dedupe.evaluate import read_pool, read_queries
from docsgap.dedupe.matcher import Matcher
from docsgap.docpages.pages import map_url
from docsgap.models import Evidence, GapType, Signal, TrackerItem
from docsgap.text.textnorm import _B64_BYTES, _B64_RUN, _BASE64_RE, _URL_RE, strip_markup, words

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NOW = datetime(2026, 1, 5, tzinfo=UTC)
needs_fork = pytest.mark.skipif(not dedupe_index.can_fork(), reason="needs fork and 2 CPUs")


def _items() -> list[TrackerItem]:
    """The fixture pool plus generated look-alikes that mention each other."""
    pool = read_pool(ASSETS / "dedup_pool.jsonl")
    rng = random.Random(5)
    subjects = ["masked variables", "cache keys", "runner tags", "merge trains", "pages domains"]
    problems = ["example is wrong", "page is outdated", "link is broken", "needs a screenshot"]
    extra = []
    for iid in range(1, 61):
        s, p = rng.choice(subjects), rng.choice(problems)
        body = (f"The page https://docs.gitlab.com/ee/ci/{s.split()[-1]}/index.html: {s} {p}. "
                f"See #{rng.randint(1, 60)} and !{rng.randint(1, 60)}.")
        extra.append(TrackerItem("issue", "docs/gen", iid, f"{s.title()}: {p}", body,
                                 rng.choice(["opened", "closed"]),
                                 f"https://gitlab.example/docs/gen/-/issues/{iid}",
                                 created_at=NOW - timedelta(days=100 - iid),
                                 closed_at=NOW - timedelta(days=iid)))
    return [*pool, *extra]


def _matcher(items: list[TrackerItem]) -> Matcher:
    return Matcher(items, link_threshold=80, review_threshold=60, closed_within_days=365,
                   now=NOW)


def _state(m: Matcher) -> tuple[object, ...]:
    index = m.index.postings
    postings = (index.starts.tolist(), index.items.tolist(), index.weights.tolist())
    return (m.index.titles, m.index.norms, postings, m.index.vocab, m.index.idf, m.index.pages,
            m.index.tails, m.index.related, m.index.item_pages, m.index.boilerplate)


@needs_fork
def test_index_and_matches_on_two_processes_equal_one_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items()
    queries = [(q.title, q.body, map_url(q.docs_url) if q.docs_url else None)
               for q in read_queries(ASSETS / "dedup_queries.jsonl")]
    signals = [Signal(k, title, f"https://forum.test/t/{k}", GapType.OUTDATED, 1.0, (),
                      (Evidence("r", body, body),), page, 1)
               for k, (title, body, page) in enumerate(queries * 3)]
    serial = _matcher(items)
    one = serial.match_many(signals)
    monkeypatch.setattr(itemindex, "PARALLEL_ITEMS", 2)
    monkeypatch.setattr(dedupe, "PARALLEL_SIGNALS", 2)
    parallel = _matcher(items)
    assert serial.index.related  # the generated items do mention each other
    assert _state(parallel) == _state(serial)
    two = parallel.match_many(signals)
    assert two == one
    assert [r.decision for r in one] == [serial.match_signal(s).decision for s in signals]


def test_split_map_keeps_order_and_redoes_a_failed_half(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dedupe_index.split_map(lambda lo, hi: list(range(lo, hi)), 9, min_parallel=2) == \
        list(range(9))
    calls: list[tuple[int, int]] = []

    def flaky(lo: int, hi: int) -> list[int]:
        calls.append((lo, hi))
        if lo > 0 and len(calls) == 1:  # only a forked child sees an empty call list
            raise ValueError("child failure")
        return [n * n for n in range(lo, hi)]

    assert dedupe_index.split_map(flaky, 6, min_parallel=2) == [n * n for n in range(6)]


def test_postings_hold_each_word_s_items_in_order_and_exact_norms(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe_index, "CHUNK", 3)  # items span the chunk boundaries
    rows = [{0: 2.0, 3: 1.0}, {}, {3: 4.0, 1: 1.0, 0: 3.0}, {2: 1.0}, {0: 1.0, 2: 7.0}]
    sizes = np.array([len(r) for r in rows])
    words = [np.array([w for r in rows[:2] for w in r], dtype=np.int32),
             np.array([w for r in rows[2:] for w in r], dtype=np.int32)]
    counts = [np.array([c for r in rows[:2] for c in r.values()], dtype=np.float32),
              np.array([c for r in rows[2:] for c in r.values()])]
    index, idf, norms = dedupe_index.Postings.build(words, counts, sizes, 5)
    assert words == [] and counts == []  # read and let go
    assert idf.tolist() == [math.log(1 + 5 / df) if df else 0.0 for df in (3, 1, 2, 2, 0)]
    for w in range(5):
        lo, hi = index.span(w)
        using = [n for n, r in enumerate(rows) if w in r]
        assert index.items[lo:hi].tolist() == using
        assert index.weights[lo:hi].tolist() == pytest.approx(
            [1 + math.log(rows[n][w]) for n in using])
    for n, r in enumerate(rows):
        total = 0.0
        for w, c in r.items():  # in the item's own order
            total += ((1 + math.log(c)) * idf[w]) ** 2
        assert norms[n] == pytest.approx(math.sqrt(total) or 1.0, rel=1e-15)


def test_order_by_word_is_the_stable_argsort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dedupe_index, "CHUNK", 7)
    words = np.random.default_rng(3).integers(0, 12, 100).astype(np.int32)
    assert dedupe_index._by_word(words).tolist() == np.argsort(words, kind="stable").tolist()


def test_accumulate_complete_and_top() -> None:
    index, _, _ = dedupe_index.Postings.build(
        [np.array([0, 1, 1, 0, 1], dtype=np.int32)], [np.ones(5)], np.array([2, 1, 2]), 2)
    acc, reached = index.accumulate([(*index.span(0), 2.0)], 4)
    assert acc.tolist() == [2.0, 0.0, 2.0, 0.0] and reached.tolist() == [True, False, True, False]
    dots = index.complete(np.array([0, 2]), acc[[0, 2]], [(*index.span(1), 0.5)])
    assert dots.tolist() == [2.5, 2.5]
    # Ties at the k-th value go to the keys that come first.
    assert dedupe_index.top(2, np.array([1, 3, 5, 7]), np.array([0, 1.0, 0, 2.0, 0, 2.0, 0, 2.0])
                            ) == {3, 5}


@needs_fork
def test_split_parts_gives_one_part_or_two_in_order() -> None:
    def part(lo: int, hi: int) -> list[int]:
        return list(range(lo, hi))

    assert dedupe_index.split_parts(part, 7, min_parallel=100) == [list(range(7))]
    assert dedupe_index.split_parts(part, 7, min_parallel=2) == [[0, 1, 2], [3, 4, 5, 6]]


def test_fast_regexes_match_what_the_plain_ones_match() -> None:
    plain_url = re.compile(r"(?:[hH][tT][tT][pP][sS]?://|[wW]{3}\.)[^\s<>\"'`)\]]+")
    plain_ref = re.compile(r"(?<![\w/&])([#!])(\d{1,9})\b")
    rng = random.Random(11)
    alphabet = "hHtTpPsS:/wW.x #!&1_9 \n)<é"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert [m.span() for m in _URL_RE.finditer(text)] == \
            [m.span() for m in plain_url.finditer(text)], text
        assert links.REF_RE.findall(text) == plain_ref.findall(text), text


def test_base64_shortcut_agrees_with_the_regex() -> None:
    rng = random.Random(13)
    alphabet = "aZ09+/= \n-é_"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        fast = _B64_RUN in text.encode("utf-8", "surrogatepass").translate(_B64_BYTES)
        assert fast == (_BASE64_RE.search(text) is not None), text
    blob = "QUJD" * 15
    assert blob not in strip_markup(f"key {blob} end")
    assert strip_markup("a short text é") == "a short text é"


def test_words_short_path_keeps_phrases_across_plain_words() -> None:
    # "page" starts a phrase, "is" may sit inside it, a plain word ends it.
    assert "~notfound" in words("the page is missing")
    assert "~notfound" not in words("the page foo missing")
    text = "zorblax quux page is missing, not loading zorblax"  # tokens new to the caches
    assert words(text) == words(text)  # the second call takes the short path
