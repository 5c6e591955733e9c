"""Review verdicts exported as labelled detection records and dedup pairs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.detect.evaluate import read_records
from docsgap.models import DocPage, Evidence, GapType, Signal, TrackerItem
from docsgap.review.verdicts import DEDUP_FILE, DETECT_FILE, export_verdicts
from docsgap.state import StateStore

ISSUE = "https://gitlab.example/docs/-/issues/7"


def _signal(thread: int, gap: GapType, text: str) -> Signal:
    page = DocPage("https://docs.example/runner/", "docs/runner", "doc/runner.md")
    return Signal(thread, f"Thread {thread}", f"https://forum.example/t/x/{thread}", gap, 1.0,
                  ("r",), (Evidence("r", text, "wrong", 1),), page, 1)


def _fill(store: StateStore) -> dict[str, Signal]:
    signals = {
        "accepted": _signal(1, GapType.INCORRECT, "The runner page is wrong about the port."),
        "rejected": _signal(2, GapType.MISSING, "The runner page is missing my hat."),
        "linked": _signal(3, GapType.OUTDATED, "The runner page is outdated."),
        "link_rejected": _signal(4, GapType.CONFUSING, "The runner page confuses me."),
        "retyped": _signal(5, GapType.MISSING, "The port in the runner page is wrong."),
        "undecided": _signal(6, GapType.MISSING, "Nobody looked at this yet."),
    }
    for s in signals.values():
        store.record_thread({"id": s.thread_id, "title": s.thread_title, "url": s.thread_url,
                             "created_at": "2025-01-01T00:00:00+00:00"})
        store.record_signal(s)
    store.upsert_items([TrackerItem("issue", "docs/runner", 7, "Runner page outdated",
                                    "The page shows the old flag.", "opened", ISSUE)])
    store.set_verdict(f"issue:{signals['accepted'].key}", "accept")
    store.set_verdict(signals["rejected"].key, "reject", note="not a docs problem")
    store.set_verdict(f"note:{ISSUE}", "accept")
    store.record_link(3, ISSUE, source="docsgap", signal_key=signals["linked"].key)
    other = "https://gitlab.example/docs/-/issues/9"
    store.set_verdict(f"note:{other}", "reject")
    store.set_verdict(signals["link_rejected"].key, "reject", note=f"with note:{other}")
    store.set_verdict(f"reply:{signals['retyped'].key}", "accept", note="gap_type: incorrect")
    return signals


def test_verdicts_become_labelled_records_and_pairs(store: StateStore) -> None:
    signals = _fill(store)
    out = export_verdicts(store)
    by_id = {r["id"]: r for r in out.detect}
    assert set(by_id) == {f"verdict:{s.key}" for n, s in signals.items() if n != "undecided"}
    accepted = by_id[f"verdict:{signals['accepted'].key}"]
    assert (accepted["label"], accepted["gap_type"], accepted["kind"]) == (
        "docs_gap", "incorrect", "forum")
    assert accepted["source_url"] == "https://forum.example/t/x/1/1"
    assert "wrong about the port" in accepted["text"]
    assert by_id[f"verdict:{signals['rejected'].key}"]["label"] == "not_docs_gap"
    assert by_id[f"verdict:{signals['rejected'].key}"]["gap_type"] is None
    assert by_id[f"verdict:{signals['linked'].key}"]["label"] == "docs_gap"
    assert by_id[f"verdict:{signals['retyped'].key}"]["gap_type"] == "incorrect"
    same = {(p["query"]["url"], p["candidate"]["url"]): p["same"] for p in out.dedup}
    assert same == {("https://forum.example/t/x/3", ISSUE): True,
                    ("https://forum.example/t/x/4", "https://gitlab.example/docs/-/issues/9"):
                    False}
    pair = next(p for p in out.dedup if p["same"])
    assert set(pair) == {"id", "repo", "query", "candidate", "same", "evidence"}
    assert set(pair["query"]) == {"url", "title", "body", "docs_url", "created_at"}
    assert set(pair["candidate"]) == {"url", "title", "body", "state", "created_at"}
    assert pair["repo"] == "docs/runner"
    assert pair["candidate"]["title"] == "Runner page outdated"
    assert pair["evidence"].startswith("review verdict accept")


def test_verdicts_on_review_band_links_count(store: StateStore) -> None:
    # Found walking the README: a match in the review band waits under its own key,
    # note:<url>#review:t<id>; its acceptance was not exported at all and its rejection gave a
    # pair whose candidate URL ended in #review:t.. (no title, no text).
    accepted = _signal(1, GapType.INCORRECT, "The runner page is wrong about the port.")
    rejected = _signal(2, GapType.MISSING, "The runner page is missing my hat.")
    other = _signal(3, GapType.OUTDATED, "The runner page is outdated.")
    for s in (accepted, rejected, other):
        store.record_thread({"id": s.thread_id, "title": s.thread_title, "url": s.thread_url,
                             "created_at": "2025-01-01T00:00:00+00:00"})
        store.record_signal(s)
    store.upsert_items([TrackerItem("issue", "docs/runner", 7, "Runner page outdated",
                                    "The page shows the old flag.", "opened", ISSUE)])
    store.set_verdict(f"note:{ISSUE}#review:t1", "accept")
    store.record_link(1, ISSUE, source="docsgap", signal_key=accepted.key)
    store.record_link(3, ISSUE, source="docsgap", signal_key=other.key)  # linked, not reviewed
    store.set_verdict(f"note:{ISSUE}#review:t2", "reject")
    store.set_verdict(rejected.key, "reject", note=f"with note:{ISSUE}#review:t2")
    out = export_verdicts(store)
    assert {r["id"]: r["label"] for r in out.detect} == {
        f"verdict:{accepted.key}": "docs_gap", f"verdict:{rejected.key}": "not_docs_gap"}
    pairs = {(p["query"]["url"], p["same"]): p["candidate"] for p in out.dedup}
    assert set(pairs) == {(accepted.thread_url, True), (rejected.thread_url, False)}
    assert pairs[(rejected.thread_url, False)]["url"] == ISSUE
    assert pairs[(rejected.thread_url, False)]["title"] == "Runner page outdated"


def test_cli_writes_both_files_readable_as_labelled_data(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    store = StateStore(state)
    _fill(store)
    store.close()
    res = CliRunner().invoke(app, ["train", "verdicts", "--state", str(state), "-o",
                                   str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    records = list(read_records(tmp_path / "out" / DETECT_FILE, labelled=True))
    assert len(records) == 5
    assert sum(bool(r.is_gap) for r in records) == 3
    lines = (tmp_path / "out" / DEDUP_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["same"] for line in lines].count(True) == 1


def test_an_accepted_action_the_docs_index_retyped_is_exported(store: StateStore) -> None:
    """Found walking the README: with a docs index, a reported page that is gone makes the issue
    `issue:t5:broken_link:...` (and a covered "missing" gap `...:confusing:<covering page>`)
    while the signal stays `t5:missing:...`; the accepted verdict was silently left out of
    `train verdicts`."""
    moved = _signal(5, GapType.MISSING, "The runner page link is dead.")
    covered = _signal(6, GapType.MISSING, "Nothing in the docs on the port.")
    for s in (moved, covered):
        store.record_thread({"id": s.thread_id, "title": s.thread_title, "url": s.thread_url,
                             "created_at": "2025-01-01T00:00:00+00:00"})
        store.record_signal(s)
    store.set_verdict(f"issue:{moved.key.replace(':missing:', ':broken_link:')}", "accept")
    store.set_verdict("reply:t6:confusing:docs/runner:doc/ports.md", "accept")
    by_id = {r["id"]: r for r in export_verdicts(store).detect}
    assert by_id[f"verdict:{moved.key}"]["label"] == "docs_gap"
    assert by_id[f"verdict:{moved.key}"]["gap_type"] == "broken_link"
    assert by_id[f"verdict:{covered.key}"]["gap_type"] == "confusing"
