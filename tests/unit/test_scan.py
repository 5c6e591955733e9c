"""The forum scan over the in-memory forum: a walk cut short resumes where it stopped and ends
with what an uninterrupted one finds; the state keeps only the posts it needs; an oversized post
is judged on a prefix, and the signal says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from docsgap.config import Config, ForumConfig
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.errors import RateLimitedError
from docsgap.forum.interface import LatestPost, TopicRead
from docsgap.loop.pipeline import Pipeline
from docsgap.models import Thread
from docsgap.scan.held import HeldPosts
from docsgap.scan.scanner import SIZE_RULE, bounded
from docsgap.state import StateStore
from tests.fakes import FakeForum, FakeTracker
from tests.unit.test_pipeline import demo_threads, post, thread

PLAIN = "Thanks, restarting the runner fixed it for us as well."
YAML = "https://docs.gitlab.com/ee/ci/yaml/index.html#rules"


def forum_of(n: int) -> FakeForum:
    """The demo threads plus `n` chatty topics of three posts without any docs complaint."""
    chatty = [thread(200 + k, f"Runner question {k}", *[("ann", PLAIN)] * 3) for k in range(n)]
    return FakeForum([*demo_threads(), *chatty])


class Limited(FakeForum):
    """Refuses every read after `allowed` of them, as a spent budget does."""

    def __init__(self, threads: list[Thread], allowed: int) -> None:
        super().__init__(threads)
        self.allowed = allowed

    def _spend(self) -> None:
        if self.allowed <= 0:
            raise RateLimitedError("forum: request budget of 3 for this run is spent")
        self.allowed -= 1

    def latest_posts(self, before: int | None, *, newer_than: int | None = None
                     ) -> list[LatestPost]:
        self._spend()
        return super().latest_posts(before, newer_than=newer_than)

    def read_topic(self, topic_id: int, have: object = (), *, public: bool = False
                   ) -> TopicRead:
        self._spend()
        return super().read_topic(topic_id, have, public=public)  # type: ignore[arg-type]


def scan(cfg: Config, forum: FakeForum, notices: list[str] | None = None) -> Pipeline:
    store = StateStore(cfg.state_path)
    heard = notices if notices is not None else []
    pipe = Pipeline(cfg, forum, FakeTracker(), store, Detector(load_rules()),
                    notice=heard.append)
    pipe.scan()
    store.close()
    return pipe


def signal_keys(cfg: Config) -> set[str]:
    store = StateStore(cfg.state_path)
    try:
        return {s.key for s in store.signals()}
    finally:
        store.close()


def config(path: Path) -> Config:
    return Config(state_path=path / "state.db", forum=ForumConfig(initial_pages=100))


def test_a_walk_cut_short_resumes_and_finds_the_same(tmp_path: Path) -> None:
    whole = config(tmp_path / "whole")
    scan(whole, forum_of(40))
    expected = signal_keys(whole)
    assert expected

    cut = config(tmp_path / "cut")
    forum = forum_of(40)
    limited = Limited(list(forum.threads.values()), allowed=2)
    first = scan(cut, limited)
    assert first.stopped_early and "budget" in first.stopped_early
    reads = [c for c in limited.calls if c[0] == "latest_posts"]
    assert len(reads) == 2
    limited.allowed = 10**6
    limited.calls.clear()
    second = scan(cut, limited)
    assert second.stopped_early is None
    # The second run goes on below the last page read; no page is read twice.
    pages = [c[1] for c in limited.calls if c[0] == "latest_posts"]
    assert pages[0] is not None and pages[0] == min(p.id for p in forum._all_posts()[:100])
    assert signal_keys(cut) == expected


def test_the_state_keeps_only_posts_of_topics_it_reads(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    forum = forum_of(10)
    scan(cfg, forum)
    store = StateStore(cfg.state_path)
    try:
        kept = {r[0] for r in store.db.execute("select distinct topic_id from posts")}
        read = {t for kind, t in forum.calls if kind == "read_topic"}
        assert kept == read and read and all(t < 200 for t in read)
        assert HeldPosts(store).held(kept) == kept
    finally:
        store.close()


def test_an_oversized_post_is_judged_on_a_prefix_and_the_signal_says_so(tmp_path: Path) -> None:
    long_tail = " ".join(["The runner logs this line again and again."] * 3000)
    text = f"The docs at {YAML} are outdated: the example was removed in 17.0. {long_tail}"
    forum = FakeForum([thread(301, "rules example outdated", ("ana", text))])
    cfg = replace(config(tmp_path), forum=ForumConfig(initial_pages=5, max_post_chars=20_000))
    scan(cfg, forum)
    store = StateStore(cfg.state_path)
    try:
        [signal] = list(store.signals())
        note = signal.evidence[-1]
        assert note.rule_id == SIZE_RULE and f"{len(text):,}" in note.text
        assert "20,000" in note.text and note.post_number == 1
        [(held, length)] = HeldPosts(store).posts(301)
        assert length == len(text) and len(held.raw or "") == 20_000
    finally:
        store.close()


def test_bounded_leaves_short_posts_alone() -> None:
    p = post(1, 1, 1, "ann", "short text")
    assert bounded(p, 100) == (p, len("short text"))
    cut, length = bounded(p, 5)
    assert (cut.raw, cut.cooked, length) == ("short", "<p>sh", len("short text"))


def test_a_first_scan_says_its_cost_before_paying_and_later_scans_do_not(tmp_path: Path) -> None:
    cfg = replace(config(tmp_path), forum=ForumConfig(initial_pages=100, max_requests=10,
                                                     rate_limit_per_minute=30))
    forum = forum_of(40)
    heard: list[str] = []
    scan(cfg, forum, heard)
    newest = max(p.id for p in forum._all_posts())
    pages = -(-newest // 50)
    [said] = heard
    assert f"up to {pages:,} requests" in said and "at 30 requests/minute" in said
    assert "stops after 10 (forum.max_requests)" in said
    heard.clear()
    scan(cfg, forum, heard)
    assert heard == []


def test_changed_tells_posts_held_as_they_are_from_edited_moved_and_new_ones(
        tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        held = HeldPosts(store)
        same, edited = post(1, 7, 1, "ann", "as read"), post(2, 7, 2, "bo", "as read")
        moved = post(3, 7, 3, "cy", "as read")
        no_raw = replace(post(4, 7, 4, "di", "as read"), raw=None)
        held.stage([(p, 7) for p in (same, edited, moved, no_raw)])
        now = [same, replace(edited, raw="edited to add a complaint"),
               replace(moved, topic_id=8), replace(no_raw, cooked="<p>edited</p>"),
               post(5, 7, 5, "ed", "never held")]
        assert held.changed(now) == {2, 3, 4, 5}
        # By the Markdown when both sides have it (other HTML alone is no change), else HTML.
        assert held.changed([no_raw, replace(same, cooked="<p>other html</p>")]) == set()
    finally:
        store.close()


def test_forget_makes_a_held_topic_read_again(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    scan(cfg, forum_of(0))
    store = StateStore(cfg.state_path)
    try:
        held = HeldPosts(store)
        [topic, *_] = sorted(held.held(range(100, 200)))
        held.forget(topic)
        assert held.held([topic]) == set() and held.ids(topic) == set()
    finally:
        store.close()


def test_a_new_post_dated_before_the_last_walk_reads_its_topic_and_future_dates_are_capped(
        tmp_path: Path) -> None:
    """A post dated in the future (an import, a wrong clock) must not make every later post
    look like a moved one: the walk's time is capped at the run's clock."""
    cfg = config(tmp_path)
    future = replace(post(5001, 500, 1, "ann", PLAIN), created_at=datetime(2100, 1, 1, tzinfo=UTC))
    chat = Thread(500, "topic-500", "Runner chat", "https://forum.test/t/topic-500/500",
                  (future,))
    quiet = thread(501, "More runner chat", ("bo", PLAIN))
    forum = FakeForum([*demo_threads(), chat, quiet])
    scan(cfg, forum)

    now = datetime.now(UTC)
    new = replace(post(5101, 501, 2, "cy", PLAIN), created_at=now)
    copy = replace(post(5102, 500, 2, "ann", PLAIN), created_at=now - timedelta(days=30))
    forum.threads[501] = replace(quiet, posts=(*quiet.posts, new))
    forum.threads[500] = replace(chat, posts=(future, copy))
    forum.calls.clear()
    scan(cfg, forum)

    # 501 only got a plain new post; 500 got one dated a month back: a moved first post.
    assert [t for kind, t in forum.calls if kind == "read_topic"] == [500]
