"""`docsgap match`, `docsgap eval dedup` and `docsgap train dedup`: deduplication from the CLI, on
JSON-lines files."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import typer

from docsgap.cli import common
from docsgap.config import load_config
from docsgap.dedupe import splits
from docsgap.dedupe import train as dedupe_train
from docsgap.dedupe.evaluate import (
    PoolMatcher,
    baseline_decide,
    baseline_ranker,
    evaluate,
    rank_all,
    read_pool,
    read_queries,
    render_text,
    result_json,
    to_json,
)
from docsgap.dedupe.matcher import decide
from docsgap.dedupe.ranker import RANKER_FILE
from docsgap.errors import ExitCode

POOL_OPT = typer.Option(
    ..., "--pool", "-p",
    help='JSON lines of issues/MRs: {"url", "title", "body", "state", "docs_url"} '
         '(optional "repo", "labels", "created_at", "closed_as_duplicate_of").',
)
CONFIG_OPT = typer.Option(None, "--config", help="docsgap.toml to read [dedup] thresholds from.")
NO_REPLAY_OPT = typer.Option(
    False, "--no-replay",
    help="Match every query against the whole pool, even items filed after the query.",
)
SWEEP = (60.0, 70.0, 80.0, 90.0)


SHARED = Path("..") / "shared"
TRAIN_QUERIES = [SHARED / "corpus" / "dedup-train.jsonl", SHARED / "eval" / "dedup-dev.jsonl"]
TRAIN_POOLS = [SHARED / "corpus" / "dedup-train-pool.jsonl",
               SHARED / "eval" / "dedup-dev-pool.jsonl"]


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `match`, `eval dedup` and `train dedup`."""

    @groups.train.command("dedup")
    @common.handle_errors
    def train_dedup(
        queries: list[Path] = typer.Option(
            TRAIN_QUERIES, "--queries", "-q",
            help="Labelled duplicates (JSON lines, as for eval dedup); split by owner.",
        ),
        pools: list[Path] = typer.Option(TRAIN_POOLS, "--pool", "-p", help="Their pools."),
        verdicts: Path | None = typer.Option(
            None, "--verdicts",
            help="The team's review verdicts (docsgap train verdicts' dedup-verdicts.jsonl), "
                 "folded into training.",
        ),
        output: Path = typer.Option(
            RANKER_FILE, "--output", "-o", help="Where to write the weights (JSON)."
        ),
        date: str = typer.Option("", "--date", help="The date the card records."),
    ) -> None:
        """Fit the dedup ranker on the train split of the labelled duplicates (plus review
        verdicts), choose its link threshold on the dev split, write the weights. The same
        data gives the same file."""
        data = splits.load(queries, pools)
        ranker = dedupe_train.train(splits.select(data, "train"), splits.select(data, "dev"),
                                    verdicts=verdicts, date=date)
        dedupe_train.write(ranker, output)
        weights = ", ".join(f"{k} {v:+.2f}" for k, v in ranker.to_json()["weights"].items())
        typer.echo(f"wrote {output}: bias {ranker.bias:+.2f}, {weights}; link threshold "
                   f"{ranker.link_threshold:g} (chosen on dev)")

    @app.command()
    @common.handle_errors
    def match(
        pool: Path = POOL_OPT,
        input_path: Path = typer.Option(
            ..., "--input", "-i",
            help='JSON lines: {"id", "query": {"title", "body", "docs_url"}} (optional '
                 '"repo", "query.url", "created_at").',
        ),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the results here instead of stdout."
        ),
        config: Path | None = CONFIG_OPT,
        no_replay: bool = NO_REPLAY_OPT,
    ) -> None:
        """Match each query against the pool and write one JSON line per query: the decision
        (link, review, new), the best item and the ranked candidates with their explanation
        (score per field, shared words, page match). A query that names its project (repo)
        is matched within it, against the items filed before it (its created_at when the pool
        is dated, else its number in query.url); recency counts from that time."""
        d = load_config(config).dedup
        matcher = PoolMatcher(
            read_pool(pool), link_threshold=d.link_threshold,
            review_threshold=d.review_threshold, closed_within_days=d.closed_within_days,
            replay=not no_replay,
        )
        text = "".join(
            json.dumps(result_json(q.id, matcher.match(q)), ensure_ascii=False) + "\n"
            for q in read_queries(input_path)
        )
        common.write_or_echo(text, output)

    @groups.eval.command("dedup")
    @common.handle_errors
    def eval_dedup(
        queries: Path = typer.Option(
            ..., "--queries", "-q",
            help='JSON lines: {"id", "query": {...}, "duplicate_of"} (null: expect "new").',
        ),
        pool: Path = POOL_OPT,
        config: Path | None = CONFIG_OPT,
        as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
        min_recall1: float | None = typer.Option(
            None, "--min-recall1", help="Exit 8 (check failed) when recall@1 is below this."
        ),
        min_link_precision: float | None = typer.Option(
            None, "--min-link-precision",
            help="Exit 8 when the precision of link decisions is below this.",
        ),
        no_replay: bool = NO_REPLAY_OPT,
    ) -> None:
        """Score deduplication on labelled queries: recall@1, recall@5, MRR, and the precision
        and recall of `link` decisions at the configured threshold (plus a few others), beside
        a naive baseline (rapidfuzz on titles only)."""
        d = load_config(config).dedup
        items = read_pool(pool)
        records = read_queries(queries)
        matcher = PoolMatcher(
            items, link_threshold=d.link_threshold, review_threshold=d.review_threshold,
            closed_within_days=d.closed_within_days, replay=not no_replay,
        )
        ranked = rank_all(records, matcher.rank)
        main = evaluate(records, ranked, "docsgap", decide=partial(
            decide, link_threshold=d.link_threshold, review_threshold=d.review_threshold,
            related=matcher.related))
        sweep = [
            (t, evaluate(records, ranked, "docsgap", decide=partial(
                decide, link_threshold=t, review_threshold=min(t, d.review_threshold),
                related=matcher.related)))
            for t in SWEEP
        ]
        base_ranked = rank_all(records, baseline_ranker(items, replay=not no_replay))
        base = evaluate(records, base_ranked, "baseline",
                        decide=baseline_decide(d.link_threshold, d.review_threshold))
        if as_json:
            common.echo_json(to_json(main, base, threshold=d.link_threshold, sweep=sweep))
        else:
            typer.echo(render_text(main, base, threshold=d.link_threshold, sweep=sweep))
        failed = []
        if min_recall1 is not None and main.recall1 < min_recall1:
            failed.append(f"recall@1 {main.recall1:.3f} is below --min-recall1 {min_recall1:g}")
        if min_link_precision is not None and main.link_precision < min_link_precision:
            failed.append(f"link precision {main.link_precision:.3f} is below "
                          f"--min-link-precision {min_link_precision:g}")
        for line in failed:
            typer.echo(line, err=True)
        if failed:
            raise typer.Exit(int(ExitCode.CHECK_FAILED))
