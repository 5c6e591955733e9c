"""A confidential issue is one forum readers cannot open: docsgap may match a thread to it, but
it never links it on its own (no evidence note, no reply pointing at it); a person decides."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.models import ActionKind
from docsgap.sandbox import Sandbox


def test_a_confidential_match_waits_for_review_and_nothing_points_at_it(
        sandbox: Sandbox, tmp_path: Path) -> None:
    probe = demo_config(sandbox, tmp_path / "probe")
    probe = replace(probe, policy=replace(probe.policy, link_existing="auto"))
    opened = {i["web_url"] for i in sandbox.state()["issues"] if i["state"] == "opened"}
    link = next(a for a in run_once(probe, apply=False).result.plan.actions
                if a.kind is ActionKind.LINK_EXISTING and a.target_url in opened
                and not a.reason.startswith("score in the review band"))
    assert link.target_url
    iid = int(link.target_url.rstrip("/").rsplit("/", 1)[1])
    with sandbox._lock:
        gl = sandbox.gitlab
        gl.issue(gl.project(sandbox.project), iid)["confidential"] = True

    cfg = replace(demo_config(sandbox, tmp_path / "run"), policy=probe.policy)
    done = run_once(cfg, apply=True).result
    linked = [a for a in done.plan.actions if a.target_url == link.target_url]
    assert linked and all(a.kind is not ActionKind.LINK_EXISTING
                          or "confidential issue" in a.reason for a in linked)
    assert not [o for o in done.outcomes
                if o.action.target_url == link.target_url and o.status == "applied"]
    state = sandbox.state()
    assert not [n for n in state["notes"] if n["noteable_iid"] == iid and not n["system"]]
    assert not [p for t in state["topics"] for p in t["posts"]
                if link.target_url in (p["raw"] or "")]
