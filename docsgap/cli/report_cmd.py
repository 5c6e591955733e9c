"""`docsgap report`: the issue-link report (table, Markdown, CSV, JSON, HTML) or the summary-issue
body, read from the local state."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import typer

from docsgap.cli import common
from docsgap.config import load_config
from docsgap.errors import ConfigError, DocsgapError, ExitCode, UsageError
from docsgap.report import (
    DEFAULT_TITLE,
    Format,
    SummaryOptions,
    extras_from_state,
    for_group,
    render,
    render_summary,
    rows_from_state,
)
from docsgap.state import StateStore, parse_iso


class ReportFormat(StrEnum):
    """Output formats of `docsgap report`."""

    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    SUMMARY = "summary"
    MD = "md"
    """markdown, as `-o report.md` names it (`--format md` was refused)."""


class ReportOutputError(DocsgapError):
    """The report could not be written where `--output` asked."""

    exit_code = ExitCode.CONFIG


def write_output(text: str, output: Path | None) -> None:
    """Print `text` (no `output`, or `-`), or write it to `output` atomically: the file appears
    complete or not at all (a failure never leaves an empty or half-written report behind).
    What is not a plain file (`/dev/stdout`, `/dev/null`, a FIFO, a symlink) is written
    through in place: replacing it would put a regular file where the device or link was."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = output.expanduser()
    if target.is_dir():
        raise ReportOutputError(f"cannot write {output}: it is a folder",
                                hint=f"name a file, e.g. -o {output / 'report.html'}")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        try:
            with target.open("w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise ReportOutputError(f"cannot write {output}: {exc.strerror or exc}") from exc
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            # mkstemp makes the file private (0600); a report is for sharing, so give it the
            # mode any new file gets here (0644 under the usual umask).
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportOutputError(f"cannot write {output}: {exc.strerror or exc}") from exc


_SUFFIXES = {".html": ReportFormat.HTML, ".htm": ReportFormat.HTML, ".md": ReportFormat.MARKDOWN,
             ".csv": ReportFormat.CSV, ".json": ReportFormat.JSON}


def _by_suffix(output: Path | None) -> ReportFormat:
    """`-o report.html` alone means an HTML page, not a text table in a .html file."""
    if output is None:
        return ReportFormat.TABLE
    return _SUFFIXES.get(output.suffix.lower(), ReportFormat.TABLE)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _since(value: str | None, now: datetime) -> datetime:
    if value is None:
        return now - timedelta(days=7)
    try:
        parsed = parse_iso(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ConfigError(f"--since {value!r}: expected an ISO date such as 2025-05-26")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _width() -> int:
    # Fill a wide terminal, but keep the 100-column default for pipes and CI logs.
    if sys.stdout.isatty():
        return max(80, min(shutil.get_terminal_size((100, 24)).columns, 200))
    return 100


@common.handle_errors
def report(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c",
        help="docsgap.toml to read (default: $DOCSGAP_CONFIG or ./docsgap.toml).")] = None,
    state: Annotated[Path | None, typer.Option(
        "--state", help="SQLite state file [default: state_path from docsgap.toml].")] = None,
    fmt: Annotated[ReportFormat | None, typer.Option(
        "--format", "-f",
        help="table | markdown (md) | csv | json | html (one self-contained page) | summary "
        "(the Markdown body of the GitLab summary issue) [default: from --output's extension "
        "(.html, .md, .csv, .json), else table].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout ('-': "
        "stdout).")] = None,
    title: Annotated[str, typer.Option("--title", help="Heading of the report.")] = DEFAULT_TITLE,
    since: Annotated[str | None, typer.Option(
        "--since", help="summary: new gaps and links since this ISO date [default: 7 days ago]."
    )] = None,
    window_days: Annotated[int, typer.Option(
        "--window-days", min=1, help="summary: rising-demand window in days.")] = 14,
    threshold: Annotated[int, typer.Option(
        "--rising-threshold", min=1,
        help="summary: threads about one page in the window that make it rise.")] = 3,
    group: Annotated[str | None, typer.Option(
        "--group", help="Only what this product group owns (its `group::` label on the issue, "
        "else the docs page's front matter group), e.g. 'pipeline authoring'; 'none' for what "
        "no group owns.")] = None,
) -> None:
    """Print the issue-link report: every forum thread linked to a GitLab doc issue or MR, its gap
    type, docs page, the item's state and whether the reply was posted. Reads only the local
    state; never contacts the forum or GitLab."""
    cfg = load_config(config) if state is None else None
    path: Path = cfg.state_path if cfg is not None else cast(Path, state)
    if Path(path).is_dir():
        raise ConfigError(f"state {path} is a folder, not a state file",
                          hint=f"give the file, e.g. --state {Path(path) / 'state.db'}")
    if str(path) != ":memory:" and not Path(path).is_file():
        elsewhere = cfg is not None and cfg.source == "defaults" and not any(
            key == "state_path" for key, _ in cfg.origins)  # no docsgap.toml, no DOCSGAP_STATE
        raise ConfigError(
            f"no docsgap state at {path}"
            + (f" (no docsgap.toml in {Path.cwd()})" if elsewhere else ""),
            hint="run the command in the folder that holds your docsgap.toml (the state is "
            "found from there), or pass --state PATH" if elsewhere else
            "run `docsgap run` first, or pass --state PATH (state_path in docsgap.toml)",
        )
    store = StateStore(path, read_only=True)
    if store.upgraded:
        typer.echo(f"note: {path} was written by an older docsgap: read through an upgraded "
                   "copy, the file itself is unchanged (the next `docsgap run` upgrades it)",
                   err=True)
    try:
        rows = rows_from_state(store)
        extras = extras_from_state(store)
    finally:
        store.close()
    if group is not None:
        rows, extras = for_group(rows, extras, group)
    now = datetime.now(UTC)
    chosen = ReportFormat.JSON if as_json else fmt or _by_suffix(output)
    if chosen is ReportFormat.MD:
        chosen = ReportFormat.MARKDOWN
    if since is not None and chosen is not ReportFormat.SUMMARY:  # it was silently ignored
        raise UsageError(f"--since goes with --format summary, not {chosen.value}: the other "
                         "formats list every link")
    if chosen is ReportFormat.SUMMARY:
        text = render_summary(rows, extras, now=now, options=SummaryOptions(
            since=_since(since, now), window_days=window_days, threshold=threshold, title=title))
    else:
        text = render(rows, cast(Format, chosen.value), title=title, generated_at=now,
                      extras=extras, width=_width())
    write_output(text, output)
    if output is not None and str(output) != "-":
        typer.echo(f"wrote {chosen.value} report ({len(rows)} links) to {output}", err=True)


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `docsgap report`."""
    app.command("report")(report)
