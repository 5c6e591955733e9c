"""Forum questions a docs-first reply could answer: recorded when a thread is scanned (title,
the question's text, when it was asked, whether it is answered yet, the docs pages it already
links), read back when planning. A thread that reports a docs gap is handled as a gap, not as a
question."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docsgap import compose
from docsgap.config import Config
from docsgap.docpages.pages import load_docs_map, page_keys
from docsgap.models import Post, Signal, Thread
from docsgap.state import StateStore, iso, parse_iso, utcnow

QUESTION_CHARS = 2000
"""The start of the question kept (the title and first paragraphs say what is asked)."""
DOCS_REPLY_PREFIX = "docsreply:"
"""Key prefix of docsgap's docs-first replies (their markers tell a rescan it answered)."""

_ASKING_RE = re.compile(
    r"\?|^\s*(?:how|what|where|which|why|when|can|could|is there|are there|does|do|should|"
    r"is it possible|any way|help)\b", re.I | re.M)
_TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Question:
    """A recorded forum question."""

    thread_id: int
    title: str
    text: str
    asked_at: datetime | None
    answered: str
    """"" (open), "accepted", "staff", "docsgap" (a docs-first reply) or "gap"."""
    linked: tuple[str, ...] = ()
    """Page keys of the docs pages anyone already linked in the thread."""


def is_question(title: str, text: str) -> bool:
    """A how-to question: the title or the first lines ask something."""
    return bool(_ASKING_RE.search(title) or _ASKING_RE.search(text[:600]))


def _text(raw: str | None, cooked: str) -> str:
    return raw if raw is not None else html.unescape(_TAG_RE.sub(" ", cooked))


def answered_by(thread: Thread, config: Config) -> str:
    """Who answered: "accepted" (a solution is marked), "staff" (staff replied), "docsgap" (its
    docs-first reply is there) or "" (nobody yet)."""
    if thread.accepted_answer is not None:
        return "accepted"
    staff = {u.lower() for u in config.forum.staff_usernames}
    bots = {u.lower() for u in config.forum.bot_usernames}
    asker = thread.posts[0].username.lower() if thread.posts else ""
    for post in thread.posts[1:]:
        name = post.username.lower()
        if name in bots and any(k.startswith(DOCS_REPLY_PREFIX) for k in
                                compose.find_markers(_text(post.raw, post.cooked))):
            return "docsgap"
        if name != asker and (post.staff or name in staff):
            return "staff"
    return ""


def record(store: StateStore, thread: Thread, signals: Sequence[Signal], config: Config) -> None:
    """Remember `thread` if it asks something (updating what is known on every rescan)."""
    if not thread.posts:
        return
    first = thread.posts[0]
    if thread.withheld or first.withheld:  # deleted, hidden, withdrawn, restricted: no reply
        return
    body = " ".join(_text(first.raw, first.cooked).split())
    staff = {u.lower() for u in (*config.forum.staff_usernames, *config.forum.bot_usernames)}
    if first.username.lower() in staff or first.staff or not is_question(thread.title, body):
        return
    m = load_docs_map(config.rules_dirs)
    linked = sorted({k for p in thread.posts for k in page_keys(_text(p.raw, p.cooked), m)})
    answered = "gap" if signals else answered_by(thread, config)
    store.db.table("docs_questions").upsert(
        {"thread_id": thread.id, "title": thread.title, "question": body[:QUESTION_CHARS],
         "asked_at": iso(thread.created_at or first.created_at), "answered": answered,
         "linked": json.dumps(linked), "seen_at": iso(utcnow())}, pk="thread_id")


def note_posts(store: StateStore, posts: Sequence[tuple[str, Post]], config: Config) -> None:
    """Posts seen in the latest-posts stream (topic title, post), without reading threads: a
    first post that asks starts a question; a later one can answer it (staff, a marked
    solution, docsgap's docs-first reply) or link docs pages. An answer seen before its
    question (the stream runs newest first) is kept, so the question starts answered."""
    m = load_docs_map(config.rules_dirs)
    staff = {u.lower() for u in config.forum.staff_usernames}
    bots = {u.lower() for u in config.forum.bot_usernames}
    # One read and one write per page, not per post (a first scan sees 100,000 posts).
    ids = sorted({post.topic_id for _, post in posts})
    rows: dict[int, dict[str, Any]] = {int(r["thread_id"]): dict(r) for r in store.db.query(
        "select * from docs_questions where thread_id in (select value from json_each(?))",
        [json.dumps(ids)])}
    changed: set[int] = set()
    for title, post in sorted(posts, key=lambda tp: (tp[1].topic_id, tp[1].number)):
        text = _text(post.raw, post.cooked)
        name = post.username.lower()
        row = rows.get(post.topic_id)
        linked = set(json.loads(row["linked"] or "[]")) if row else set()
        linked |= page_keys(text, m)
        answered = (row or {}).get("answered") or ""
        if post.number == 1:
            body = " ".join(text.split())
            if (post.withheld or post.staff or name in staff | bots
                    or not is_question(title, body)):
                continue
            update = {"title": title, "question": body[:QUESTION_CHARS],
                      "asked_at": iso(post.created_at), "answered": answered}
        else:
            how = ("accepted" if post.accepted else "staff" if post.staff or name in staff
                   else "docsgap" if name in bots and any(
                       k.startswith(DOCS_REPLY_PREFIX) for k in compose.find_markers(text))
                   else "")
            if row is None and not how:
                continue
            update = {"answered": answered or how}
        rows[post.topic_id] = {**(row or {"thread_id": post.topic_id}), **update,
                               "linked": json.dumps(sorted(linked)), "seen_at": iso(utcnow())}
        changed.add(post.topic_id)
    columns = ("thread_id", "title", "question", "asked_at", "answered", "linked", "seen_at")
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    with store.db.atomic():
        store.db.conn.executemany(
            f"insert into docs_questions ({', '.join(columns)}) values "
            f"({', '.join('?' * len(columns))}) on conflict(thread_id) do update set {sets}",
            [tuple(rows[t].get(c) for c in columns) for t in sorted(changed)])


def open_questions(store: StateStore, *, asked_before: datetime) -> list[Question]:
    """Questions nobody has answered that were asked before `asked_before`, oldest first."""
    rows = store.db.execute(
        "select thread_id, title, question, asked_at, answered, linked from docs_questions "
        "where coalesce(answered, '') = '' order by asked_at, thread_id")
    found = []
    for thread_id, title, text, asked, answered, linked in rows:
        when = parse_iso(asked)
        if when is None or when > asked_before:
            continue
        found.append(Question(int(thread_id), title or "", text or "", when, answered or "",
                              tuple(json.loads(linked or "[]"))))
    return found


def mark_answered(store: StateStore, thread_id: int, how: str) -> None:
    """Record that a question got its answer (docsgap's reply, found or posted)."""
    store.db.table("docs_questions").update(thread_id, {"answered": how})
