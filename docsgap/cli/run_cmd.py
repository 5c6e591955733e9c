"""`docsgap run` and `docsgap demo`: the main job, for real or against the sandbox."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer

from docsgap.act import planview
from docsgap.cli import common
from docsgap.config import Config, load_config, require_target
from docsgap.errors import ConfigError, ExitCode, RateLimitedError
from docsgap.http_budget import waits_told_to
from docsgap.loop import summary as runsummary
from docsgap.loop.run import run_once
from docsgap.scan import scanner as scan

CONFIG_OPT = typer.Option(
    None, "--config", "-c",
    help="docsgap.toml to read (default: $DOCSGAP_CONFIG or ./docsgap.toml).",
)
STATE_OPT = typer.Option(None, "--state", help="SQLite state file (default from config).")
FORUM_URL_OPT = typer.Option(
    None, "--forum-url", help="The Discourse site [default: forum.url from docsgap.toml].")
GITLAB_URL_OPT = typer.Option(
    None, "--gitlab-url", help="The GitLab instance [default: gitlab.url from docsgap.toml].")
PROJECT_OPT = typer.Option(
    None, "--project", help="The docs project, group/project [default: gitlab.project].")


def load(config: Path | None, state: Path | None = None, *, forum_url: str | None = None,
         gitlab_url: str | None = None, project: str | None = None, **flags: object) -> Config:
    """Config from file, env and the given flags."""
    overrides: dict[str, object] = dict(flags)
    if state is not None:
        overrides["state_path"] = str(state)
    overrides["forum"] = {"url": forum_url}
    overrides["gitlab"] = {"url": gitlab_url, "project": project}
    return load_config(config, overrides=overrides)


LIMITS = {"max_actions": ("--max-actions", "max_actions", "writes nothing"),
          "max_requests": ("--max-requests", "forum.max_requests", "reads nothing from the forum")}


def check_limits(**given: int | None) -> None:
    """A negative per-run cap is a configuration mistake (exit 3, as the same key in
    docsgap.toml or DOCSGAP_MAX_ACTIONS is), named by its flag, for either cap alike."""
    for name, value in given.items():
        if value is not None and value < 0:
            flag, key, zero = LIMITS[name]
            raise ConfigError(f"{flag} {value}: expected 0 or more ({key}; 0 {zero})",
                              hint=f"leave {flag} out to use {key} from docsgap.toml")


def _silent(_text: str) -> None:
    """--quiet: nothing on stderr, the cost of a first scan included."""


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `run` and `demo`."""

    @app.command()
    @common.handle_errors
    def run(
        apply: bool = typer.Option(
            False, "--apply", help="Carry out the plan (open/link issues, reply). Default: dry run."
        ),
        max_actions: int | None = typer.Option(
            None, "--max-actions", metavar="N", help="Cap writes this run (max_actions, default "
            "20; 0: none, the plan still lists every action)."),
        topic: str | None = typer.Option(
            None, "--topic", metavar="URL|ID",
            help="Run the loop for this one thread only: a topic URL "
                 "(https://forum.gitlab.com/t/slug/123, /t/slug/123/4) or id (123, #123)."),
        max_requests: int | None = typer.Option(
            None, "--max-requests", metavar="N", help="Cap forum requests this run "
            "(forum.max_requests, default 50; 0: none); the next run resumes where it stopped."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan and outcomes as JSON."),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="No progress display and no summary on stderr."
        ),
        summary_json: Path | None = typer.Option(
            None, "--summary-json", help="Also write the run summary as JSON to this file."
        ),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
        forum_url: str | None = FORUM_URL_OPT,
        gitlab_url: str | None = GITLAB_URL_OPT,
        project: str | None = PROJECT_OPT,
    ) -> None:
        """Scan the forum, detect docs gaps, deduplicate against GitLab, plan and (with --apply)
        act. Without --apply nothing is written to GitLab or the forum; the plan says what would
        be opened, linked or replied, and why. Ends with a summary on stderr (counts, skips,
        failures, API requests, budget left); exit code 7 if any action failed, 6 if the scan
        stopped on a rate limit (the next run resumes)."""
        check_limits(max_actions=max_actions, max_requests=max_requests)
        cfg = load(config, state, forum_url=forum_url, gitlab_url=gitlab_url, project=project,
                   max_actions=max_actions)
        if max_requests is not None:
            cfg = replace(cfg, forum=replace(cfg.forum, max_requests=max_requests))
        require_target(cfg)  # before the state's lock file: a refused run leaves nothing behind
        if summary_json is not None and summary_json.is_dir():  # known now, not after the run
            raise ConfigError(f"--summary-json {summary_json}: is a folder; name a file")
        if summary_json is not None and str(summary_json) == "-":  # it wrote a file named "-"
            raise ConfigError("--summary-json -: name a file (stdout carries the plan)",
                              hint="run --json prints the plan with its summary as JSON")
        # "#123" as the plan and review print a thread is the id too.
        topic_id = None if topic is None else scan.topic_id(
            topic.strip().removeprefix("#"), cfg.forum.url)
        progress = common.TerminalProgress(quiet=quiet)
        try:
            with waits_told_to(progress.waiting):
                report = run_once(cfg, apply=apply, progress=progress,
                                  notice=_silent if quiet else progress.notice, topic=topic_id)
        finally:
            progress.close()
        result = report.result
        summary = runsummary.summarize(
            result, applied=apply, remaining=report.remaining,
            stopped_early=report.stopped_early, exit_code=int(report.exit_code),
            extra={"tracker_sync": {k: dict(v) for k, v in report.synced.items()},
                   **({"summary_issue": report.summary_issue} if report.summary_issue else {})},
        )
        if as_json:
            data = planview.to_json(result, applied=apply)
            data["stopped_early"] = report.stopped_early
            data["summary"] = summary
            common.echo_json(data)
        else:
            typer.echo(planview.render_text(result, applied=apply))
        unwritten = None
        if summary_json is not None:
            try:
                summary_json.parent.mkdir(parents=True, exist_ok=True)
                summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            except OSError as exc:  # the run itself is done and recorded: say so, no traceback
                unwritten = f"cannot write --summary-json {summary_json}: {exc.strerror or exc}"
        if not quiet:
            typer.echo(runsummary.render_text(summary), err=True)
        if unwritten is not None:
            typer.echo(f"error: {unwritten}", err=True)
            raise typer.Exit(int(report.exit_code or ExitCode.CONFIG))
        if report.exit_code:
            raise typer.Exit(int(report.exit_code))

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
