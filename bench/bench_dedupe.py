"""Benchmark deduplication: index N cached doc issues once, then match M signals against them;
prints seconds (index, match, total; both split over two forked processes when large), peak
memory, and the API requests a full refresh of the cache needs. Then the scheduled-run case:
the index built again with the per-item cache in a SQLite state, cold (empty cache, which
fills it) and warm (every item cached, then with 1% of the items changed), checking that
every warm result equals the uncached one; the warm total (build from the cache, then match
the M signals) is the figure the issue's target is about.
Run: `.venv/bin/python bench/bench_dedupe.py [--issues 50000] [--signals 1000]`."""

from __future__ import annotations

import argparse
import gc
import math
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from docsgap.dedupe import index as dedupe_index
from docsgap.dedupe.itemindex import PARALLEL_ITEMS, cache_fingerprint
from docsgap.dedupe.matcher import PARALLEL_SIGNALS, Matcher
from docsgap.docpages.pages import map_url
from docsgap.models import DocPage, MatchResult, TrackerItem
from docsgap.state import StateStore

TOPICS = [
    "ci/yaml", "ci/variables", "ci/caching", "ci/pipelines/merge_trains", "runner/install",
    "runner/register", "user/project/pages", "administration/backup_restore",
    "user/project/merge_requests/squash_and_merge", "user/packages/container_registry",
    "api/issues", "user/group/saml_sso", "install/docker", "update/zero_downtime",
]
PROBLEMS = [
    "is outdated", "shows the wrong default", "has a broken link", "is confusing",
    "misses an example", "uses removed syntax", "contradicts the UI", "has a typo",
    "needs a screenshot update", "does not mention the required permission",
]
TEMPLATE = ("### Problem to solve\n{body}\n\n### Further details\n_Add anything else here._\n"
            "<!-- template: documentation feedback -->")


def _vocab(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)]


def _zipf_words(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    # Zipf-like: a few words are everywhere, most are rare (as in real issue text).
    return [vocab[min(int(math.exp(rng.random() * math.log(len(vocab)))) - 1, len(vocab) - 1)]
            for _ in range(n)]


def make_items(n: int, rng: random.Random, vocab: list[str]) -> list[TrackerItem]:
    """`n` doc issues (and a few MRs) in the shape the cache holds."""
    now = datetime(2026, 1, 5, tzinfo=UTC)
    out = []
    for iid in range(1, n + 1):
        topic, problem = rng.choice(TOPICS), rng.choice(PROBLEMS)
        words = " ".join(_zipf_words(rng, vocab, rng.randint(40, 160)))
        url = f"https://docs.gitlab.com/ee/{topic}/index.html"
        body = TEMPLATE.format(body=f"The page {url} {problem}. {words}")
        kind = "merge_request" if iid % 20 == 0 else "issue"
        state = rng.choice(["opened", "opened", "closed"])
        out.append(TrackerItem(
            kind, "gitlab-org/gitlab", iid,  # type: ignore[arg-type]
            f"Docs feedback: {topic.split('/')[-1]} {problem} {' '.join(words.split()[:3])}",
            body, state, f"https://gitlab.example/gitlab-org/gitlab/-/issues/{iid}",
            created_at=now - timedelta(days=n - iid),
            updated_at=now - timedelta(days=n - iid),
            closed_at=now - timedelta(days=rng.randint(1, 400)) if state == "closed" else None,
        ))
    return out


def main() -> None:
    """Build, match, report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--signals", type=int, default=1_000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trace-memory", action="store_true",
                        help="Also report tracemalloc's peak (slow).")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = _vocab(rng, 20_000)
    items = make_items(args.issues, rng, vocab)
    queries = []
    for _ in range(args.signals):
        topic, problem = rng.choice(TOPICS), rng.choice(PROBLEMS)
        words = " ".join(_zipf_words(rng, vocab, rng.randint(10, 40)))
        queries.append((f"The {topic.split('/')[-1]} docs {problem}", f"{problem}: {words}",
                        map_url(f"https://docs.gitlab.com/{topic}/")))

    if args.trace_memory:
        tracemalloc.start()  # exact peak, but it slows everything several times over
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    matcher = Matcher(items, link_threshold=80, review_threshold=60, closed_within_days=365,
                      now=datetime(2026, 1, 5, tzinfo=UTC))
    t1 = time.perf_counter()
    decisions: dict[str, int] = {}
    for result in matcher.match_texts(queries):
        decisions[result.decision] = decisions.get(result.decision, 0) + 1
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    traced = ""
    if args.trace_memory:
        traced = f"peak traced {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MiB, "
        tracemalloc.stop()

    pages = math.ceil(args.issues / args.per_page)
    print(f"cached items: {args.issues} ({len(matcher)} eligible), signals: {args.signals}")
    procs = dedupe_index.WORKERS if dedupe_index.can_fork() else 1
    print(f"processes:    {procs} (index from {PARALLEL_ITEMS} items, matching from "
          f"{PARALLEL_SIGNALS} signals)")
    print(f"index build:  {t1 - t0:.2f} s")
    per = 1000 * (t2 - t1) / max(args.signals, 1)
    print(f"match:        {t2 - t1:.2f} s ({per:.2f} ms/signal)")
    print(f"total:        {t2 - t0:.2f} s")
    print(f"memory:       {traced}max RSS {rss:.0f} MiB (before the index: {rss0:.0f} MiB, "
          "the generated items included)")
    print(f"decisions:    {decisions}")
    expected = matcher.match_texts(queries)
    del matcher  # a scheduled run holds one index, not two
    _bench_cache(items, queries, expected)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory:       max RSS over the whole bench {rss:.0f} MiB (the cached builds included)")
    print(f"full refresh of {args.issues} items at per_page={args.per_page}: {pages} list requests "
          "(keyset pagination; an incremental refresh with updated_after reads only changed "
          "items: one request per 100 changes, at least one per run); 0 search requests")


def _bench_cache(items: list[TrackerItem],
                 queries: Sequence[tuple[str, str, DocPage | None]],
                 expected: list[MatchResult]) -> None:
    """Index with the per-item cache: cold, warm, warm after 1% of the items changed."""
    def build(store: StateStore) -> tuple[Matcher, float]:
        t = time.perf_counter()
        m = Matcher(items, link_threshold=80, review_threshold=60, closed_within_days=365,
                    now=datetime(2026, 1, 5, tzinfo=UTC), cache=store)
        return m, time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore(Path(tmp) / "state.db")
        fp = ""
        _, cold = build(store)
        for label in ("warm", "1% changed"):
            if label == "1% changed":
                later = datetime(2026, 1, 6, tzinfo=UTC)
                items[::100] = [replace(i, title=f"{i.title} revised", updated_at=later)
                                for i in items[::100]]
            matcher, warm = build(store)
            fp = cache_fingerprint(matcher.index.boilerplate)
            gc.disable()  # as inside the build
            t = time.perf_counter()
            vocabulary, rows = store.load_dedup_cache(fp)
            load = time.perf_counter() - t
            gc.enable()
            same = "n/a (items changed)"
            if label == "warm":
                t = time.perf_counter()
                results = matcher.match_texts(queries)
                matched = time.perf_counter() - t
                same = str(results == expected)
            print(f"cached build: {label}: {warm:.2f} s ({matcher.cache_hits} of {len(matcher)} "
                  f"items from the cache; reading the {len(rows)} rows and {len(vocabulary)} "
                  f"words alone {load:.2f} s); results equal the uncached ones: {same}")
            if label == "warm":
                print(f"warm total:   {warm + matched:.2f} s (build from the cache {warm:.2f} s "
                      f"+ match {len(queries)} signals {matched:.2f} s)")
                print(f"cached build: cold (empty cache, filling it): {cold:.2f} s")
        size = Path(tmp, "state.db").stat().st_size + Path(tmp, "state.db-wal").stat().st_size \
            if Path(tmp, "state.db-wal").exists() else Path(tmp, "state.db").stat().st_size
        store.close()
        folded = Path(tmp, "state.db").stat().st_size
        print(f"cache size:   {size / 2**20:.0f} MiB on disk for {len(rows)} rows (database and "
              f"its write-ahead log; {folded / 2**20:.0f} MiB once closed)")


if __name__ == "__main__":
    main()
