"""`docsgap demo`: the whole loop against the in-process loopback sandbox, twice."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from docsgap import planview
from docsgap.config import Config, ForumConfig, GitLabConfig, PolicyConfig
from docsgap.models import RunResult
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)

Echo = Callable[[str], None]


def demo_config(sandbox: Sandbox, out: Path) -> Config:
    """A config pointing at the sandbox, every policy on auto so the demo shows writes."""
    return Config(
        forum=ForumConfig(
            url=sandbox.forum_url,
            api_username=SANDBOX_DISCOURSE_API_USERNAME,
            api_key=SANDBOX_DISCOURSE_API_KEY,
            initial_pages=10,
            max_requests=500,
            staff_usernames=("gitlab-team",),
        ),
        gitlab=GitLabConfig(url=sandbox.gitlab_url, project=SANDBOX_PROJECT,
                            token=SANDBOX_GITLAB_TOKEN),
        policy=PolicyConfig(open_issue="auto", link_existing="auto", reply="auto",
                            open_draft_mr="review", followup="auto"),
        state_path=out / "state.db",
        max_actions=100,
        source="demo",
    )


def _summary(result: RunResult) -> str:
    c = planview.counts(result)
    parts = [f"{kind}: " + ", ".join(f"{n} {status}" for status, n in sorted(v.items()))
             for kind, v in sorted(c.items())]
    return "; ".join(parts) or "no actions"


def run_demo(out: Path, *, echo: Echo) -> Path:
    """Run the demo; returns the path of the HTML report it leaves behind."""
    from docsgap.runner import run_once
    from docsgap.report import render, render_state, rows_from_state
    from docsgap.state import StateStore

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with Sandbox() as sandbox:
        cfg = demo_config(sandbox, out)
        echo(f"Sandbox up: forum {sandbox.forum_url}  GitLab {sandbox.gitlab_url}")
        echo("\n== Pass 1: docsgap run --apply ==")
        first = run_once(cfg, apply=True).result
        echo(planview.render_text(first, applied=True))
        echo(f"\nPass 1: {_summary(first)}")
        echo("\n== Pass 2: docsgap run --apply again (must change nothing) ==")
        second = run_once(replace(cfg), apply=True).result
        new = [o for o in second.outcomes if o.status == "applied"]
        echo(f"Pass 2: {len(new)} new write(s); {_summary(second)}")
        state = sandbox.state()
        echo(f"\nSandbox now holds {len(state['issues'])} issue(s); "
             f"docsgap-bot posted {sum(1 for p in _posts(state) if p == 'docsgap-bot')} reply(ies).")
    store = StateStore(cfg.state_path)
    rows = rows_from_state(store)
    echo("\n== Issue-link report ==")
    echo(render(rows, "table"))
    html = out / "report.html"
    html.write_text(render_state(store, "html"), encoding="utf-8")
    (out / "report.md").write_text(render(rows, "markdown"), encoding="utf-8")
    store.close()
    echo(f"\nReports written: {html} and {out / 'report.md'}; state: {cfg.state_path}")
    return html


def _posts(state: dict[str, object]) -> list[str]:
    topics = state.get("topics", [])
    names: list[str] = []
    for t in topics if isinstance(topics, list) else []:
        for p in t.get("posts", []):
            names.append(str(p.get("username")))
    return names
