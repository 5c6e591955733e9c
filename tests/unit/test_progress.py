"""Progress on long scans shows on a terminal and stays out of CI logs and --quiet runs."""

from __future__ import annotations

import io

import pytest

from docsgap.cli.common import TerminalProgress


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
