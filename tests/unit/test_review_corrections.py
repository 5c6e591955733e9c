"""What an engineer at the terminal needs to correct docsgap before (and after) it writes: a
confidential issue said as such wherever it is offered (review, `match`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap import review
from docsgap.cli import app, review_cmd
from docsgap.config import ENV_VARS
from docsgap.dedupe.decision import decide
from docsgap.loop.pipeline import Pipeline
from docsgap.models import ActionKind, Candidate
from docsgap.state import StateStore
from tests.fakes import FakeServices, docs_thread, shared_detector
from tests.unit.test_review import OUTDATED, by_kind, queue, run, world


def test_a_confidential_candidate_in_the_review_band_is_said_to_be_one() -> None:
    """Only a confidential issue above the link threshold said so: in the review band the
    reason read like any other match, and a reviewer accepted a link readers cannot open."""
    hidden = Candidate("https://gitlab.test/g/p/-/issues/7", "Docs wrong", "opened", 40.0,
                       confidential=True)
    result = decide([hidden], link_threshold=70, review_threshold=10)
    assert result.decision == "review"
    assert "issues/7 is a confidential issue: forum readers cannot open it" in result.reason
    public = decide([replace(hidden, confidential=False)], link_threshold=70,
                    review_threshold=10)
    assert "confidential" not in public.reason


def test_match_reads_confidential_from_the_pool(tmp_path: Path) -> None:
    pool, queries = tmp_path / "pool.jsonl", tmp_path / "q.jsonl"
    text = {"title": "Masked variables: docs state the wrong minimum length",
            "body": "The variables page says masked variables need 8 characters; wrong."}
    pool.write_text(json.dumps({"url": "https://gitlab.test/g/p/-/issues/1", **text,
                                "state": "opened", "confidential": True}) + "\n",
                    encoding="utf-8")
    queries.write_text(json.dumps({"id": "q1", "query": text}) + "\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["match", "--pool", str(pool), "--input", str(queries)])
    assert out.exit_code == 0, out.output
    line = json.loads(out.stdout)
    assert line["decision"] == "review"
    assert line["candidates"][0]["confidential"] is True
    assert "forum readers cannot open it" in line["reason"]


@pytest.fixture
def confidential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The review world with the issue thread 202 matches made confidential."""
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = world(tmp_path)
    tracker.items[("issue", 1)] = replace(tracker.items[("issue", 1)], confidential=True)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(forum, tracker))
    run(cfg, forum, tracker, apply=False)
    return cfg, forum, tracker


def test_review_says_what_linking_a_confidential_issue_means_for_forum_readers(
        confidential) -> None:
    cfg, forum, tracker = confidential
    items = queue(cfg, forum, tracker)
    link = by_kind(items, ActionKind.LINK_EXISTING, 202)
    reply = by_kind(items, ActionKind.REPLY, 202)
    assert link.target_confidential and reply.target_confidential
    assert not by_kind(items, ActionKind.REPLY, 201).target_confidential
    assert "reply would send readers to a page they cannot read" in str(
        review.confidential_warning(link))
    assert "without the link" in str(review.confidential_warning(reply))
    assert any("CONFIDENTIAL" in line for line in review.match_lines(link.match))

    listed = CliRunner().invoke(app, ["review", "--list", "--state", str(cfg.state_path)])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("CONFIDENTIAL: ") == 2
    data = json.loads(CliRunner().invoke(
        app, ["review", "--list", "--json", "--state", str(cfg.state_path)]).output)
    flagged = {p["kind"] for p in data["pending"] if p["target_confidential"]}
    assert flagged == {"link_existing", "reply"}
    shown = review_cmd.render_item(link, 1, 1, None)
    assert "CONFIDENTIAL: https://gitlab.test/" in shown and "404" in shown


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = world(tmp_path)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(forum, tracker))
    run(cfg, forum, tracker, apply=False)

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(app, ["review", *args, "--state", str(cfg.state_path)],
                                  input=input)

    return cfg, forum, tracker, invoke


def test_link_a_report_to_another_issue_by_hand(cli) -> None:
    """docsgap wants a new issue for thread 201; the engineer knows issue #1 tracks it. There
    was no way to say so: only accept, edit, skip or reject."""
    cfg, forum, tracker, invoke = cli
    url = "https://gitlab.test/gitlab-org/gitlab/-/issues/1"
    out = invoke("--link", "issue:t201", "#1", "--note", "same gap")
    assert out.exit_code == 0, out.output
    assert f"thread #201 -> {url} (opened) by hand: accepted as note:{url}#review:t201" \
        in out.output
    assert "its reply now links" in out.output and "waits for review" in out.output
    pending = json.loads(invoke("--list", "--json").output)["pending"]
    assert not [p for p in pending if p["kind"] == "open_issue"]
    [reply] = [p for p in pending if p["threads"] == [201]]
    assert reply["target"] == url
    assert invoke("--accept", "reply:t201").exit_code == 0
    run(cfg, forum, tracker)
    assert tracker.created == []  # no new issue
    [note] = tracker.item_notes[("issue", 1)]
    assert "/201" in note.body and "/202" not in note.body
    assert [t for t, body in forum.replies if url in body] == [201]


def test_a_hand_link_needs_an_issue_docsgap_holds_and_a_gap_action(cli) -> None:
    _, _, _, invoke = cli
    unknown = invoke("--link", "issue:t201", "#99")
    assert unknown.exit_code == 2
    assert "not among the documentation issues and MRs docsgap holds" in unknown.output
    assert invoke("--link", "issue:t201", "#1", "--accept", "reply:t202").exit_code == 2


def test_undo_brings_a_rejected_report_back_and_takes_a_hand_link_back(cli) -> None:
    _, _, _, invoke = cli
    assert invoke("--reject", "issue:t201").exit_code == 0
    assert json.loads(invoke("--list", "--json").output)["count"] == 2  # the link and reply
    back = invoke("--undo", "issue:t201")
    assert back.exit_code == 0, back.output
    assert "back in the queue" in back.output
    assert json.loads(invoke("--list", "--json").output)["count"] == 4

    assert invoke("--link", "issue:t201", "#1").exit_code == 0
    undone = invoke("--undo", "note:https://gitlab.test/gitlab-org/gitlab/-/issues/1#review")
    assert undone.exit_code == 0, undone.output
    assert "docsgap's own match for 1 report(s) is planned again" in undone.output
    kinds = {p["kind"] for p in json.loads(invoke("--list", "--json").output)["pending"]
             if p["threads"] == [201]}
    assert kinds == {"open_issue", "reply"}
    assert invoke("--undo", "issue:t201").exit_code == 2  # nothing decided on it now


def test_undo_of_a_write_already_made_says_what_to_do_by_hand(cli) -> None:
    cfg, forum, tracker, invoke = cli
    assert invoke("--accept-all").exit_code == 0
    run(cfg, forum, tracker)
    reply = invoke("--undo", "reply:t201")
    assert reply.exit_code == 2
    assert "was carried out already" in reply.output
    assert "delete that post in the forum; docsgap never posts it again" in reply.output
    issue = invoke("--undo", "issue:t201")
    assert "close the issue with a won't-do label" in issue.output


def test_interactive_link_instead(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, forum, tracker, invoke = cli
    monkeypatch.setattr(review_cmd, "_interactive", lambda: True)
    items = queue(cfg, forum, tracker)
    first = items[0].action
    assert first.kind is ActionKind.LINK_EXISTING and first.thread_ids == (202,)
    # link 202 to issue #2 instead (first a number docsgap does not hold), then quit.
    tracker.add("issue", "Artifacts page: expiry default is wrong",
                "The job artifacts expiry default on the page is wrong.")
    run(cfg, forum, tracker, apply=False)  # the new issue enters the cache
    out = invoke(input="l\n#77\nl\n#2\nq\n")
    assert out.exit_code == 0, out.output
    assert "'#77' is not among" in out.output
    assert "thread #202 -> https://gitlab.test/gitlab-org/gitlab/-/issues/2" in out.output
    listed = json.loads(invoke("--list", "--json").output)["pending"]
    assert [p["target"] for p in listed if p["threads"] == [202]] == [
        "https://gitlab.test/gitlab-org/gitlab/-/issues/2"]


def test_review_names_the_projects_items_as_references_in_its_why(cli) -> None:
    _, _, _, invoke = cli
    listed = invoke("--list").output
    whys = [line for line in listed.splitlines() if line.lstrip().startswith("why:")]
    assert any("matches #1 " in line for line in whys), listed
    assert not [line for line in whys if "/-/issues/" in line]
    assert "-> https://gitlab.test/gitlab-org/gitlab/-/issues/1" in listed  # the target stays


def test_a_thread_linked_to_the_wrong_issue_after_apply_is_moved_by_hand(cli) -> None:
    """After `--apply` there was no way to correct a link to the wrong issue: `--undo` only
    said what to edit by hand, and docsgap kept the thread on the old issue for good."""
    cfg, forum, tracker, invoke = cli
    assert invoke("--accept-all").exit_code == 0
    run(cfg, forum, tracker)
    old = "https://gitlab.test/gitlab-org/gitlab/-/issues/1"
    assert [t for t, body in forum.replies if old in body] == [202]
    right = tracker.add("issue", "Artifacts expiry: the default is 7 days, not 30",
                        "The job artifacts page states the wrong expiry default.")
    run(cfg, forum, tracker, apply=False)  # the right issue enters the cache

    moved = invoke("--link", "#202", f"#{right.iid}")
    assert moved.exit_code == 0, moved.output
    assert f"thread #202 -> {right.web_url} (opened) by hand" in moved.output
    assert f"was linked to {old}" in moved.output
    assert "delete or edit https://forum.test/" in moved.output  # docsgap's reply names it
    # The engineer deletes docsgap's reply; the next runs link the thread to the right issue.
    thread = forum.threads[202]
    forum.threads[202] = replace(thread, posts=tuple(
        p for p in thread.posts if p.username != "docsgap-bot"))
    store = StateStore(cfg.state_path)
    try:  # `docsgap run --topic 202`, as the output says: the thread is read again
        Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=False, topic=202)
    finally:
        store.close()
    pending = json.loads(invoke("--list", "--json").output)["pending"]
    assert {p["target"] for p in pending if p["threads"] == [202]} == {right.web_url}
    assert invoke("--accept-all").exit_code == 0
    run(cfg, forum, tracker)
    assert [t for t, body in forum.replies if right.web_url in body] == [202]
    assert tracker.item_notes[("issue", right.iid)]


def test_linking_one_thread_of_a_group_by_hand_moves_that_thread_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = world(tmp_path)
    forum.threads[204] = docs_thread(204, "The only keyword page is out of date", OUTDATED)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(forum, tracker))
    run(cfg, forum, tracker, apply=False)
    [issue] = [i for i in queue(cfg, forum, tracker) if i.action.kind is ActionKind.OPEN_ISSUE]
    assert issue.action.thread_ids == (201, 204)  # one gap, one issue for both threads
    out = CliRunner().invoke(app, ["review", "--link", "#204", "#1",
                                   "--state", str(cfg.state_path)])
    assert out.exit_code == 0, out.output
    items = queue(cfg, forum, tracker)
    [left] = [i for i in items if i.action.kind is ActionKind.OPEN_ISSUE]
    assert left.action.thread_ids == (201,)
    assert [i.action.target_url for i in items if i.action.kind is ActionKind.REPLY
            and i.action.thread_ids == (204,)] == ["https://gitlab.test/gitlab-org/gitlab/-/issues/1"]
