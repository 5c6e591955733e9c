"""The `docsgap` command line: a thin typer layer over the library.

Each command group lives in its own module and registers itself on `app` or one of the
`common.Groups` (`eval`, `rules`, `train`, `docs`). `main` imports only the modules of the
command it runs (`COMMANDS`), so `docsgap run` does not pay for importing the sandbox, the
trainers or numpy; `app` (as tests and `--help` use it) has every command.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Iterable, Sequence

import typer

from docsgap import __version__
from docsgap.cli import common
from docsgap.errors import ExitCode

_app = typer.Typer(
    name="docsgap",
    help=(
        "Find docs-gap reports on a Discourse forum, file or link GitLab documentation "
        "issues, and reply in the thread with the link. Read-only unless --apply is given."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
groups = common.add_groups(_app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"docsgap {__version__}")
        raise typer.Exit()


@_app.callback()
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


MODULES = ("run_cmd", "review_cmd", "followup_cmd", "mr_cmd", "report_cmd", "doctor_cmd",
           "config_cmd", "state_cmd", "detect_cmd", "match_cmd", "sandbox_cmd", "docs_cmd")
"""Every command module, in the order `--help` lists their commands."""

COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run_cmd",), "demo": ("run_cmd",), "review": ("review_cmd",),
    "followup": ("followup_cmd",), "mr": ("mr_cmd",), "report": ("report_cmd",),
    "doctor": ("doctor_cmd",), "config": ("config_cmd",), "state": ("state_cmd",),
    "detect": ("detect_cmd",),
    "match": ("match_cmd",), "sandbox": ("sandbox_cmd",),
    "eval": ("detect_cmd", "match_cmd", "docs_cmd"),
    "train": ("detect_cmd", "match_cmd", "docs_cmd"),
    "rules": ("detect_cmd",), "docs": ("docs_cmd",),
}
"""Which modules register each top-level command or group (a test keeps it true)."""

_registered: set[str] = set()


def register(modules: Iterable[str] = MODULES) -> typer.Typer:
    """Import `modules` (once each) and add their commands; the app."""
    for name in MODULES:
        if name in modules and name not in _registered:
            # Imported here so each command module can import this package without a cycle.
            importlib.import_module(f"docsgap.cli.{name}").register(_app, groups)
            _registered.add(name)
    return _app


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules a command line needs: its command's, or all of them for help,
    completion and anything unknown (so the error can list every command)."""
    if any(k.endswith("_COMPLETE") for k in os.environ):
        return MODULES
    first = next((a for a in argv if not a.startswith("-")), None)
    return COMMANDS.get(first, MODULES) if first is not None else MODULES


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


GLOBAL_OPTIONS = frozenset({"-v", "-vv", "-vvv", "--verbose", "--debug"})
"""The root's options that carry no value, which people also type after the command."""


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """`docsgap run -v` as `docsgap -v run`: the README's `-v` and `--debug` belong to the root,
    and after the command click said "No such option: -v" (exit 2). Nothing after `--` moves."""
    end = argv.index("--") if "--" in argv else len(argv)
    moved = [a for a in argv[:end] if a in GLOBAL_OPTIONS]
    return [*moved, *(a for a in argv[:end] if a not in GLOBAL_OPTIONS), *argv[end:]]


def _output_closed() -> bool:
    """Whether click/typer met a closed stdout (EPIPE): that is the only place they wrap the
    streams in their `PacifyFlushWrapper` before exiting 1."""
    return type(sys.stdout).__name__.endswith("PacifyFlushWrapper")


def _terminated(_signum: int, _frame: object) -> None:
    """SIGTERM (a cancelled or timed-out CI job, `docker stop`, `timeout`) ends a command as
    Ctrl-C does: its message and exit 130, instead of a silent death mid-run."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point. Standalone mode maps usage errors to exit 2 and passes
    each command's documented exit code through; Ctrl-C (or SIGTERM) outside a command exits
    130, and a reader that closed the output early (`| head`) 141, not click's 1 (kept for
    bugs)."""
    signal.signal(signal.SIGTERM, _terminated)
    args = hoist_global_options(sys.argv[1:])
    app = register(modules_for(args))
    try:
        app(args=args)
    except KeyboardInterrupt:
        typer.echo(common.INTERRUPTED, err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except SystemExit as exc:
        if exc.code == 1 and _output_closed():
            sys.exit(ExitCode.OUTPUT_CLOSED)
        raise
