"""The forum scan's request pattern against the sandbox, from its request log: the
latest-posts pages, plus one thread read per topic holding a candidate signal (never one per
topic), only the posts not held on later runs, and the same signals as reading every thread."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from docsgap.config import Config
from docsgap.demo import demo_config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.forum.discourse import DiscourseForum
from docsgap.loop.run import run_once
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.state import StateStore

COMPLAINT = ("The docs at https://docs.gitlab.com/ci/yaml/ are wrong: the rules example does "
             "not work as written, it fails with an error.")
PLAIN = "Same here on our instance, the job stays pending for a few minutes every time."
_TOPIC = re.compile(r"^/t/(\d+)(/posts|/1)?\.json")
CATEGORIES = "/categories.json?include_subcategories=true"
"""The category list a keyed scan reads once per run (to know read-restricted ones)."""


def forum_paths(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests_log() if r["service"] == "forum"]


def topics_read(paths: list[str]) -> list[int]:
    """Topic ids of `/t/{id}.json` requests, in order."""
    found = (_TOPIC.match(p) for p in paths)
    return [int(m.group(1)) for m in found if m and m.group(2) != "/posts"]


def listed(sandbox: Sandbox) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(topic, post) for every post `/posts.json` shows the bot: regular, neither deleted
    nor hidden, outside the staff category (the bot is no staff member)."""
    return [(t, p) for t in sandbox.state()["topics"] if t["category_id"] != 60
            for p in t["posts"] if p["post_type"] == 1 and not p["deleted_at"]
            and not p["hidden"]]


def candidate_topics(sandbox: Sandbox, cfg: Config) -> set[int]:
    """Topics one of whose posts, judged alone, holds a rule hit (by people, not staff/bots)."""
    detector = Detector(load_rules())
    ignored = {u.lower() for u in (*cfg.forum.bot_usernames, *cfg.forum.staff_usernames)}
    staff = {u["username"] for u in sandbox.state()["users"]
             if u.get("admin") or u.get("moderator")}
    found = set()
    for t, p in listed(sandbox):
        if p["username"] in staff or p["username"].lower() in ignored or p["user_deleted"]:
            continue
        if t["category_id"] == 61:  # read-restricted: withheld, never a candidate
            continue
        title = t["title"] if p["post_number"] == 1 else ""
        if detector.detect_text(title, p["raw"]).evidence:
            found.add(t["id"])
    return found


def stored_signals(cfg: Config) -> set[str]:
    store = StateStore(cfg.state_path)
    try:
        return {s.key for s in store.signals()}
    finally:
        store.close()


def test_first_scan_reads_a_thread_only_for_topics_holding_a_candidate(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    report = run_once(cfg, apply=False)
    paths = forum_paths(sandbox)

    read = topics_read(paths)
    candidates = candidate_topics(sandbox, cfg)
    topics = {t["id"] for t, _ in listed(sandbox)}
    assert set(read) == candidates and len(read) == len(candidates) < len(topics) * 0.6
    pages = [p for p in paths if p.startswith("/posts.json")]
    assert len(pages) == math.ceil(len(listed(sandbox)) / 50) + 1  # ends on an empty page
    # Every post of a candidate topic came with the stream: no chunk requests at all.
    assert len(paths) == len(pages) + len(read) + 1 and CATEGORIES in paths
    # Nothing is lost: the signals are those of judging every whole thread.
    forum = DiscourseForum(sandbox.forum_url, SANDBOX_DISCOURSE_API_USERNAME,
                           SANDBOX_DISCOURSE_API_KEY)
    detector = Detector(load_rules())
    ignored = (*cfg.forum.bot_usernames, *cfg.forum.staff_usernames)
    every = {s.key for t in sorted(topics)
             for s in detector.detect_thread(forum.thread(t), ignore_usernames=ignored).signals}
    assert stored_signals(cfg) == every and every
    assert report.result.threads_scanned == len(topics)


def test_later_runs_read_new_posts_and_only_the_posts_not_held(
        sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    run_once(cfg, apply=False)
    assert 1007 not in candidate_topics(sandbox, cfg)  # 26 posts, none a candidate
    sandbox.add_post(1018, PLAIN, username="emily.qa")
    sandbox.add_post(1007, COMPLAINT, username="emily.qa")
    sandbox.clear_requests()

    run_once(cfg, apply=False)

    # One page (the new posts and older ones, where the walk stops), then topic 1007 alone:
    # its head with the first 20 posts and one chunk of the 6 older posts not held (the new
    # one came with the page); and the category list, once a run.
    paths = forum_paths(sandbox)
    assert paths[0] == "/posts.json" and topics_read(paths) == [1007]
    chunk = [p for p in paths if p.startswith("/t/1007/posts.json")]
    assert len(chunk) == 1 and chunk[0].count("post_ids") == 6
    assert len(paths) == 4 and CATEGORIES in paths
    assert any(k.startswith("t1007:") for k in stored_signals(cfg))

    # 1007 is held now: a reply there is judged from the state, without reading the thread.
    sandbox.add_post(1007, PLAIN, username="ravi_k")
    sandbox.clear_requests()
    run_once(cfg, apply=False)
    assert topics_read(forum_paths(sandbox)) == []

    # Nothing new: one page (its posts are all held, so no category list either) and the
    # issue and MR refresh.
    sandbox.clear_requests()
    again = run_once(cfg, apply=False)
    assert forum_paths(sandbox) == ["/posts.json"] and len(sandbox.requests_log()) <= 3
    assert again.result.threads_scanned == 0
