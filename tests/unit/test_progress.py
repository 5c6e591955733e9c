"""Progress on long scans shows on a terminal and stays out of CI logs and --quiet runs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from docsgap.cli.common import TerminalProgress
from docsgap.loop.pipeline import Pipeline
from docsgap.models import RunResult
from docsgap.state import StateStore
from tests.fakes import shared_detector
from tests.unit.test_pipeline import make


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal(monkeypatch: pytest.MonkeyPatch) -> Tty:
    # Patched in the test body: pytest's capture swaps sys.stderr back between phases.
    out = Tty()
    monkeypatch.setattr("sys.stderr", out)
    monkeypatch.delenv("CI", raising=False)
    return out


def test_terminal_shows_a_bar_then_clears_it(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = terminal(monkeypatch)
    progress = TerminalProgress()
    progress("scan", 3, 12)
    assert "scan  [######------------------] 3/12" in tty.getvalue()
    progress("sync", 500, 0)
    assert "sync  500 item(s)" in tty.getvalue()
    progress.close()
    assert tty.getvalue().endswith("\r")


@pytest.mark.parametrize("setup", ["quiet", "ci", "pipe"])
def test_silent_with_quiet_in_ci_or_when_piped(monkeypatch: pytest.MonkeyPatch,
                                               setup: str) -> None:
    tty = terminal(monkeypatch)
    if setup == "ci":
        monkeypatch.setenv("CI", "true")
    if setup == "pipe":
        monkeypatch.setattr(tty, "isatty", lambda: False)
    progress = TerminalProgress(quiet=setup == "quiet")
    progress("scan", 1, 2)
    progress.close()
    assert tty.getvalue() == ""


def test_a_rate_limit_wait_is_shown_with_when_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = terminal(monkeypatch)
    TerminalProgress().waiting("forum", 30)
    assert "forum: waiting 30 s before retrying (until " in tty.getvalue()
    monkeypatch.setenv("CI", "true")
    before = tty.getvalue()
    TerminalProgress().waiting("forum", 30)
    assert tty.getvalue() == before


def test_the_apply_phase_reports_progress(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    seen: list[tuple[str, int, int]] = []

    def run(apply: bool) -> RunResult:
        store = StateStore(cfg.state_path)
        try:
            return Pipeline(cfg, forum, tracker, store, shared_detector(),
                            progress=lambda *a: seen.append(a)).run(apply=apply)
        finally:
            store.close()

    run(apply=False)
    assert not [s for s in seen if s[0] == "apply"]  # a dry run is instant: no bar
    result = run(apply=True)
    applying = [s for s in seen if s[0] == "apply"]
    assert len(applying) == len(result.plan.actions) > 0
    assert [n for _, n, _ in applying] == list(range(len(applying)))


def test_the_time_left_follows_the_pace_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = terminal(monkeypatch)
    clock = iter([100.0, 160.0])
    monkeypatch.setattr("docsgap.cli.common.time.monotonic", lambda: next(clock))
    progress = TerminalProgress()
    progress("scan", 10, 110)  # the pace starts here
    progress("scan", 40, 110)  # 30 pages a minute: 70 left take 140 s
    assert tty.getvalue().rstrip().endswith("40/110, ~2 min left")
    progress.notice("first scan: up to 110 requests")
    assert tty.getvalue().endswith("first scan: up to 110 requests\n")
