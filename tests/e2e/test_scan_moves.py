"""Posts a moderator moves into another topic after the scan read them (`PostMover`): they
keep their ids, so `/posts.json` never lists them again, but the first post is created anew
in the destination with its old `created_at`. The scan takes that copy as the sign that the
destination changed and reads it whole, once."""

from __future__ import annotations

from pathlib import Path

from docsgap.demo import demo_config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.forum.discourse import DiscourseForum
from docsgap.loop.run import run_once
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.scan import Scanner
from docsgap.state import StateStore
from tests.e2e.test_scan_edits import QUIET, held_post, signal_topics
from tests.e2e.test_scan_requests import (
    CATEGORIES,
    COMPLAINT,
    PLAIN,
    candidate_topics,
    forum_paths,
    topics_read,
)

SOURCE = 1012
"""Three posts; the third (not the first) is a docs complaint."""
DEST = 1007
"""26 posts, none a candidate: never read by the scan."""


def test_posts_merged_into_a_topic_are_judged_there_once(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    assert SOURCE in signal_topics(cfg) and DEST not in candidate_topics(sandbox, cfg)
    source = next(t for t in sandbox.state()["topics"] if t["id"] == SOURCE)
    complaint = source["posts"][2]
    sandbox.move_posts(SOURCE, [p["id"] for p in source["posts"]], DEST)  # a merge
    sandbox.clear_requests()

    run_once(cfg, apply=False)

    assert DEST in signal_topics(cfg), "the moved complaint was judged in its new topic"
    assert SOURCE not in signal_topics(cfg), "the source, judged again, no longer holds it"
    assert held_post(cfg, complaint["id"]) == (DEST, complaint["raw"])
    assert topics_read(forum_paths(sandbox)) == [DEST]

    # Nothing moved since: the next run reads no thread.
    sandbox.add_post(QUIET, PLAIN, username="emily.qa")
    sandbox.clear_requests()
    run_once(cfg, apply=False)
    assert sorted(forum_paths(sandbox)) == sorted(["/posts.json", CATEGORIES])


def test_a_post_moved_between_the_walk_and_its_topics_read_is_judged_where_it_went(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """The walk listed the post in one topic; before that topic was read a moderator moved it
    (same id): the read misses it, `/posts/{id}.json` says where it is, and that topic is read
    and judged in the same scan."""
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    post = sandbox.add_post(DEST, COMPLAINT, username="emily.qa")
    forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_API_KEY, timeout=5)
    store = StateStore(cfg.state_path)
    try:
        scanner = Scanner(cfg, forum, store, Detector(load_rules()), lambda *_: None,
                          lambda _: None)
        scanner.walk()
        sandbox.move_posts(DEST, [post["id"]], QUIET)
        sandbox.clear_requests()
        scanner.judge_queued()
    finally:
        store.close()

    assert QUIET in signal_topics(cfg), "judged in the topic it was moved to"
    assert DEST not in signal_topics(cfg)
    paths = forum_paths(sandbox)
    assert f"/posts/{post['id']}.json" in paths
    assert topics_read(paths) == [DEST, QUIET]
