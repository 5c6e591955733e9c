"""Markers are public text: anyone can copy one into a forum post or a GitLab issue. docsgap
must trust only what its own users wrote, or a copied marker would stop its reply or make it
link (and announce) someone else's issue as the one it opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docsgap import compose
from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.models import ActionKind
from docsgap.sandbox import SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.state import StateStore


def test_copied_markers_neither_stop_the_reply_nor_stand_in_for_the_issue(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    dry = run_once(cfg, apply=False).result.plan
    opened = next(a for a in dry.actions if a.kind is ActionKind.OPEN_ISSUE)
    reply = next(a for a in dry.actions if a.kind is ActionKind.REPLY
                 and a.depends_on == opened.key)
    topic = reply.thread_ids[0]
    signal = next(s for s in dry.signals if s.key in opened.signal_keys)

    # Someone else copies both markers: into a docs-labelled issue naming the thread, and
    # into a post in the thread.
    with sandbox._lock:
        gl = sandbox.gitlab
        project = gl.project(sandbox.project)
        fake = gl.create_issue(project, gl.user_named("akelly"), {
            "title": "Docs are wrong",
            "description": f"{signal.thread_url}\n\n{compose.marker(opened.key)}"}, sandbox.now())
        fake["labels"] = [cfg.gitlab.docs_label]  # as a triage bot would label it
    fake_url = f"{cfg.gitlab.url.rstrip('/')}/{sandbox.project}/-/issues/{fake['iid']}"
    sandbox.add_post(topic, f"me too\n\n{compose.marker(reply.key)}", username="chen.wei")

    done = run_once(cfg, apply=True).result
    applied = {o.action.key: o for o in done.outcomes if o.status == "applied"}
    assert opened.key in applied and reply.key in applied
    state = sandbox.state()
    ours = [i for i in state["issues"] if compose.marker(opened.key) in (i["description"] or "")
            and i["author"] != "akelly"]
    assert [i["author"] for i in ours] == ["docsgap-bot"]
    posts = next(t for t in state["topics"] if t["id"] == topic)["posts"]
    assert [p["username"] for p in posts if compose.marker(reply.key) in (p["raw"] or "")] == [
        "chen.wei", SANDBOX_DISCOURSE_API_USERNAME]
    assert applied[opened.key].remote_url != fake_url
    assert fake_url not in {row["item_url"] for row in _links(cfg.state_path)}


def _links(state_path: Path) -> list[dict[str, Any]]:
    store = StateStore(state_path, read_only=True)
    try:
        return list(store.links())
    finally:
        store.close()
