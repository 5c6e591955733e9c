"""`docsgap match` and `docsgap eval dedup`: file formats, metrics, the baseline and the gates."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import DedupConfig
from docsgap.dedupe import splits
from docsgap.dedupe.baselines import tfidf_ranker, threshold_decide, title_ranker
from docsgap.dedupe.evaluate import PoolMatcher, read_pool, read_queries
from docsgap.dedupe.matcher import decide
from docsgap.dedupe.scoring import Outcome, Scores, bootstrap, evaluate, rank_all
from docsgap.errors import ConfigError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
POOL = ASSETS / "dedup_pool.jsonl"
QUERIES = ASSETS / "dedup_queries.jsonl"
runner = CliRunner()


def test_read_pool_maps_states_kinds_and_docs_urls() -> None:
    items = {i.web_url.rsplit("/", 2)[-2] + i.web_url.rsplit("/", 1)[-1]: i
             for i in read_pool(POOL)}
    assert items["issues101"].state == "opened"
    assert "ci/variables/index.html" in items["issues101"].description
    assert items["merge_requests201"].kind == "merge_request"
    assert items["issues107"].labels == ("won't do",)
    assert items["issues101"].project == "docs"
    assert items["issues101"].iid == 101


def test_match_cli_writes_one_explained_line_per_query(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["match", "--pool", str(POOL), "--input", str(QUERIES),
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in lines] == [q.id for q in read_queries(QUERIES)]
    first = lines[0]
    assert first["decision"] in ("link", "review", "new")
    assert first["best"] == first["candidates"][0]["url"]
    assert {"url", "score", "fields", "shared_words", "page_match"} <= first["candidates"][0].keys()
    assert first["reason"]


def test_eval_dedup_on_own_fixtures_beats_the_baseline() -> None:
    result = runner.invoke(app, ["eval", "dedup", "--queries", str(QUERIES), "--pool", str(POOL),
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["docsgap"]["recall@1"] == 1.0
    assert data["docsgap"]["link_precision"] == 1.0
    assert data["docsgap"]["recall@1"] > data["title"]["recall@1"]
    assert {"title", "tfidf"} <= data.keys()
    lo, hi = data["docsgap"]["ci95"]["recall@1"]
    assert lo <= data["docsgap"]["recall@1"] <= hi
    assert {t["link_threshold"] for t in data["thresholds"]} == {50.0, 60.0, 70.0, 80.0, 90.0}


def test_bootstrap_intervals_hold_the_figure_and_widen_by_repository() -> None:
    # 20 queries: one repository with 10 right, nine with one miss or one hit each.
    outcomes = [Outcome(True, 1, True, True, "hub") for _ in range(10)]
    outcomes += [Outcome(True, 1 if k % 2 else 3, False, False, f"r{k}") for k in range(10)]
    by_query, by_repo = bootstrap(outcomes), bootstrap(outcomes, by_group=True)
    assert by_query == bootstrap(outcomes)  # seeded
    lo, hi = by_query["recall@1"]
    assert lo < 0.75 < hi
    assert by_repo["recall@1"][1] - by_repo["recall@1"][0] > hi - lo
    assert by_query["link_precision"] == (1.0, 1.0)


def test_tfidf_baseline_ranks_by_shared_rare_words() -> None:
    items = read_pool(POOL)
    queries = [q for q in read_queries(QUERIES) if q.duplicate_of]
    ranked = rank_all(queries, tfidf_ranker(items))
    assert all(0 <= c.score <= 100 for cands in ranked for c in cands)
    assert sum(bool(c) and c[0].url == q.duplicate_of for q, c in zip(queries, ranked,
                                                                          strict=True)) >= 3


def test_eval_gate_fails_with_exit_8() -> None:
    result = runner.invoke(app, ["eval", "dedup", "--queries", str(QUERIES), "--pool", str(POOL),
                                 "--min-recall1", "1.01"])
    assert result.exit_code == 8
    assert "below --min-recall1" in result.output


def test_bad_input_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    result = runner.invoke(app, ["match", "--pool", str(POOL), "--input", str(bad)])
    assert result.exit_code == 3
    assert "bad.jsonl:1" in result.output


def test_a_query_without_original_that_gets_linked_counts_against_precision() -> None:
    items = read_pool(POOL)
    queries = read_queries(QUERIES)
    ranked = rank_all(queries, title_ranker(items))
    # Linking everything at 0 makes every query a link; the unlabelled ones are wrong links.
    scores = evaluate(queries, ranked, "baseline", decide=threshold_decide(0, 0))
    assert scores.links == len(queries)
    assert scores.link_precision < 1.0


def _shared_split(shared_dir: Path, split: str) -> tuple[Scores, Scores]:
    data = splits.select(splits.load(
        [shared_dir / "corpus" / "dedup-train.jsonl", shared_dir / "eval" / "dedup-dev.jsonl"],
        [shared_dir / "corpus" / "dedup-train-pool.jsonl",
         shared_dir / "eval" / "dedup-dev-pool.jsonl"]), split)  # type: ignore[arg-type]
    d = DedupConfig()
    pm = PoolMatcher(data.pool, link_threshold=d.link_threshold,
                     review_threshold=d.review_threshold, closed_within_days=d.closed_within_days)
    main = evaluate(data.queries, rank_all(data.queries, pm.rank), "docsgap", decide=partial(
        decide, link_threshold=d.link_threshold, review_threshold=d.review_threshold,
        related=pm.related), exists=pm.original_exists)
    tfidf = evaluate(data.queries, rank_all(data.queries, tfidf_ranker(data.pool)), "tfidf",
                     decide=threshold_decide(50, 50), exists=pm.original_exists)
    return main, tfidf


@pytest.mark.shared
def test_shared_splits_are_by_owner_and_the_ranker_beats_tfidf(shared_dir: Path) -> None:
    """Floors under what the fitted ranker does on the shared splits (RANKER.md): recall@1
    dev 0.85 (17 of 20), frozen test 0.667 (14 of 21); recall@5 0.95 both; every automatic
    link right (10 on dev, 4 on test)."""
    owners = {s: {splits.owner(q.project or "") for q in splits.select(splits.load(
        [shared_dir / "corpus" / "dedup-train.jsonl", shared_dir / "eval" / "dedup-dev.jsonl"],
        []), s).queries} for s in splits.SPLITS}
    assert not (owners["train"] & owners["dev"] or owners["train"] & owners["test"]
                or owners["dev"] & owners["test"])
    for split in ("dev", "test"):
        main, tfidf = _shared_split(shared_dir, split)
        assert main.recall1 >= 0.6 and main.recall5 >= 0.9, (split, main.misses)
        assert main.link_precision == 1.0 and main.links >= 3
        assert main.recall1 >= tfidf.recall1


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _item(n: int, title: str, day: int | None, body: str) -> dict[str, object]:
    row: dict[str, object] = {"url": f"https://gitlab.test/g/p/-/issues/{n}", "repo": "g/p",
                              "title": title, "body": body, "state": "closed"}
    if day is not None:
        row["created_at"] = f"2025-03-{day:02d}T10:00:00Z"
    return row


@pytest.mark.parametrize("dated", [True, False])
def test_replay_hides_later_items_and_recency_counts_from_the_report(
        tmp_path: Path, dated: bool) -> None:
    # Two equal old reports of an outage and one a day before the query: the burst wins;
    # replayed, the report filed after the query does not exist yet.
    pool = _write(tmp_path / "pool.jsonl", [
        # The same words in other orders (identical text would be learned as a template).
        _item(10, "Docs site is down", 1 if dated else None, "Install page is unreachable."),
        _item(400, "Down: the docs site", 20 if dated else None, "Unreachable: the install page."),
        _item(402, "The docs site is down", 22 if dated else None, "Install page, unreachable."),
    ])
    query = {"id": "q", "repo": "g/p", "duplicate_of": "https://gitlab.test/g/p/-/issues/400",
             "query": {"url": "https://gitlab.test/g/p/-/issues/401", "title": "docs site down",
                       "body": "Cannot open it: unreachable."}}
    if dated:
        query["created_at"] = "2025-03-21T09:00:00+00:00"
    queries = read_queries(_write(tmp_path / "q.jsonl", [query]))
    items = read_pool(pool)
    replayed = PoolMatcher(items, link_threshold=80, review_threshold=60, closed_within_days=365)
    [cands] = rank_all(queries, replayed.rank)
    assert [c.url.rsplit("/", 1)[1] for c in cands] == ["400", "10"]
    whole = PoolMatcher(items, link_threshold=80, review_threshold=60, closed_within_days=365,
                        replay=False)
    [cands] = rank_all(queries, whole.rank)
    assert {c.url.rsplit("/", 1)[1] for c in cands[:2]} == {"400", "402"}  # both in the burst
    assert cands[2].url.endswith("/10")
    assert dict(cands[0].fields)["recent"] > dict(cands[2].fields)["recent"]


def test_dated_query_needs_an_iso_time(tmp_path: Path) -> None:
    bad = _write(tmp_path / "q.jsonl", [{"id": "q", "created_at": "yesterday",
                                         "query": {"title": "t", "body": "b"}}])
    with pytest.raises(ConfigError, match=r"q.jsonl:1: created_at 'yesterday'"):
        read_queries(bad)


def test_same_day_dates_are_ordered_by_item_number(tmp_path: Path) -> None:
    # Labelled sets often date reports to the day: an original filed earlier the same day
    # (lower number) was there to be found, the report itself and later numbers were not.
    url = "https://example.org/acme/docs/issues/"
    pool = [{"url": url + str(n), "repo": "acme/docs", "title": title, "body": body,
             "state": "open", "created_at": "2024-05-02"}
            for n, title, body in ((10, "Install page returns 404",
                                    "The install guide link on the home page is broken."),
                                   (12, "Install page 404 again",
                                    "Same broken install guide link, still 404."))]
    query = {"id": "q", "repo": "acme/docs", "duplicate_of": url + "10",
             "query": {"url": url + "11", "title": "Install guide link broken (404)",
                       "body": "The home page links the install guide, which is a 404.",
                       "created_at": "2024-05-02"}}
    [q] = read_queries(_write(tmp_path / "q.jsonl", [query]))
    pm = PoolMatcher(read_pool(_write(tmp_path / "p.jsonl", pool)), link_threshold=80,
                     review_threshold=20, closed_within_days=3650)
    assert pm.original_exists(q)
    assert [c.url for c in pm.rank(q)] == [url + "10"]


def test_link_precision_without_links_is_shown_as_undefined_not_perfect() -> None:
    from docsgap.dedupe.evalreport import render_text

    linking = Scores("docsgap", [Outcome(True, 1, True, True, "o/a"),
                                 Outcome(True, 2, False, False, "o/b")])
    silent = Scores("title", [Outcome(True, 1, False, False, "o/a"),
                              Outcome(True, 3, False, False, "o/b")])
    text = render_text(linking, [silent], threshold=70, sweep=[(90.0, silent)])
    row = next(line for line in text.splitlines() if line.startswith("link_precision"))
    assert "1.000" in row and "- (no links)" in row
    assert "90%: 0 links, precision -," in text
