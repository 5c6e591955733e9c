"""`docsgap doctor`: check the configuration, credentials, project, labels, state and rules
before a first run, and print what to fix."""

from __future__ import annotations

from pathlib import Path

import typer

from docsgap import doctor
from docsgap.cli import common
from docsgap.cli.run_cmd import (
    CONFIG_OPT,
    FORUM_URL_OPT,
    GITLAB_URL_OPT,
    PROJECT_OPT,
    STATE_OPT,
    load,
)
from docsgap.config import Config, require_target
from docsgap.errors import ExitCode
from docsgap.loop.services import forum_probe, tracker_probe


@common.handle_errors
def doctor_command(
    config: Path | None = CONFIG_OPT,
    state: Path | None = STATE_OPT,
    read_only: bool = typer.Option(
        False, "--dry-run",
        help="Check only what a dry run needs (no API key, `read_api` is enough).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    forum_url: str | None = FORUM_URL_OPT,
    gitlab_url: str | None = GITLAB_URL_OPT,
    project: str | None = PROJECT_OPT,
) -> None:
    """Check what a run needs and say what to fix: the configuration loads, the forum answers,
    the API key is valid and the bot user can post, GitLab answers, the token is valid with the
    right scopes, the project and the labels exist, the state file is writable and the rules
    load. Only reads (GET requests); secrets are never printed. Exit 8 if any check fails."""
    def loaded() -> Config:
        cfg = load(config, state, forum_url=forum_url, gitlab_url=gitlab_url, project=project)
        require_target(cfg)
        return cfg

    report = doctor.run_doctor(
        loaded,
        forum=forum_probe,
        tracker=tracker_probe,
        read_only=read_only,
    )
    if as_json:
        common.echo_json(report.to_json())
    else:
        typer.echo(doctor.render_text(report))
    if not report.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `docsgap doctor`."""
    app.command("doctor")(doctor_command)
