"""The `docsgap` command line: a thin typer layer over the library.

Each command group lives in its own module and registers itself on `app` or one of the
`common.Groups` (`eval`, `rules`, `train`, `docs`).
"""

from __future__ import annotations

import sys

import typer

from docsgap import __version__
from docsgap.cli import common
from docsgap.errors import ExitCode

app = typer.Typer(
    name="docsgap",
    help=(
        "Find docs-gap reports on a Discourse forum, file or link GitLab documentation "
        "issues, and reply in the thread with the link. Read-only unless --apply is given."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
groups = common.add_groups(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"docsgap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="Log docsgap's own steps to stderr (-vv: debug)."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback on errors instead of one line."
    ),
) -> None:
    common.setup_logging(verbose)
    common.DEBUG = debug


def _register() -> None:
    # Imported here so each command module can import `app` without a cycle.
    from docsgap.cli import (
        detect_cmd,
        docs_cmd,
        doctor_cmd,
        followup_cmd,
        match_cmd,
        mr_cmd,
        report_cmd,
        review_cmd,
        run_cmd,
        sandbox_cmd,
        state_cmd,
    )

    for module in (run_cmd, review_cmd, followup_cmd, mr_cmd, report_cmd, doctor_cmd, state_cmd,
                   detect_cmd, match_cmd, sandbox_cmd, docs_cmd):
        module.register(app, groups)


_register()


def main() -> None:
    """Console-script entry point. Standalone mode maps usage errors to exit 2 and passes
    each command's documented exit code through; Ctrl-C outside a command exits 130."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
