"""A topic a moderator takes out of public view after docsgap read it: unlisted (still
readable by its URL, as `Guardian#can_see_topic?` ignores `visible`), moved into a
read-restricted category the bot can see, or into one it cannot. The next run quotes nothing
from it into GitLab and posts nothing there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docsgap.demo import demo_config
from docsgap.forum.discourse import DiscourseForum
from docsgap.loop.run import run_once
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.state import StateStore
from tests.e2e.test_scan_edits import signal_topics
from tests.e2e.test_scan_requests import forum_paths, topics_read

TOPIC = 1016
"""Its first post is a docs complaint (cloud_services/aws)."""


@pytest.mark.parametrize("change", [{"visible": False}, {"category_id": 61},
                                    {"category_id": 60}],
                         ids=["unlisted", "restricted-seen-by-bot", "restricted-unseen"])
def test_a_topic_taken_out_of_public_view_after_the_scan_is_neither_quoted_nor_answered(
        sandbox: Sandbox, tmp_path: Path, change: dict[str, Any]) -> None:
    cfg = demo_config(sandbox, tmp_path)
    dry = run_once(cfg, apply=False)
    assert [s for s in dry.result.plan.signals if s.thread_id == TOPIC]
    sandbox.update_topic(TOPIC, **change)

    report = run_once(cfg, apply=True)

    assert report.exit_code == 0
    state = sandbox.state()
    written = [i["description"] for i in state["issues"] if i["author"] == "docsgap-bot"] + [
        n["body"] for n in state["notes"] if n["author"] == "docsgap-bot"]
    assert written, "the run wrote about other topics"
    assert not [text for text in written if "cloud_services/aws" in text or f"/{TOPIC}" in text]
    topic = next(t for t in state["topics"] if t["id"] == TOPIC)
    assert all(p["username"] != cfg.forum.api_username for p in topic["posts"])


def test_an_unlisted_topic_reads_withheld_and_its_new_posts_are_not_listed(
        sandbox: Sandbox) -> None:
    """As Discourse: the topic view still answers (for anyone), `/posts.json` leaves it out."""
    sandbox.update_topic(TOPIC, visible=False)
    post = sandbox.add_post(TOPIC, "Same problem here with the AWS page, still wrong.",
                            username="emily.qa")
    for forum in (DiscourseForum(sandbox.forum_url, timeout=5),
                  DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                                 SANDBOX_DISCOURSE_API_KEY, timeout=5)):
        thread = forum.thread(TOPIC)
        assert thread.withheld == "unlisted by a moderator"
        assert all(not p.cooked and not p.raw for p in thread.posts)
        assert post["id"] not in {lp.post.id for lp in forum.latest_posts(None)}


def test_a_held_topic_moved_into_a_restricted_category_keeps_no_signal_nor_text(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """A new post shows the held topic is read-restricted now (the bot is in the group that
    sees it): what docsgap held of it loses its text and its signals go, without a read."""
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    assert TOPIC in signal_topics(cfg)
    sandbox.update_topic(TOPIC, category_id=61)
    sandbox.add_post(TOPIC, "Any news on this one? The AWS page still 404s for us.",
                     username="emily.qa")
    sandbox.clear_requests()

    dry = run_once(cfg, apply=False)

    assert TOPIC not in signal_topics(cfg)
    assert not [a for a in dry.result.plan.actions if TOPIC in a.thread_ids]
    assert topics_read(forum_paths(sandbox)) == []
    store = StateStore(cfg.state_path)
    try:
        texts = [r[0] for r in store.db.execute(
            "select cooked from posts where topic_id = ?", [TOPIC])]
    finally:
        store.close()
    assert texts and not any(texts)
