"""`docsgap report`: formats, output files written atomically, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.state import StateStore
from tests.unit.report_builder import THREADS, build_demo_state

LINKED = [t for t in THREADS if t[5] is not None]


@pytest.fixture
def demo(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "state.db")
    build_demo_state(store)
    return store


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    from docsgap.cli import common, report_cmd

    app = typer.Typer()
    report_cmd.register(app, common.add_groups(app))

    @app.callback()
    def _root() -> None:
        """Keep `report` a subcommand."""

    return app


def test_cli_formats(cli: typer.Typer, demo: StateStore, tmp_path: Path) -> None:
    runner = CliRunner()
    db = demo.path
    table = runner.invoke(cli, ["report", "--state", db])
    assert table.exit_code == 0, table.output
    assert "thread" in table.stdout
    assert "#501101" in table.stdout
    as_json = runner.invoke(cli, ["report", "--state", db, "--json"])
    assert json.loads(as_json.stdout)["totals"]["links"] == len(LINKED)
    out = tmp_path / "out" / "report.csv"
    written = runner.invoke(cli, ["report", "--state", db, "-f", "csv", "-o", str(out)])
    assert written.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("thread_id,")
    html = runner.invoke(cli, ["report", "--state", db, "--format", "html"])
    assert html.stdout.startswith("<!DOCTYPE html>")
    summary = runner.invoke(cli, ["report", "--state", db, "-f", "summary", "--since",
                                  "2025-05-01", "--rising-threshold", "2"])
    assert summary.stdout.startswith("<!-- docsgap:summary -->")
    assert "changes since 2025-05-01" in summary.stdout


def test_cli_output_extension_picks_the_format(cli: typer.Typer, demo: StateStore,
                                               tmp_path: Path) -> None:
    # Found walking the README: `docsgap report -o report.html` wrote the text table into
    # report.html (and said "wrote table report").
    runner = CliRunner()
    for name, start in (("r.html", "<!DOCTYPE html>"), ("r.md", "## "), ("r.csv", "thread_id,"),
                        ("r.json", "{"), ("r.txt", "docsgap issue-link report")):
        out = tmp_path / name
        result = runner.invoke(cli, ["report", "--state", demo.path, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8").startswith(start), name
    forced = runner.invoke(cli, ["report", "--state", demo.path, "-f", "table", "-o",
                                 str(tmp_path / "t.html")])
    assert forced.exit_code == 0 and "wrote table report" in forced.output


def test_cli_missing_state_is_a_clear_error(cli: typer.Typer, tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = CliRunner().invoke(cli, ["report", "--state", str(missing)])
    assert result.exit_code == 3
    assert "no docsgap state at" in result.stderr
    assert not missing.exists()  # the report never creates an empty state
    folder = CliRunner().invoke(cli, ["report", "--state", str(tmp_path)])
    assert folder.exit_code == 3
    assert f"state {tmp_path} is a folder, not a state file" in folder.stderr  # as run says


def test_cli_failure_leaves_no_output_file(cli: typer.Typer, demo: StateStore, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from docsgap.cli import report_cmd

    def boom(*args: object, **kwargs: object) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr(report_cmd, "render", boom)
    out = tmp_path / "report.md"
    result = CliRunner().invoke(cli, ["report", "--state", demo.path, "-f", "markdown",
                                      "-o", str(out)])
    assert result.exit_code != 0
    # The open state may keep its WAL files beside it; no report file may appear.
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if not p.name.startswith("state.db")] == []


def test_cli_unwritable_output(cli: typer.Typer, demo: StateStore, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(cli, ["report", "--state", demo.path, "-o",
                                      str(blocker / "sub" / "r.txt")])
    assert result.exit_code == 3
    assert "cannot write" in result.stderr


def test_cli_output_dash_is_stdout(cli: typer.Typer, demo: StateStore, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Found walking the README: `-o -` wrote a file named "-" in the current folder.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["report", "--state", str(demo.path), "-o", "-", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["links"] == len(LINKED)
    assert not (tmp_path / "-").exists()


def test_cli_output_through_a_link_or_fifo_keeps_it(cli: typer.Typer, demo: StateStore,
                                                    tmp_path: Path) -> None:
    """The atomic write replaced whatever -o named: a symlink became a plain file (the page it
    pointed to never updated), and `-o /dev/null` run as root replaced the device itself."""
    import os
    import threading

    real = tmp_path / "site" / "index.html"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(real)
    result = CliRunner().invoke(cli, ["report", "--state", str(demo.path), "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and "<html" in real.read_text(encoding="utf-8")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")),
                              daemon=True)  # the old code never opened the FIFO: no hang
    reader.start()
    result = CliRunner().invoke(cli, ["report", "--state", str(demo.path), "-o", str(fifo),
                                      "-f", "csv"])
    reader.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert fifo.is_fifo() and got and got[0].startswith("thread")


def test_cli_bad_since(cli: typer.Typer, demo: StateStore) -> None:
    result = CliRunner().invoke(cli, ["report", "--state", demo.path, "-f", "summary",
                                      "--since", "last tuesday"])
    assert result.exit_code == 3
    assert "--since" in result.stderr


def test_cli_since_without_summary_is_a_usage_error(cli: typer.Typer, demo: StateStore) -> None:
    # Found walking the README: `report --since 2025-01-01` printed every link, the date ignored.
    result = CliRunner().invoke(cli, ["report", "--state", str(demo.path), "--since",
                                      "2025-01-01"])
    assert result.exit_code == 2, result.output
    assert "--since goes with --format summary, not table" in result.output
    ok = CliRunner().invoke(cli, ["report", "--state", str(demo.path), "--since", "2025-01-01",
                                  "-f", "summary"])
    assert ok.exit_code == 0, ok.output
