"""The sandbox's indexes give the same answers as the scans they replace: `/posts.json` pages
walked down the id index, fresh post/topic/note ids, users by name, and control-API rows."""

from __future__ import annotations

from docsgap.sandbox import Sandbox, seed
from docsgap.sandbox.discourse.state import REGULAR, ForumState

PLACES = {"forum_url": "http://f/forum", "gitlab_url": "http://g/gitlab"}


def _forum() -> ForumState:
    return seed.build_forum(seed.load_demo_data()["forum"], PLACES)


def _scanned(state: ForumState, before: int | None, viewer: object) -> list[int]:
    """What `/posts.json` used to compute: filter every post, sort, take 50 (flag-hidden
    posts are not listed either)."""
    visible = {t["id"] for t in state.visible_topics(viewer)  # type: ignore[arg-type]
               if t["visible"]}  # `Post.visible`: no unlisted topic's posts, for staff too
    ids = [p["id"] for p in state.posts.values()
           if p["post_type"] == REGULAR and p["topic_id"] in visible
           and p.get("deleted_at") is None and not p["hidden"]
           and (before is None or p["id"] < before)]
    return sorted(ids, reverse=True)[:50]


def test_latest_posts_walk_matches_the_full_scan_for_anyone() -> None:
    state = _forum()
    staff = state.user("gitlab-team")
    some = sorted(state.posts)[len(state.posts) // 3]
    state.posts[some]["deleted_at"] = "2026-01-01T00:00:00Z"
    hidden = next(iter(state.topics.values()))
    hidden["visible"] = False
    for viewer in (None, staff):
        for before in (None, max(state.posts) - 7, some + 1, min(state.posts) + 3):
            walked = [p["id"] for p in state.latest_posts(before, viewer, 50)]
            assert walked == _scanned(state, before, viewer)
    assert some not in [p["id"] for p in state.latest_posts(some + 1, staff, 50)]


def test_new_posts_and_topics_get_fresh_increasing_ids() -> None:
    state = _forum()
    user = state.user("emily.qa")
    assert user is not None and user is state.user("EMILY.QA")
    before = max(state.posts)
    topic = state.new_topic(user, "A new question about runners", 1, [], 0.0)
    assert topic["id"] == max(t for t in state.topics if t != topic["id"]) + 1
    first = state.add_post(topic, user, "How do I register a runner for a group?", 0.0)
    second = state.add_post(topic, user, "Never mind, found it in the settings page.", 0.0)
    assert (first["id"], second["id"]) == (before + 1, before + 2)
    assert [p["id"] for p in state.latest_posts(None, user, 2)] == [second["id"], first["id"]]


def test_control_issue_row_is_the_snapshot_row(sandbox: Sandbox) -> None:
    iid = sandbox.state()["issues"][0]["iid"]
    closed = sandbox.close_issue(iid, labels=["won't do"])
    row = next(r for r in sandbox.state()["issues"] if r["iid"] == iid)
    assert closed == row and row["state"] == "closed"
    assert sandbox.reopen_issue(iid)["state"] == "opened"
    notes = [n["id"] for n in sandbox.state()["notes"]]
    assert len(notes) == len(set(notes)) and notes == sorted(notes)
