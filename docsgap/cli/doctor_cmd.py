"""`docsgap doctor`: check the configuration, credentials, project, labels, state and rules
before a first run, and print what to fix."""

from __future__ import annotations

from pathlib import Path

import typer

from docsgap import doctor
from docsgap.cli import common
from docsgap.cli.run_cmd import CONFIG_OPT, STATE_OPT, load
from docsgap.config import Config, python_gitlab_config_file
from docsgap.errors import ExitCode
from docsgap.forum.discourse_checks import DiscourseChecks
from docsgap.tracker.gitlab_checks import GitLabChecks


def forum_probe(cfg: Config) -> DiscourseChecks:
    """The forum probe for `cfg`."""
    f = cfg.forum
    return DiscourseChecks(f.url, f.api_username, f.api_key, timeout=f.timeout)


def tracker_probe(cfg: Config) -> GitLabChecks:
    """The GitLab probe for `cfg`."""
    g = cfg.gitlab
    return GitLabChecks.build(
        g.url, g.project, token=g.token, token_kind=g.token_kind, timeout=g.timeout,
        python_gitlab_id=g.python_gitlab_id,
        # Like `run`: no docsgap token but python-gitlab's config file -> its default section.
        python_gitlab_default=not g.token and python_gitlab_config_file() is not None,
    )


@common.handle_errors
def doctor_command(
    config: Path | None = CONFIG_OPT,
    state: Path | None = STATE_OPT,
    read_only: bool = typer.Option(
        False, "--dry-run",
        help="Check only what a dry run needs (no API key, `read_api` is enough).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check what a run needs and say what to fix: the configuration loads, the forum answers,
    the API key is valid and the bot user can post, GitLab answers, the token is valid with the
    right scopes, the project and the labels exist, the state file is writable and the rules
    load. Only reads (GET requests); secrets are never printed. Exit 8 if any check fails."""
    report = doctor.run_doctor(
        lambda: load(config, state),
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
