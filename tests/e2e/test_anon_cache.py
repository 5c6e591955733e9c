"""docsgap against Discourse's anonymous cache (on in the end-to-end sandbox, as on a real
site): `run --topic` reads the topic as the public first, and that answer can be up to a minute
old, so it may miss docsgap's own reply or a change a moment ago. Every write is decided on a
fresh read with the key, so a stale public read never writes more than a fresh one would: a
rerun right after a reply, even with the state lost, finds its marker and posts nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.config import Config
from docsgap.demo import demo_config
from docsgap.forum.discourse import DiscourseForum
from docsgap.loop.run import run_once
from docsgap.models import ActionKind
from docsgap.sandbox import SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from tests.e2e.test_run_topic import writes_about

TOPIC = 1033


def cache_the_public_view(sandbox: Sandbox) -> None:
    """Ask for the topic as `run --topic` does, anonymously, twice: Discourse stores an answer
    once its key was asked twice within the minute."""
    public = DiscourseForum(sandbox.forum_url, timeout=5)
    for _ in range(2):
        public.read_topic(TOPIC, public=True)
    sandbox.clear_requests()


def bot_posts(sandbox: Sandbox) -> list[str]:
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == TOPIC)
    return [p["raw"] for p in topic["posts"] if p["username"] == SANDBOX_DISCOURSE_API_USERNAME]


def forget_state(cfg: Config) -> None:
    for path in cfg.state_path.parent.glob(cfg.state_path.name + "*"):
        path.unlink()


def test_a_rerun_right_after_a_reply_with_the_state_lost_posts_no_second_reply(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    cache_the_public_view(sandbox)
    first = run_once(cfg, apply=True, topic=TOPIC)
    assert first.exit_code == 0
    replies = [o for o in first.result.outcomes if o.action.kind is ActionKind.REPLY]
    assert [o.status for o in replies] == ["applied"]
    assert len(bot_posts(sandbox)) == 1
    sandbox.clear_requests()

    forget_state(cfg)
    again = run_once(cfg, apply=True, topic=TOPIC)
    assert again.exit_code == 0
    log = [e for e in sandbox.requests_log() if e["service"] == "forum"]
    assert log[0]["path"].startswith(f"/t/{TOPIC}/1.json") and log[0]["cached"], \
        "the public read came from the cache, without the reply"
    replies = [o for o in again.result.outcomes if o.action.kind is ActionKind.REPLY]
    assert [(o.status, o.error) for o in replies] == [
        ("already_done", "post with this marker already exists")]
    assert replies[0].remote_url and replies[0].remote_url.startswith(f"{sandbox.forum_url}/t/")
    assert len(bot_posts(sandbox)) == 1
    assert not [e for e in log if e["method"] == "POST"]


@pytest.mark.parametrize("change", ["closed"])
def test_a_stale_public_read_writes_no_more_than_a_fresh_keyed_one(
        sandbox: Sandbox, tmp_path: Path, change: str) -> None:
    """The topic stops taking replies after the public view was cached: the stale read still
    plans the reply, the keyed read before writing skips it; what is written is what a run
    that read the topic fresh writes."""
    cfg = demo_config(sandbox, tmp_path / "fresh")
    sandbox.update_topic(TOPIC, **{change: True})
    fresh = run_once(cfg, apply=True, topic=TOPIC)
    assert fresh.exit_code == 0
    expected = writes_about(sandbox, TOPIC)
    assert not [k for k in expected if k.startswith("reply:")]

    sandbox.reset()
    cache_the_public_view(sandbox)
    sandbox.update_topic(TOPIC, **{change: True})
    stale = run_once(replace(cfg, state_path=tmp_path / "stale" / "state.db"), apply=True,
                     topic=TOPIC)
    assert stale.exit_code == 0
    assert [e["cached"] for e in sandbox.requests_log() if e["service"] == "forum"][0]
    planned = {a.kind for a in stale.result.plan.actions}
    assert ActionKind.REPLY in planned, "the stale view still looked open"
    assert writes_about(sandbox, TOPIC) == expected
