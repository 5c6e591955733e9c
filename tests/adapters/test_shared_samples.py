"""The adapters read the reference payloads in ../shared/api/samples (skipped where absent), and
our own fixtures keep every key those samples have, so the fixtures cannot drift from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from docsgap.errors import UnavailableError
from docsgap.forum.discourse import DiscourseForum
from docsgap.tracker.gitlab import GitLabTracker
from tests.adapters.conftest import (
    API,
    CATEGORIES,
    DISCOURSE_JSON,
    FORUM,
    fixture,
    without_categories,
)
from tests.streamwalk import walk_stream

pytestmark = pytest.mark.shared


@pytest.fixture
def samples(shared_dir: Path) -> Path:
    """../shared/api/samples."""
    return shared_dir / "api" / "samples"


def load(samples: Path, name: str) -> Any:
    return json.loads((samples / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("ours", "sample", "pick"),
    [
        ("discourse_post.json", "discourse-topic.json", lambda d: d["post_stream"]["posts"][0]),
        ("discourse_topic.json", "discourse-topic.json", lambda d: d),
        ("gitlab_issue.json", "gitlab-issue.json", lambda d: d),
        ("gitlab_merge_request.json", "gitlab-merge-request.json", lambda d: d),
        ("gitlab_note.json", "gitlab-note.json", lambda d: d),
    ],
)
def test_our_fixtures_keep_the_sample_keys(
    samples: Path, ours: str, sample: str, pick: Any
) -> None:
    expected = set(pick(load(samples, sample)))
    missing = expected - set(fixture(ours))
    # Optional in the real API: `prepared_at` (recent MRs), `accepted_answer` (solved topics).
    assert missing <= {"prepared_at", "accepted_answer"}, f"{ours} lacks {sorted(missing)}"


def test_sample_topic_and_posts_read_through_the_adapter(
    samples: Path, rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    topic = load(samples, "discourse-topic.json")
    tid = topic["id"]
    # The adapter reads a topic as `/t/{id}/1.json` (pydiscourse's public post(topic, 1)).
    rsps.get(f"{FORUM}/t/{tid}/1.json", json=topic, content_type=DISCOURSE_JSON)
    rsps.get(
        f"{FORUM}/t/{tid}/posts.json",
        json=load(samples, "discourse-topic-posts.json"),
        content_type=DISCOURSE_JSON,
    )

    thread = forum.thread(tid)

    assert thread.tags == tuple(t["name"] for t in topic["tags"])
    assert [p.number for p in thread.posts] == sorted(p.number for p in thread.posts)
    assert thread.posts[0].created_at.tzinfo is not None
    # 22 ids in the stream, 2 loaded: one more chunk request of 20 ids.
    assert len(without_categories(rsps.calls)) == 2


def test_sample_latest_posts_and_created_post(
    samples: Path, rsps: responses.RequestsMock, forum: DiscourseForum
) -> None:
    latest = load(samples, "discourse-latest-posts.json")
    # The sample's category is public; a category the list does not show is withheld.
    categories = {"category_list": {"categories": [
        {"id": p["category_id"], "name": "Sample", "read_restricted": False}
        for p in latest["latest_posts"]]}}
    rsps.replace(responses.GET, CATEGORIES, json=categories, content_type=DISCOURSE_JSON)
    rsps.get(f"{FORUM}/posts.json", json=latest, content_type=DISCOURSE_JSON)
    rsps.get(f"{FORUM}/posts.json", json={"latest_posts": []}, content_type=DISCOURSE_JSON)
    created = load(samples, "discourse-create-post-response.json")
    rsps.post(f"{FORUM}/posts", json=created, content_type=DISCOURSE_JSON)

    changed = walk_stream(forum, None, max_pages=2)
    ref = forum.reply(created["topic_id"], "x")

    assert changed.topic_ids == (latest["latest_posts"][0]["topic_id"],)
    assert ref.id == created["id"]
    assert ref.number == created["post_number"]


@pytest.mark.parametrize(
    "variant", ["app_rate_limit_json", "per_ip_middleware_plain_text", "search_json_without_extras"]
)
def test_sample_discourse_429s_are_waited_out(
    samples: Path,
    rsps: responses.RequestsMock,
    forum: DiscourseForum,
    sleeps: list[float],
    variant: str,
) -> None:
    shape = load(samples, "discourse-429.json")[variant]
    headers = dict(shape["headers"])
    content_type = headers.pop("Content-Type")
    body = json.dumps(shape["body"]) if "body" in shape else shape["body_text"]
    topic = load(samples, "discourse-topic.json")
    topic["post_stream"]["stream"] = [p["id"] for p in topic["post_stream"]["posts"]]
    rsps.get(
        f"{FORUM}/t/1/1.json", body=body, status=429, content_type=content_type, headers=headers
    )
    rsps.get(f"{FORUM}/t/1/1.json", json=topic, content_type=DISCOURSE_JSON)

    forum.thread(1)

    assert len(sleeps) == 1
    assert sleeps[0] > 0


def test_sample_gitlab_objects_read_through_the_adapter(
    samples: Path, rsps: responses.RequestsMock, tracker: GitLabTracker
) -> None:
    issue = load(samples, "gitlab-issue.json")
    mr = load(samples, "gitlab-merge-request.json")
    rsps.get(f"{API}/issues/{issue['iid']}", json=issue)
    rsps.get(f"{API}/merge_requests/{mr['iid']}", json=mr)
    note = load(samples, "gitlab-note.json")
    rsps.get(f"{API}/issues/{issue['iid']}/notes", json=[note])
    rsps.get(API.split("/projects/")[0] + "/user", json=note["author"])
    rsps.get(
        f"{API}/repository/files/doc%2Fx.md", json=load(samples, "gitlab-repository-file.json")
    )

    got_issue = tracker.get_item("issue", issue["iid"])
    got_mr = tracker.get_item("merge_request", mr["iid"])

    assert got_issue.ref == issue["references"]["full"]
    assert got_mr.ref == mr["references"]["full"]
    [got_note] = tracker.notes("issue", issue["iid"])
    assert got_note.body == "Example note body." and got_note.own  # its author is the token's
    assert tracker.read_file("doc/x.md") == "Example text.\n"


def test_sample_gitlab_limits(
    samples: Path, rsps: responses.RequestsMock, tracker: GitLabTracker, gl_sleeps: list[float]
) -> None:
    shapes = load(samples, "gitlab-429.json")
    rack = shapes["rack_attack_throttle"]
    headers = dict(rack["headers"])
    rsps.get(
        f"{API}/issues/1",
        body=rack["body_text"],
        status=429,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    rsps.get(f"{API}/issues/1", json=load(samples, "gitlab-issue.json"))
    cap = shapes["offset_pagination_cap_405"]
    rsps.get(f"{API}/issues", json=[])
    rsps.get(f"{API}/merge_requests", json=cap["body"], status=cap["status"])

    tracker.get_item("issue", 1)
    with pytest.raises(UnavailableError) as info:
        list(tracker.doc_items(None))

    assert gl_sleeps == [int(rack["headers"]["Retry-After"])]
    assert info.value.status == 405
    assert "keyset" in (info.value.hint or "")
