"""What an engineer at the terminal needs to correct docsgap before (and after) it writes: a
confidential issue said as such wherever it is offered (review, `match`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap import review
from docsgap.cli import app, review_cmd
from docsgap.config import ENV_VARS
from docsgap.dedupe.decision import decide
from docsgap.models import ActionKind, Candidate
from tests.fakes import FakeServices
from tests.unit.test_review import by_kind, queue, run, world


def test_a_confidential_candidate_in_the_review_band_is_said_to_be_one() -> None:
    """Only a confidential issue above the link threshold said so: in the review band the
    reason read like any other match, and a reviewer accepted a link readers cannot open."""
    hidden = Candidate("https://gitlab.test/g/p/-/issues/7", "Docs wrong", "opened", 40.0,
                       confidential=True)
    result = decide([hidden], link_threshold=70, review_threshold=10)
    assert result.decision == "review"
    assert "issues/7 is a confidential issue: forum readers cannot open it" in result.reason
    public = decide([replace(hidden, confidential=False)], link_threshold=70,
                    review_threshold=10)
    assert "confidential" not in public.reason


def test_match_reads_confidential_from_the_pool(tmp_path: Path) -> None:
    pool, queries = tmp_path / "pool.jsonl", tmp_path / "q.jsonl"
    text = {"title": "Masked variables: docs state the wrong minimum length",
            "body": "The variables page says masked variables need 8 characters; wrong."}
    pool.write_text(json.dumps({"url": "https://gitlab.test/g/p/-/issues/1", **text,
                                "state": "opened", "confidential": True}) + "\n",
                    encoding="utf-8")
    queries.write_text(json.dumps({"id": "q1", "query": text}) + "\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["match", "--pool", str(pool), "--input", str(queries)])
    assert out.exit_code == 0, out.output
    line = json.loads(out.stdout)
    assert line["decision"] == "review"
    assert line["candidates"][0]["confidential"] is True
    assert "forum readers cannot open it" in line["reason"]


@pytest.fixture
def confidential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The review world with the issue thread 202 matches made confidential."""
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    cfg, forum, tracker = world(tmp_path)
    tracker.items[("issue", 1)] = replace(tracker.items[("issue", 1)], confidential=True)
    monkeypatch.setattr(review_cmd, "build_services", FakeServices(forum, tracker))
    run(cfg, forum, tracker, apply=False)
    return cfg, forum, tracker


def test_review_says_what_linking_a_confidential_issue_means_for_forum_readers(
        confidential) -> None:
    cfg, forum, tracker = confidential
    items = queue(cfg, forum, tracker)
    link = by_kind(items, ActionKind.LINK_EXISTING, 202)
    reply = by_kind(items, ActionKind.REPLY, 202)
    assert link.target_confidential and reply.target_confidential
    assert not by_kind(items, ActionKind.REPLY, 201).target_confidential
    assert "reply would send readers to a page they cannot read" in str(
        review.confidential_warning(link))
    assert "without the link" in str(review.confidential_warning(reply))
    assert any("CONFIDENTIAL" in line for line in review.match_lines(link.match))

    listed = CliRunner().invoke(app, ["review", "--list", "--state", str(cfg.state_path)])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("CONFIDENTIAL: ") == 2
    data = json.loads(CliRunner().invoke(
        app, ["review", "--list", "--json", "--state", str(cfg.state_path)]).output)
    flagged = {p["kind"] for p in data["pending"] if p["target_confidential"]}
    assert flagged == {"link_existing", "reply"}
    shown = review_cmd.render_item(link, 1, 1, None)
    assert "CONFIDENTIAL: https://gitlab.test/" in shown and "404" in shown
