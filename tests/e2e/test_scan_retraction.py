"""A thread docsgap judged changes its verdict later: the author retracts the complaint
("never mind, found it"). The held thread is judged again from the state, and the signal it
no longer yields is forgotten, so no run opens an issue or replies for it."""

from __future__ import annotations

from pathlib import Path

from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.sandbox import Sandbox
from tests.e2e.test_scan_edits import signal_topics

TOPIC = 1016
"""Its first post is a docs complaint (and the thread's only one)."""


def test_a_complaint_its_author_retracts_later_is_not_acted_on(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    dry = run_once(cfg, apply=False)
    assert TOPIC in {s.thread_id for s in dry.result.plan.signals}
    author = next(t for t in sandbox.state()["topics"] if t["id"] == TOPIC)["posts"][0]
    sandbox.add_post(TOPIC, "Never mind, found it on the next page.",
                     username=author["username"])

    again = run_once(cfg, apply=True)

    assert TOPIC not in signal_topics(cfg)
    assert not [a for a in again.result.plan.actions if TOPIC in a.thread_ids]
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == TOPIC)
    assert all(p["username"] != cfg.forum.api_username for p in topic["posts"])
