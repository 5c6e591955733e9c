"""`docsgap docs sync|search|status` (the local index of the docs pages) and `docsgap eval
suggest` (docs-first suggestions scored on labelled questions)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from docsgap.cli import common
from docsgap.cli.run_cmd import CONFIG_OPT, STATE_OPT, load
from docsgap.docpages.pages import load_docs_map
from docsgap.docs import evaluate, gate, gatetrain
from docsgap.docs.service import load_index, sync_docs
from docsgap.docs.store import DocsStore, SourceState
from docsgap.errors import ConfigError, ExitCode, UsageError
from docsgap.state import StateStore


def _state_exists(path: Path) -> bool:
    """Whether there is a state to read: `docs status` and `docs search` only read, so where
    there is none they say the index is empty instead of creating one in the current folder."""
    return str(path) == ":memory:" or Path(path).exists()


def _ranked(dataset: Path, docs: list[str], rules: list[Path] | None,
            rules_dirs: tuple[Path, ...], all_projects: bool
            ) -> tuple[list[evaluate.Ranked], list[evaluate.Labelled]]:
    """The labelled questions ranked in an index of `docs` trees (PROJECT=PATH or PATH)."""
    trees = [(p.split("=", 1)[0], Path(p.split("=", 1)[1])) if "=" in p
             else ("gitlab-org/gitlab", Path(p)) for p in docs]
    index = evaluate.build_index(trees, load_docs_map((*rules_dirs, *(rules or ()))))
    return evaluate.rank(index, evaluate.read_labelled(dataset), by_project=not all_projects)


DATASET_OPT = typer.Option(
    ..., "--dataset", "-d",
    help='JSON lines: {"id", "title", "text", "gold_url", "source_url"}: a question and the docs '
         "page its accepted answer linked.")
DOCS_OPT = typer.Option(
    ..., "--docs", metavar="[PROJECT=]PATH",
    help="A docs checkout to index, as PROJECT=PATH (the repository root holding its docs "
         "folder) or PATH for gitlab-org/gitlab; repeatable. Keep real docs outside the "
         "repository.")
RULES_OPT = typer.Option(
    None, "--rules", metavar="DIR",
    help="A rules directory whose docs-map.yml places the projects (other_sites for docs that are "
         "not GitLab's); repeatable, after the config's rules_dirs.")


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `docs sync`, `docs search`, `docs status` and `eval suggest`."""

    @groups.docs.command("sync")
    @common.handle_errors
    def sync(
        path: Path | None = typer.Option(
            None, "--path", help="A local checkout (repository root) to index instead of "
            "downloading; holds exactly one project."),
        project: list[str] | None = typer.Option(
            None, "--project", metavar="PROJECT",
            help="Docs project to sync (repeatable; default docs.projects)."),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
    ) -> None:
        """Bring the local docs index up to date. From GitLab: one request when the docs folder
        has no new commit since the last sync, and one download of the folder (the repository
        archive API) when it has. Only changed pages are parsed and written."""
        cfg = load(config, state)
        if path is None and not cfg.docs.path and "gitlab.project" in cfg.unnamed:
            # As `run` does: the default gitlab.com must not get the environment's token unasked.
            raise ConfigError(
                "no GitLab named for the docs: gitlab.project is not set (no docsgap.toml, "
                "variable or flag names it), and docsgap does not download from the defaults "
                "unasked",
                hint="set [gitlab] url and project in docsgap.toml (DOCSGAP_GITLAB_URL, "
                "DOCSGAP_GITLAB_PROJECT), or index a local checkout with --path")
        if path is not None and not path.expanduser().is_dir():  # before the state is made
            raise ConfigError(f"--path {path}: no such folder",
                              hint="give the root of a checkout of the docs project (the folder "
                              f"holding doc/); a relative path is read from {Path.cwd()}")
        store = StateStore(cfg.state_path)
        try:
            results = sync_docs(cfg, store, path=path, projects=tuple(project or ()))
        finally:
            store.close()
        if as_json:
            common.echo_json([asdict(r) for r in results])
            return
        for r in results:
            if r.unchanged:
                typer.echo(f"{r.project}: unchanged at {r.commit[:12]} ({r.pages} pages)")
            else:
                how = "one download" if r.downloaded else r.origin
                typer.echo(f"{r.project}: synced at {r.commit[:12]} ({how}): {r.pages} pages, "
                           f"{r.changed} changed, {r.removed} removed")

    @groups.docs.command("search")
    @common.handle_errors
    def search(
        question: str = typer.Argument(..., help="A question, as a forum title would ask it."),
        limit: int = typer.Option(5, "--limit", min=1, help="Pages to show."),
        as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
    ) -> None:
        """The docs pages (and sections) that best answer a question, from the local index."""
        if not question.strip():
            raise UsageError("give a question to search for, e.g. `docsgap docs search "
                             "\"run a job only in scheduled pipelines\"`")
        cfg = load(config, state)
        if not _state_exists(cfg.state_path):
            typer.echo("the docs index is empty: run `docsgap docs sync` first", err=True)
            raise typer.Exit(0)
        store = StateStore(cfg.state_path)
        try:
            index = load_index(cfg, store)
        finally:
            store.close()
        if index is None:
            typer.echo("the docs index is empty: run `docsgap docs sync` first", err=True)
            raise typer.Exit(0)
        hits = index.search(question, limit=limit)
        if as_json:
            common.echo_json([{"url": h.url, "title": h.page.title, "path": h.page.path,
                               "section": h.section.heading if h.section else None,
                               "score": round(h.score, 4), "shared_words": list(h.shared)}
                              for h in hits])
            return
        if not hits:  # silence read as a broken index
            typer.echo("no docs page shares a word with the question", err=True)
        for h in hits:
            where = f" > {h.section.heading}" if h.section else ""
            typer.echo(f"{h.score:.2f}  {h.page.title}{where}\n      {h.url}")

    @groups.docs.command("status")
    @common.handle_errors
    def status(
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
        as_json: bool = typer.Option(False, "--json", help="Print the projects as JSON."),
    ) -> None:
        """What the local docs index holds: each project, its commit and page count."""
        cfg = load(config, state)
        sources: list[SourceState] = []
        if _state_exists(cfg.state_path):
            store = StateStore(cfg.state_path)
            try:
                sources = DocsStore(store.db).sources()
            finally:
                store.close()
        if as_json:
            common.echo_json({"sources": [asdict(s) for s in sources]})
            return
        if not sources:
            typer.echo("the docs index is empty: run `docsgap docs sync`")
        for s in sources:
            typer.echo(f"{s.project}: {s.pages} pages at {s.commit[:12]} ({s.origin}, "
                       f"synced {s.synced_at}); {s.owned} name their owners (stage, group)")

    @groups.eval.command("suggest")
    @common.handle_errors
    def eval_suggest(
        dataset: Path = DATASET_OPT,
        docs: list[str] = DOCS_OPT,
        threshold: float | None = typer.Option(
            None, "--threshold",
            help="The gate's probability a suggestion needs (default docs.answer_threshold, or "
                 "the threshold of the --gate file)."),
        gate_file: Path | None = typer.Option(
            None, "--gate", help="An answer gate from `docsgap train suggest` instead of the "
                                 "shipped one."),
        min_precision: float | None = typer.Option(
            None, "--min-precision",
            help="Exit 8 (check failed) when precision@1 is below this."),
        rules: list[Path] | None = RULES_OPT,
        all_projects: bool = typer.Option(
            False, "--all-projects",
            help="Search every indexed project's pages for every question (by default a "
                 "question asked in an indexed project, its `project` or GitHub `source_url`, "
                 "is searched among that project's pages)."),
        as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
        config: Path | None = CONFIG_OPT,
    ) -> None:
        """Score docs-first suggestions on labelled questions: precision of the rank-1 page among
        the questions answered at the threshold (95% Wilson interval), recall@1/@5, and a
        title-words baseline. Questions whose gold page is not in the index are counted and left
        out."""
        cfg = load(config)
        ranked, missing = _ranked(dataset, docs, rules, cfg.rules_dirs, all_projects)
        the_gate = gate.load_gate(gate_file)
        if threshold is None:  # a gate under test is scored at its own threshold
            threshold = the_gate.threshold if gate_file else cfg.docs.answer_threshold
        data = evaluate.report(ranked, missing, threshold, the_gate)
        typer.echo(evaluate.to_json(data) if as_json else evaluate.render_text(data))
        found = data["suggest"]
        assert isinstance(found, dict)
        if min_precision is not None and found["precision_at_1"] < min_precision:
            typer.echo(f"precision@1 {found['precision_at_1']:.3f} is below --min-precision "
                       f"{min_precision:g}", err=True)
            raise typer.Exit(int(ExitCode.CHECK_FAILED))

    @groups.train.command("suggest")
    @common.handle_errors
    def train_suggest(
        dataset: Path = DATASET_OPT,
        docs: list[str] = DOCS_OPT,
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the gate (JSON)."),
        rules: list[Path] | None = RULES_OPT,
        config: Path | None = CONFIG_OPT,
    ) -> None:
        """Fit the answerability gate of docs-first replies on labelled questions (use only the
        tuning split): a regularised logistic model, its penalty and default threshold chosen by
        leave-one-project-out cross-validation. Deterministic: the same data give the same
        file."""
        cfg = load(config)
        ranked, missing = _ranked(dataset, docs, rules, cfg.rules_dirs, False)
        fitted = gatetrain.train([r.example() for r in ranked])
        with common.writing(out):
            gate.save_gate(fitted, out)
        m = fitted.meta
        low, high = evaluate.wilson(int(str(m["cv_right"])), int(str(m["cv_answered"])))
        projects = m["projects"]
        assert isinstance(projects, list)
        typer.echo(f"{len(ranked)} questions scored ({len(missing)} gold pages not in the "
                   f"index); {m['right_at_rank_1']} right at rank 1; {len(projects)} projects "
                   f"(l2 {m['l2']})")
        single = len(projects) < 2
        how = ("in-sample (one project: nothing to hold out)" if single
               else "cross-validated by project")
        typer.echo(f"{how} at threshold {fitted.threshold:g}: answered "
                   f"{m['cv_answered']}, right {m['cv_right']} (95% CI {low:.2f}-{high:.2f}); "
                   f"target {m['target_precision']} {'met' if m['met'] else 'NOT met'}")
        if single:
            typer.echo("no out-of-project figure: give questions of two or more projects to "
                       "learn whether the features add signal")
        else:
            typer.echo(f"out-of-project log loss {m['cv_log_loss']} vs "
                       f"{m['cv_log_loss_base_rate']} for the base rate alone: the features "
                       f"{'add' if m['informative'] else 'add NO'} signal")
        typer.echo("weights (per standard deviation): " + ", ".join(
            f"{f} {w:+.2f}" for f, w in zip(fitted.features, fitted.weights, strict=True)))
        typer.echo(f"wrote {out}")
