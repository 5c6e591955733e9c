"""A reader that closes docsgap's output early (`docsgap report | head`) ends it with 141, as
SIGPIPE would, quietly: click's own answer is a silent exit 1, which the README keeps for bugs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from docsgap.errors import ExitCode


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["eval", "--help"]])
def test_a_closed_stdout_exits_141_without_a_traceback(argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before docsgap writes a byte
    try:
        done = subprocess.run([sys.executable, "-m", "docsgap", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == ExitCode.OUTPUT_CLOSED == 141
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr


def test_an_open_stdout_still_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "docsgap", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("docsgap ")
