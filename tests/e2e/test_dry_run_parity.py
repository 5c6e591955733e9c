"""`run --apply` after a dry run does what the dry run showed, action by action: found walking
the engineer's flow, the dry run said "would do" for the replies of links waiting in the
review band, which `--apply` then queued ("waits for note:...#review:t1035")."""

from __future__ import annotations

from pathlib import Path

from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.sandbox import Sandbox

SAID = {None: {"applied", "already_done"}, "would wait for review": {"pending_review"}}


def test_apply_does_what_the_dry_run_said(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    dry = {o.action.key: o for o in run_once(cfg, apply=False).result.outcomes}
    done = {o.action.key: o for o in run_once(cfg, apply=True).result.outcomes}
    assert dry.keys() == done.keys()
    waiting = [k for k, o in dry.items() if o.action.depends_on and o.error]
    assert waiting, "the seed has replies behind links in the review band"
    for key, said in dry.items():
        got = done[key]
        expected = SAID.get(said.error, {"dry_run"})
        assert got.status in expected, (key, said.error, got.status, got.error)
