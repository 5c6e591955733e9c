"""Posts a moderator moves into another topic after the scan read them (`PostMover`): they
keep their ids, so `/posts.json` never lists them again, but the first post is created anew
in the destination with its old `created_at`. The scan takes that copy as the sign that the
destination changed and reads it whole, once."""

from __future__ import annotations

from pathlib import Path

from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.sandbox import Sandbox
from tests.e2e.test_scan_edits import QUIET, held_post, signal_topics
from tests.e2e.test_scan_requests import (
    CATEGORIES,
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
    assert held_post(cfg, complaint["id"]) == (DEST, complaint["raw"])
    assert topics_read(forum_paths(sandbox)) == [DEST]

    # Nothing moved since: the next run reads no thread.
    sandbox.add_post(QUIET, PLAIN, username="emily.qa")
    sandbox.clear_requests()
    run_once(cfg, apply=False)
    assert sorted(forum_paths(sandbox)) == sorted(["/posts.json", CATEGORIES])
