"""`docsgap demo` end to end: it shows every kind of write, and its last pass writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from docsgap.cli import app


def test_demo_shows_the_whole_loop_and_ends_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert re.search(r"\d+ open_issue applied", text)
    assert re.search(r"\d+ reply applied", text)
    assert "link_existing applied" in text
    assert "-> accepted" in text and "-> rejected" in text
    assert "Draft MR: " in text and "(Draft: " in text
    assert "follow-up applied" in text and "won't do" in text
    assert "0 new write(s)" in text
    # The docs-first part: the index from one download, then one request; a single-thread run
    # whose docs-first reply is accepted and posted; a spike announced once.
    assert "2 request(s): commits, archive.tar.gz" in text
    assert "unchanged; 1 request(s): commits" in text
    assert "- DOCS REPLY would wait for review https://docs.gitlab.com/ci/pipelines/schedules/" in (
        text)
    assert re.search(r"--apply: applied http://\S+/forum/t/how-do-i-run-a-job-only-in-scheduled"
                     r"-pipelines/\d+/2", text)
    assert "Spike in threads about a docs page" in text
    assert "mentioning @docs-team: 1 after two runs" in text
    # The spike's issue, opened after the docs sync, is routed to the page's owners.
    assert re.search(r"opened http://\S+/issues/\d+ with labels: .*devops::verify, "
                     r"group::pipeline execution", text)
    assert ("group::pipeline execution: front matter of doc/ci/caching/_index.md "
            "(group: Pipeline Execution)") in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table" in html and "<script src=" not in html  # self-contained
    assert (out / "report.md").is_file()
    # "A rerun replaces those files" (README): all it left is its own. The rules cache beside
    # the state was not on the demo's list, and a second `docsgap demo` stopped with exit 3.
    from docsgap.demo.loop import fresh_folder

    fresh_folder(out)
    assert list(out.iterdir()) == []
