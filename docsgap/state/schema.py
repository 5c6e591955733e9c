"""The state's schema, as sqlite-utils migrations applied in order when a store opens (one
function each; a released migration never changes, a new one is added)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("docsgap")


@migrations()
def m001_initial(db: Database) -> None:
    """Tables of the walking skeleton."""
    db.table("cursors").create({"name": str, "value": str, "updated_at": str}, pk="name")
    db.table("threads").create(
        {
            "id": int,
            "slug": str,
            "title": str,
            "url": str,
            "category_id": int,
            "tags": str,
            "closed": int,
            "archived": int,
            "posts_count": int,
            "created_at": str,
            "last_posted_at": str,
            "scanned_at": str,
        },
        pk="id",
    )
    db.table("signals").create(
        {
            "key": str,
            "thread_id": int,
            "gap_type": str,
            "score": float,
            "rules": str,
            "evidence": str,
            "post_number": int,
            "page_url": str,
            "page_project": str,
            "page_path": str,
            "page_section": str,
            "existing_links": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="key",
    )
    db.table("items").create(
        {
            "url": str,
            "kind": str,
            "project": str,
            "iid": int,
            "title": str,
            "description": str,
            "state": str,
            "labels": str,
            "created_at": str,
            "updated_at": str,
            "closed_at": str,
            "synced_at": str,
        },
        pk="url",
    )
    db.table("links").create(
        {
            "thread_id": int,
            "item_url": str,
            "signal_key": str,
            "gap_type": str,
            "page_url": str,
            "source": str,
            "reply_url": str,
            "followup_url": str,
            "created_at": str,
        },
        pk=("thread_id", "item_url"),
    )
    db.table("ledger").create(
        {
            "key": str,
            "kind": str,
            "status": str,
            "remote_url": str,
            "error": str,
            "thread_ids": str,
            "reason": str,
            "attempts": int,
            "started_at": str,
            "finished_at": str,
        },
        pk="key",
    )
    db.table("verdicts").create(
        {"key": str, "verdict": str, "body": str, "note": str, "decided_at": str}, pk="key"
    )
    db.table("runs").create(
        {"id": int, "started_at": str, "finished_at": str, "apply": int, "summary": str}, pk="id"
    )
    db.table("signals").create_index(["thread_id"])
    db.table("items").create_index(["updated_at"])


@migrations()
def m002_dedup_cache(db: Database) -> None:
    """The matcher's processed data per cached item (words, pages, raw references), so a run
    only reprocesses the items that changed."""
    db.table("dedup_cache").create(
        {"url": str, "stamp": str, "fingerprint": str, "data": str}, pk="url")


@migrations()
def m003_item_duplicate_of(db: Database) -> None:
    """Which issue a cached issue was closed as a duplicate of: a match on the duplicate
    leads to the issue that tracks the gap."""
    db.table("items").add_column("duplicate_of", str)


@migrations()
def m004_dedup_word_ids(db: Database) -> None:
    """Cache rows name their words by id (bytes: the index reads them without work per word),
    the ids kept in a vocabulary per fingerprint. Old rows cannot be read: they are dropped."""
    db.table("dedup_cache").drop()
    db.table("dedup_cache").create(
        {"url": str, "stamp": str, "fingerprint": str, "data": bytes}, pk="url")
    db.table("dedup_words").create({"id": int, "word": str, "fingerprint": str}, pk="id")


@migrations()
def m005_docs_index(db: Database) -> None:
    """The local index of the docs (`docsgap docs sync`): one row per source file, one per docs
    project (the commit it was synced at), and the forum questions docs-first replies answer."""
    db.table("docs_pages").create(
        {"key": str, "project": str, "path": str, "url": str, "urls": str, "title": str,
         "sections": str, "redirect_to": str, "digest": str, "commit_id": str,
         "updated_at": str}, pk="key")
    db.table("docs_pages").create_index(["project"])
    db.table("docs_sources").create(
        {"project": str, "dir": str, "ref": str, "commit_id": str, "committed_at": str,
         "origin": str, "pages": int, "synced_at": str}, pk="project")
    db.table("docs_questions").create(
        {"thread_id": int, "title": str, "question": str, "asked_at": str, "answered": str,
         "seen_at": str}, pk="thread_id")


@migrations()
def m006_held_posts(db: Database) -> None:
    """Posts docsgap holds, so a topic is read from the forum only once: the posts of the
    latest-posts walk in progress, and every post of the topics it read as whole threads
    (`threads.held`); the walk keeps others only until their topic is judged."""
    db.table("posts").create(
        {"id": int, "topic_id": int, "number": int, "username": str, "created_at": str,
         "cooked": str, "raw": str, "staff": int, "post_type": int, "length": int},
        pk="id",
    )
    db.table("posts").create_index(["topic_id"])
    db.table("threads").add_column("held", int)


@migrations()
def m007_match_cache(db: Database) -> None:
    """Each signal's last match result, with the signal text and cached-items stamp it was
    made under (`docsgap.loop.matchcache`)."""
    db.table("match_cache").create(
        {"signal_key": str, "fingerprint": str, "stamp": str, "result": str}, pk="signal_key")


@migrations()
def m008_docs_question_links(db: Database) -> None:
    """The docs pages a question's thread already links (a docs-first reply never repeats one)."""
    db.table("docs_questions").add_column("linked", str)


@migrations()
def m009_items_version(db: Database) -> None:
    """A counter that moves whenever a cached issue/MR is added, removed or really changed (an
    upsert of the same values does not count): what `docsgap.loop.matchcache` stamps results
    with."""
    db.execute("create table items_version (id integer primary key check (id = 1), "
               "n integer not null)")
    db.execute("insert into items_version (id, n) values (1, 0)")
    bump = "begin update items_version set n = n + 1; end"
    db.execute(f"create trigger items_version_insert after insert on items {bump}")
    db.execute(f"create trigger items_version_delete after delete on items {bump}")
    changed = " or ".join(f"old.{c} is not new.{c}" for c in (
        "updated_at", "state", "closed_at", "labels", "title", "description", "duplicate_of"))
    db.execute(f"create trigger items_version_update after update on items when {changed} "
               f"{bump}")


@migrations()
def m010_item_confidential(db: Database) -> None:
    """Cached issues say whether they are confidential (a forum reply must not send readers to
    a page they cannot open). Rows cached before cannot know: the issues' sync cursor is reset,
    so the next run lists the doc issues once in full (resumable, as a first sync)."""
    db.table("items").add_column("confidential", int)
    db.execute("drop trigger items_version_update")
    changed = " or ".join(f"old.{c} is not new.{c}" for c in (
        "updated_at", "state", "closed_at", "labels", "title", "description", "duplicate_of",
        "confidential"))
    db.execute(f"create trigger items_version_update after update on items when {changed} "
               "begin update items_version set n = n + 1; end")
    # The shared cursor of older states still serves merge requests: it becomes theirs.
    db.execute("insert or ignore into cursors (name, value, updated_at) select "
               "'tracker.mrs_updated_after', value, updated_at from cursors "
               "where name = 'tracker.updated_after'")
    db.execute("delete from cursors where name in "
               "('tracker.issues_updated_after', 'tracker.updated_after')")


@migrations()
def m011_docs_page_owners(db: Database) -> None:
    """Each indexed docs page keeps who owns it (front matter `stage`, `group`), for the owner
    labels of the issues filed about it. Pages indexed before hold neither: the next
    `docs sync` parses every page again (one archive download, as a first sync). And the
    owner labels found in the project (`label_titles`), so a run asks only for new ones."""
    db.table("docs_pages").add_column("stage", str)
    db.table("docs_pages").add_column("owner_group", str)
    db.execute("update docs_pages set digest = ''")
    db.execute("update docs_sources set commit_id = ''")
    db.table("label_titles").create({"name": str, "title": str, "checked_at": str}, pk="name")
