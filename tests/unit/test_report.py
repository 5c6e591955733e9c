"""The issue-link report: rows from the state, aggregations, table, Markdown, CSV, JSON, summary
issue and the `docsgap report` command."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from docsgap.models import GapType
from docsgap.report import (
    FORMATS,
    ReportExtras,
    ReportRow,
    SummaryOptions,
    extras_from_state,
    render,
    render_summary,
    rows_from_state,
    stats,
)
from docsgap.report.csvfmt import COLUMNS
from docsgap.report.markdown import WORD_JOINER, md_text
from docsgap.report.rows import page_label, row_from_dict
from docsgap.report.text import cell_width, truncate
from docsgap.state import StateStore
from tests.unit.report_builder import DEMO_NOW, HOSTILE_TITLE, THREADS, build_demo_state

LINKED = [t for t in THREADS if t[5] is not None]


@pytest.fixture
def demo(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "state.db")
    build_demo_state(store)
    return store


@pytest.fixture
def hostile(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "hostile.db")
    build_demo_state(store, hostile=True)
    return store


def _row(**over: object) -> ReportRow:
    base: dict[str, object] = {
        "thread_id": 1, "thread_title": "T", "item_url": "https://gitlab.com/g/p/-/issues/5",
        "source": "docsgap",
    }
    return row_from_dict({**base, **over})


# --- rows -------------------------------------------------------------------------------------


def test_awaiting_followup_means_what_followup_would_post() -> None:
    replied = {"reply_url": "https://forum.test/t/x/1/3", "item_kind": "issue"}
    assert _row(**replied, item_state="closed").awaiting_followup
    assert not _row(**replied, item_state="closed",
                    item_labels='["documentation", "won\'t do"]').awaiting_followup
    assert not _row(item_kind="issue", item_state="closed").awaiting_followup  # never replied
    assert _row(**{**replied, "item_kind": "merge_request"}, item_state="merged").awaiting_followup
    assert not _row(**{**replied, "item_kind": "merge_request"},
                    item_state="closed").awaiting_followup  # closed unmerged
    assert not _row(**replied, item_state="closed",
                    followup_url="https://forum.test/t/x/1/4").awaiting_followup


def test_rows_come_from_every_link_with_parsed_fields(demo: StateStore) -> None:
    rows = rows_from_state(demo)
    assert len(rows) == len(LINKED)
    first = rows[0]
    assert first.thread_id == 110201
    assert first.gap_type is GapType.INCORRECT
    assert first.item_kind == "issue"
    assert first.item_ref == "gitlab-org/gitlab#501101"
    assert first.short_ref == "#501101"
    assert first.item_closed_at == DEMO_NOW - timedelta(days=61)
    assert first.thread_created_at == DEMO_NOW - timedelta(days=81)
    assert first.item_labels == ("documentation", "docs-feedback")
    assert first.replied
    assert first.followup_url
    assert not first.awaiting_followup
    merged = next(r for r in rows if r.item_state == "merged")
    assert merged.item_kind == "merge_request"
    assert merged.item_ref.startswith("gitlab-org/gitlab!")


def test_a_gitlab_under_a_path_keeps_the_project_path_in_refs(demo: StateStore) -> None:
    # Found walking the README: the sandbox's GitLab lives under /gitlab, and the demo's report
    # said "gitlab/gitlab-org/gitlab#482117" and "issues/MRs in gitlab/gitlab-org/gitlab".
    assert rows_from_state(demo)[0].cached_project == "gitlab-org/gitlab"
    url = "http://127.0.0.1:8787/gitlab/gitlab-org/gitlab/-/issues/5"
    row = _row(item_url=url, item_project="gitlab-org/gitlab")
    assert (row.item_ref, row.short_ref) == ("gitlab-org/gitlab#5", "#5")
    assert _row(item_url=url).item_ref == "gitlab/gitlab-org/gitlab#5"  # not cached: the URL's
    assert "issues/MRs in gitlab-org/gitlab" in render([row], "table", generated_at=DEMO_NOW)


def test_row_without_cached_item_still_renders() -> None:
    row = _row(item_url="https://gitlab.com/g/p/-/merge_requests/9", gap_type="no_such_type")
    assert row.item_kind == "merge_request"
    assert row.item_state is None
    assert row.gap_type is None
    assert not row.item_done
    assert "?" in render([row], "table", generated_at=DEMO_NOW)


@pytest.mark.parametrize(
    ("path", "url", "label"),
    [
        ("doc/ci/yaml/_index.md", "https://docs.gitlab.com/ci/yaml/#rules", "ci/yaml"),
        ("doc/ci/yaml/_index.md", None, "ci/yaml"),
        ("docs/install/linux-repository.md", None, "install/linux-repository"),
        (None, "https://docs.gitlab.com/ee/ci/variables/index.html", "ci/variables"),
        (None, None, ""),
    ],
)
def test_page_label(path: str | None, url: str | None, label: str) -> None:
    assert page_label(path, url) == label


def test_extras_hold_signals_and_the_review_queue(demo: StateStore) -> None:
    extras = extras_from_state(demo)
    assert len(extras.signals) == len(THREADS)
    assert extras.queue is not None
    assert len(extras.queue.pending) == 4
    assert [p.key for p in extras.queue.waiting] == [
        "reply:t110671", "open_issue:t110781", "link_existing:t110795"]
    assert dict(extras.queue.ledger_status) == {"applied": 1, "pending_review": 4}
    assert dict(extras.queue.verdicts) == {"accept": 1}


# --- aggregations -----------------------------------------------------------------------------


def test_totals(demo: StateStore) -> None:
    rows = rows_from_state(demo)
    t = stats.totals(rows, extras_from_state(demo))
    assert t["links"] == len(LINKED)
    assert t["threads"] == len({x[0] for x in LINKED})
    assert t["items"] == 15
    assert (t["issues"], t["merge_requests"]) == (13, 2)
    assert t["replies_posted"] == sum(1 for x in LINKED if x[7])
    # Closed/merged, replied to by docsgap, not followed up; threads docsgap never replied in
    # (linked by someone in the thread) get no follow-up, so they are not waiting for one.
    assert t["awaiting_followup"] == 5
    assert t["pending_review"] == 3
    assert t["reviewed_not_applied"] == 1
    assert sum(t["by_gap_type"].values()) == len(LINKED)


def test_signals_per_week_fills_quiet_weeks() -> None:
    rows = [_row(thread_id=i, thread_created_at=(DEMO_NOW - timedelta(weeks=w)).isoformat(),
                 gap_type=g) for i, (w, g) in enumerate([(0, "missing"), (0, "incorrect"),
                                                         (3, "missing")])]
    weeks = stats.signals_per_week(stats.signals_of(rows, None))
    assert [w.weekday() for w, _ in weeks] == [0, 0, 0, 0]
    assert [sum(c.values()) for _, c in weeks] == [1, 0, 0, 2]
    assert weeks[-1][1] == {"missing": 1, "incorrect": 1}


def test_close_times_use_the_earliest_thread(demo: StateStore) -> None:
    times = {c.item_ref: c.days for c in stats.close_times(rows_from_state(demo))}
    # 501101: first thread 81 days ago, closed 61 days ago (a later thread joined after).
    assert times["gitlab-org/gitlab#501101"] == pytest.approx(20)
    assert "gitlab-org/gitlab#501103" not in times  # still open
    hist = stats.close_histogram(stats.close_times(rows_from_state(demo)))
    assert sum(n for _, n in hist) == len(times) == 8


def test_waiting_followups_longest_first(demo: StateStore) -> None:
    waiting = stats.waiting_followups(rows_from_state(demo), DEMO_NOW)
    assert len(waiting) == 5
    assert [round(d) for _, d in waiting] == sorted((round(d) for _, d in waiting), reverse=True)
    assert all(r.item_done and r.replied and not r.followup_url for r, _ in waiting)


def test_rising_pages_window_and_threshold(demo: StateStore) -> None:
    rows, extras = rows_from_state(demo), extras_from_state(demo)
    [page] = stats.rising_pages(rows, extras, now=DEMO_NOW, window_days=14, threshold=3)
    assert (page.label, page.in_window, page.total) == ("ci/yaml", 4, 8)
    assert page.thread_ids[0] == 110795  # newest first, unlinked signals count too
    assert "gitlab-org/gitlab#501113" in page.items
    assert stats.rising_pages(rows, extras, now=DEMO_NOW, window_days=14, threshold=5) == []
    wide = stats.rising_pages(rows, extras, now=DEMO_NOW, window_days=30, threshold=2)
    assert {p.label for p in wide} == {
        "ci/yaml", "ci/variables", "user/packages/container_registry"}


# --- terminal table ---------------------------------------------------------------------------


@pytest.mark.parametrize("width", [100, 80, 140])
def test_table_fits_the_width(hostile: StateStore, width: int) -> None:
    text = render(rows_from_state(hostile), "table", generated_at=DEMO_NOW, width=width)
    lines = text.splitlines()
    assert all(cell_width(line) <= width for line in lines), max(map(cell_width, lines))
    assert re.match(r"thread\s+gap type\s+docs page\s+issue/MR\s+state\s+reply", lines[2])
    assert "issues/MRs in gitlab-org/gitlab" in text  # one project: refs shortened
    assert "#501101" in text
    assert "!188201" in text
    assert "✓" in text
    assert "–" in text


def test_table_truncates_wide_characters_and_control_text() -> None:
    title = "CIの設定ドキュメントが古い\x1b[31m and\nthe example fails " * 3
    text = render([_row(thread_title=title, item_state="opened")], "table", generated_at=DEMO_NOW)
    assert "\x1b" not in text
    assert all(cell_width(line) <= 100 for line in text.splitlines())
    assert "…" in text


def test_truncate_keeps_the_meaningful_end() -> None:
    assert truncate("administration/backup_restore/backup_gitlab", 16) == "…e/backup_gitlab"
    assert truncate("a long thread title", 8, keep="start") == "a long …"
    assert truncate("short", 10) == "short"
    assert cell_width(truncate("設定設定設定", 5, keep="start")) <= 5


def test_empty_state_says_what_to_do() -> None:
    assert "docsgap run --apply" in render([], "table", generated_at=DEMO_NOW)
    assert "No thread" in render([], "markdown", generated_at=DEMO_NOW)
    assert render([], "csv").splitlines() == [",".join(COLUMNS)]
    assert json.loads(render([], "json", generated_at=DEMO_NOW))["rows"] == []


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render([], "pdf", generated_at=DEMO_NOW)  # type: ignore[arg-type]
    assert FORMATS == ("table", "markdown", "csv", "json", "html")


# --- Markdown ---------------------------------------------------------------------------------


def _md_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    # Split on pipes that are not escaped.
    return [re.split(r"(?<!\\)\|", line.strip())[1:-1] for line in rows]


def test_markdown_is_a_linked_gitlab_table(demo: StateStore) -> None:
    text = render(rows_from_state(demo), "markdown", generated_at=DEMO_NOW)
    table = _md_rows(text)
    assert [c.strip() for c in table[0]] == [
        "Thread", "Gap type", "Docs page", "Issue/MR", "State", "Reply"]
    assert len(table) == 1 + len(LINKED)
    assert all(len(r) == 6 for r in table)
    assert "[ci/yaml](https://docs.gitlab.com/ci/yaml/)" in text
    ref = "[gitlab-org/gitlab\\#501101](https://gitlab.com/gitlab-org/gitlab/-/issues/501101)"
    assert ref in text
    assert "closed (follow-up due)" in text


def test_markdown_neutralises_hostile_titles(hostile: StateStore) -> None:
    text = render(rows_from_state(hostile), "markdown", generated_at=DEMO_NOW)
    assert all(len(r) == 6 for r in _md_rows(text))  # the `|` in the title did not split cells
    assert "<script" not in text
    assert "<!--" not in text
    assert "@all" not in text
    assert f"@{WORD_JOINER}all" in text
    assert "#12" not in text
    assert "~bug" not in text
    assert "javascript:" not in text


@pytest.mark.parametrize(
    ("raw", "bad"),
    [("ping @docs-team", "@docs-team"), ("see #123 and !45", "#123"), ("ok ~bug", "~bug"),
     ("**bold** [x](javascript:y)", "**"), ("a\n/label ~x", "\n"), ("<img src=x>", "<img")],
)
def test_md_text_blocks_formatting_and_references(raw: str, bad: str) -> None:
    assert bad not in md_text(raw)


def test_md_text_never_starts_a_quick_action() -> None:
    assert not md_text("/close").startswith("/")


# --- CSV and JSON -----------------------------------------------------------------------------


def test_csv_has_every_field_and_defuses_formulas(hostile: StateStore) -> None:
    rows = rows_from_state(hostile)
    parsed = list(csv.DictReader(io.StringIO(render(rows, "csv"))))
    assert len(parsed) == len(rows)
    assert list(parsed[0]) == list(COLUMNS)
    first = parsed[0]
    assert first["item_labels"] == "documentation;docs-feedback"
    assert first["replied"] == "true"
    assert first["item_closed_at"] == (DEMO_NOW - timedelta(days=61)).isoformat()
    formula = _row(thread_title='=HYPERLINK("http://x")')
    [cell] = list(csv.DictReader(io.StringIO(render([formula], "csv"))))
    assert cell["thread_title"].startswith("'=")
    assert any(r["thread_title"] == HOSTILE_TITLE for r in parsed)


def test_json_has_rows_totals_and_queue(demo: StateStore) -> None:
    rows, extras = rows_from_state(demo), extras_from_state(demo)
    data = json.loads(render(rows, "json", generated_at=DEMO_NOW, extras=extras))
    assert data["generated_at"] == DEMO_NOW.isoformat()
    assert data["rows"] == [r.as_dict() for r in rows]
    assert data["totals"]["links"] == len(rows)
    assert len(data["review_queue"]) == 4
    assert data["rows"][0]["gap_type"] == "incorrect"


# --- summary issue ----------------------------------------------------------------------------


def test_summary_issue_body(hostile: StateStore) -> None:
    rows, extras = rows_from_state(hostile), extras_from_state(hostile)
    body = render_summary(rows, extras, now=DEMO_NOW,
                          options=SummaryOptions(since=DEMO_NOW - timedelta(days=7)))
    assert body.startswith("<!-- docsgap:summary -->\n")
    sections = re.findall(r"^### (.+)$", body, re.M)
    assert sections == ["Rising demand (1)", "New gaps (4)", "Linked threads (2)",
                        "Review queue (3)", "Follow-ups due (6)"]
    assert "| [ci/yaml](https://docs.gitlab.com/ci/yaml/) | 4 | 8 |" in body
    assert "not linked yet" in body
    assert "@all" not in body
    assert "<script" not in body
    assert "javascript:" not in body
    assert not re.search(r"^/", body, re.M)  # no line can be a quick action


def test_summary_honours_since_window_and_limit(demo: StateStore) -> None:
    rows, extras = rows_from_state(demo), extras_from_state(demo)
    opts = SummaryOptions(since=DEMO_NOW - timedelta(days=400), window_days=3, threshold=1,
                          limit=5)
    body = render_summary(rows, extras, now=DEMO_NOW, options=opts)
    assert f"### New gaps ({len(THREADS)})" in body
    assert f"…and {len(THREADS) - 5} more" in body
    assert "### Rising demand (1)" in body  # ci/yaml had one thread in the last 3 days
    empty = render_summary([], ReportExtras(), now=DEMO_NOW)
    assert "No new gap" in empty
    assert "No page is rising." in empty


def test_generated_at_defaults_to_an_aware_now() -> None:
    data = json.loads(render([], "json"))
    assert datetime.fromisoformat(data["generated_at"]).utcoffset() == timedelta(0)


def _threads(store: StateStore, *ids: int) -> None:
    for tid in ids:
        store.record_thread({"id": tid, "slug": "s", "title": f"T{tid}",
                             "url": f"http://f/t/s/{tid}"})


def test_each_docsgap_link_says_why_it_was_made(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.db")
    url = "https://gitlab.test/g/p/-/issues/5"
    _threads(store, 3, 4, 9)
    why = "linked: https://gitlab.test/g/p/-/issues/5 (84.0) [words 80]; policy link_existing=auto"
    store.ledger_start("link:x", "link_existing", [3, 4], why)
    store.ledger_finish("link:x", "done", remote_url=url)
    store.ledger_start("reply:x", "reply", [3], "reply policy")  # not a linking write
    store.ledger_finish("reply:x", "done", remote_url=url)
    for tid in (3, 4, 9):
        store.record_link(tid, url, source="docsgap" if tid != 9 else "thread")
    rows = {r.thread_id: r for r in rows_from_state(store)}
    assert rows[3].why == rows[4].why == why
    assert rows[9].why is None  # found in the thread: nobody decided it
    assert rows[3].as_dict()["why"] == why
    assert "<summary>why</summary>" in render(list(rows.values()), "html")
    parsed = list(csv.DictReader(io.StringIO(render(list(rows.values()), "csv"))))
    assert parsed[0]["why"] == why
    store.close()


def test_a_reply_waiting_for_or_refused_by_a_moderator_says_so(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.db")
    url = "https://gitlab.test/g/p/-/issues/5"
    _threads(store, 3, 4, 9)
    for tid in (3, 4, 9):
        store.record_link(tid, url, source="docsgap")
    for tid, status in ((3, "queued"), (4, "rejected")):
        store.ledger_start(f"reply:{tid}", "reply", [tid], "reply policy")
        store.ledger_finish(f"reply:{tid}", status)
    rows = {r.thread_id: r for r in rows_from_state(store)}
    assert [rows[t].reply_cell for t in (3, 4, 9)] == ["queued", "refused", "–"]
    assert [rows[t].as_dict()["reply_state"] for t in (3, 4, 9)] == ["queued", "rejected", None]
    table = render(list(rows.values()), "table")
    assert "queued" in table and "refused" in table
    assert "waits for a forum moderator" in render(list(rows.values()), "html")
    # Approved later: the reply is in the thread, and that is what the report shows.
    store.set_link_field(3, url, reply_url="http://f/t/s/3/2")
    again = {r.thread_id: r for r in rows_from_state(store)}[3]
    assert again.replied and again.as_dict()["reply_state"] is None
    store.close()
