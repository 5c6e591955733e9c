"""The report as the docs team reads it (a GitLab issue, a wiki page, a CI artifact): which
threads link to which issues and MRs, in what state, in an order a person can use."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from docsgap.report import render, rows_from_state
from docsgap.report.rows import ReportRow, row_from_dict

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
GITLAB = "https://gitlab.example.com/docs-group/docs/-"


def _row(thread: int, iid: int, state: str, *, labels: tuple[str, ...] = (),
         linked: str = "2025-05-01T00:00:00+00:00", kind: str = "issues") -> ReportRow:
    data: dict[str, Any] = {
        "thread_id": thread, "thread_title": f"Thread {thread} about the docs",
        "thread_url": f"https://forum.example.com/t/{thread}", "gap_type": "incorrect",
        "page_url": "https://docs.gitlab.com/ci/yaml/", "page_path": "doc/ci/yaml/_index.md",
        "item_url": f"{GITLAB}/{kind}/{iid}",
        "item_kind": "issue" if kind == "issues" else "merge_request",
        "item_title": f"Item {iid}", "item_state": state, "item_labels": json.dumps(labels),
        "source": "docsgap", "reply_url": f"https://forum.example.com/t/{thread}/2",
        "linked_at": linked,
    }
    return row_from_dict(data)


def test_an_issue_closed_as_wont_do_says_so_in_every_table() -> None:
    """A declined issue read 'closed' like a fixed one: the docs team could not tell a gap
    that was fixed from one that was turned down."""
    rows = [_row(1, 11, "closed", labels=("documentation", "won't do")), _row(2, 12, "closed")]
    markdown = re.sub(r"\\(.)", r"\1", render(rows, "markdown", generated_at=NOW))
    assert markdown.count("closed (won't do)") == 1  # as GitLab shows the Markdown
    # The terminal table says it in its state column's width, so titles keep their room.
    table = render(rows, "table", generated_at=NOW, width=100).splitlines()
    assert [re.split(r"\s{2,}", line)[-2] for line in table if line.startswith("Thread ")] == [
        "won't do", "closed"]
    html = render(rows, "html", generated_at=NOW)
    assert 'badge closed">closed (won&#x27;t do)<' in html
    assert 'badge closed">closed<' in html


def test_the_tables_group_each_issues_threads_open_and_most_asked_first() -> None:
    """The tables listed links in the order docsgap made them: one issue's threads lay apart
    (the demo's #468201 on rows 8 and 17) and fixed items sat among open ones."""
    rows = [
        _row(1, 11, "opened"), _row(2, 12, "closed"), _row(3, 13, "opened"),
        _row(4, 11, "opened"), _row(5, 14, "merged", kind="merge_requests"),
    ]
    expected = ["#11", "#11", "#13", "#12", "!14"]
    table = render(rows, "table", generated_at=NOW, width=140).splitlines()
    assert [line.split()[7] for line in table if line.startswith("Thread ")] == expected
    markdown = render(rows, "markdown", generated_at=NOW)
    refs = re.findall(r"\[docs-group/docs\\?([#!]\d+)\]", markdown)
    assert refs == expected
    csv_order = [line.split(",")[0] for line in render(rows, "csv").splitlines()[1:]]
    assert csv_order == ["1", "2", "3", "4", "5"]  # the data formats keep link order


def test_the_html_says_who_made_each_link_in_words() -> None:
    """The HTML table's thread cell read '#1030 · thread' or '#1031 · docsgap': the docs
    team had to know docsgap's `source` values."""
    mine = _row(1, 11, "opened")
    found = row_from_dict({**mine.as_dict(), "item_labels": "[]", "source": "thread"})
    html = render([mine, found], "html", generated_at=NOW)
    assert "#1 · linked by docsgap<" in html
    assert "#1 · linked in the thread<" in html


def test_a_confidential_issue_keeps_its_title_and_match_out_of_the_report(
    tmp_path: Path,
) -> None:
    """A link to a confidential issue (a person accepted it in review) put the issue's title
    and the match's shared words into the HTML page (published on GitLab Pages by the
    template), the JSON and the CSV (job artifacts, public in a public project)."""
    from docsgap.models import TrackerItem
    from docsgap.state import StateStore

    store = StateStore(tmp_path / "state.db")
    secret = "Security hole in runner token rotation"
    for iid, confidential in ((21, True), (22, False)):
        url = f"{GITLAB}/issues/{iid}"
        store.upsert_items([TrackerItem(
            kind="issue", project="docs-group/docs", iid=iid,
            title=secret if confidential else "Public docs issue", description="",
            state="opened", web_url=url, confidential=confidential)])
        store.record_thread({"id": iid, "slug": "t", "title": f"Thread {iid}",
                             "url": f"https://forum.example.com/t/{iid}"})
        store.record_link(iid, url, source="docsgap")
        title = secret if confidential else "Public docs issue"
        store.ledger_start(f"note:{url}", "link_existing", [iid], f"matches {title}")
        store.ledger_finish(f"note:{url}", "done", remote_url=url)
    rows = rows_from_state(store)
    store.close()
    for fmt in ("html", "json", "csv", "markdown", "table"):
        text = render(rows, fmt, generated_at=NOW)
        assert "Security hole" not in text, fmt
        if fmt in ("html", "json", "csv"):
            assert "Public docs issue" in text, fmt  # other titles stay
    assert "confidential issue" in render(rows, "html", generated_at=NOW)
    assert json.loads(render(rows, "json", generated_at=NOW))["rows"][0]["item_confidential"]


def test_report_run_outside_the_project_folder_says_where_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From another folder (no docsgap.toml there) the hint was 'run `docsgap run` first',
    which would start a second, empty state in the wrong folder."""
    from typer.testing import CliRunner

    from docsgap.cli import app

    monkeypatch.chdir(tmp_path)
    for var in ("DOCSGAP_CONFIG", "DOCSGAP_STATE"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 3
    assert f"no docsgap state at .docsgap/state.db (no docsgap.toml in {tmp_path})" in \
        result.output
    assert "in the folder that holds your docsgap.toml" in result.output
    monkeypatch.setenv("DOCSGAP_STATE", str(tmp_path / "named.db"))  # named: the old advice
    named = CliRunner().invoke(app, ["report"])
    assert "run `docsgap run` first" in named.output


def test_format_md_is_markdown(tmp_path: Path) -> None:
    """`-o report.md` picks Markdown, but `--format md` was refused (exit 2) with 'Value
    error, 'md' is not one of ...'."""
    from typer.testing import CliRunner

    from docsgap.cli import app
    from docsgap.state import StateStore

    state = tmp_path / "state.db"
    StateStore(state).close()
    result = CliRunner().invoke(app, ["report", "--state", str(state), "--format", "md"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## docsgap issue-link report")
