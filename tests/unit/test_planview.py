"""The plan as people read it: every "why" once, and the URL a failed reply was about."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.act import planview
from docsgap.config import PolicyConfig
from docsgap.errors import AuthError
from docsgap.loop import summary as runsummary
from docsgap.models import ActionKind
from tests.unit.test_pipeline import make, run


def test_each_why_is_printed_once(tmp_path: Path) -> None:
    cfg, forum, tracker = make(tmp_path)
    result = run(cfg, forum, tracker, apply=False)
    text = planview.render_text(result, applied=False)
    matches = dict(result.plan.matches)
    explained = [matches[a.signal_keys[0]].reason for a in result.plan.actions
                 if a.kind in (ActionKind.LINK_EXISTING, ActionKind.OPEN_ISSUE)]
    assert explained and all(explained)
    for reason in explained:
        assert text.count(planview.refs(reason)) == 1, reason


def test_a_failed_reply_names_the_issue_this_run_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, forum, tracker = make(tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AuthError("Discourse refused the reply (403)", status=403)

    monkeypatch.setattr(forum, "reply", refuse)
    result = run(cfg, forum, tracker)
    [opened] = tracker.created
    text = planview.render_text(result, applied=True)
    assert "(new issue)" not in text
    failed = [line for line in text.splitlines() if line.startswith("- REPLY") and "FAILED" in line]
    assert any(opened.web_url in line for line in failed), text
    summary = runsummary.summarize(result, applied=True, remaining={}, stopped_early=None,
                                   exit_code=7)
    assert opened.web_url in runsummary.render_text(summary)


def test_a_why_names_the_projects_items_as_references(tmp_path: Path) -> None:
    """A link's why held its issue's URL three times and each runner-up's once (600
    characters on one line in the sandbox): the project's items are `#N` / `!N` there now;
    the action's first line keeps the URL to open."""
    base = "https://gitlab.example/docs/site/-"
    why = (f"matches {base}/issues/12 (score 56.1) (review: {base}/issues/12 (56.1%); "
           f"runner-up {base}/merge_requests/7 (16.4%); "
           "runner-up https://gitlab.example/other/app/-/issues/3 (2.0%))")
    assert planview.refs(why, f"{base}/issues/12") == (
        "matches #12 (score 56.1) (review: #12 (56.1%); runner-up !7 (16.4%); "
        "runner-up https://gitlab.example/other/app/-/issues/3 (2.0%))")
    assert planview.refs(why) == planview.refs(why, f"{base}/issues/12")
    assert planview.refs("no item here") == "no item here"
    cfg, forum, tracker = make(tmp_path)
    result = run(cfg, forum, tracker, apply=False)
    text = planview.render_text(result, applied=False)
    whys = [line for line in text.splitlines() if line.lstrip().startswith("why:")]
    assert whys and not [line for line in whys if "/-/issues/" in line]


def test_the_plan_says_where_actions_waiting_for_a_person_are_decided(tmp_path: Path) -> None:
    """A dry run or --apply whose actions wait for review ended on "Add --apply" alone; the
    engineer had to know that `docsgap review` is where they are decided."""
    cfg, forum, tracker = make(tmp_path)
    waiting = replace(cfg, policy=PolicyConfig())  # every write waits for review
    text = planview.render_text(run(waiting, forum, tracker, apply=False), applied=False)
    n = text.count("would wait for review")
    assert n and f"{n} action(s) wait for a person: `docsgap review`" in text


def test_the_item_column_lines_up_whatever_the_status_words(tmp_path: Path) -> None:
    """'would wait for review' (21 characters) overflowed the 18-wide status column, so the
    URLs of waiting actions sat three columns right of the others."""
    cfg, forum, tracker = make(tmp_path)
    mixed = replace(cfg, policy=PolicyConfig(open_issue="auto", reply="review"))
    text = planview.render_text(run(mixed, forum, tracker, apply=False), applied=False)
    heads = [line for line in text.splitlines() if line.startswith("- ")
             and ("https://" in line or "(new issue)" in line)]
    assert any("would do" in h for h in heads)
    assert any("would wait for review" in h for h in heads)
    starts = {h.index("https://") if "https://" in h else h.index("(new issue)")
              for h in heads}
    assert len(starts) == 1, heads
