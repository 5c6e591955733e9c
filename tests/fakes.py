"""In-memory Forum and Tracker that record calls and fail on demand (crash injection)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from docsgap.errors import NotFoundError, UnavailableError, WriteRejectedError
from docsgap.forum.interface import LatestPost, QueuedReply, TopicRead
from docsgap.models import (
    IssueDraft,
    ItemKind,
    MergeRequestDraft,
    Note,
    Post,
    PostRef,
    Thread,
    TrackerItem,
)
from docsgap.tracker.gitlab_rights import WriteRights

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class Crash(BaseException):
    """Simulates the process dying (not an Exception, so nothing in docsgap catches it)."""


@dataclass
class Faults:
    """Fail the Nth write (1-based) before or after it takes effect."""

    fail_write: int | None = None
    mode: str = "before"  # before: 5xx, nothing written; after: written, then crash; crash_before
    writes: int = 0

    def check(self, when: str) -> None:
        if self.fail_write is None or self.writes != self.fail_write:
            return
        if when == "before" and self.mode == "before":
            raise UnavailableError("injected 503", status=503)
        if when == "before" and self.mode == "crash_before":
            raise Crash("crash before write")
        if when == "after" and self.mode == "after":
            raise Crash("crash after write")
        if when == "after" and self.mode == "timeout_after":
            raise UnavailableError("injected timeout after the write took effect")


class FakeForum:
    """A forum held in memory."""

    base_url = "https://forum.test"

    def __init__(self, threads: list[Thread] | None = None) -> None:
        self.threads: dict[int, Thread] = {t.id: t for t in threads or []}
        self.replies: list[tuple[int, str]] = []
        self.faults = Faults()
        self.reads = 0
        self.calls: list[tuple[str, int | None]] = []

    def _all_posts(self) -> list[Post]:
        return sorted((p for t in self.threads.values() for p in t.posts), key=lambda p: -p.id)

    def latest_posts(self, before: int | None, *, newer_than: int | None = None
                     ) -> list[LatestPost]:
        """Regular posts below `before`, highest id first, 50 a page (as `/posts.json`)."""
        self.reads += 1
        self.calls.append(("latest_posts", before))
        posts = [p for p in self._all_posts() if p.post_type == 1
                 and (before is None or p.id < before)][:50]
        return [LatestPost(p, self.threads[p.topic_id].title, self.threads[p.topic_id].slug,
                           self.threads[p.topic_id].category_id) for p in posts]

    def thread(self, topic_id: int) -> Thread:
        self.reads += 1
        if topic_id not in self.threads:
            raise NotFoundError(f"topic {topic_id} not found", status=404)
        return self.threads[topic_id]

    def read_topic(self, topic_id: int, have: Collection[int] = (), *, public: bool = False
                   ) -> TopicRead:
        """The first 20 posts and every other post not in `have` (counting one read per
        chunk of 20 as the Discourse adapter makes)."""
        self.calls.append(("read_topic", topic_id))
        t = self.thread(topic_id)
        missing = [p for p in t.posts[20:] if p.id not in have]
        self.reads += -(-len(missing) // 20)
        return TopicRead(replace(t, posts=t.posts[:20] + tuple(missing)),
                         tuple(p.id for p in t.posts))

    def reply(
        self, topic_id: int, raw: str, *, reply_to_post_number: int | None = None
    ) -> PostRef:
        self.faults.writes += 1
        self.faults.check("before")
        t = self.thread(topic_id)
        if t.closed or t.archived:
            raise WriteRejectedError("topic is closed", status=403)
        next_id = max((p.id for p in self._all_posts()), default=1000) + 1
        post = Post(next_id, topic_id, len(t.posts) + 1, "docsgap-bot", T0, f"<p>{raw}</p>", raw)
        self.threads[topic_id] = replace(t, posts=(*t.posts, post))
        self.replies.append((topic_id, raw))
        self.faults.check("after")
        return PostRef(post.id, topic_id, post.number, f"{t.url}/{post.number}")

    def queued_reply(self, topic_id: int, raw: str) -> QueuedReply | None:
        """No approval queue here (tests/e2e meet the sandbox's)."""
        return None


@dataclass
class FakeTracker:
    """A GitLab project held in memory."""

    project: str = "gitlab-org/gitlab"
    items: dict[tuple[str, int], TrackerItem] = field(default_factory=dict)
    item_notes: dict[tuple[str, int], list[Note]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    created: list[TrackerItem] = field(default_factory=list)
    clock: datetime = T0
    write_rights: WriteRights = WriteRights("docsgap-bot", 30)
    label_names: tuple[str, ...] = ("documentation", "docsgap", "devops::verify",
                                    "group::pipeline authoring")
    """The labels of the project and its groups (owner labels are applied only from these)."""
    label_lookups: list[str] = field(default_factory=list)

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def add(self, kind: ItemKind, title: str, description: str = "", state: str = "opened",
            labels: tuple[str, ...] = ("documentation",)) -> TrackerItem:
        iid = 1 + max((i for k, i in self.items if k == kind), default=0)
        sep = "issues" if kind == "issue" else "merge_requests"
        item = TrackerItem(kind, self.project, iid, title, description, state,
                           f"https://gitlab.test/{self.project}/-/{sep}/{iid}", labels,
                           self._tick(), self.clock)
        self.items[(kind, iid)] = item
        return item

    def doc_items(
        self, updated_after: datetime | None, *, kind: ItemKind | None = None
    ) -> Iterator[TrackerItem]:
        ordered = sorted(self.items.values(), key=lambda i: (i.kind != "issue", i.updated_at or T0))
        for item in ordered:
            if kind not in (None, item.kind):
                continue
            if "documentation" in item.labels and (
                updated_after is None or (item.updated_at and item.updated_at > updated_after)
            ):
                yield item

    def get_item(self, kind: ItemKind, iid: int) -> TrackerItem:
        try:
            return self.items[(kind, iid)]
        except KeyError:  # as GitLab answers for a deleted or never-created item
            raise NotFoundError(f"{kind} {iid} not found", status=404) from None

    def find_issue_with_marker(self, marker: str) -> TrackerItem | None:
        return next(
            (i for i in self.items.values() if i.kind == "issue" and marker in i.description), None
        )

    def _write(self) -> None:
        self.faults.writes += 1
        self.faults.check("before")

    def open_issue(self, draft: IssueDraft) -> TrackerItem:
        self._write()
        item = self.add("issue", draft.title, draft.description, labels=draft.labels)
        self.created.append(item)
        self.faults.check("after")
        return item

    def update_issue(self, iid: int, *, title: str | None = None,
                     description: str | None = None) -> TrackerItem:
        self._write()
        old = self.items[("issue", iid)]
        new = replace(old, title=old.title if title is None else title,
                      description=old.description if description is None else description,
                      updated_at=self._tick())
        self.items[("issue", iid)] = new
        self.faults.check("after")
        return new

    def notes(self, kind: ItemKind, iid: int) -> list[Note]:
        return list(self.item_notes.get((kind, iid), []))

    def add_note(self, kind: ItemKind, iid: int, body: str) -> Note:
        self._write()
        notes = self.item_notes.setdefault((kind, iid), [])
        note = Note(len(notes) + 1, body, own=True)
        notes.append(note)
        self.items[(kind, iid)] = replace(self.items[(kind, iid)], updated_at=self._tick())
        self.faults.check("after")
        return note

    def update_note(self, kind: ItemKind, iid: int, note_id: int, body: str) -> Note:
        self._write()
        notes = self.item_notes[(kind, iid)]
        notes[note_id - 1] = Note(note_id, body, own=True)
        self.faults.check("after")
        return notes[note_id - 1]

    def read_file(self, path: str, ref: str | None = None) -> str:
        if path not in self.files:
            raise NotFoundError(f"{path} not found", status=404)
        return self.files[path]

    def rights(self, labels: Sequence[str] = ()) -> WriteRights:
        return self.write_rights

    def label_titles(self, names: Sequence[str]) -> dict[str, str | None]:
        self.label_lookups.extend(names)
        return {n: n if n in self.label_names else None for n in names}

    def find_merge_request(self, source_branch: str) -> TrackerItem | None:
        return next(
            (i for i in self.items.values()
             if i.kind == "merge_request" and f"branch={source_branch}" in i.description),
            None,
        )

    def open_draft_mr(self, draft: MergeRequestDraft) -> TrackerItem:
        self._write()
        self.files[f"{draft.source_branch}:{draft.file_path}"] = draft.content
        item = self.add("merge_request", draft.title,
                        draft.description + f"\nbranch={draft.source_branch}", labels=draft.labels)
        self.faults.check("after")
        return item


# --- helpers added for the review / followup / mr tests ------------------------------------

from typing import TYPE_CHECKING  # noqa: E402 - helpers are appended, imports kept local

if TYPE_CHECKING:
    from docsgap.config import Config
    from docsgap.detect.detector import Detector
    from docsgap.loop.services import Services


def set_item_state(tracker: FakeTracker, web_url: str, state: str,
                   *, labels: tuple[str, ...] = ()) -> TrackerItem:
    """Close, merge or reopen an item as GitLab would (newer `updated_at`, extra labels)."""
    key = next(k for k, i in tracker.items.items() if i.web_url == web_url)
    old = tracker.items[key]
    now = tracker._tick()
    new = replace(old, state=state, labels=tuple(dict.fromkeys((*old.labels, *labels))),
                  updated_at=now, closed_at=now if state in ("closed", "merged") else None)
    tracker.items[key] = new
    return new


def shared_detector() -> Detector:
    """One Detector over the shipped rules for the whole test session (building it is the
    slow part of a pipeline test; it holds no per-run state)."""
    global _DETECTOR
    if _DETECTOR is None:
        from docsgap.detect.detector import Detector
        from docsgap.detect.rules import load_rules

        _DETECTOR = Detector(load_rules())
    return _DETECTOR


_DETECTOR: Detector | None = None


class FakeServices:
    """A stand-in for `docsgap.loop.services.build_services` that hands out the given fakes (and a
    real StateStore at the config's state path), for CLI tests."""

    def __init__(self, forum: FakeForum, tracker: FakeTracker) -> None:
        self.forum = forum
        self.tracker = tracker

    def __call__(self, config: Config) -> Services:
        from docsgap.budget import Budget
        from docsgap.doctor.preflight import NO_PREFLIGHT
        from docsgap.loop.services import Services
        from docsgap.state import StateStore

        return Services(self.forum, self.tracker, StateStore(config.state_path),
                        shared_detector(), Budget(), NO_PREFLIGHT)


def docs_thread(tid: int, title: str, *texts: str, closed: bool = False,
                tags: tuple[str, ...] = ()) -> Thread:
    """A forum thread whose posts (by `user<n>`) say `texts`, at https://forum.test/t/t-<id>."""
    posts = tuple(Post(tid * 100 + n, tid, n + 1, f"user{n}", T0, f"<p>{text}</p>", text)
                  for n, text in enumerate(texts))
    return Thread(tid, f"t-{tid}", title, f"https://forum.test/t/t-{tid}/{tid}", posts,
                  closed=closed, tags=tags)
