"""`docsgap review`: the queue shows the exact text, verdicts steer the next `run --apply`, a
rejected report never comes back; the CLI's interactive and scripted forms."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from docsgap import compose, review
from docsgap.act.items import NEW_ISSUE_PLACEHOLDER
from docsgap.cli import app, review_cmd
from docsgap.config import ENV_VARS, Config, PolicyConfig
from docsgap.loop.pipeline import Pipeline
from docsgap.models import ActionKind, RunResult
from docsgap.review import ReviewItem
from docsgap.state import StateStore
from tests.fakes import FakeForum, FakeServices, FakeTracker, docs_thread, shared_detector

OUTDATED = ("The page https://docs.gitlab.com/ci/yaml/ is outdated: it still describes the old "
            "only keyword that was removed years ago.")
WRONG = ("The docs at https://docs.gitlab.com/ci/jobs/job_artifacts/ are wrong about the expiry "
         "default: the page says 30 days but my jobs keep them for 7.")


def world(tmp_path: Path, policy: PolicyConfig | None = None
          ) -> tuple[Config, FakeForum, FakeTracker]:
    cfg = Config(policy=policy or PolicyConfig(), state_path=tmp_path / "state.db",
                 max_actions=50)
    forum = FakeForum([
        docs_thread(201, "only keyword page out of date", OUTDATED),
        docs_thread(202, "Artifact expiry default", WRONG),
        docs_thread(203, "Runner tags question", "How do I pick a runner by tag? Thanks!"),
    ])
    tracker = FakeTracker()
    tracker.add("issue", "Docs wrong about the artifacts expiry default",
                "The job artifacts page https://docs.gitlab.com/ci/jobs/job_artifacts/ is wrong "
                "about the expiry default: it says 30 days.")
    return cfg, forum, tracker


def queue(cfg: Config, forum: FakeForum, tracker: FakeTracker, *, refresh: bool = False
          ) -> list[ReviewItem]:
    store = StateStore(cfg.state_path)
    try:
        plan = review.review_plan(cfg, forum, tracker, store, shared_detector(), refresh=refresh)
        return review.pending(plan, store, cfg)
    finally:
        store.close()


def run(cfg: Config, forum: FakeForum, tracker: FakeTracker, *, apply: bool = True) -> RunResult:
    store = StateStore(cfg.state_path)
    try:
        return Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=apply)
    finally:
        store.close()


def decide(cfg: Config, item: ReviewItem, verdict: str, body: str | None = None) -> None:
    store = StateStore(cfg.state_path)
    try:
        review.decide(store, item, verdict, body=body)
    finally:
        store.close()


def by_kind(items: list[ReviewItem], kind: ActionKind, thread: int) -> ReviewItem:
    return next(i for i in items if i.action.kind is kind and thread in i.action.thread_ids)


@pytest.fixture
def started(tmp_path: Path) -> tuple[Config, FakeForum, FakeTracker, list[ReviewItem]]:
    cfg, forum, tracker = world(tmp_path)
    return cfg, forum, tracker, queue(cfg, forum, tracker, refresh=True)


def test_queue_shows_every_pending_action_with_the_exact_text(started) -> None:
    cfg, forum, tracker, items = started
    kinds = sorted((i.action.kind.value, i.action.thread_ids) for i in items)
    assert kinds == [("link_existing", (202,)), ("open_issue", (201,)), ("reply", (201,)),
                     ("reply", (202,))]
    for item in items:
        assert compose.find_markers(item.preview) == [item.action.key]
        assert "policy" in item.action.reason
    issue = by_kind(items, ActionKind.OPEN_ISSUE, 201)
    assert issue.preview.startswith("Title: ")
    assert any(e.matched for s in issue.signals for e in s.evidence)
    assert issue.match is not None
    assert issue.match.decision == "new"
    assert NEW_ISSUE_PLACEHOLDER in by_kind(items, ActionKind.REPLY, 201).preview
    assert tracker.created == []
    assert forum.replies == []


def test_accepted_actions_run_on_the_next_apply_and_only_they(started) -> None:
    cfg, forum, tracker, items = started
    decide(cfg, by_kind(items, ActionKind.OPEN_ISSUE, 201), "accept")
    decide(cfg, by_kind(items, ActionKind.REPLY, 201), "accept")
    run(cfg, forum, tracker)
    [issue] = tracker.created
    assert [(t, issue.web_url in raw) for t, raw in forum.replies] == [(201, True)]
    assert tracker.item_notes == {}
    left = {i.action.key for i in queue(cfg, forum, tracker)}
    assert left == {by_kind(items, k, 202).action.key
                    for k in (ActionKind.LINK_EXISTING, ActionKind.REPLY)}
    run(cfg, forum, tracker)
    assert len(tracker.created) == 1
    assert len(forum.replies) == 1


def test_an_edited_reply_is_what_gets_posted(started) -> None:
    cfg, forum, tracker, items = started
    decide(cfg, by_kind(items, ActionKind.OPEN_ISSUE, 201), "accept")
    reply = by_kind(items, ActionKind.REPLY, 201)
    decide(cfg, reply, "accept", body=f"Thanks, we track it here: {NEW_ISSUE_PLACEHOLDER}")
    run(cfg, forum, tracker)
    [(_, raw)] = forum.replies
    assert raw.startswith(f"Thanks, we track it here: {tracker.created[0].web_url}")
    assert compose.find_markers(raw) == [reply.action.key]


def test_an_edited_issue_keeps_title_labels_and_marker(started) -> None:
    cfg, forum, tracker, items = started
    issue = by_kind(items, ActionKind.OPEN_ISSUE, 201)
    decide(cfg, issue, "accept", body="Title: The only keyword page is stale\n"
                                      "Labels: documentation, docs-outdated\n\nPlease update it.")
    run(cfg, forum, tracker)
    [created] = tracker.created
    assert created.title == "The only keyword page is stale"
    assert created.labels == ("documentation", "docs-outdated")
    assert created.description.startswith("Please update it.")
    assert compose.find_markers(created.description) == [issue.action.key]


def test_a_rejected_report_never_comes_back(started) -> None:
    cfg, forum, tracker, items = started
    decide(cfg, by_kind(items, ActionKind.OPEN_ISSUE, 201), "reject")
    # Someone repeats the complaint: the thread is rescanned, the signal found again.
    thread = forum.threads[201]
    forum.threads[201] = replace(thread, posts=(*thread.posts, *docs_thread(
        201, "", OUTDATED, OUTDATED).posts[1:]))
    items = queue(cfg, forum, tracker, refresh=True)
    assert all(201 not in i.action.thread_ids for i in items)
    auto = replace(cfg, policy=PolicyConfig(open_issue="auto", link_existing="auto",
                                            reply="auto"))
    result = run(auto, forum, tracker)
    assert any(s.reason == "rejected by a reviewer" for s in result.plan.skips)
    assert tracker.created == []
    assert {t for t, _ in forum.replies} == {202}


def test_a_rejected_reply_alone_keeps_its_issue(started) -> None:
    cfg, forum, tracker, items = started
    decide(cfg, by_kind(items, ActionKind.OPEN_ISSUE, 201), "accept")
    decide(cfg, by_kind(items, ActionKind.REPLY, 201), "reject")
    run(cfg, forum, tracker)
    assert len(tracker.created) == 1
    assert forum.replies == []


def test_skip_defers_and_the_item_comes_back_last(started) -> None:
    cfg, forum, tracker, items = started
    first = items[0]
    decide(cfg, first, "skip")
    again = queue(cfg, forum, tracker)
    assert [i.action.key for i in again][-1] == first.action.key
    assert again[-1].skipped
    assert not again[0].skipped
    run(cfg, forum, tracker)
    assert tracker.created == []
    assert forum.replies == []
    assert tracker.item_notes == {}


def test_decide_keeps_the_marker_and_an_earlier_edit(started, tmp_path: Path) -> None:
    cfg, _, _, items = started
    item = by_kind(items, ActionKind.REPLY, 202)
    decide(cfg, item, "skip", body="Short reply without a marker.")
    decide(cfg, item, "accept")
    store = StateStore(cfg.state_path)
    row = store.verdict(item.action.key)
    store.close()
    assert row is not None
    assert row["verdict"] == "accept"
    assert row["body"].startswith("Short reply without a marker.")
    assert compose.find_markers(row["body"]) == [item.action.key]
    with pytest.raises(ValueError, match="verdict must be one of"):
        decide(cfg, item, "maybe")


def test_policies_off_and_auto_do_not_queue(tmp_path: Path) -> None:
    cfg, forum, tracker = world(tmp_path, PolicyConfig(open_issue="auto", reply="off"))
    items = queue(cfg, forum, tracker, refresh=True)
    assert [i.action.kind for i in items] == [ActionKind.LINK_EXISTING]


def test_find_accepts_a_unique_prefix(started) -> None:
    _, _, _, items = started
    issue = by_kind(items, ActionKind.OPEN_ISSUE, 201)
    assert review.find(items, "issue:t201") is issue
    with pytest.raises(KeyError, match="matches 2"):
        review.find(items, "reply:")
    with pytest.raises(KeyError, match="no pending action"):
        review.find(items, "nope")


def test_rejecting_an_issue_drops_its_replies_from_the_session(started) -> None:
    _, _, _, items = started
    issue = by_kind(items, ActionKind.OPEN_ISSUE, 201)
    assert review.dropped_with(items, issue) == [by_kind(items, ActionKind.REPLY, 201)]
    assert review.dropped_with(items, by_kind(items, ActionKind.REPLY, 202)) == []


def test_edit_warnings_name_what_an_edit_loses(started) -> None:
    _, _, _, items = started
    reply = by_kind(items, ActionKind.REPLY, 201)
    assert review.edit_warnings(reply, "Thanks!")
    assert review.edit_warnings(reply, f"Thanks: {NEW_ISSUE_PLACEHOLDER}") == []
    assert review.edit_warnings(by_kind(items, ActionKind.OPEN_ISSUE, 201), "no title")


def test_excerpt_flattens_html_and_trims() -> None:
    t = docs_thread(9, "t", "first", "second")
    cooked_only = replace(t, posts=(replace(t.posts[0], raw=None,
                                            cooked="<p>Hello&amp; <b>bold</b>\n world</p>"),))
    assert review.excerpt(cooked_only, 1) == "Hello& bold world"
    assert review.excerpt(t, 2) == "second"
    assert review.excerpt(docs_thread(9, "t", "word " * 200), 1, limit=50).endswith("…")


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = world(tmp_path)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(forum, tracker))
    run(cfg, forum, tracker, apply=False)  # the state a dry `docsgap run` leaves

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(app, ["review", *args, "--state", str(cfg.state_path)],
                                  input=input)

    return cfg, forum, tracker, invoke


def test_cli_list_json_then_accept_by_key(cli) -> None:
    cfg, forum, tracker, invoke = cli
    listed = invoke("--list", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["count"] == 4
    issue = next(p for p in data["pending"] if p["kind"] == "open_issue")
    assert issue["signals"][0]["evidence"]
    assert issue["match"]["decision"] == "new"
    assert compose.find_markers(issue["text"]) == [issue["key"]]
    done = invoke("--accept", "issue:t201")
    assert done.exit_code == 0
    assert f"accept: {issue['key']}" in done.output
    assert json.loads(invoke("--list", "--json").output)["count"] == 3
    alone = invoke("--json")  # no terminal here: it lists, as --list --json does
    assert alone.exit_code == 0, alone.output
    assert json.loads(alone.output)["count"] == 3
    text = invoke("--list")
    assert "3 action(s) wait for review" in text.output


def test_cli_a_key_decided_before_says_so_and_a_reject_names_what_it_drops(cli) -> None:
    # Found walking the README: running the same --accept twice said "no pending action with
    # key ...", and a scripted --reject did not say that the issue's reply went with it.
    _, _, _, invoke = cli
    assert invoke("--accept", "issue:t201").exit_code == 0
    again = invoke("--accept", "issue:t201")
    assert again.exit_code == 2
    assert "is no longer pending: already accepted" in again.output
    rejected = invoke("--reject", "note:")
    assert rejected.exit_code == 0, rejected.output
    assert "dropped with it: reply:t202" in rejected.output
    assert "already rejected for good" in invoke("--skip", "note:").output


def test_cli_body_file_and_accept_all(cli, tmp_path: Path) -> None:
    cfg, forum, tracker, invoke = cli
    body = tmp_path / "reply.md"
    body.write_text(f"We track it: {NEW_ISSUE_PLACEHOLDER}\n", encoding="utf-8")
    assert invoke("--accept", "reply:t201", "--body-file", str(body)).exit_code == 0
    out = invoke("--accept-all")
    assert out.exit_code == 0
    assert "accepted 3 action(s)" in out.output
    run(cfg, forum, tracker)
    assert len(tracker.created) == 1
    assert {t for t, _ in forum.replies} == {201, 202}
    assert dict(forum.replies)[201].startswith("We track it: https://gitlab.test/")


def test_cli_usage_errors_exit_2(cli, tmp_path: Path) -> None:
    _, _, _, invoke = cli
    assert invoke("--accept", "nope").exit_code == 2
    assert invoke("--accept", "reply:").exit_code == 2  # ambiguous
    body = tmp_path / "b.md"
    body.write_text("x", encoding="utf-8")
    assert invoke("--reject", "issue:t201", "--body-file", str(body)).exit_code == 2
    assert invoke("--accept-all", "--skip", "issue:t201").exit_code == 2


def test_cli_interactive_walk_through(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, forum, tracker, invoke = cli
    monkeypatch.setattr(review_cmd, "_interactive", lambda: True)
    monkeypatch.setattr(click, "edit", lambda text, **_: text.replace("Title: ", "Title: [ED] "))
    # link 202: reject (its reply goes too); issue 201: edit then accept; reply 201: quit.
    out = invoke(input="r\ne\na\nq\n")
    assert out.exit_code == 0, out.output
    assert "would be posted as a note on https://gitlab.test/" in out.output
    assert "evidence [" in out.output
    assert "match: decision" in out.output
    assert "post #1 by user0:" in out.output
    assert "1 action(s) that depend on it dropped too" in out.output
    assert "1 accepted, 1 rejected, 0 skipped" in out.output
    run(cfg, forum, tracker)
    [issue] = tracker.created
    assert issue.title.startswith("[ED] ")
    assert forum.replies == []
    assert tracker.item_notes == {}


def test_cli_nothing_to_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(FakeForum(), FakeTracker()))
    # Named as a real `review` needs it (without a state it checks the target itself).
    monkeypatch.setenv("DOCSGAP_FORUM_URL", "https://forum.example")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "g/p")
    out = CliRunner().invoke(app, ["review", "--state", str(tmp_path / "s.db")])
    assert out.exit_code == 0
    assert "Nothing waits for review." in out.output


def test_cli_without_a_terminal_says_how_to_script_it(cli) -> None:
    _, _, _, invoke = cli
    out = invoke(input="")
    assert out.exit_code == 2, out.output
    assert "needs a terminal" in out.output and "--accept KEY" in out.output


def verdicts(cfg: Config) -> dict[str, str]:
    store = StateStore(cfg.state_path)
    try:
        return store.verdicts()
    finally:
        store.close()


def test_cli_end_of_input_keeps_the_verdicts_given(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, _, _, invoke = cli
    monkeypatch.setattr(review_cmd, "_interactive", lambda: True, raising=False)
    out = invoke(input="a\n")  # accept the first, then Ctrl-D
    assert out.exit_code == 130, out.output
    assert "1 accepted" in out.output and "kept" in out.output
    assert list(verdicts(cfg).values()) == ["accept"]


def test_cli_ctrl_c_keeps_the_verdicts_given(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, _, _, invoke = cli
    monkeypatch.setattr(review_cmd, "_interactive", lambda: True, raising=False)
    answers = iter(["r"])

    def keyboard(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(click.termui, "visible_prompt_func", keyboard)
    out = invoke()
    assert out.exit_code == 130, out.output
    assert "reject" in verdicts(cfg).values()
