"""Posts that change after the scan read them. `/posts.json` lists by id, so an edited post is
never listed above the cursor again; the scan looks again at the posts below the cursor on the
page where its walk stops (they come with that page, no request of their own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docsgap.config import Config
from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.sandbox import Sandbox
from docsgap.state import StateStore
from tests.e2e.test_scan_requests import (
    CATEGORIES,
    COMPLAINT,
    PLAIN,
    candidate_topics,
    forum_paths,
    listed,
    topics_read,
)

QUIET = 1018
"""A topic no rule hits in, where the tests add plain replies so each run has something new."""


def newest_posts(sandbox: Sandbox, n: int = 40) -> list[dict[str, Any]]:
    """The `n` newest posts `/posts.json` lists (with their `topic_id`): the page a walk
    stops on holds them."""
    posts = ({**p, "topic_id": t["id"]} for t, p in listed(sandbox))
    return sorted(posts, key=lambda p: -p["id"])[:n]


def held_post(cfg: Config, post_id: int) -> tuple[int, str] | None:
    store = StateStore(cfg.state_path)
    try:
        rows = store.db.execute("select topic_id, raw from posts where id = ?", [post_id])
        return next(((int(r[0]), str(r[1])) for r in rows), None)
    finally:
        store.close()


def signal_topics(cfg: Config) -> set[int]:
    store = StateStore(cfg.state_path)
    try:
        return {s.thread_id for s in store.signals()}
    finally:
        store.close()


def test_a_post_edited_into_a_complaint_after_the_scan_is_judged_once(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    candidates = candidate_topics(sandbox, cfg)
    post = next(p for p in newest_posts(sandbox)
                if p["topic_id"] not in candidates | {QUIET} and p["post_number"] > 1)
    tid = post["topic_id"]
    assert tid not in signal_topics(cfg)
    sandbox.add_post(QUIET, PLAIN, username="emily.qa")
    sandbox.edit_post(post["id"], COMPLAINT)
    sandbox.clear_requests()

    run_once(cfg, apply=False)

    assert tid in signal_topics(cfg), "the edit's complaint was judged"
    assert held_post(cfg, post["id"]) == (tid, COMPLAINT)
    paths = forum_paths(sandbox)
    assert topics_read(paths) == [tid], "read once, as a new candidate is"
    assert [p for p in paths if p.startswith("/posts.json")] == ["/posts.json"]

    # Nothing changed since: the next run judges nothing again and reads no thread.
    sandbox.add_post(QUIET, PLAIN + " Again.", username="ravi_k")
    sandbox.clear_requests()
    run_once(cfg, apply=False)
    assert sorted(forum_paths(sandbox)) == sorted(["/posts.json", CATEGORIES])


def test_an_edit_in_a_held_topic_replaces_the_held_copy_without_a_read(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    held = signal_topics(cfg)
    post = next(p for p in newest_posts(sandbox) if p["topic_id"] in held)
    edited = post["raw"] + "\n\nEdit: same on 17.2, the example still fails."
    sandbox.add_post(QUIET, PLAIN, username="emily.qa")
    sandbox.edit_post(post["id"], edited)
    sandbox.clear_requests()

    run_once(cfg, apply=False)

    assert held_post(cfg, post["id"]) == (post["topic_id"], edited)
    assert topics_read(forum_paths(sandbox)) == [], "judged again from the state"


def test_a_rerun_with_nothing_new_reads_no_category_list_for_older_posts(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """Posts below the cursor are looked at again only when the run read the category list
    for new posts anyway: a no-op rerun stays one request."""
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    post = newest_posts(sandbox)[0]
    sandbox.edit_post(post["id"], COMPLAINT)
    sandbox.clear_requests()

    run_once(cfg, apply=False)

    assert forum_paths(sandbox) == ["/posts.json"]
