"""Docs-first replies through the real clients against the sandbox: an unanswered question gets
one reply linking the docs section that answers it (after review), never twice, never in a
thread that got an accepted or staff answer meanwhile."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pydiscourse import DiscourseClient

from docsgap import compose
from docsgap.act.apply import Applier
from docsgap.config import Config
from docsgap.demo import demo_config
from docsgap.docs.service import sync_docs
from docsgap.loop.pipeline import Pipeline
from docsgap.loop.run import run_once
from docsgap.loop.services import build_services
from docsgap.models import Plan
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox
from docsgap.state import StateStore

pytestmark = pytest.mark.e2e

QUESTION = ("We have a nightly job that should only run from the pipeline schedule, but it runs "
            "on every push too. How do I limit it to scheduled pipelines?")


def setup(sandbox: Sandbox, tmp_path: Path, **policy: str) -> Config:
    cfg = demo_config(sandbox, tmp_path)
    cfg = replace(cfg, docs=replace(cfg.docs, unanswered_hours=0.0),
                  policy=replace(cfg.policy, **policy))
    store = StateStore(cfg.state_path)
    try:
        sync_docs(cfg, store)
    finally:
        store.close()
    return cfg


def ask(sandbox: Sandbox, title: str, raw: str) -> int:
    client = DiscourseClient(sandbox.forum_url, api_username="emily.qa",
                             api_key=SANDBOX_DISCOURSE_API_KEY)
    return int(client.create_post(raw, category_id=7, title=title)["topic_id"])


def bot_posts(sandbox: Sandbox, topic_id: int) -> list[str]:
    topic = next(t for t in sandbox.state()["topics"] if t["id"] == topic_id)
    return [p["raw"] for p in topic["posts"] if p["username"] == SANDBOX_DISCOURSE_API_USERNAME]


def test_reply_waits_for_review_then_posts_once(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = setup(sandbox, tmp_path)
    topic = ask(sandbox, "How do I run a job only in scheduled pipelines?", QUESTION)
    first = run_once(cfg, apply=True).result
    [action] = [a for a in first.plan.actions
                if a.kind.value == "docs_reply" and a.thread_ids == (topic,)]
    assert action.target_url is not None
    assert action.target_url.startswith("https://docs.gitlab.com/ci/pipelines/schedules/")
    assert "policy docs_reply=review" in action.reason
    assert {o.status for o in first.outcomes if o.action.key == action.key} == {"pending_review"}
    assert bot_posts(sandbox, topic) == []

    store = StateStore(cfg.state_path)
    store.set_verdict(action.key, "accept")
    store.close()
    run_once(cfg, apply=True)
    [posted] = bot_posts(sandbox, topic)
    assert "[Scheduled pipelines" in posted and "](https://docs.gitlab.com/ci/pipelines/" in posted
    assert compose.find_markers(posted) == [action.key]

    again = run_once(cfg, apply=True).result
    assert not [a for a in again.plan.actions if a.key == action.key
                and a.key not in {o.action.key for o in again.outcomes
                                  if o.status == "already_done"}]
    assert len(bot_posts(sandbox, topic)) == 1


def test_no_reply_once_answered_or_when_off(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = setup(sandbox, tmp_path, docs_reply="auto")
    topic = ask(sandbox, "How do I run a job only in scheduled pipelines?", QUESTION)
    services = build_services(cfg)
    try:
        pipe = Pipeline(cfg, services.forum, services.tracker, services.store, services.detector)
        pipe.scan()
        plan = pipe.plan()
        [action] = [a for a in plan.actions if a.thread_ids == (topic,)]
        # Staff answers between the plan and the write: apply re-reads the thread, stays quiet.
        sandbox.add_post(topic, "Use rules with $CI_PIPELINE_SOURCE.", username="gitlab-team")
        [outcome] = Applier(services.forum, services.tracker, services.store, cfg,
                            {}).apply(Plan((action,)), write=True)
    finally:
        services.store.close()
    assert outcome.status == "already_done" and "answered (staff)" in (outcome.error or "")
    assert bot_posts(sandbox, topic) == []

    off = replace(cfg, policy=replace(cfg.policy, docs_reply="off"))
    other = ask(sandbox, "How do I add a pipeline schedule?", "Where do I set up a nightly "
                "schedule for my pipeline? I cannot find the setting.")
    plan = run_once(off, apply=True).result.plan
    assert not [a for a in plan.actions if a.kind.value == "docs_reply"]
    assert bot_posts(sandbox, other) == []
