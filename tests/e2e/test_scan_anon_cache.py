"""A keyless scan against Discourse's anonymous cache (on in the end-to-end sandbox): the topic
view can be up to a minute old, so a post `/posts.json` just listed may be missing from its
stream. The scan must judge that post all the same, and forget a post that is really gone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from docsgap.config import Config
from docsgap.demo import demo_config
from docsgap.forum.discourse import DiscourseForum
from docsgap.loop.run import run_once
from docsgap.sandbox import Sandbox
from docsgap.state import StateStore
from tests.e2e.test_scan_requests import COMPLAINT, candidate_topics, forum_paths

TOPIC = 1007
"""26 posts, none a candidate on its own."""


def keyless(sandbox: Sandbox, tmp_path: Path) -> Config:
    cfg = demo_config(sandbox, tmp_path)
    return replace(cfg, forum=replace(cfg.forum, api_key=None, api_username=None))


def cache_the_topic_view(sandbox: Sandbox) -> None:
    """Read the topic as the scan does, anonymously, twice: Discourse stores the answer."""
    public = DiscourseForum(sandbox.forum_url, timeout=5)
    for _ in range(2):
        public.read_topic(TOPIC)
    sandbox.clear_requests()


def held_ids(cfg: Config, topic_id: int) -> set[int]:
    store = StateStore(cfg.state_path)
    try:
        rows = store.db.execute("select id from posts where topic_id = ?", [topic_id])
        return {int(r[0]) for r in rows}
    finally:
        store.close()


def signals_of(cfg: Config, topic_id: int) -> list[str]:
    store = StateStore(cfg.state_path)
    try:
        return [s.key for s in store.signals() if s.thread_id == topic_id]
    finally:
        store.close()


def test_a_post_the_cached_topic_view_lacks_is_judged_and_kept(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = keyless(sandbox, tmp_path)
    assert TOPIC not in candidate_topics(sandbox, cfg)
    cache_the_topic_view(sandbox)
    post = sandbox.add_post(TOPIC, COMPLAINT, username="emily.qa")

    report = run_once(cfg, apply=False)

    assert report.exit_code == 0
    log = [e for e in sandbox.requests_log() if e["service"] == "forum"]
    view = [e for e in log if e["path"].startswith(f"/t/{TOPIC}/1.json")]
    assert len(view) == 1 and view[0]["cached"], "the scan met the stale topic view"
    assert signals_of(cfg, TOPIC), "the complaint in the new post was judged"
    assert post["id"] in held_ids(cfg, TOPIC)
    # The one post the stale view lacked was asked for by id (never cached).
    asked = [p for p in forum_paths(sandbox) if p.startswith(f"/t/{TOPIC}/posts.json")]
    assert any(f"post_ids%5B%5D={post['id']}" in p or f"post_ids[]={post['id']}" in p
               for p in asked)


def test_a_post_gone_since_the_walk_is_not_kept(sandbox: Sandbox) -> None:
    """The stale view lacks a post the walk listed, and `post_ids[]` finds it deleted since:
    the read does not return it, so the scan forgets it instead of judging it."""
    cache_the_topic_view(sandbox)
    post = sandbox.add_post(TOPIC, COMPLAINT, username="emily.qa")
    forum = DiscourseForum(sandbox.forum_url, timeout=5)
    assert forum.latest_posts(None)[0].post.id == post["id"]
    sandbox.moderate_post(post["id"], "delete")

    read = forum.read_topic(TOPIC, {post["id"]})

    assert post["id"] not in read.stream
    assert post["id"] not in {p.id for p in read.thread.posts}
    asked = [p for p in forum_paths(sandbox) if p.startswith(f"/t/{TOPIC}/posts.json")]
    assert asked, "the post was asked for by id"
