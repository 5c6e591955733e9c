"""Replies on a forum that holds them for a moderator (`act/replyqueue.py` through the whole
pipeline, on an in-memory forum with an approval queue): what the ledger and the outcomes say
when the queue cannot be read, when a check fails, and once a moderator decides."""

from __future__ import annotations

from pathlib import Path

from docsgap.config import Config
from docsgap.errors import AuthError, RemoteError, UnavailableError
from docsgap.forum.discourse_pending import same_reply
from docsgap.forum.interface import QueuedReply
from docsgap.models import PostRef, RunResult, Thread
from docsgap.state import StateStore
from tests.fakes import Crash, FakeForum, FakeTracker
from tests.unit.test_pipeline import make, run


class QueueingForum(FakeForum):
    """Every reply waits for a moderator; `approve`/`reject` decide."""

    def __init__(self, threads: list[Thread]) -> None:
        super().__init__(threads)
        self.queue: dict[int, tuple[int, str]] = {}
        self.queued_writes = 0
        self.refuse: RemoteError | None = None
        self.crash_after_queueing = False

    def reply(self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None
              ) -> PostRef | QueuedReply:
        self.queued_writes += 1
        self.queue[100 + self.queued_writes] = (topic_id, raw)
        if self.crash_after_queueing:
            raise Crash("the process dies before it reads the answer")
        return QueuedReply(100 + self.queued_writes, topic_id, self.threads[topic_id].url)

    def queued_reply(self, topic_id: int, raw: str) -> QueuedReply | None:
        if self.refuse is not None:
            raise self.refuse
        return next((QueuedReply(pid, t, self.threads[t].url) for pid, (t, text)
                     in self.queue.items() if t == topic_id and same_reply(raw, text)), None)

    def decide(self, approve: bool) -> None:
        for topic_id, raw in self.queue.values():
            if approve:
                FakeForum.reply(self, topic_id, raw)
        self.queue.clear()


def setup(tmp_path: Path) -> tuple[QueueingForum, Config, FakeTracker]:
    cfg, plain, tracker = make(tmp_path)
    return QueueingForum(list(plain.threads.values())), cfg, tracker


def ledger(tmp_path: Path, status: str) -> list[str]:
    store = StateStore(tmp_path / "state.db", read_only=True)
    try:
        return [r["key"] for r in store.ledger() if r["status"] == status]
    finally:
        store.close()


def statuses(result: RunResult) -> set[str]:
    return {o.status for o in result.outcomes if o.action.kind.value == "reply"}


def test_a_queued_reply_stays_queued_when_the_queue_cannot_be_read(tmp_path: Path) -> None:
    forum, cfg, tracker = setup(tmp_path)
    assert statuses(run(cfg, forum, tracker)) == {"queued"}
    queued = ledger(tmp_path, "queued")
    forum.refuse = AuthError("granular key", status=403)

    again = run(cfg, forum, tracker)

    assert statuses(again) == {"queued"}
    assert all("would not list pending posts" in (o.error or "") for o in again.outcomes
               if o.action.kind.value == "reply")
    assert ledger(tmp_path, "queued") == queued and forum.queued_writes == len(queued)


def test_a_failed_check_does_not_forget_a_reply_waits_and_a_rejection_is_final(
    tmp_path: Path
) -> None:
    forum, cfg, tracker = setup(tmp_path)
    run(cfg, forum, tracker)
    queued = ledger(tmp_path, "queued")
    forum.refuse = UnavailableError("502 from the forum", status=502)
    assert statuses(run(cfg, forum, tracker)) == {"failed"}
    assert ledger(tmp_path, "queued") == queued  # not "failed": a retry would repost

    forum.refuse = None
    forum.decide(approve=False)
    rejected = run(cfg, forum, tracker)

    assert statuses(rejected) == {"failed"}
    assert all("rejected by a forum moderator" in (o.error or "") for o in rejected.outcomes
               if o.action.kind.value == "reply")
    assert ledger(tmp_path, "rejected") == queued
    later = run(cfg, forum, tracker)
    assert statuses(later) == {"dry_run"} and forum.queued_writes == len(queued)
    assert not forum.replies


def test_an_approved_reply_is_found_by_its_marker(tmp_path: Path) -> None:
    forum, cfg, tracker = setup(tmp_path)
    run(cfg, forum, tracker)
    queued = ledger(tmp_path, "queued")
    forum.decide(approve=True)

    run(cfg, forum, tracker)

    assert set(queued) <= set(ledger(tmp_path, "done"))
    assert not ledger(tmp_path, "queued")
    assert forum.queued_writes == len(queued) == len(forum.replies)


def test_a_crash_after_the_forum_queued_a_reply_queues_no_second_copy(tmp_path: Path) -> None:
    forum, cfg, tracker = setup(tmp_path)
    forum.crash_after_queueing = True
    try:
        run(cfg, forum, tracker)
    except Crash:
        pass
    assert forum.queued_writes == 1 and ledger(tmp_path, "started")
    forum.crash_after_queueing = False

    rerun = run(cfg, forum, tracker)

    assert statuses(rerun) == {"queued"}
    assert len(forum.queue) == forum.queued_writes == len(ledger(tmp_path, "queued"))
    assert len({raw for _, raw in forum.queue.values()}) == len(forum.queue)
