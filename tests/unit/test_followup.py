"""`docsgap followup`: one follow-up when a linked issue is closed as done or an MR merged, none
for won't-do, exactly once through reruns and crashes; policy off/review/auto; the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap import compose, review
from docsgap.act.followup import FollowUps, followup_key, render_text
from docsgap.cli import app, followup_cmd
from docsgap.config import ENV_VARS, Config, PolicyConfig
from docsgap.errors import RepliesHeldError
from docsgap.loop.pipeline import Pipeline
from docsgap.models import ActionKind, Outcome, Plan
from docsgap.state import StateStore
from tests.fakes import (
    Crash,
    FakeForum,
    FakeServices,
    FakeTracker,
    Faults,
    docs_thread,
    set_item_state,
    shared_detector,
)

OUTDATED = ("The page https://docs.gitlab.com/ci/yaml/ is outdated: it still describes the old "
            "only keyword that was removed years ago.")
WRONG = ("The docs at https://docs.gitlab.com/ci/jobs/job_artifacts/ are wrong about the expiry "
         "default: the page says 30 days but my jobs keep them for 7.")
ISSUE_1 = "https://gitlab.test/gitlab-org/gitlab/-/issues/1"
ISSUE_2 = "https://gitlab.test/gitlab-org/gitlab/-/issues/2"


def policy(followup: str) -> PolicyConfig:
    return PolicyConfig(open_issue="auto", link_existing="auto", reply="auto",
                        followup=followup)  # type: ignore[arg-type]


def linked_world(tmp_path: Path, followup: str = "auto"
                 ) -> tuple[Config, FakeForum, FakeTracker]:
    """Thread 201 got a new issue (#2) and thread 202 was linked to #1, each with a reply."""
    cfg = Config(policy=policy(followup), state_path=tmp_path / "state.db", max_actions=50)
    forum = FakeForum([docs_thread(201, "only keyword page out of date", OUTDATED),
                       docs_thread(202, "Artifact expiry default", WRONG)])
    tracker = FakeTracker()
    tracker.add("issue", "Docs wrong about the artifacts expiry default",
                "The job artifacts page https://docs.gitlab.com/ci/jobs/job_artifacts/ is wrong "
                "about the expiry default: it says 30 days.")
    store = StateStore(cfg.state_path)
    try:
        Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=True)
    finally:
        store.close()
    assert [i.web_url for i in tracker.created] == [ISSUE_2]
    assert sorted(t for t, _ in forum.replies) == [201, 202]
    return cfg, forum, tracker


def followups(cfg: Config, forum: FakeForum, tracker: FakeTracker, *, apply: bool = True
              ) -> tuple[Plan, list[Outcome]]:
    store = StateStore(cfg.state_path)
    try:
        return FollowUps(forum, tracker, store, cfg).run(apply=apply)
    finally:
        store.close()


def posted(forum: FakeForum) -> list[tuple[int, str]]:
    """Follow-ups only (the first two replies are the link-back replies)."""
    return [(t, raw) for t, raw in forum.replies
            if any(k.startswith("followup:") for k in compose.find_markers(raw))]


def with_store(cfg: Config, fn: Callable[[StateStore], object]) -> object:
    store = StateStore(cfg.state_path)
    try:
        return fn(store)
    finally:
        store.close()


def test_closed_as_done_gets_one_followup_and_a_rerun_posts_nothing(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    plan, outcomes = followups(cfg, forum, tracker)
    assert [o.status for o in outcomes] == ["applied"]
    [(thread, raw)] = posted(forum)
    assert thread == 201
    assert ISSUE_2 in raw
    assert compose.find_markers(raw) == [followup_key(201, ISSUE_2)]
    link = with_store(cfg, lambda s: s.link(201, ISSUE_2))
    assert isinstance(link, dict)
    assert link["followup_url"] == outcomes[0].remote_url
    plan, outcomes = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert outcomes == []
    assert len(posted(forum)) == 1


def test_closed_as_wont_do_gets_no_followup_and_says_why(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_1, "closed", labels=("won't do",))
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert posted(forum) == []
    reasons = {s.subject: s.reason for s in plan.skips}
    assert "won't do (label 'won't do')" in reasons[followup_key(202, ISSUE_1)]
    assert "still opened" in reasons[followup_key(201, ISSUE_2)]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    plan, outcomes = followups(cfg, forum, tracker, apply=False)
    assert [o.status for o in outcomes] == ["dry_run"]
    assert posted(forum) == []
    assert with_store(cfg, lambda s: s.ledger_entry(plan.actions[0].key)) is None


def test_policy_off_plans_nothing(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path, followup="off")
    set_item_state(tracker, ISSUE_2, "closed")
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert posted(forum) == []
    assert any("policy followup=off" in s.reason for s in plan.skips)


def test_policy_review_queues_then_an_accept_posts(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path, followup="review")
    set_item_state(tracker, ISSUE_2, "closed")
    _, outcomes = followups(cfg, forum, tracker)
    assert [o.status for o in outcomes] == ["pending_review"]
    assert posted(forum) == []

    def queued(store: StateStore) -> list[review.ReviewItem]:
        plan = review.review_plan(cfg, forum, tracker, store, shared_detector())
        return [i for i in review.pending(plan, store, cfg)
                if i.action.kind is ActionKind.FOLLOWUP]

    items = with_store(cfg, queued)
    assert isinstance(items, list)
    [item] = items
    assert ISSUE_2 in item.preview
    assert compose.find_markers(item.preview) == [item.action.key]
    with_store(cfg, lambda s: review.decide(s, item, "accept"))
    followups(cfg, forum, tracker)
    followups(cfg, forum, tracker)
    assert [t for t, _ in posted(forum)] == [201]


def test_a_rejected_followup_is_never_posted(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path, followup="review")
    set_item_state(tracker, ISSUE_2, "closed")
    with_store(cfg, lambda s: s.set_verdict(followup_key(201, ISSUE_2), "reject"))
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert posted(forum) == []
    assert any(s.reason == "rejected by a reviewer" for s in plan.skips)


def add_mr_link(cfg: Config, tracker: FakeTracker, state: str) -> str:
    """An MR from `docsgap mr` for thread 201, with a reply in the thread."""
    mr = tracker.add("merge_request", "Draft: update the yaml page")
    set_item_state(tracker, mr.web_url, state)

    def link(store: StateStore) -> None:
        store.record_link(201, mr.web_url, source="docsgap")
        # Post #2 is docsgap's reply there (a reply that is not in the thread was deleted).
        store.set_link_field(201, mr.web_url, reply_url="https://forum.test/t/t-201/201/2")

    with_store(cfg, link)
    return mr.web_url


def test_merged_mr_wins_and_a_thread_gets_one_followup(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    mr_url = add_mr_link(cfg, tracker, "merged")
    set_item_state(tracker, ISSUE_2, "closed")
    plan, _ = followups(cfg, forum, tracker)
    assert [a.target_url for a in plan.actions] == [mr_url]
    assert any(s.subject == followup_key(201, ISSUE_2) and "one follow-up per thread" in s.reason
               for s in plan.skips)
    [(_, raw)] = posted(forum)
    assert mr_url in raw
    assert "merged" in raw
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert len(posted(forum)) == 1


def test_mr_closed_without_merging_gets_none(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    mr_url = add_mr_link(cfg, tracker, "closed")
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert {s.subject: s.reason for s in plan.skips}[followup_key(201, mr_url)].endswith(
        "closed without merging: no follow-up")


def test_closed_topic_gets_none(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    with_store(cfg, lambda s: s.db.table("threads").update(201, {"closed": 1}))
    plan, _ = followups(cfg, forum, tracker)
    assert plan.actions == ()
    assert posted(forum) == []
    assert any("closed or archived" in s.reason for s in plan.skips)


@pytest.mark.parametrize("mode", ["before", "crash_before", "after", "timeout_after"])
def test_failure_at_the_post_then_rerun_posts_exactly_one(tmp_path: Path, mode: str) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    forum.faults = Faults(fail_write=1, mode=mode)
    try:
        _, outcomes = followups(cfg, forum, tracker)
        assert [o.status for o in outcomes] == ["failed"]
    except Crash:
        pass
    forum.faults = Faults()
    followups(cfg, forum, tracker)
    followups(cfg, forum, tracker)
    assert [t for t, _ in posted(forum)] == [201]
    link = with_store(cfg, lambda s: s.link(201, ISSUE_2))
    assert isinstance(link, dict)
    assert link["followup_url"]


def test_a_lost_database_posts_no_second_followup(tmp_path: Path) -> None:
    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    followups(cfg, forum, tracker)
    cfg.state_path.unlink()
    store = StateStore(cfg.state_path)
    Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=True)
    store.close()
    # Rebuilt links carry no reply_url, so nothing is planned; if one were, the marker in
    # the thread would stop it (test_failure_at_the_post_then_rerun_posts_exactly_one).
    followups(cfg, forum, tracker)
    assert len(posted(forum)) == 1


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = linked_world(tmp_path)
    (tmp_path / "docsgap.toml").write_text('[policy]\nfollowup = "auto"\n', encoding="utf-8")
    monkeypatch.setattr(followup_cmd, "build_services", FakeServices(forum, tracker))

    def invoke(*args: str):
        return CliRunner().invoke(app, ["followup", *args, "--state", str(cfg.state_path)])

    return forum, tracker, invoke


def test_cli_dry_run_json_then_apply_text(cli) -> None:
    forum, tracker, invoke = cli
    set_item_state(tracker, ISSUE_2, "closed")
    set_item_state(tracker, ISSUE_1, "closed", labels=("declined",))
    dry = invoke("--json")
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert [a["status"] for a in data["actions"]] == ["dry_run"]
    assert posted(forum) == []
    assert any("won't do" in s["reason"] for s in data["skips"])
    done = invoke("--apply")
    assert done.exit_code == 0, done.output
    assert "FOLLOW-UP posted" in done.output
    assert "label 'declined'" in done.output
    assert len(posted(forum)) == 1


def test_cli_failed_post_exits_7(cli) -> None:
    forum, tracker, invoke = cli
    set_item_state(tracker, ISSUE_2, "closed")
    forum.faults = Faults(fail_write=1, mode="before")
    out = invoke("--apply")
    assert out.exit_code == 7
    assert "FAILED" in out.output
    forum.faults = Faults()
    assert invoke("--apply").exit_code == 0
    assert len(posted(forum)) == 1


def test_a_rescan_after_the_close_keeps_the_followup_owed(tmp_path: Path) -> None:
    """A later post made the thread be read again after its issue closed: docsgap's own reply
    (posted while the issue was open) was taken for a reply about a closed item, and the
    follow-up was silently dropped (walking the README: `mr --apply`'s reply did it)."""
    from dataclasses import replace

    from docsgap.models import Post

    cfg, forum, tracker = linked_world(tmp_path)
    set_item_state(tracker, ISSUE_2, "closed")
    t = forum.threads[201]
    later = max(p.created_at for p in t.posts) + (tracker.clock - t.posts[0].created_at)
    forum.threads[201] = replace(t, posts=(*t.posts, Post(
        9001, 201, len(t.posts) + 1, "someone", later, "<p>Any news?</p>", "Any news?")))
    store = StateStore(cfg.state_path)
    try:
        Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=False)
        assert store.link(201, ISSUE_2)["followup_url"] is None  # type: ignore[index]
    finally:
        store.close()
    plan, outcomes = followups(cfg, forum, tracker)
    assert [a.key for a in plan.actions] == [followup_key(201, ISSUE_2)]
    assert [o.status for o in outcomes] == ["applied"]


def test_the_text_says_each_count_once(tmp_path: Path) -> None:
    """All linked items open: the head line said '2 link(s) not followed up.' and a last line
    '2 linked item(s) are still open.', the same links counted twice."""
    cfg, forum, tracker = linked_world(tmp_path)
    plan, outcomes = followups(cfg, forum, tracker, apply=False)
    text = render_text(plan, outcomes, applied=False)
    assert text.splitlines()[0] == ("0 follow-up(s) due; 2 link(s) not followed up: their "
                                    "issues and MRs are all still open.")
    assert text.count("2 ") == 1
    set_item_state(tracker, ISSUE_1, "closed", labels=("won't do",))
    plan, outcomes = followups(cfg, forum, tracker, apply=False)
    text = render_text(plan, outcomes, applied=False)
    assert text.splitlines()[0] == ("0 follow-up(s) due; 2 link(s) not followed up, 1 of them "
                                    "because their issue or MR is still open.")
    assert "won't do" in text
    assert "still open" not in "\n".join(text.splitlines()[1:])


def test_cli_posts_held_by_a_forum_rate_limit_are_said_once_and_exit_6(cli) -> None:
    """The first follow-up meets a rate limit the run will not wait out: the second is held
    without a request, the text says so once with when the limit lifts, exit 6 (not 7), and a
    rerun posts both."""
    forum, tracker, invoke = cli
    set_item_state(tracker, ISSUE_1, "closed")
    set_item_state(tracker, ISSUE_2, "closed")
    calls: list[int] = []
    real = forum.reply

    def capped(topic_id: int, raw: str, **kw: object) -> object:
        calls.append(topic_id)
        raise RepliesHeldError("Discourse rate limits the bot's replies: wait 23 hours",
                               retry_after=23 * 3600)

    forum.reply = capped  # type: ignore[method-assign]
    out = invoke("--apply")
    assert out.exit_code == 6, out.output
    assert len(calls) == 1
    assert out.output.count("FOLLOW-UP held (rate limit)") == 2
    assert out.output.count("wait 23 hours") == 1
    assert "2 forum post(s) held, not sent this run" in out.output
    assert "the limit lifts in about 23 h" in out.output
    assert "FAILED" not in out.output
    forum.reply = real  # type: ignore[method-assign]
    assert invoke("--apply").exit_code == 0
    assert len(posted(forum)) == 2
