"""The forum posts docsgap holds in the state (`posts` table, `threads.held`): the posts of the
latest-posts walk in progress and every post of the topics it read as whole threads, so a
topic is read from the forum once and later judged again from what is held."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from docsgap.compose import find_markers, marker
from docsgap.models import Post, Thread
from docsgap.state import StateStore, iso, parse_iso

_COLUMNS = "id, topic_id, number, username, created_at, cooked, raw, staff, post_type, length"


class HeldPosts:
    """Reads and writes of held posts; callers group writes in `store.db.atomic()`."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.db = store.db

    def stage(self, posts: Iterable[tuple[Post, int]]) -> None:
        """Keep posts (each with its length before any cut), replacing older copies."""
        rows = [(p.id, p.topic_id, p.number, p.username, iso(p.created_at), p.cooked, p.raw,
                 int(p.staff), p.post_type, length) for p, length in posts]
        if rows:
            with self.db.atomic():
                self.db.conn.executemany(
                    f"insert or replace into posts ({_COLUMNS}) values (?,?,?,?,?,?,?,?,?,?)",
                    rows)

    def ids(self, topic_id: int) -> set[int]:
        """Ids of the held posts of a topic."""
        rows = self.db.execute("select id from posts where topic_id = ?", [topic_id])
        return {int(r[0]) for r in rows}

    def changed(self, posts: Sequence[Post]) -> set[int]:
        """Ids of `posts` not held as they are now: not held, held in another topic, or with
        other text (the Markdown when both have it)."""
        rows = self.db.execute(
            "select id, topic_id, raw, cooked from posts where id in "
            "(select value from json_each(?))", [json.dumps([p.id for p in posts])])
        have = {int(r[0]): (int(r[1]), r[2], str(r[3] or "")) for r in rows}
        out = set()
        for p in posts:
            got = have.get(p.id)
            if got is None or got[0] != p.topic_id or (
                    got[1] != p.raw if got[1] is not None and p.raw is not None
                    else got[2] != p.cooked):
                out.add(p.id)
        return out

    def topics_of(self, ids: Collection[int]) -> dict[int, int]:
        """The topic each of the held posts `ids` is held under."""
        rows = self.db.execute("select id, topic_id from posts where id in "
                               "(select value from json_each(?))", [json.dumps(sorted(ids))])
        return {int(r[0]): int(r[1]) for r in rows}

    def posts(self, topic_id: int) -> list[tuple[Post, int]]:
        """The held posts of a topic by post number, each with its original length."""
        rows = self.db.execute(
            f"select {_COLUMNS} from posts where topic_id = ? order by number, id", [topic_id])
        return [(_post(r), int(r[9] or 0)) for r in rows]

    def drop(self, topic_id: int, keep: Collection[int] | None = None) -> None:
        """Forget a topic's posts (all, or those not in `keep`: deleted on the forum)."""
        if keep is None:
            self.db.execute("delete from posts where topic_id = ?", [topic_id])
            return
        self.db.execute(
            "delete from posts where topic_id = ? and id not in (select value from json_each(?))",
            [topic_id, json.dumps(sorted(keep))])

    def withhold(self, topic_ids: Collection[int]) -> None:
        """Drop the text of the held posts of `topic_ids`, keeping docsgap's own markers (as
        a read does for a withheld topic): they went off limits since they were read."""
        rows = self.db.execute(
            "select id, raw, cooked from posts where cooked != '' and topic_id in "
            "(select value from json_each(?))", [json.dumps(sorted(topic_ids))])
        kept = [("\n".join(marker(k) for k in find_markers(f"{r[1] or ''}\n{r[2]}")) or None,
                 int(r[0])) for r in rows]
        if kept:
            self.db.conn.executemany("update posts set cooked = '', raw = ? where id = ?", kept)

    def forget(self, topic_id: int) -> None:
        """Forget a topic's posts and that it was read whole: its next judging reads it."""
        self.db.execute("update threads set held = 0 where id = ?", [topic_id])
        self.drop(topic_id)

    def drop_unless_held(self, topic_ids: Collection[int], keep: Collection[int]) -> None:
        """Forget the posts of `topic_ids` whose topic is neither held nor in `keep`."""
        gone = [t for t in topic_ids if t not in keep]
        if gone:
            self.db.execute(
                "delete from posts where topic_id in (select value from json_each(?)) and "
                "topic_id not in (select id from threads where held = 1)", [json.dumps(gone)])

    def prune(self, keep: Collection[int]) -> None:
        """Forget every post whose topic is neither held nor in `keep` (end of a walk)."""
        self.db.execute(
            "delete from posts where topic_id not in (select id from threads where held = 1) "
            "and topic_id not in (select value from json_each(?))", [json.dumps(sorted(keep))])

    def held(self, topic_ids: Collection[int]) -> set[int]:
        """Which of `topic_ids` docsgap holds every post of."""
        rows = self.db.execute(
            "select id from threads where held = 1 and id in (select value from json_each(?))",
            [json.dumps(sorted(topic_ids))])
        return {int(r[0]) for r in rows}

    def note_topics(self, rows: Sequence[dict[str, Any]]) -> None:
        """What the stream says about topics (title, slug, url, category), keeping the rest
        of a thread row (tags, closed, held) as it is."""
        with self.db.atomic():
            self.db.conn.executemany(
                "insert into threads (id, slug, title, url, category_id) values "
                "(:id, :slug, :title, :url, :category_id) on conflict(id) do update set "
                "slug = excluded.slug, title = excluded.title, url = excluded.url, "
                "category_id = excluded.category_id", rows)

    def thread(self, topic_id: int) -> tuple[Thread, dict[int, int]] | None:
        """A held topic as a Thread from the state alone, with each post's original length."""
        row = self.store.thread_row(topic_id)
        if row is None:
            return None
        posts = self.posts(topic_id)
        thread = Thread(
            id=topic_id, slug=row["slug"] or "topic", title=row["title"] or "",
            url=row["url"] or "", posts=tuple(p for p, _ in posts),
            category_id=row["category_id"], tags=tuple(json.loads(row["tags"] or "[]")),
            closed=bool(row["closed"]), archived=bool(row["archived"]),
            created_at=parse_iso(row["created_at"]),
            last_posted_at=parse_iso(row["last_posted_at"]),
        )
        return thread, {p.number: n for p, n in posts}


def _post(r: Sequence[Any]) -> Post:
    created = parse_iso(r[4])
    assert created is not None
    return Post(id=int(r[0]), topic_id=int(r[1]), number=int(r[2]), username=str(r[3]),
                created_at=created, cooked=str(r[5] or ""), raw=r[6], staff=bool(r[7]),
                post_type=int(r[8]))
