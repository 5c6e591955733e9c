"""The review queue in reports that may be public (the summary issue in the docs project, its
CI artifact, the Pages site): a reason that names a confidential issue is left out whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from docsgap.models import TrackerItem
from docsgap.report import extras_from_state, render, render_summary, rows_from_state
from docsgap.report.queue import CONFIDENTIAL_REASON, public_reason
from docsgap.state import StateStore

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
ISSUES = "https://gitlab.example.com/docs-group/docs/-/issues"


def test_a_reason_naming_a_confidential_issue_is_replaced_and_others_stay() -> None:
    hidden = {f"{ISSUES}/12"}
    secret = f"review: {ISSUES}/12 (81.0%) [words +2.1]; shared words: token, rotation"
    assert public_reason(secret, hidden) == CONFIDENTIAL_REASON
    # A runner-up counts too, and a URL followed by punctuation.
    assert public_reason(f"link: {ISSUES}/9 (97%); runner-up {ISSUES}/12 (40%): x",
                         hidden) == CONFIDENTIAL_REASON
    assert public_reason(f"see {ISSUES}/12.", hidden) == CONFIDENTIAL_REASON
    # Another issue whose URL starts the same way is no match.
    kept = f"review: {ISSUES}/123 (81.0%); shared words: cache"
    assert public_reason(kept, hidden) == kept
    assert public_reason(secret, set()) == secret


def test_the_summary_issue_and_the_reports_leave_a_confidential_match_out(
    tmp_path: Path,
) -> None:
    """The summary issue's review queue showed each waiting action's whole reason: for a
    match on a confidential issue its URL and the words it shares with the thread, in an
    issue of the (public) docs project."""
    store = StateStore(tmp_path / "state.db")
    for iid, confidential in ((12, True), (123, False)):
        store.upsert_items([TrackerItem(
            kind="issue", project="docs-group/docs", iid=iid, title=f"Issue {iid}",
            description="", state="opened", web_url=f"{ISSUES}/{iid}",
            confidential=confidential)])
    for thread, iid, word in ((1, 12, "secretword"), (2, 123, "cachekey")):
        store.record_thread({"id": thread, "slug": "t", "title": f"Thread {thread}",
                             "url": f"https://forum.example.com/t/{thread}"})
        store.ledger_start(f"note:t{thread}", "link_existing", [thread],
                           f"review: {ISSUES}/{iid} (81.0%); shared words: {word}")
        store.ledger_finish(f"note:t{thread}", "pending_review")
    rows, extras = rows_from_state(store), extras_from_state(store)
    store.close()
    summary = render_summary(rows, extras, now=NOW)
    data = json.loads(render(rows, "json", generated_at=NOW, extras=extras))
    html = render(rows, "html", generated_at=NOW, extras=extras)
    for text in (summary, json.dumps(data), html):
        assert "secretword" not in text and f"{ISSUES}/12 " not in text
        assert "cachekey" in text  # the public match keeps its whole reason
    assert "confidential issue" in summary
    assert [q["reason"] for q in data["review_queue"]].count(CONFIDENTIAL_REASON) == 1
