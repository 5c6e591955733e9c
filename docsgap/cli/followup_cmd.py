"""`docsgap followup`: post one follow-up in each thread whose linked issue was closed as done or
whose linked MR was merged (policy `followup`); declined issues get none, with the reason."""

from __future__ import annotations

from pathlib import Path

import typer

from docsgap.act import followup, planview
from docsgap.act.apply import Applier
from docsgap.cli import common
from docsgap.cli.run_cmd import (
    CONFIG_OPT,
    FORUM_URL_OPT,
    GITLAB_URL_OPT,
    PROJECT_OPT,
    STATE_OPT,
    load,
)
from docsgap.config import require_target
from docsgap.errors import ExitCode
from docsgap.loop.services import build_services
from docsgap.models import Plan, RunResult
from docsgap.state.lock import state_lock


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `followup`."""

    @app.command("followup")
    @common.handle_errors
    def followup_command(
        apply: bool = typer.Option(
            False, "--apply", help="Post the follow-ups. Default: show what would be posted."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan and outcomes as JSON."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
        forum_url: str | None = FORUM_URL_OPT,
        gitlab_url: str | None = GITLAB_URL_OPT,
        project: str | None = PROJECT_OPT,
    ) -> None:
        """Close the loop: refresh the state of every issue and MR docsgap linked in a thread
        it replied in; when one was closed as done or merged, post one follow-up there (at most
        one per thread). An issue closed with a won't-do label (gitlab.wontdo_labels) or an MR
        closed unmerged gets none. Policy `followup`: off, review (queued for `docsgap review`)
        or auto. Safe to rerun: the ledger and a hidden marker prevent a second post. Exit 7 if
        a post failed, 6 if the forum's rate limit held posts (a rerun resumes)."""
        cfg = load(config, state, forum_url=forum_url, gitlab_url=gitlab_url, project=project)
        if not cfg.state_path.exists():
            # Nothing was ever linked with this state (or the wrong folder): create none.
            require_target(cfg)  # as build_services would: no target named is exit 3
            empty = RunResult(Plan(), ())
            if as_json:
                common.echo_json(planview.to_json(empty, applied=apply))
            else:
                typer.echo(f"Nothing to follow up: there is no state at {cfg.state_path} yet "
                           "(`docsgap run --apply` links threads to issues first).")
            return
        services = build_services(cfg)
        try:
            follow = followup.FollowUps(services.forum, services.tracker, services.store, cfg)
            if apply:
                with state_lock(cfg.state_path, "docsgap followup --apply"):
                    plan = follow.plan()
                    services.preflight.check_plan(plan, cfg, services.store, services.tracker)
                    signals = {s.key: s for s in services.store.signals()}
                    outcomes = Applier(services.forum, services.tracker, services.store, cfg,
                                       signals).apply(plan, write=True)
            else:
                plan, outcomes = follow.run(apply=False)
        finally:
            services.store.close()
        result = RunResult(plan, tuple(outcomes))
        if as_json:
            common.echo_json(planview.to_json(result, applied=apply))
        else:
            typer.echo(followup.render_text(plan, outcomes, applied=apply))
        if result.failed:
            raise typer.Exit(int(ExitCode.PARTIAL))
        if any(o.status == "held" for o in outcomes):  # a forum rate limit: a rerun posts them
            raise typer.Exit(int(ExitCode.UPSTREAM))
