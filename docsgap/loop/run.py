"""Run the pipeline once from a Config: build the services, run, publish the summary issue when
configured, and work out the exit code. Shared by `docsgap run`, the demo and the CI job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from docsgap.act.summary_issue import publish as publish_summary
from docsgap.config import Config
from docsgap.errors import ExitCode, WriteRejectedError
from docsgap.loop.pipeline import Pipeline, Progress
from docsgap.loop.services import build_services
from docsgap.models import RunResult
from docsgap.state import utcnow
from docsgap.state.lock import state_lock

log = logging.getLogger(__name__)


def exit_code_for(result: RunResult, stopped_early: str | None) -> ExitCode:
    """A failed action -> PARTIAL (7); a run cut short by the rate budget or a rate limit, in
    the scan or in the writes (forum posts held too) -> UPSTREAM (6). Either way the next
    run resumes."""
    failures = [o for o in result.outcomes if o.status == "failed"]
    if any(not _rate_limited(o.error) for o in failures):
        return ExitCode.PARTIAL
    if stopped_early or failures or any(o.status == "held" for o in result.outcomes):
        return ExitCode.UPSTREAM
    return ExitCode.OK


def _rate_limited(error: str | None) -> bool:
    text = (error or "").lower()
    return "rate limit" in text or "budget" in text


@dataclass(frozen=True)
class RunReport:
    """One `run`: its result, why it stopped early (if it did), the budget left, the summary
    issue it touched and the exit code it earns."""

    result: RunResult
    stopped_early: str | None
    remaining: dict[str, int | None]
    summary_issue: str | None
    exit_code: ExitCode
    summary_error: str | None = None
    """Why GitLab refused to write the summary issue this run (spam check, a size limit)."""
    synced: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Per kind of item, how many the tracker sync listed and how many had changed (the rest
    were re-listed by its overlap), so the cost of the GitLab requests is said."""


def run_once(cfg: Config, *, apply: bool, progress: Progress | None = None,
             notice: Callable[[str], None] | None = None, topic: int | None = None
             ) -> RunReport:
    """Build services and run the pipeline once (plus the summary issue when configured),
    holding the state's lock. With `apply`, the credentials and rights the plan's writes need
    are checked before the first write (`preflight`). `notice` hears what a first scan will
    cost before it is paid; `topic` runs the loop for that one thread (no summary issue: it
    speaks for the whole forum)."""
    with state_lock(cfg.state_path, "docsgap run" + " --apply" * apply):
        built = build_services(cfg)
        pipe = Pipeline(cfg, built.forum, built.tracker, built.store, built.detector)
        if progress is not None:
            pipe.progress = progress
        if notice is not None:
            pipe.notice = notice
        summary = apply and cfg.gitlab.summary_issue and topic is None
        if apply:
            pipe.before_apply = lambda plan: built.preflight.check_plan(
                plan, cfg, built.store, built.tracker, summary_issue=summary)
        summary_url = summary_error = None
        try:
            result = pipe.run(apply=apply, topic=topic)
            if summary:
                try:
                    summary_url = publish_summary(built.tracker, built.store, cfg,
                                                  now=utcnow()).url
                except WriteRejectedError as exc:  # that one write: the run's actions stand
                    summary_error = f"{exc}" + (f" ({exc.hint})" if exc.hint else "")
                    log.warning("summary issue not written: %s", summary_error)
        finally:
            built.store.close()
    requests = tuple(sorted((built.budget.used + built.probed).items()))
    result = RunResult(result.plan, result.outcomes, result.threads_scanned, requests)
    remaining = {svc: built.budget.remaining(svc) for svc in ("forum", "gitlab")}
    stopped = pipe.stopped_early
    code = exit_code_for(result, stopped)
    if summary_error and code is ExitCode.OK:
        code = ExitCode.PARTIAL
    return RunReport(result, stopped, remaining, summary_url, code, summary_error,
                     pipe.synced)
