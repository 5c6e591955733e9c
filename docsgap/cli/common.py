"""Helpers every command module shares: logging, error-to-exit-code mapping, JSON output."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import typer

from docsgap.errors import ConfigError, DocsgapError, ExitCode, RulesError

P = ParamSpec("P")
R = TypeVar("R")

DEBUG = False

INTERRUPTED = ("interrupted: what was done and recorded so far is kept; run the same command "
               "again to go on from there")


@dataclass(frozen=True)
class Groups:
    """The command groups a command module may add to (`docsgap eval ...` and so on)."""

    eval: typer.Typer
    rules: typer.Typer
    train: typer.Typer
    docs: typer.Typer


def add_groups(app: typer.Typer) -> Groups:
    """Create the command groups and add them to `app`."""
    groups = Groups(
        eval=typer.Typer(
            help="Score detection, deduplication or docs-first suggestions on labelled data.",
            no_args_is_help=True,
        ),
        rules=typer.Typer(help="Validate and inspect detection rules.", no_args_is_help=True),
        train=typer.Typer(
            help="Fit docsgap's learned models on labelled data (and the team's review verdicts).",
            no_args_is_help=True,
        ),
        docs=typer.Typer(help="The local index of the docs pages.", no_args_is_help=True),
    )
    for name in ("eval", "rules", "train", "docs"):
        app.add_typer(getattr(groups, name), name=name)
    return groups


class _LevelFormatter(logging.Formatter):
    """`warning`/`error` in lower case, as docsgap's own `error: ...` lines."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)  # the record is shared with other handlers: not changed
        return record.levelname.lower() + text[len(record.levelname):]


def setup_logging(verbose: int) -> None:
    """`-v` shows docsgap's info logs, `-vv` its debug logs; other libraries stay quiet."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    # Plain runs word a warning as errors are worded (`warning: ...`); -v names the module.
    handler.setFormatter(_LevelFormatter("%(levelname)s %(name)s: %(message)s") if verbose
                         else _LevelFormatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("docsgap")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def fail(exc: DocsgapError) -> typer.Exit:
    """Print one actionable line (plus a hint) and return the Exit to raise."""
    if isinstance(exc, RulesError):
        for problem in exc.problems:
            typer.echo(problem, err=True)
        typer.echo(f"error: {len(exc.problems)} problem(s) in rules", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    if exc.hint:
        typer.echo(f"hint: {exc.hint}", err=True)
    return typer.Exit(int(exc.exit_code))


def error_json(exc: DocsgapError) -> dict[str, Any]:
    """A fatal error as `--json` prints it: the exit code and its name, the message, the hint
    and, for rules, every problem (file:line)."""
    code = ExitCode(int(exc.exit_code))
    return {"exit_code": int(code), "kind": code.name.lower(), "message": str(exc),
            "hint": exc.hint or None,
            "problems": list(exc.problems) if isinstance(exc, RulesError) else []}


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: a `DocsgapError` becomes one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DocsgapError as exc:
            if DEBUG:  # the traceback, but still the documented exit code (1 is for bugs)
                traceback.print_exc(file=sys.stderr)
            raise _failed(exc, kwargs) from exc
        except (KeyboardInterrupt, click.exceptions.Abort):
            # click's prompts turn Ctrl-C and end of input into Abort (typer has its own).
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except click.ClickException as exc:  # click.edit without a working editor, ...
            typer.echo(f"error: {exc.format_message()}", err=True)
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except Exception as exc:
            # A damaged state met mid-run, or a full disk: the state's trouble, not a bug.
            from docsgap.state.usable import corrupt_state, disk_full

            damaged = corrupt_state(exc) or disk_full(exc)
            if damaged is None:
                raise
            raise _failed(damaged, kwargs) from exc

    return wrapper


def _failed(exc: DocsgapError, params: dict[str, Any]) -> typer.Exit:
    if params.get("as_json"):  # a script reading stdout learns why, not just silence
        echo_json({"error": error_json(exc)})
    return fail(exc)


def echo_json(data: Any) -> None:
    """Print JSON to stdout (stable key order, UTF-8)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


JSONL_OPT = typer.Option(
    False, "--json", help="Accepted for scripts: the output is JSON lines already.")
"""`--json` on the commands whose output is always JSON lines (`--json` is on every command)."""


class TerminalProgress:
    """A one-line progress display on stderr for long scans and syncs. Silent when stderr is
    not a terminal, in CI (`CI` is set) or with `--quiet`, so job logs stay readable."""

    def __init__(self, *, quiet: bool = False) -> None:
        import os

        self.enabled = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
        self._shown = False
        self._started: dict[str, tuple[float, int]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if total > 0:
            width = 24
            filled = int(width * min(done, total) / total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"{stage:<5} [{bar}] {done}/{total}{self._left(stage, done, total)}"
        else:
            text = f"{stage:<5} {done} item(s)"
        sys.stderr.write("\r" + text.ljust(72))
        sys.stderr.flush()
        self._shown = True

    def _left(self, stage: str, done: int, total: int) -> str:
        """Time left at the pace so far (which a rate-limited site sets)."""
        now = time.monotonic()
        began, first = self._started.setdefault(stage, (now, done))
        if done <= first or done >= total or now - began < 1:
            return ""
        left = (now - began) / (done - first) * (total - done)
        return f", ~{left / 60:.0f} min left" if left >= 90 else f", ~{left:.0f} s left"

    def waiting(self, service: str, seconds: float) -> None:
        """A wait (a rate limit's hint, a retry's backoff) on the progress line: the service
        and when it resumes."""
        if not self.enabled:
            return
        until = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds))
        sys.stderr.write("\r" + f"{service}: waiting {seconds:.0f} s before retrying "
                         f"(until {until})".ljust(72))
        sys.stderr.flush()
        self._shown = True

    def notice(self, text: str) -> None:
        """A line of its own on stderr (always shown, unlike the progress line)."""
        self.close()
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        """Clear the progress line."""
        if self._shown:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()
            self._shown = False


@contextlib.contextmanager
def writing(path: Path, what: str = "a file path") -> Iterator[None]:
    """Around a write to `path`: a folder, a missing parent or no permission is exit 3 with
    the path, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}",
                          hint=f"pass {what} you can write with -o/--output") from exc


def write_or_echo(text: str, output: Path | None) -> None:
    """`text` to `output`, or to stdout without one. Called once the whole text is made, so a
    failed run leaves no partial file."""
    if output is not None and str(output) != "-":  # "-" is stdout, as everywhere
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:  # a folder, a missing parent, no permission: not a bug
            raise ConfigError(f"cannot write {output}: {exc.strerror or exc}",
                              hint="pass a file path you can write with -o/--output") from exc
    else:
        typer.echo(text, nl=False)
