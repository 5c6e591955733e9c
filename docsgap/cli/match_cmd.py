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
from docsgap.dedupe.baselines import (
    TFIDF_LINK,
    TITLE_LINK,
    tfidf_ranker,
    threshold_decide,
    title_ranker,
)
from docsgap.dedupe.evalreport import render_text, to_json
from docsgap.dedupe.evaluate import PoolMatcher, read_pool, read_queries, result_json
from docsgap.dedupe.matcher import decide
from docsgap.dedupe.ranker import load_ranker, ranker_file
from docsgap.dedupe.scoring import DecideFn, Scores, evaluate, rank_all
from docsgap.errors import ConfigError, ExitCode
from docsgap.models import Candidate

POOL_OPT = typer.Option(
    ..., "--pool", "-p",
    help='JSON lines of issues/MRs: {"url", "title", "body", "state", "docs_url"} '
         '(optional "repo", "labels", "created_at", "closed_as_duplicate_of", '
         '"confidential": a confidential issue is never linked without a person).',
)
CONFIG_OPT = typer.Option(None, "--config", "-c",
                          help="docsgap.toml to read [dedup] thresholds and rules_dirs (a "
                          "ranker.json there replaces the shipped weights) from.")
NO_REPLAY_OPT = typer.Option(
    False, "--no-replay",
    help="Match every query against the whole pool, even items filed after the query.",
)
SWEEP = (50.0, 60.0, 70.0, 80.0, 90.0)
EXTRA_QUERIES_OPT = typer.Option(
    [], "--extra-queries", metavar="FILE",
    help="Extra labelled duplicates kept outside the repository (as --queries): train only, "
         "whatever the hash of their owners says.",
)
EXTRA_POOL_OPT = typer.Option([], "--extra-pool", metavar="FILE",
                              help="The extra duplicates' pools.")


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
            TRAIN_QUERIES, "--queries", "-q", metavar="FILE",
            help="Labelled duplicates (JSON lines, as for eval dedup); split by owner.",
        ),
        pools: list[Path] = typer.Option(TRAIN_POOLS, "--pool", "-p", metavar="FILE",
                                         help="Their pools."),
        extra_queries: list[Path] = EXTRA_QUERIES_OPT,
        extra_pools: list[Path] = EXTRA_POOL_OPT,
        verdicts: Path | None = typer.Option(
            None, "--verdicts",
            help="The team's review verdicts (docsgap train verdicts' dedup-verdicts.jsonl), "
                 "folded into training.",
        ),
        output: Path = typer.Option(
            ..., "--output", "-o", metavar="FILE", help="Where to write the weights (JSON), "
            "e.g. my-rules/ranker.json: a ranker.json in a rules directory (rules_dirs) "
            "replaces the shipped one. Never a default: the shipped docsgap/dedupe/ranker.json "
            "inside the installed package is only replaced when named."),
        date: str = typer.Option("", "--date", help="The date the card records."),
    ) -> None:
        """Fit the dedup ranker on the train split of the labelled duplicates (plus review
        verdicts), choose its link threshold on the dev split, write the weights. The same
        data gives the same file."""
        data = splits.load(queries, pools, extra_queries, extra_pools)
        dev = splits.select(data, "dev")
        ranker = dedupe_train.train(splits.select(data, "train"), dev, verdicts=verdicts,
                                    date=date)
        with common.writing(output):
            dedupe_train.write(ranker, output)
        weights = ", ".join(f"{k} {v:+.2f}" for k, v in ranker.to_json()["weights"].items())
        chosen = (f"chosen on the dev split's {len(dev.queries)} queries" if dev.queries else
                  "no dev queries: the highest, most careful one")
        typer.echo(f"wrote {output}: bias {ranker.bias:+.2f}, {weights}; link threshold "
                   f"{ranker.link_threshold:g} ({chosen})")

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
        as_json: bool = common.JSONL_OPT,
    ) -> None:
        """Match each query against the pool and write one JSON line per query: the decision
        (link, review, new), the best item and the ranked candidates with their explanation
        (score per field, shared words, page match). A query that names its project (repo)
        is matched within it, against the items filed before it (its created_at when the pool
        is dated, else its number in query.url); recency counts from that time."""
        cfg = load_config(config)
        d = cfg.dedup
        matcher = PoolMatcher(
            read_pool(pool), link_threshold=d.link_threshold,
            review_threshold=d.review_threshold, closed_within_days=d.closed_within_days,
            replay=not no_replay, ranker=load_ranker(ranker_file(cfg.rules_dirs)),
        )
        text = "".join(
            json.dumps(result_json(q.id, matcher.match(q)), ensure_ascii=False) + "\n"
            for q in read_queries(input_path)
        )
        common.write_or_echo(text, output)

    @groups.eval.command("dedup")
    @common.handle_errors
    def eval_dedup(
        queries: list[Path] = typer.Option(
            ..., "--queries", "-q", metavar="FILE",
            help='JSON lines: {"id", "query": {...}, "duplicate_of"} (null: expect "new"); '
                 "repeat for several files.",
        ),
        pools: list[Path] = typer.Option(
            ..., "--pool", "-p", metavar="FILE",
            help="Their pools (JSON lines, as for match); repeatable."
        ),
        split: str | None = typer.Option(
            None, "--split",
            help="Only the queries of this split (train, dev, test: by repository owner, "
                 "docsgap/dedupe/splits.json) and their owners' pool items.",
        ),
        by_repo: bool = typer.Option(
            False, "--by-repo",
            help="Bootstrap whole repositories rather than queries (wider, honest intervals "
                 "when a few repositories hold most queries).",
        ),
        extra_queries: list[Path] = EXTRA_QUERIES_OPT,
        extra_pools: list[Path] = EXTRA_POOL_OPT,
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
        """Score deduplication on labelled queries: recall@1, recall@5 and MRR over the queries
        whose original existed when they were filed, the precision of automatic links and the
        share of those queries linked without a person, each with a 95% bootstrap interval,
        beside two baselines (rapidfuzz on titles, linking at 90; TF-IDF cosine over title and
        body, linking at 50%)."""
        cfg = load_config(config)
        d = cfg.dedup
        data = splits.load(queries, pools, extra_queries, extra_pools)
        if split is not None:
            if split not in splits.SPLITS:
                raise ConfigError(f"--split {split!r}: expected one of "
                                  f"{', '.join(splits.SPLITS)}")
            data = splits.select(data, split)
        items, records = data.pool, data.queries
        if not records:  # figures over nothing printed an empty table and exit 0
            raise ConfigError("no labelled queries in "
                              + ", ".join(str(q) for q in queries)
                              + (f" (split {split})" if split else ""))
        matcher = PoolMatcher(
            items, link_threshold=d.link_threshold, review_threshold=d.review_threshold,
            closed_within_days=d.closed_within_days, replay=not no_replay,
            ranker=load_ranker(ranker_file(cfg.rules_dirs)),  # what a run with -c uses
        )
        ranked = rank_all(records, matcher.rank)

        def scores(name: str, ranks: list[list[Candidate]], decider: DecideFn) -> Scores:
            return evaluate(records, ranks, name, decide=decider, exists=matcher.original_exists)

        main = scores("docsgap", ranked, partial(
            decide, link_threshold=d.link_threshold, review_threshold=d.review_threshold,
            related=matcher.related))
        sweep = [
            (t, scores("docsgap", ranked, partial(
                decide, link_threshold=t, review_threshold=min(t, d.review_threshold),
                related=matcher.related)))
            for t in SWEEP
        ]
        replay = not no_replay
        bases = [
            scores("title", rank_all(records, title_ranker(items, replay=replay)),
                   threshold_decide(TITLE_LINK, TITLE_LINK)),
            scores("tfidf", rank_all(records, tfidf_ranker(items, replay=replay)),
                   threshold_decide(TFIDF_LINK, TFIDF_LINK)),
        ]
        if as_json:
            common.echo_json(to_json(main, bases, threshold=d.link_threshold, sweep=sweep,
                                     by_group=by_repo))
        else:
            typer.echo(render_text(main, bases, threshold=d.link_threshold, sweep=sweep,
                                   by_group=by_repo))
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
