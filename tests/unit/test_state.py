"""The SQLite state: migrations, cursors, ledger, links."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from docsgap.errors import StateError
from docsgap.models import DocPage, Evidence, GapType, Signal, TrackerItem
from docsgap.state import StateStore
from docsgap.state.schema import migrations
from tests.oldstate import state_before


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore(path).close()
    store = StateStore(path)
    assert [m.name for m in migrations.applied(store.db)] == [
        "m001_initial", "m002_dedup_cache", "m003_item_duplicate_of", "m004_dedup_word_ids",
        "m005_docs_index", "m006_held_posts", "m007_match_cache", "m008_docs_question_links",
        "m009_items_version", "m010_item_confidential", "m011_docs_page_owners"]
    assert migrations.pending(store.db) == []


def test_signal_round_trip_keeps_first_seen(store: StateStore) -> None:
    store.record_thread({"id": 7, "slug": "s", "title": "T", "url": "u"})
    sig = Signal(
        thread_id=7, thread_title="T", thread_url="u", gap_type=GapType.OUTDATED, score=2.0,
        rules=("r1",), evidence=(Evidence("r1", "the docs are outdated", "outdated", 1),),
        page=DocPage("https://docs.gitlab.com/ci/yaml/", "gitlab-org/gitlab",
                     "doc/ci/yaml/_index.md", "rules"),
        post_number=1,
    )
    store.record_signal(sig)
    first = store.db["signals"].get(sig.key)["first_seen"]
    store.record_signal(sig)
    [back] = list(store.signals())
    assert back == sig
    assert store.db["signals"].get(sig.key)["first_seen"] == first


def test_ledger_counts_attempts(store: StateStore) -> None:
    store.ledger_start("k", "open_issue", [2, 1], "policy auto")
    store.ledger_start("k", "open_issue", [1, 2], "policy auto")
    store.ledger_finish("k", "done", remote_url="http://x/1")
    row = store.ledger_entry("k")
    assert row is not None
    assert row["attempts"] == 2
    assert row["status"] == "done"
    assert row["thread_ids"] == "[1, 2]"


def test_links_and_report_rows(store: StateStore) -> None:
    store.record_thread({"id": 3, "slug": "s", "title": "Thread", "url": "http://f/t/s/3"})
    store.upsert_items([TrackerItem("issue", "g/p", 5, "Docs", "", "opened", "http://g/5")])
    store.record_link(3, "http://g/5", source="docsgap", gap_type="missing")
    store.set_link_field(3, "http://g/5", reply_url="http://f/t/s/3/4")
    [row] = store.report_rows()
    assert row["thread_title"] == "Thread"
    assert row["item_state"] == "opened"
    assert row["reply_url"] == "http://f/t/s/3/4"
    assert row["gap_type"] == "missing"


def test_items_keep_what_they_were_closed_as_a_duplicate_of(store: StateStore) -> None:
    dup = TrackerItem("issue", "g/p", 6, "Docs", "", "closed", "http://g/6",
                      duplicate_of="http://g/5")
    store.upsert_items([dup, TrackerItem("issue", "g/p", 5, "Docs", "", "opened", "http://g/5")])
    assert store.item("http://g/6") == dup
    assert store.item("http://g/5").duplicate_of is None  # type: ignore[union-attr]


def test_items_keep_whether_they_are_confidential(store: StateStore) -> None:
    secret = TrackerItem("issue", "g/p", 7, "Docs", "", "opened", "http://g/7", confidential=True)
    store.upsert_items([secret, TrackerItem("issue", "g/p", 8, "Docs", "", "opened", "http://g/8")])
    assert store.item("http://g/7") == secret
    assert store.item("http://g/8").confidential is False  # type: ignore[union-attr]
    # Made confidential later: a real change, so match results made before are stale.
    before = store.db.execute("select n from items_version").fetchone()[0]
    store.upsert_items([TrackerItem("issue", "g/p", 8, "Docs", "", "opened", "http://g/8",
                                    confidential=True)])
    assert store.db.execute("select n from items_version").fetchone()[0] == before + 1


def test_upgrade_to_confidential_items_lists_issues_again(tmp_path: Path) -> None:
    """A state from before cached issues without knowing which are confidential: the issues'
    sync starts over; merge requests keep their place (also from the old shared cursor)."""
    path = tmp_path / "old.db"
    db = state_before(path, "m010_item_confidential")
    db.table("cursors").insert_all([
        {"name": "tracker.issues_updated_after", "value": "2026-12-01T00:00:00Z",
         "updated_at": "x"},
        {"name": "tracker.updated_after", "value": "2026-11-01T00:00:00Z", "updated_at": "x"}])
    db.close()
    store = StateStore(path)
    assert store.cursor("tracker.issues_updated_after") is None
    assert store.cursor("tracker.updated_after") is None
    assert store.cursor("tracker.mrs_updated_after") == "2026-11-01T00:00:00Z"


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="cannot open state"):
        StateStore(path)


# --- a state that would lose work is refused, never silently replaced ------------------------


def test_corrupt_state_exits_with_the_state_code_and_says_what_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError) as caught:
        StateStore(path)
    assert caught.value.exit_code == 9
    assert "verdicts" in (caught.value.hint or "")


def test_empty_state_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    with pytest.raises(StateError, match="empty"):
        StateStore(path)
    assert path.read_bytes() == b""  # not turned into a fresh state: the verdicts may be restored


def test_read_only_state_says_how_to_fix_it_not_to_move_it_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    StateStore(path).close()
    # Tests run as root, for whom a 0444 file is writable: make it read-only the way a normal
    # user sees it.
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK and
                        Path(p) == path else real(p, mode, **kw))
    with pytest.raises(StateError, match="read-only") as caught:
        StateStore(path)
    assert caught.value.exit_code == 9
    assert "chmod" in (caught.value.hint or "")
    assert "move the file aside" not in (caught.value.hint or "")


def test_read_only_store_reads_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = StateStore(path)
    store.set_verdict("reply:t1", "accept")
    store.close()
    before = path.read_bytes()
    ro = StateStore(path, read_only=True)
    assert ro.verdicts() == {"reply:t1": "accept"}
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.set_verdict("reply:t2", "reject")
    ro.close()
    assert path.read_bytes() == before


@pytest.mark.parametrize("read_only", [False, True])
def test_a_folder_as_state_is_named_as_a_folder(tmp_path: Path, read_only: bool) -> None:
    # `--state DIR` said "unable to open database file" and advised restoring a corrupt copy.
    with pytest.raises(StateError, match="is a folder, not a state file") as info:
        StateStore(tmp_path, read_only=read_only)
    assert info.value.hint == f"give a file path, e.g. --state {tmp_path / 'state.db'}"
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_mid_command_is_exit_9_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run on a full disk (found on a 700 KiB tmpfs) ended in a traceback, exit 1: SQLite's
    `database or disk is full` is the state's trouble, exit 9 with what to do."""
    import typer

    from docsgap.cli import common

    store = StateStore(tmp_path / "state.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, no mock

    @common.handle_errors
    def command() -> None:
        with store.db.conn:
            store.db.execute("create table filler (x blob)")
            store.db.execute("insert into filler values (zeroblob(1000000))")

    with pytest.raises(typer.Exit) as caught:
        command()
    assert caught.value.exit_code == 9
    err = capsys.readouterr().err
    assert "no space left to write: database or disk is full" in err
    assert "free space" in err

    @common.handle_errors
    def report_on_a_full_disk() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(typer.Exit) as caught:
        report_on_a_full_disk()
    assert caught.value.exit_code == 9


def test_a_state_from_an_older_docsgap_is_read_through_an_upgraded_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report` (read only) refused such a state with 'run a command that writes it', which a
    docs-team reader does not have: it is read through an upgraded copy, the file untouched
    and the copy gone after."""
    import hashlib
    import tempfile

    from typer.testing import CliRunner

    from docsgap.cli import app

    path = tmp_path / "old.db"
    db = state_before(path, "m010_item_confidential")
    db.table("threads").insert({"id": 7, "title": "Old thread", "url": "https://f/t/7"},
                               alter=True)
    db.table("links").insert({"thread_id": 7, "item_url": "https://g/-/issues/3",
                              "source": "docsgap"}, alter=True)
    db.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    store = StateStore(path, read_only=True)
    assert store.upgraded and store.links()[0]["item_url"] == "https://g/-/issues/3"
    assert migrations.pending(store.db) == []
    store.close()
    assert list(scratch.iterdir()) == []
    result = CliRunner().invoke(app, ["report", "--state", str(path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "https://g/-/issues/3" in result.output
    assert "written by an older docsgap: read through an upgraded copy" in result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db", "tmp"]
