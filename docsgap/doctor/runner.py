"""The doctor's order of checks: the configuration, then the forum's and GitLab's (`forum`,
`gitlab`), then the local ones owned here (the state file, the rules). `remote_checks` is the
forum/GitLab part alone, for `run --apply`'s preflight."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from docsgap.config import Config, mask, python_gitlab_config_file
from docsgap.detect.examples import failing_examples
from docsgap.detect.rules import load_rules
from docsgap.doctor.forum import FORUM_CHECKS, forum_checks
from docsgap.doctor.gitlab import GITLAB_CHECKS, gitlab_checks
from docsgap.doctor.report import CheckRun, DoctorReport, Status
from docsgap.errors import DocsgapError, RulesError
from docsgap.forum.interface import ForumProbe
from docsgap.state import CORRUPT_HINT
from docsgap.state.ci import check_state_path
from docsgap.tracker.interface import TrackerProbe

LOCAL_CHECKS = ("state file", "rules")


def run_doctor(
    load: Callable[[], Config],
    *,
    forum: Callable[[Config], ForumProbe],
    tracker: Callable[[Config], TrackerProbe],
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
) -> DoctorReport:
    """Run every check. `load` builds the Config (a failure is the first FAIL); `forum` and
    `tracker` build the probes from it. `read_only`: check only what a dry run needs."""
    run = CheckRun(read_only, (now or (lambda: datetime.now(UTC)))())
    try:
        cfg = load()
    except DocsgapError as exc:
        run.add("config", Status.FAIL, str(exc), exc.hint)
        run.skip([*FORUM_CHECKS, *GITLAB_CHECKS, *LOCAL_CHECKS], "needs a valid configuration")
        return DoctorReport(tuple(run.checks), read_only)
    run.add("config", Status.OK, _describe(cfg))
    forum_checks(run, cfg, forum)
    gitlab_checks(run, cfg, tracker)
    run.attempt("state file", lambda: _state_file(cfg.state_path))
    run.attempt("rules", lambda: _rules(cfg.rules_dirs))
    return DoctorReport(tuple(run.checks), read_only)


def remote_checks(
    cfg: Config,
    *,
    forum: Callable[[Config], ForumProbe] | None,
    tracker: Callable[[Config], TrackerProbe] | None,
    read_only: bool = False,
) -> DoctorReport:
    """Only the forum checks and/or the GitLab checks (None skips them): what `run --apply`
    checks before its first write, for the services its plan writes to."""
    run = CheckRun(read_only, datetime.now(UTC))
    if forum is not None:
        forum_checks(run, cfg, forum)
    if tracker is not None:
        gitlab_checks(run, cfg, tracker)
    return DoctorReport(tuple(run.checks), read_only)


def _describe(cfg: Config) -> str:
    f, g = cfg.forum, cfg.gitlab
    if g.python_gitlab_id is not None or (not g.token and python_gitlab_config_file()):
        # As services builds the tracker: gitlab.url and the token are not what is used.
        where = f"section {g.python_gitlab_id}" if g.python_gitlab_id else "default section"
        gitlab = f"gitlab from python-gitlab's config file ({where}: url and token)"
    else:
        gitlab = f"gitlab {g.url} (token {mask(g.token)})"
    # Without a file everything came from DOCSGAP_* variables and flags, not "defaults".
    source = ("no docsgap.toml (defaults, DOCSGAP_* variables, flags)"
              if cfg.source == "defaults" else cfg.source)
    return (
        f"from {source}; forum {f.url} as {f.api_username or '(anonymous)'} "
        f"(key {mask(f.api_key)}); {gitlab} project {g.project}"
    )


def _state_file(path: Path) -> tuple[Status, str, str | None]:
    problem, detail = check_state_path(path)
    if problem is None:
        return Status.OK, detail, None
    if not path.exists():
        fix = "set state_path (or DOCSGAP_STATE) to a writable location"
    elif path.is_dir():  # as `run` says it; there is no file to restore or move aside
        fix = f"state_path names a file, not a folder: e.g. {path / 'state.db'}"
    elif "not writable" in problem:  # keep the file: its review verdicts cannot be rebuilt
        fix = f"make it writable (chmod u+w {path} and its directory)"
    else:
        fix = CORRUPT_HINT
    return Status.FAIL, problem, fix


def _rules(dirs: Sequence[Path]) -> tuple[Status, str, str | None]:
    try:
        ruleset = load_rules(dirs)
    except RulesError as exc:
        return (Status.FAIL, f"{len(exc.problems)} problem(s); first: {exc.problems[0]}",
                "run `docsgap rules check` to see every problem")
    failures = failing_examples(ruleset)
    if failures:
        return (Status.FAIL, f"{len(failures)} rule example(s) fail; first: {failures[0]}",
                "run `docsgap rules check` to see every failure")
    return Status.OK, f"{len(ruleset.rules)} rules from {len(ruleset.files)} files load", None
