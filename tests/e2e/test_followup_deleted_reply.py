"""A follow-up under a docsgap reply that was deleted since (a moderator, or the engineer after
`docsgap review --undo`): skipped with the reason, recorded, and not planned again; a thread
whose reply is still there gets its follow-up as before."""

from __future__ import annotations

from pathlib import Path

from docsgap.act.followup import FollowUps, followup_key
from docsgap.act.items import parse_item_url
from docsgap.compose import find_markers
from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.loop.services import build_services
from docsgap.models import Outcome, Plan
from docsgap.sandbox import Sandbox
from docsgap.state import StateStore

REASON = "docsgap's reply in this thread was deleted: no follow-up"


def followups(cfg: object) -> tuple[Plan, list[Outcome]]:
    services = build_services(cfg)  # type: ignore[arg-type]
    try:
        return FollowUps(services.forum, services.tracker, services.store,
                         cfg).run(apply=True)  # type: ignore[arg-type]
    finally:
        services.store.close()


def followup_markers(sandbox: Sandbox, topic_id: int) -> list[str]:
    [topic] = [t for t in sandbox.state()["topics"] if t["id"] == topic_id]
    return [k for p in topic["posts"] for k in find_markers(p["raw"] or "")
            if k.startswith("followup:")]


def test_a_deleted_reply_gets_no_followup_and_is_not_tried_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cfg = demo_config(sandbox, tmp_path)
    assert run_once(cfg, apply=True).exit_code == 0
    store = StateStore(cfg.state_path)
    replied = [r for r in store.links() if r["reply_url"] and "/-/issues/" in r["item_url"]
               and not r["followup_url"]]
    store.close()
    by_issue: dict[str, list[dict[str, object]]] = {}
    for r in replied:
        by_issue.setdefault(str(r["item_url"]), []).append(r)
    # Two issues, one thread each: the reply under the first is deleted, the second stays.
    [gone, kept] = [rows[0] for rows in by_issue.values() if len(rows) == 1][:2]
    for row in (gone, kept):
        sandbox.close_issue(parse_item_url(str(row["item_url"]))[1])
    tid, number = int(str(gone["thread_id"])), int(str(gone["reply_url"]).rsplit("/", 1)[1])
    [post_id] = [i for i in sandbox.forum.topics[tid]["post_ids"]
                 if sandbox.forum.posts[i]["post_number"] == number]
    sandbox.moderate_post(post_id, "delete")

    plan, outcomes = followups(cfg)

    results = {o.action.key: o for o in outcomes}
    skipped = results[followup_key(tid, str(gone["item_url"]))]
    assert skipped.status == "already_done" and skipped.remote_url is None
    assert skipped.error == REASON
    assert followup_markers(sandbox, tid) == []
    kept_tid = int(str(kept["thread_id"]))
    assert results[followup_key(kept_tid, str(kept["item_url"]))].status == "applied"
    assert len(followup_markers(sandbox, kept_tid)) == 1

    sandbox.clear_requests()
    again, outcomes = followups(cfg)

    key = followup_key(tid, str(gone["item_url"]))
    assert key not in {a.key for a in again.actions}
    assert {s.subject: s.reason for s in again.skips}[key] == REASON
    assert not [r for r in sandbox.requests_log()
                if r["service"] == "forum" and f"/t/{tid}" in r["path"]]
    assert followup_markers(sandbox, tid) == []

    # The report does not count it as awaiting a follow-up any more (it did: the link has a
    # reply and a fixed issue, and no follow-up URL).
    from docsgap.report import rows_from_state

    store = StateStore(cfg.state_path, read_only=True)
    rows = {(r.thread_id, r.item_url): r for r in rows_from_state(store)}
    store.close()
    row = rows[(tid, str(gone["item_url"]))]
    assert row.replied and row.followup_skipped == REASON and not row.awaiting_followup
