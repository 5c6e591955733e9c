"""SIGTERM, as a cancelled or timed-out GitLab CI job or `docker stop` sends it, ends a command
the way Ctrl-C does: the 'interrupted' line and exit 130, the state's lock released."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CODE = """
import sys, time
from docsgap.cli import run_cmd, main

def busy(*_args, **_kwargs):
    print("running", flush=True)
    time.sleep(30)

run_cmd.run_once = busy
sys.argv = ["docsgap", "run", "--quiet", "--state", sys.argv[1]]
main()
"""


def test_sigterm_mid_run_is_an_interruption_not_a_silent_death(tmp_path: Path) -> None:
    """Before, the job log of a cancelled scheduled run ended with no word from docsgap and
    exit 143 (Python's default for SIGTERM: no cleanup, no message)."""
    env = {**os.environ, "DOCSGAP_FORUM_URL": "http://127.0.0.1:9/forum",
           "DOCSGAP_GITLAB_URL": "http://127.0.0.1:9", "DOCSGAP_GITLAB_PROJECT": "g/p"}
    env.pop("DOCSGAP_CONFIG", None)
    with subprocess.Popen([sys.executable, "-c", CODE, str(tmp_path / "state.db")], env=env,
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "running"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "interrupted: what was done and recorded so far is kept" in err
    assert "Traceback" not in err
