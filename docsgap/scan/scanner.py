"""The forum scan: stream the latest-posts pages into the state, judge each post on its own, and
read a topic's thread only when one of its posts holds a candidate signal.

Each `/posts.json` page carries its posts' raw text, topic id, post number, topic title, slug
and category, so a topic without a candidate costs no request of its own. A candidate topic is
read once (`/t/{id}.json` plus the chunks of posts not already held); its posts are then held
in the state and later runs judge it again from there. Every page is committed with the walk's
position, so a budget or rate limit stops the scan cleanly and the next run resumes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from docsgap import compose
from docsgap.config import Config
from docsgap.detect.detector import Detector
from docsgap.detect.doclinks import tracker_links
from docsgap.docs import questions
from docsgap.errors import NotFoundError, UsageError
from docsgap.forum.interface import NOT_LOOKED_AT, Forum, LatestPost, TopicRead
from docsgap.models import Evidence, Post, Signal, Skip, Thread
from docsgap.scan.cost import first_scan_cost
from docsgap.scan.held import HeldPosts
from docsgap.scan.topics import topic_id as topic_id
from docsgap.state import StateStore, iso, parse_iso, utcnow

log = logging.getLogger(__name__)

FORUM_CURSOR = "forum.last_post_id"
"""Highest post id a finished walk has seen; the next walk stops there."""
FORUM_CURSOR_AT = "forum.last_post_at"
"""The newest `created_at` a finished walk has seen (the forum's clock)."""
MOVED_MARGIN = timedelta(minutes=10)
"""A new post created this long before the last walk's newest is a copy made by a move."""
WALK = "forum.walk"
"""The walk in progress (JSON `Walk`), so an interrupted one resumes where it stopped."""
QUEUE = "forum.judge_queue"
"""Topic ids whose thread is judged next (JSON list): candidates and held topics with news."""
PENDING_TOPICS = "forum.pending_topics"
"""Before held posts: topics still to read. Taken into the queue once."""
SIZE_RULE = "size-limit"
REGULAR = 1

Progress = Callable[[str, int, int], None]
Notice = Callable[[str], None]


@dataclass
class Walk:
    """Where a walk down the latest-posts stream is."""

    target: int | None
    """Stop at posts with this id or lower (the last finished walk's newest); None: first."""
    before: int | None = None
    newest: int | None = None
    pages: int = 0
    since: str | None = None
    """The last finished walk's newest `created_at` (ISO)."""
    newest_at: str | None = None


def bounded(post: Post, limit: int) -> tuple[Post, int]:
    """The post cut to `limit` characters (raw and cooked) when longer, and its length (of
    the Markdown when known: what its author wrote)."""
    length = len(post.raw) if post.raw is not None else len(post.cooked)
    if length <= limit:
        # The HTML runs longer than the Markdown: past the limit, judge the Markdown whole.
        return (post, length) if len(post.cooked) <= limit else (replace(post, cooked=""),
                                                                   length)
    raw = post.raw[:limit] if post.raw is not None else None
    return replace(post, raw=raw, cooked=post.cooked[:limit]), length


class Scanner:
    """One scan: walk the stream, then judge the queued threads."""

    def __init__(self, config: Config, forum: Forum, store: StateStore, detector: Detector,
                 progress: Progress, notice: Notice) -> None:
        self.config = config
        self.forum = forum
        self.store = store
        self.detector = detector
        self.progress = progress
        self.notice = notice
        self.held = HeldPosts(store)
        f = config.forum
        self.bots = {u.lower() for u in f.bot_usernames}
        self.ignored = self.bots | {u.lower() for u in f.staff_usernames}
        self.touched: set[int] = set()
        """Topics with new posts in this scan."""
        self.withheld: dict[str, Skip] = {}
        """Topics and posts read but not used (deleted, hidden, withdrawn, restricted)."""
        self.threads_read = 0
        self._requeue: set[int] = set()
        """Topics to judge next: where posts went (a moderator's move) between the walk and
        their topic's read, and held topics posts left."""
        self._estimate = 0

    # --- the walk -------------------------------------------------------------------------

    def walk(self) -> None:
        """Read `/posts.json` pages, newest first, down to the last walk's newest post (on a
        first scan: `forum.initial_pages` pages), staging and judging every post."""
        walk = self._walk()
        queue = self._queue()
        while walk.target is not None or walk.pages < self.config.forum.initial_pages:
            page = self.forum.latest_posts(walk.before, newer_than=walk.target)
            walk.pages += 1
            if walk.target is None and walk.pages == 1 and page:
                self._announce(page[0].post.id)
            fresh = [lp for lp in page if walk.target is None or lp.post.id > walk.target]
            older = [lp for lp in page if walk.target is not None and lp.post.id <= walk.target
                     and lp.topic_withheld != NOT_LOOKED_AT]
            lowest = min((lp.post.id for lp in page), default=None)
            ended = not fresh or len(fresh) < len(page) or (
                walk.before is not None and lowest is not None and lowest >= walk.before)
            with self.store.db.atomic():
                self._moved_in(fresh, parse_iso(walk.since), queue)
                self._take(fresh, queue)
                self._recheck(older, queue)
                ids = [lp.post.id for lp in fresh]
                times = [lp.post.created_at for lp in fresh]
                known = parse_iso(walk.newest_at)
                walk.newest_at = iso(max([*times, known] if known else times, default=None))
                walk.newest = max([*ids, walk.newest] if walk.newest is not None else ids,
                                  default=None)
                walk.before = lowest
                self.store.set_cursor(WALK, json.dumps(asdict(walk)))
                self.store.set_cursor(QUEUE, json.dumps(list(queue)))
            self.progress("scan", walk.pages, max(self._estimate, walk.pages))
            if ended:
                break
        with self.store.db.atomic():
            if walk.newest is not None:
                self.store.set_cursor(FORUM_CURSOR, str(walk.newest))
            newest_at = parse_iso(walk.newest_at)
            if newest_at is not None:
                # Never past this run's own clock: one post dated in the future (an import,
                # a wrong clock) would make every later post look moved.
                self.store.set_cursor(FORUM_CURSOR_AT, iso(min(newest_at, utcnow())) or "")
            self.store.set_cursor(WALK, "")
            self.held.prune(queue)

    def _walk(self) -> Walk:
        saved = self.store.cursor(WALK)
        if saved:
            return Walk(**json.loads(saved))
        last = self.store.cursor(FORUM_CURSOR)
        since = self.store.cursor(FORUM_CURSOR_AT) or None
        return Walk(int(last) if last else None, since=since, newest_at=since)

    def _queue(self) -> dict[int, None]:
        queue = dict.fromkeys(int(t) for t in json.loads(self.store.cursor(QUEUE) or "[]"))
        old = json.loads(self.store.cursor(PENDING_TOPICS) or "[]")
        if old:  # a state from before held posts: those topics were never read
            queue.update(dict.fromkeys(int(t) for t in old))
            self.store.set_cursor(PENDING_TOPICS, "[]")
        return queue

    def _announce(self, newest_id: int) -> None:
        """Say what a first scan costs before paying for it."""
        self._estimate, text = first_scan_cost(self.config.forum, newest_id)
        self.notice(text)

    def _take(self, fresh: Iterable[LatestPost], queue: dict[int, None]) -> None:
        """Stage a page: topics' metadata, the posts (cut to size), links and markers they
        hold; queue topics whose post holds a candidate, and held topics with a new post."""
        items = list(fresh)
        topics = {lp.post.topic_id: lp for lp in items}
        held = self.held.held(topics)
        # A held topic now off limits (moved into a read-restricted category): what docsgap
        # holds of it goes too, so judging it again yields nothing from it.
        self.held.withhold({t for t, lp in topics.items() if t in held and lp.topic_withheld})
        base = self.forum.base_url
        self.held.note_topics([
            {"id": t, "slug": lp.topic_slug, "title": lp.topic_title,
             "url": f"{base}/t/{lp.topic_slug}/{t}", "category_id": lp.category_id}
            for t, lp in topics.items()])
        staged: list[tuple[Post, int]] = []
        firsts: set[int] = set()
        limit = self.config.forum.max_post_chars
        for lp in items:
            self._withheld(lp.post, lp.topic_withheld)
            post, length = bounded(lp.post, limit)
            tid = post.topic_id
            self.touched.add(tid)
            staged.append((post, length))
            self._links(f"{base}/t/{lp.topic_slug}/{tid}", post)
            if tid not in queue and (tid in held or self._candidate(post, lp.topic_title)):
                queue[tid] = None
            if post.number == 1:
                firsts.add(tid)
        self.held.stage(staged)
        questions.note_posts(self.store, [(lp.topic_title, post) for lp, (post, _) in
                                          zip(items, staged, strict=True)], self.config)
        # A topic whose first post went by without a candidate is done: its posts can go.
        self.held.drop_unless_held(firsts, queue)

    def _moved_in(self, items: list[LatestPost], since: datetime | None,
                  queue: dict[int, None]) -> None:
        """Topics posts were moved into. A moved post keeps its id (never listed again), but a
        moved first post is created anew in the destination with its old `created_at`
        (`PostMover#create_first_post`): a new post older than the last walk's newest. Such a
        topic is forgotten and queued, so it is read whole (post numbers may have changed)."""
        if since is None:
            return
        for tid in dict.fromkeys(lp.post.topic_id for lp in items
                                 if lp.post.created_at < since - MOVED_MARGIN):
            log.info("topic %s got posts moved in; read again in full", tid)
            self.held.forget(tid)
            queue[tid] = None

    def _recheck(self, items: list[LatestPost], queue: dict[int, None]) -> None:
        """The posts below the cursor on the page where the walk stops, which come with it.
        `/posts.json` lists by id, so a post edited, unhidden, recovered, moved or committed
        late is never listed above the cursor again: a held topic whose post differs from the
        held copy, or another topic whose post is a candidate now, is judged again."""
        if not items:
            return
        limit = self.config.forum.max_post_chars
        cut = [(lp, *bounded(lp.post, limit)) for lp in items]
        changed = self.held.changed([post for _, post, _ in cut])
        held = self.held.held({post.topic_id for _, post, _ in cut})
        self.held.withhold({lp.post.topic_id for lp, _, _ in cut
                            if lp.post.topic_id in held and lp.topic_withheld})
        staged: list[tuple[Post, int]] = []
        for lp, post, length in cut:
            tid = post.topic_id
            if post.id in changed and (tid in held or self._candidate(post, lp.topic_title)):
                log.info("post %s (topic %s) changed since it was read; judged again",
                         post.id, tid)
                staged.append((post, length))
                queue[tid] = None
        self._left([post for post, _ in staged])
        queue.update(dict.fromkeys(self._requeue))
        self._requeue.clear()
        self.held.stage(staged)

    def _left(self, posts: list[Post] | tuple[Post, ...]) -> None:
        """Held topics that `posts` (about to be held under their topic now) were held in
        before: moved out, they are judged again from what they still hold."""
        was = self.held.topics_of([p.id for p in posts])
        gone = {was[p.id] for p in posts if p.id in was and was[p.id] != p.topic_id}
        self._requeue.update(self.held.held(gone))

    def _candidate(self, post: Post, title: str) -> bool:
        """Whether a post on its own holds a rule hit (the thread is judged as a whole later;
        a thread's signals all come from hits in its posts)."""
        if (post.post_type != REGULAR or post.staff or post.withheld
                or post.username.lower() in self.ignored):
            return False
        text = post.cooked or post.raw or ""
        return bool(self.detector.detect_text(title if post.number == 1 else "", text).evidence)

    def _withheld(self, post: Post, topic_reason: str | None = None) -> None:
        """Say why a post (or its whole topic) is not used: it joins the run's skips."""
        if topic_reason:
            self.withheld[f"t{post.topic_id}"] = Skip(f"t{post.topic_id}",
                                                      f"topic withheld, {topic_reason}")
        elif post.withheld and f"t{post.topic_id}" not in self.withheld:
            key = f"t{post.topic_id}#{post.number}"
            self.withheld[key] = Skip(key, f"post withheld, {post.withheld}")

    def _links(self, thread_url: str, post: Post) -> None:
        """Issue/MR links anyone posted; docsgap's own replies (by marker) keep their URL."""
        if post.username.lower() in self.bots:  # a reply that waited for a moderator is out
            for key in compose.find_markers(post.raw or post.cooked):
                if (self.store.ledger_entry(key) or {}).get("status") in ("queued", "rejected"):
                    self.store.ledger_finish(key, "done", remote_url=f"{thread_url}/{post.number}")
        text = f"{post.cooked}\n{post.raw or ''}"
        found = tracker_links(text)
        if not found:
            return
        tid = post.topic_id
        if post.username.lower() in self.bots:
            keys = compose.find_markers(post.raw or post.cooked)
            field = ("reply_url" if any(k.startswith("reply:") for k in keys)
                     else "followup_url" if any(k.startswith("followup:") for k in keys)
                     else None)
            if field is not None:
                for url in found:
                    posted = f"{thread_url}/{post.number}"
                    self.store.record_link(tid, url, source="docsgap")
                    self.store.set_link_field(tid, url, **{field: posted})
                    item = self.store.item(url)
                    if (field == "reply_url" and item is not None and item.state != "opened"
                            and (item.closed_at is None or post.created_at >= item.closed_at)):
                        # A reply about a closed item said so: no follow-up is owed (as apply).
                        # One posted before the close (the thread read again later) still is.
                        self.store.set_link_field(tid, url, followup_url=posted)
        for url in found:
            self.store.record_link(tid, url, source="thread")

    # --- threads --------------------------------------------------------------------------

    def judge_queued(self) -> None:
        """Judge every queued thread: held ones from the state, others read once."""
        queue = self._queue()
        held = self.held.held(queue)
        order = [t for t in queue if t in held] + [t for t in queue if t not in held]
        for n, tid in enumerate(order, 1):  # `order` grows by the topics posts moved to
            found = self.held.thread(tid) if self.held.held([tid]) else None
            if found is None:
                try:
                    found = self._read(tid)
                except NotFoundError:
                    log.info("topic %s is gone or hidden; not judged", tid)
                    found = None
            with self.store.db.atomic():
                if found is not None:
                    self._judge(*found)
                else:
                    self.held.drop(tid)
                del queue[tid]
                order += [t for t in self._requeue if t not in queue]
                queue.update(dict.fromkeys(self._requeue))
                self._requeue.clear()
                self.store.set_cursor(QUEUE, json.dumps(list(queue)))
            self.progress("judge", n, len(order))

    def judge_topic(self, topic_id: int) -> None:
        """Read one topic now (the posts not held) and judge it; the walk is left alone."""
        try:
            found = self._read(topic_id, public=True)
        except NotFoundError as exc:  # the id came from the command line: say which
            raise UsageError(
                f"--topic {topic_id}: no such topic on {self.config.forum.url} (a wrong id, or "
                "deleted, or in a category the bot user cannot see)",
                hint="check the topic's URL in a browser logged in as the bot user") from exc
        with self.store.db.atomic():
            self._judge(*found)
            if self._requeue:  # judged by the next scan
                queue = self._queue()
                queue.update(dict.fromkeys(self._requeue))
                self.store.set_cursor(QUEUE, json.dumps(list(queue)))

    def _read(self, topic_id: int, *, public: bool = False) -> tuple[Thread, dict[int, int]]:
        """Read a topic, fetching only the posts not held; keep what was read. One topic on
        demand is read `public` first (no category list for a public topic)."""
        read: TopicRead = self.forum.read_topic(topic_id, self.held.ids(topic_id),
                                                public=public)
        self.threads_read += 1
        for post_id, dest in read.moved:
            log.info("post %s moved to topic %s since it was listed; read that next", post_id,
                     dest)
            self.held.forget(dest)
            self._requeue.add(dest)
        limit = self.config.forum.max_post_chars
        with self.store.db.atomic():
            self.held.drop(topic_id, keep=read.stream)
            self._left(read.thread.posts)
            self.held.stage(bounded(p, limit) for p in read.thread.posts)
        for post in read.thread.posts:  # docsgap's replies older than the walk
            self._links(read.thread.url, post)
            self._withheld(post, read.thread.withheld)  # held posts keep no reason
        posts = self.held.posts(topic_id)
        thread = replace(read.thread, posts=tuple(p for p, _ in posts))
        return thread, {p.number: n for p, n in posts}

    def _judge(self, thread: Thread, lengths: dict[int, int]) -> None:
        """Judge a whole thread: record it as held, its links and its signals (with a note
        for each post judged on a prefix only)."""
        self.store.record_thread({
            "id": thread.id, "slug": thread.slug, "title": thread.title, "url": thread.url,
            "category_id": thread.category_id, "tags": json.dumps(list(thread.tags)),
            "closed": int(thread.closed), "archived": int(thread.archived),
            "posts_count": len(thread.posts), "created_at": iso(thread.created_at),
            "last_posted_at": iso(thread.last_posted_at), "held": 1,
        })
        verdict = self.detector.detect_thread(thread, ignore_usernames=self.ignored)
        for link in verdict.existing_links:
            self.store.record_link(thread.id, link, source="thread")
        limit = self.config.forum.max_post_chars
        notes = tuple(
            Evidence(SIZE_RULE, f"post {number} has {length:,} characters; docsgap judged the "
                     f"first {limit:,} (forum.max_post_chars)", "", number)
            for number, length in sorted(lengths.items()) if length > limit)
        for signal in verdict.signals:
            self.store.record_signal(replace(signal, evidence=signal.evidence + notes)
                                     if notes else signal)
        self._forget_stale(thread.id, verdict.signals, dict(verdict.cancelled))
        questions.record(self.store, thread, verdict.signals, self.config)

    def _forget_stale(self, topic_id: int, signals: Iterable[Signal],
                      why: dict[str, str]) -> None:
        """Forget the topic's stored signals its thread no longer yields (the author retracted,
        a staff reply showed the docs cover it, the post was edited), so no run acts on them."""
        keep = json.dumps([s.key for s in signals])
        where = "thread_id = ? and key not in (select value from json_each(?))"
        for (key,) in self.store.db.execute(f"select key from signals where {where}",
                                            [topic_id, keep]):
            log.info("signal %s no longer holds: %s", key, why.get(key, "not found again"))
        self.store.db.execute(f"delete from signals where {where}", [topic_id, keep])
