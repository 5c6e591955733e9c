"""Dedup on our own hard cases: forum.gitlab.com reports against GitLab doc issues and MRs
(tests/assets/dedup_hard_*.jsonl). What the matcher must never do, and floors a little below
what it does now (`docsgap eval dedup --queries tests/assets/dedup_hard_queries.jsonl --pool
tests/assets/dedup_hard_pool.jsonl`, with and without `--no-replay`).

The set: 92 pool items (gitlab-org/gitlab and gitlab-org/gitlab-runner; issues, open and merged
MRs) and 51 forum reports, 12 of which need a new issue. Hard cases: several problems per docs
page, templated and placeholder titles, the same problem in other words or another language,
outage bursts closed into the report the maintainers kept, a tracking issue, a closed fix
beside its open regression, open MRs with no issue, and new gaps beside similar issues.

The queries' `repo` is the forum, so each is matched against the whole pool, as `docsgap run`
matches against every cached item; forum URLs carry no tracker number, so replay changes
nothing. Recency is measured from the pool's newest item (the queries carry no time), so the
figures do not drift with the clock.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest

from docsgap.config import DedupConfig
from docsgap.dedupe.evaluate import PoolMatcher, Query, read_pool, read_queries
from docsgap.dedupe.matcher import decide
from docsgap.dedupe.scoring import Scores, evaluate, rank_all
from docsgap.models import MatchResult, TrackerItem

ASSETS = Path(__file__).resolve().parents[1] / "assets"
POOL = ASSETS / "dedup_hard_pool.jsonl"
QUERIES = ASSETS / "dedup_hard_queries.jsonl"
DEFAULTS = DedupConfig()  # what `docsgap eval dedup` uses without --config: link at 70%

# Measured on this set with the fitted ranker (both modes give the same figures): recall@1
# 0.9231 (36 of 39), recall@5 0.9744, 19 links, 18 right: one report that needs a new issue
# (yaml-matrix-limit-new: same page, same words, another limit) links at 81.5%. The
# hand-weighted matcher before it linked 6 (all right) and ended 10 of the 12 `new`. Floors
# allow one query to slip.
MIN_RECALL1 = 0.89
MIN_RECALL5 = 0.94
MIN_LINK_PRECISION = 0.93
MAX_WRONG_NEW_LINKS = 1


@pytest.fixture(scope="module")
def pool() -> list[TrackerItem]:
    return read_pool(POOL)


@pytest.fixture(scope="module")
def queries() -> list[Query]:
    return read_queries(QUERIES)


@pytest.fixture(scope="module", params=[True, False], ids=["replay", "no-replay"])
def run(request: pytest.FixtureRequest, pool: list[TrackerItem], queries: list[Query]
        ) -> tuple[Scores, list[MatchResult]]:
    """Scores and per-query decisions at the default thresholds, in one replay mode."""
    matcher = PoolMatcher(pool, link_threshold=DEFAULTS.link_threshold,
                          review_threshold=DEFAULTS.review_threshold,
                          closed_within_days=DEFAULTS.closed_within_days, replay=request.param)
    decider = partial(decide, link_threshold=DEFAULTS.link_threshold,
                      review_threshold=DEFAULTS.review_threshold, related=matcher.related)
    ranked = rank_all(queries, matcher.rank)
    return (evaluate(queries, ranked, "docsgap", decide=decider),
            [decider(cands) for cands in ranked])


def _misses(scores: Scores) -> str:
    return "\n".join(f"{m['id']}: rank {m['rank']}, got {m['got']}" for m in scores.misses)


# --- the fixture files ---------------------------------------------------------------------------


def test_fixture_labels_point_into_the_pool(pool: list[TrackerItem], queries: list[Query]
                                            ) -> None:
    urls = {i.web_url for i in pool}
    assert len(pool) >= 85 and len(queries) >= 45
    assert len({q.id for q in queries}) == len(queries)
    assert all(q.duplicate_of in urls for q in queries if q.duplicate_of)
    assert sum(q.duplicate_of is None for q in queries) >= 12
    assert all(re.fullmatch(r"https://forum\.gitlab\.com/t/[\w-]+/\d+", q.url or "")
               for q in queries)
    # Matched against the whole pool: no query names a pool project.
    assert not {q.project for q in queries} & {i.project for i in pool}


def test_fixture_dates_follow_the_numbers(pool: list[TrackerItem]) -> None:
    series: defaultdict[tuple[str, str], list[TrackerItem]] = defaultdict(list)
    for item in pool:
        assert item.created_at is not None and item.created_at.tzinfo is not None
        series[(item.project, item.kind)].append(item)
    assert len({project for project, _ in series}) == 2
    for items in series.values():
        items.sort(key=lambda i: i.iid)
        stamps = [i.created_at.timestamp() for i in items if i.created_at]
        assert stamps == sorted(stamps)


def test_fixture_records_have_every_field() -> None:
    pool_keys = {"url", "repo", "title", "body", "state", "docs_url", "labels", "created_at"}
    for line in POOL.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert set(record) == pool_keys
        is_mr = "/merge_requests/" in record["url"]
        assert record["state"] in (("open", "merged") if is_mr else ("open", "closed"))
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert set(record) == {"id", "repo", "query", "duplicate_of", "evidence"}
        assert set(record["query"]) == {"url", "title", "body", "docs_url"}
        assert record["evidence"]


# --- what the matcher must never do -----------------------------------------------------------


def test_automatic_links_are_nearly_all_right(run: tuple[Scores, list[MatchResult]]) -> None:
    scores, _ = run
    assert scores.link_precision >= MIN_LINK_PRECISION
    assert scores.links >= 10  # the clear cases (a quoted error, rare shared words) link


def test_links_at_most_one_report_that_needs_a_new_issue(
        run: tuple[Scores, list[MatchResult]], queries: list[Query]) -> None:
    _, results = run
    wrong = [(q.id, r.best.url if r.best else None) for q, r in zip(queries, results,
                                                                      strict=True)
             if q.duplicate_of is None and r.decision == "link"]
    assert len(wrong) <= MAX_WRONG_NEW_LINKS, wrong


def test_never_links_an_item_closed_as_a_duplicate(
        run: tuple[Scores, list[MatchResult]], queries: list[Query]) -> None:
    # Outage bursts: the reports closed into the one the maintainers kept share the most words
    # with a new report; linking one would point the thread at a dead end.
    _, results = run
    assert not [q.id for q, r in zip(queries, results, strict=True)
                if r.decision == "link" and r.best and r.best.state == "declined"]


# --- floors under what it does now --------------------------------------------------------------


def test_new_issue_reports_mostly_go_to_a_person_or_end_new(
        run: tuple[Scores, list[MatchResult]], queries: list[Query]) -> None:
    _, results = run
    decisions = [r.decision for q, r in zip(queries, results, strict=True)
                 if q.duplicate_of is None]
    assert decisions.count("new") + decisions.count("review") >= 11, decisions


def test_recall_floors(run: tuple[Scores, list[MatchResult]]) -> None:
    scores, _ = run
    assert scores.labelled == 39
    assert scores.recall1 >= MIN_RECALL1, _misses(scores)
    assert scores.recall5 >= MIN_RECALL5, _misses(scores)
