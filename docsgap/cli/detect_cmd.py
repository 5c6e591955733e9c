"""`docsgap detect`, `docsgap eval detect`, `docsgap rules check|list`: detection from the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from docsgap import compose
from docsgap.cli import common
from docsgap.cli.run_cmd import CONFIG_OPT, STATE_OPT, load
from docsgap.detect.detector import Detector
from docsgap.detect.evalreport import render_text, to_json
from docsgap.detect.evaluate import (
    Record,
    baseline_predict,
    detector_predict,
    evaluate,
    read_records,
    split_records,
)
from docsgap.detect.examples import failing_examples
from docsgap.detect.model import read_model, save_model
from docsgap.detect.rules import load_rules
from docsgap.detect.ruleset import RuleSet
from docsgap.detect.split import SPLITS, default_shared
from docsgap.errors import ConfigError, ExitCode, UsageError
from docsgap.models import Detection
from docsgap.review.verdicts import DEDUP_FILE, DETECT_FILE, write_verdicts
from docsgap.state import StateStore

MODEL_OPT = typer.Option(
    None, "--model", help="A detection model file (from `docsgap train detect`) instead of the "
    "one in a rules directory or shipped with docsgap.")
RULES_CHECK_OPT = typer.Option(
    None, "--rules", metavar="DIR", help="Rules directory to check with the shipped rules "
    "(repeatable) [default: rules_dirs from docsgap.toml].")
NO_MODEL_OPT = typer.Option(
    False, "--no-model", help="The rules alone, without the learned scorer.")


def make_detector(rules: list[Path] | None, model: Path | None = None,
                  no_model: bool = False) -> Detector:
    """The detector the flags ask for: rules, plus the chosen (or default) model."""
    ruleset = load_rules(rules or ())
    if no_model:
        return Detector(ruleset, None)
    return Detector(ruleset, read_model(model)) if model else Detector(ruleset)


def need_train_extra() -> None:
    """Stop before the data is read when the `train` extra is missing (its modules are
    imported deep inside fitting, which used to end in a traceback)."""
    try:
        import scipy.sparse  # noqa: F401
        import sklearn.linear_model  # noqa: F401
    except ImportError:
        raise ConfigError("training needs scikit-learn and scipy (the `train` extra)",
                          hint="pip install 'docsgap[train]'") from None


RULES_OPT = typer.Option(
    None,
    "--rules",
    metavar="DIR",
    help="Extra rules directory (repeatable); a file named like a shipped one replaces it.",
)


def detection_json(record_id: str, detection: Detection) -> dict[str, Any]:
    """One output line of `docsgap detect`."""
    return {
        "id": record_id,
        "is_gap": detection.is_gap,
        "gap_type": detection.gap_type.value if detection.gap_type else None,
        "score": detection.score,
        "rules": list(detection.rules),
        "evidence": [
            {"rule_id": e.rule_id, "text": e.text, "matched": e.matched}
            for e in detection.evidence
        ],
        "docs_urls": [p.url for p in detection.pages],
        "doc_paths": [p.path for p in detection.pages if p.path],
    }


def _example_count(ruleset: RuleSet) -> int:
    examples = [r.examples for r in ruleset.rules]
    examples += [c.examples for c in ruleset.cancellers.values()]
    count = sum(len(e.match) + len(e.no_match) for e in examples)
    return count + len(ruleset.docs_examples.match) + len(ruleset.docs_examples.no_match)


def _eval_records(dataset: Path | None, split: str | None, shared: Path | None) -> list[Record]:
    if (dataset is None) == (split is None):
        raise UsageError("give either --dataset FILE or --split train|dev|test")
    if split is not None:
        if split not in SPLITS:
            raise UsageError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
        return split_records(shared or default_shared(), split)
    assert dataset is not None
    records = list(read_records(dataset, labelled=True))
    if not records:  # figures over nothing printed an empty table and exit 0
        raise ConfigError(f"{dataset}: no labelled records (JSON lines)")
    return records


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `detect`, `eval detect`, `rules check` and `rules list`."""

    @app.command()
    @common.handle_errors
    def detect(
        input_path: Path = typer.Option(
            ..., "--input", "-i", help='JSON lines: {"id", "title", "text"} (HTML or Markdown).'
        ),
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Write the results here instead of stdout."
        ),
        rules: list[Path] | None = RULES_OPT,
        model: Path | None = MODEL_OPT,
        no_model: bool = NO_MODEL_OPT,
        as_json: bool = common.JSONL_OPT,
    ) -> None:
        """Detect docs gaps in each record and write one JSON line per record (id, is_gap,
        gap_type, score, rules, evidence, docs_urls, doc_paths). A record with "kind": "comment"
        or "reply" is judged without the title, which belongs to the thread's first message.
        The learned scorer's evidence has rule id `model`: the sentence that carried the score,
        and in `matched` its probability and the words that weighed most."""
        detector = make_detector(rules, model, no_model)
        lines = [
            json.dumps(detection_json(
                r.id, detector.detect_text(r.own_title, r.text, context=r.context)),
                ensure_ascii=False)
            for r in read_records(input_path, labelled=False)
        ]
        text = "".join(f"{line}\n" for line in lines)
        common.write_or_echo(text, output)

    @groups.eval.command("detect")
    @common.handle_errors
    def eval_detect(
        dataset: Path | None = typer.Option(
            None, "--dataset", "-d", help="JSON lines with id, title, text, label (docs_gap or "
            "not_docs_gap), gap_type (kind and source_url are used when present)."),
        split: str | None = typer.Option(
            None, "--split", help="Instead of --dataset: one split (train, dev, test) of every "
            "labelled detection file under --shared, split by site."),
        shared: Path | None = typer.Option(
            None, "--shared", help="The shared data directory for --split (default ../shared)."),
        min_f1: float | None = typer.Option(
            None, "--min-f1", help="Exit 8 (check failed) when the overall F1 is below this."
        ),
        errors: int = typer.Option(30, "--errors", help="Show at most this many false "
                                   "positives and false negatives each."),
        as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
        rules: list[Path] | None = RULES_OPT,
        model: Path | None = MODEL_OPT,
        no_model: bool = NO_MODEL_OPT,
    ) -> None:
        """Score detection on labelled records: precision, recall and F1 with 95% bootstrap
        intervals, overall, per source (forum, tracker) and per gap type, beside the naive
        baseline (a docs word plus a complaint word); then the gap-type confusion and the false
        positives/negatives with their evidence."""
        records = _eval_records(dataset, split, shared)
        detector = make_detector(rules, model, no_model)
        main = evaluate(records, detector_predict(detector), "docsgap")
        baseline = evaluate(records, baseline_predict, "baseline")
        if as_json:
            common.echo_json(to_json(main, baseline))
        else:
            typer.echo(render_text(main, baseline, errors=errors))
        if min_f1 is not None and main.overall.f1 < min_f1:
            typer.echo(f"F1 {main.overall.f1:.3f} is below --min-f1 {min_f1:g}", err=True)
            raise typer.Exit(int(ExitCode.CHECK_FAILED))

    @groups.train.command("detect")
    @common.handle_errors
    def train_detect(
        shared: Path | None = typer.Option(
            None, "--shared", help="The shared data directory (default ../shared): its "
            "labelled detection files, split by site."),
        verdicts: Path | None = typer.Option(
            None, "--verdicts", help="Also learn from the team's review verdicts (the "
            "detect-verdicts.jsonl that `docsgap train verdicts` writes)."),
        extra: list[Path] = typer.Option(
            [], "--extra", metavar="FILE", help="Also fit on these labelled messages (the "
            "detect-dev.jsonl format, each with a source_url; repeat for several files); any "
            "from a test site are left out. The shipped model used "
            "../shared-local/detect-extra-all.jsonl, detect-extra-forum3.jsonl and "
            "detect-extra-forum4.jsonl (see its model card)."),
        output: Path = typer.Option(
            ..., "--output", "-o", metavar="FILE", help="Where to write the model, e.g. "
            "my-rules/detect-model.json.gz (never a default: the shipped one inside the "
            "installed package is only replaced when named); its card goes beside it as "
            "MODEL_CARD.md."),
    ) -> None:
        """Fit the learned detection scorer. Every setting (regularisation, character n-gram
        weight, thread-title context, row weighting, threshold) is chosen by cross-validation
        grouped by site over the train and dev splits (plus --extra, --verdicts); the chosen
        settings are then fitted on all of them. The test split is never read: report it once
        with `eval detect --split test`. Deterministic. Needs the `train` extra (scikit-learn).
        Put the file in a rules directory (`rules_dirs`, `--rules`) as detect-model.json.gz to
        use it instead of the shipped one."""
        need_train_extra()
        from docsgap.detect.card import write_card
        from docsgap.detect.train import train

        result = train(shared or default_shared(), verdicts=verdicts, extra=extra,
                       log=lambda m: typer.echo(m, err=True))
        with common.writing(output):
            save_model(result.model, output)
            card = write_card(result.model, output.parent / "MODEL_CARD.md")
        typer.echo(card)
        typer.echo(f"wrote {output} ({output.stat().st_size / 1e3:.0f} kB)", err=True)

    @groups.train.command("detect-effect")
    @common.handle_errors
    def train_detect_effect(
        new: list[Path] = typer.Argument(..., metavar="NEW.jsonl",
                                         help="The labelled messages to judge (the "
                                         "detect-dev.jsonl format, each with a source_url)."),
        shared: Path | None = typer.Option(
            None, "--shared", help="The shared data directory (default ../shared)."),
        extra: list[Path] = typer.Option(
            [], "--extra", metavar="FILE",
            help="Labelled messages both sides fit on (as `train detect`)."),
    ) -> None:
        """What NEW adds before anyone refits on it: train + dev + extra + NEW scored out of
        fold (site folds) by models fitted with and without NEW, with the shipped model's
        settings; F1 of both and their paired site-bootstrap difference with its 95% interval,
        per source and for the new rows, at the shipped threshold (`fixed`) and at each side's
        own out-of-fold threshold (`chosen`). Writes nothing. Needs the `train` extra."""
        need_train_extra()
        from docsgap.detect.effect import data_effect

        effect = data_effect(shared or default_shared(), new, extra=extra)
        for line in effect.lines():
            typer.echo(line)

    @groups.train.command("rules-effect")
    @common.handle_errors
    def train_rules_effect(
        variant: list[Path] = typer.Argument(..., metavar="VARIANT_DIR",
                                             help="Rules directories of the variant "
                                             "(read over the shipped rules, as --rules)."),
        base: list[Path] = typer.Option(
            [], "--base", metavar="DIR", help="Rules directories of the side to compare "
            "against (default: the shipped rules)."),
        shared: Path | None = typer.Option(
            None, "--shared", help="The shared data directory (default ../shared)."),
        extra: list[Path] = typer.Option(
            [], "--extra", metavar="FILE", help="Labelled messages both sides fit on and are "
            "scored on (as "
            "`train detect`; a message in two files counts once)."),
    ) -> None:
        """What a rules change does to the learned scorer before it ships: train + dev +
        extra scored out of fold (site folds, the same for both) by models refitted per fold
        on each side's rule features, the shipped model's settings; F1 and precision of both
        and their paired site-bootstrap differences with 95% intervals, per source and on the
        rows whose rule hits differ, at the shipped threshold (`fixed`) and at each side's own
        out-of-fold threshold (`chosen`). The test split is never read. Writes nothing. Needs
        the `train` extra."""
        need_train_extra()
        from docsgap.detect.effect import rules_effect

        effect = rules_effect(shared or default_shared(), variant, base=base, extra=extra)
        for line in effect.lines():
            typer.echo(line)

    @groups.train.command("verdicts")
    @common.handle_errors
    def train_verdicts(
        output: Path = typer.Option(..., "--output", "-o", help="Directory to write "
                                    "detect-verdicts.jsonl and dedup-verdicts.jsonl into."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
    ) -> None:
        """Export the team's review verdicts as labelled data: accepted signals as docs gaps,
        rejected ones as not (detect-verdicts.jsonl, the detect-dev.jsonl format, for
        `train detect --verdicts`), and each reviewed evidence note as a same/not-same pair
        (dedup-verdicts.jsonl). Reads the state only."""
        cfg = load(config, state)
        store = StateStore(cfg.state_path)
        try:
            with common.writing(output, "a folder"):
                exported = write_verdicts(store, output)
        finally:
            store.close()
        gaps = sum(r["label"] == "docs_gap" for r in exported.detect)
        typer.echo(f"{len(exported.detect)} detection records ({gaps} docs gaps) -> "
                   f"{output / DETECT_FILE}; {len(exported.dedup)} dedup pairs -> "
                   f"{output / DEDUP_FILE}")

    @groups.rules.command("check")
    @common.handle_errors
    def rules_check(
        rules: list[Path] | None = RULES_CHECK_OPT,
        templates: Path | None = typer.Option(
            None, "--templates", help="Templates directory to check with the shipped ones "
            "[default: templates_dir from docsgap.toml]."),
        config: Path | None = CONFIG_OPT,
        as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON: ok, "
                                     "counts, template problems, failing examples."),
    ) -> None:
        """Validate every rules file and the outbound-text templates (problems as
        file:line: message, exit 4), then run every rule's examples (failures exit 8). By
        default it checks what `docsgap run` loads: docsgap.toml's rules_dirs and
        templates_dir."""
        if not rules or templates is None:
            cfg = load(config)
            rules = rules or list(cfg.rules_dirs)
            templates = cfg.templates_dir if templates is None else templates
        ruleset = load_rules(rules or ())
        template_problems = compose.check_templates(templates)
        failures = [] if template_problems else failing_examples(ruleset)
        if as_json:
            common.echo_json({
                "ok": not template_problems and not failures, "rules": len(ruleset.rules),
                "cancellers": len(ruleset.cancellers), "examples": _example_count(ruleset),
                "files": len(ruleset.files), "template_problems": template_problems,
                "failing_examples": [str(f) for f in failures]})
        for problem in template_problems:
            typer.echo(problem, err=True)
        if template_problems:
            typer.echo(f"error: {len(template_problems)} problem(s) in templates", err=True)
            raise typer.Exit(int(ExitCode.RULES))
        for failure in failures:
            typer.echo(failure, err=True)
        if failures:
            typer.echo(f"error: {len(failures)} example(s) failed", err=True)
            raise typer.Exit(int(ExitCode.CHECK_FAILED))
        if not as_json:
            typer.echo(
                f"OK: {len(ruleset.rules)} rules, {len(ruleset.cancellers)} cancellers, "
                f"{_example_count(ruleset)} examples in {len(ruleset.files)} files; templates "
                "OK")

    @groups.rules.command("list")
    @common.handle_errors
    def rules_list(
        rules: list[Path] | None = RULES_OPT,
        as_json: bool = typer.Option(False, "--json", help="Print the rules as JSON."),
    ) -> None:
        """List the loaded rules: id, gap type, weight, docs proximity and where each lives."""
        ruleset = load_rules(rules or ())
        rows = [
            {"id": r.id, "gap_type": r.gap_type.value, "weight": r.weight,
             "near_docs": r.near_docs, "cancel": [c.id for c in r.cancel], "where": r.where,
             "description": r.description}
            for r in ruleset.rules
        ]
        if as_json:
            common.echo_json(rows)
            return
        for row in rows:
            near = row["near_docs"] or "-"
            typer.echo(f"{row['id']:<38} {row['gap_type']:<12} {row['weight']:<4g} "
                       f"{near!s:<9} {row['description']}")
