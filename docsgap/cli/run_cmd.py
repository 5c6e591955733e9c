"""`docsgap run` and `docsgap demo`: the main job, for real or against the sandbox."""

from __future__ import annotations

from pathlib import Path

import typer

from docsgap import planview
from docsgap.cli import common
from docsgap.config import Config, load_config
from docsgap.errors import ExitCode, RateLimitedError
from docsgap.models import RunResult
from docsgap.pipeline import Pipeline
from docsgap.services import build_services

CONFIG_OPT = typer.Option(
    None, "--config", "-c", help="docsgap.toml to read (default: $DOCSGAP_CONFIG or ./docsgap.toml)."
)
STATE_OPT = typer.Option(None, "--state", help="SQLite state file (default from config).")


def load(config: Path | None, state: Path | None = None, **flags: object) -> Config:
    """Config from file, env and the given flags."""
    overrides: dict[str, object] = dict(flags)
    if state is not None:
        overrides["state_path"] = str(state)
    return load_config(config, overrides=overrides)


def exit_code_for(result: RunResult, stopped_early: str | None) -> ExitCode:
    """Failed actions -> PARTIAL; a scan stopped by the rate budget -> UPSTREAM."""
    if result.failed:
        return ExitCode.PARTIAL
    if stopped_early:
        return ExitCode.UPSTREAM
    return ExitCode.OK


def run_once(cfg: Config, *, apply: bool) -> tuple[RunResult, str | None]:
    """Build services and run the pipeline once."""
    services = build_services(cfg)
    pipe = Pipeline(cfg, services.forum, services.tracker, services.store, services.detector)
    try:
        result = pipe.run(apply=apply)
    finally:
        services.store.close()
    requests = tuple(sorted(services.budget.used.items()))
    result = RunResult(result.plan, result.outcomes, result.threads_scanned, requests)
    return result, pipe.stopped_early


def register(app: typer.Typer, *, eval_app: typer.Typer, rules_app: typer.Typer) -> None:
    """Add `run` and `demo`."""

    @app.command()
    @common.handle_errors
    def run(
        apply: bool = typer.Option(
            False, "--apply", help="Carry out the plan (open/link issues, reply). Default: dry run."
        ),
        max_actions: int | None = typer.Option(None, "--max-actions", help="Cap writes per run."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan and outcomes as JSON."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
    ) -> None:
        """Scan the forum, detect docs gaps, deduplicate against GitLab, plan and (with --apply)
        act. Without --apply nothing is written to GitLab or the forum; the plan says what would
        be opened, linked or replied, and why."""
        cfg = load(config, state, max_actions=max_actions)
        result, stopped = run_once(cfg, apply=apply)
        if as_json:
            data = planview.to_json(result, applied=apply)
            data["stopped_early"] = stopped
            common.echo_json(data)
        else:
            typer.echo(planview.render_text(result, applied=apply))
            if stopped:
                typer.echo(f"stopped early: {stopped}; the next run resumes", err=True)
        code = exit_code_for(result, stopped)
        if code:
            raise typer.Exit(int(code))

    @app.command()
    @common.handle_errors
    def demo(
        out: Path = typer.Option(
            Path("docsgap-demo"), "--out", help="Where the demo keeps its state and reports."
        ),
    ) -> None:
        """Start the loopback sandbox (a demo forum and GitLab project on 127.0.0.1), run the full
        loop with --apply through the real clients over HTTP, print the report, then run again
        to show that nothing new happens. Needs no network and no tokens."""
        from docsgap.demo import run_demo

        try:
            run_demo(out, echo=typer.echo)
        except RateLimitedError as exc:  # pragma: no cover - the sandbox is generous
            raise common.fail(exc) from exc
