"""Docs-first replies, planned from recorded questions and the docs index: who counts as having
answered, which threads are questions, and when no reply is planned."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from docsgap import compose
from docsgap.act.answers import docs_reply_key, plan_replies
from docsgap.act.plan import PlanContext, ThreadMeta
from docsgap.config import Config, DocsConfig
from docsgap.docs.index import DocsIndex
from docsgap.docs.questions import answered_by, is_question, note_posts, open_questions, record
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import index_files
from docsgap.models import GapType, Post, Signal, Thread
from docsgap.state import StateStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SCHEDULES = b"""---
title: Scheduled pipelines
---

## Run a job only in scheduled pipelines

Check the pipeline source with rules: `if: $CI_PIPELINE_SOURCE == "schedule"`.
"""


def post(n: int, user: str, raw: str, *, staff: bool = False, accepted: bool = False) -> Post:
    return Post(id=n, topic_id=7, number=n, username=user, created_at=NOW - timedelta(days=2),
                cooked=raw, raw=raw, staff=staff, accepted=accepted)


def thread(*posts: Post, title: str = "How do I run a job only in scheduled pipelines?",
           accepted: int | None = None, tid: int = 7) -> Thread:
    return Thread(id=tid, slug="q", title=title, url=f"https://forum.example/t/q/{tid}",
                  posts=posts, created_at=NOW - timedelta(days=2), accepted_answer=accepted)


ASK = post(1, "emily", "Our nightly job runs on every push. How do I limit it to schedules?")


@pytest.mark.parametrize(("title", "text", "expected"), [
    ("How do I run a job only on schedules", "", True),
    ("Nightly job", "Is there a way to limit it?", True),
    ("Pipeline fails", "Can someone help me with this error", True),
    ("Sharing our monorepo setup", "Here is what worked for us.", False),
])
def test_is_question(title: str, text: str, expected: bool) -> None:
    assert is_question(title, text) is expected


def test_answered_by_accepted_staff_and_docsgap() -> None:
    cfg = Config()
    assert answered_by(thread(ASK, post(2, "lena", "try rules")), cfg) == ""
    assert answered_by(thread(ASK, post(2, "lena", "x")), replace(cfg, forum=replace(
        cfg.forum, staff_usernames=("lena",)))) == "staff"
    assert answered_by(thread(ASK, post(2, "mod", "x", staff=True)), cfg) == "staff"
    assert answered_by(thread(ASK, post(2, "lena", "x"), accepted=2), cfg) == "accepted"
    mine = post(2, "docsgap-bot", "see docs\n\n" + compose.marker(docs_reply_key(7)))
    assert answered_by(thread(ASK, mine), cfg) == "docsgap"
    other = post(2, "docsgap-bot", "tracked in\n\n" + compose.marker("reply:t7:x"))
    assert answered_by(thread(ASK, other), cfg) == ""


def signal() -> Signal:
    return Signal(7, "t", "u", GapType.MISSING, 1.0, ("r",), (), None, 1)


def test_record_keeps_questions_only(store: StateStore) -> None:
    cfg = Config()
    record(store, thread(post(1, "emily", "Our nightly schedule setup, for reference."),
                         title="Sharing our schedule setup", tid=6), [], cfg)  # no question
    record(store, thread(ASK), [], cfg)
    record(store, thread(ASK, tid=8), [signal()], cfg)  # a gap report
    record(store, thread(post(1, "gitlab-team", "How do I?", staff=True), tid=9), [], cfg)
    linked = post(2, "lena", "See https://docs.gitlab.com/ee/ci/pipelines/schedules.html")
    record(store, thread(ASK, linked, tid=10), [], cfg)
    rows = {r["thread_id"]: r for r in store.db.table("docs_questions").rows}
    assert set(rows) == {7, 8, 10}
    assert rows[8]["answered"] == "gap" and rows[7]["answered"] == ""
    assert [q.thread_id for q in open_questions(store, asked_before=NOW)] == [7, 10]
    assert open_questions(store, asked_before=NOW - timedelta(days=3)) == []
    [q10] = [q for q in open_questions(store, asked_before=NOW) if q.thread_id == 10]
    assert q10.linked == ("gitlab-org/gitlab:doc/ci/pipelines/schedules.md",)


@pytest.fixture
def index(store: StateStore) -> DocsIndex:
    docs = DocsStore(store.db)
    index_files(docs, "gitlab-org/gitlab", [("doc/ci/pipelines/schedules.md", SCHEDULES)],
                commit="c", ref="master", origin="archive")
    return DocsIndex(docs.pages())


def test_plan_replies_links_the_section_and_skips_what_it_must(store: StateStore,
                                                                index: DocsIndex) -> None:
    cfg = replace(Config(), docs=DocsConfig(answer_threshold=0.2, unanswered_hours=24))
    for tid in (7, 8, 9, 10, 11):
        record(store, thread(ASK, tid=tid), [], cfg)
    record(store, thread(ASK, post(2, "lena", "https://docs.gitlab.com/ci/pipelines/schedules/"),
                         tid=12), [], cfg)
    context = PlanContext(
        threads={8: ThreadMeta(closed=True), 9: ThreadMeta(tags=("docsgap-ignore",)),
                 11: ThreadMeta(category_id=3)},
        linked={10: frozenset({"https://gitlab.example/g/p/-/issues/1"})})
    cfg = replace(cfg, forum=replace(cfg.forum, ignore_categories=(3,)))
    [action] = plan_replies(store, index, cfg, context, now=NOW)
    assert action.key == "docsreply:t7" and action.thread_ids == (7,)
    assert action.target_url == ("https://docs.gitlab.com/ci/pipelines/schedules/"
                                 "#run-a-job-only-in-scheduled-pipelines")
    assert "Run a job only in scheduled pipelines" in action.body
    assert compose.find_markers(action.body) == ["docsreply:t7"]
    # Too recent, below the threshold, no index, or off: nothing.
    assert plan_replies(store, index, cfg, context, now=NOW - timedelta(days=1, hours=1)) == []
    strict = replace(cfg, docs=replace(cfg.docs, answer_threshold=0.99))
    assert plan_replies(store, index, strict, context, now=NOW) == []
    assert plan_replies(store, None, cfg, context, now=NOW) == []
    off = replace(cfg, policy=replace(cfg.policy, docs_reply="off"))
    assert plan_replies(store, index, off, context, now=NOW) == []


def test_docs_reply_text_is_inert_on_the_forum() -> None:
    text = compose.docs_reply_text(page_url="https://docs.gitlab.com/x/", page_title="@team <b>",
                                   section_title="[link](javascript:x)", key="docsreply:t1")
    assert "@\u200bteam" in text and "@team" not in text  # no mention
    assert "&lt;b>" in text and "<b>" not in text  # no HTML
    assert "\\[link\\](javascript:x)" in text  # no nested link
    assert text.count("](https://docs.gitlab.com/x/)") == 1


def test_note_posts_from_the_stream(store: StateStore) -> None:
    cfg = replace(Config(), forum=replace(Config().forum, staff_usernames=("lena",)))
    title = "How do I run a job only in scheduled pipelines?"
    # Newest first, as the stream comes: topic 20's staff answer arrives before its question.
    note_posts(store, [(title, replace(post(2, "lena", "use rules"), topic_id=20)),
                       (title, replace(ASK, topic_id=20)),
                       (title, replace(ASK, topic_id=21)),
                       (title, replace(post(2, "kim", "https://docs.gitlab.com/ci/yaml/"),
                                       topic_id=21)),
                       ("Sharing our setup", replace(post(1, "emily", "Here it is."),
                                                     topic_id=22))], cfg)
    [q] = open_questions(store, asked_before=NOW)
    assert (q.thread_id, q.title) == (21, title)
    assert q.linked == ("gitlab-org/gitlab:doc/ci/yaml/_index.md",)
    rows = {r["thread_id"]: r["answered"] for r in store.db.table("docs_questions").rows}
    assert rows == {20: "staff", 21: ""}
    note_posts(store, [(title, replace(post(3, "kim", "thanks", accepted=True), topic_id=21))],
               cfg)
    assert open_questions(store, asked_before=NOW) == []


def test_every_action_kind_is_shown_by_review_and_the_plan() -> None:
    from docsgap.act import planview
    from docsgap.cli import review_cmd
    from docsgap.models import ActionKind

    for kind in ActionKind:
        assert kind in review_cmd._WHERE, kind
        assert kind.value in planview._LABEL, kind
