"""`docsgap state pull|push|check`: keep the SQLite state between scheduled CI runs in the
project's generic package registry (see `docsgap.state.ci` for the why)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import typer

from docsgap.cli import common
from docsgap.cli.run_cmd import CONFIG_OPT, STATE_OPT, load
from docsgap.config import Config
from docsgap.errors import ConfigError, ExitCode, ProjectNotFoundError, StateError
from docsgap.state import ci as ci_state
from docsgap.tracker.gitlab_packages import GitLabPackages

state_app = typer.Typer(
    help="Restore or save the SQLite state (generic package registry) around scheduled runs.",
    no_args_is_help=True,
)

PROJECT_OPT = typer.Option(
    None, "--project", envvar="DOCSGAP_STATE_PROJECT",
    help="Project whose package registry holds the state: the one whose pipeline schedule runs "
    "docsgap [default: in CI, the pipeline's project (CI_PROJECT_ID); needed outside CI].",
)
URL_OPT = typer.Option(
    None, "--gitlab-url", help="GitLab URL [default: CI_SERVER_URL, else gitlab.url]."
)
VERSION_OPT = typer.Option(
    ci_state.STATE_VERSION, "--package-version", envvar="DOCSGAP_STATE_VERSION",
    help="Package version to use (one per environment, e.g. v1, staging).",
)
JSON_OPT = typer.Option(False, "--json", help="Print the outcome as JSON.")


@contextlib.contextmanager
def _state_project_named() -> Iterator[None]:
    """GitLab's 404 "Project Not Found" names the state's project, not gitlab.project: the
    generic hint sent a person to gitlab.project, which the state never uses."""
    try:
        yield
    except ProjectNotFoundError as exc:
        exc.hint = ("the state's project is the one whose pipeline runs docsgap: in CI the "
                    "pipeline's own (CI_PROJECT_ID), else --project or DOCSGAP_STATE_PROJECT, as "
                    "in its URL; a private project also answers 404 to a token whose user is "
                    "not a member")
        raise


def _registry(cfg: Config, project: str | None, url: str | None) -> GitLabPackages:
    in_ci = os.environ.get("CI_PROJECT_ID") or os.environ.get("CI_PROJECT_PATH")
    if project is None and not in_ci:
        # The state lives with the pipeline that runs docsgap, not in gitlab.project (the docs
        # project): falling back to it pulled "no saved state" from the wrong registry, and a
        # push from a laptop uploaded a package into the docs project.
        raise ConfigError(
            "no project for the state: not in a CI pipeline (CI_PROJECT_ID), so name the project "
            "whose pipeline schedule runs docsgap and keeps the state",
            hint="pass --project GROUP/PROJECT (or set DOCSGAP_STATE_PROJECT), and --gitlab-url "
                 "when it is not gitlab.url; not gitlab.project, the docs project")
    # os.environ is handed over explicitly: config/load.py does not read CI_* yet.
    target = ci_state.registry_target(cfg, os.environ, project=project, url=url)
    return GitLabPackages.for_target(target, timeout=max(cfg.gitlab.timeout, 60.0))


@state_app.command("pull")
@common.handle_errors
def pull(
    config: Path | None = CONFIG_OPT,
    state: Path | None = STATE_OPT,
    project: str | None = PROJECT_OPT,
    gitlab_url: str | None = URL_OPT,
    package_version: str = VERSION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Restore the last saved state before a run. A missing or corrupt saved state is a
    warning (exit 0): the run starts empty and the remote markers prevent duplicates. Exit 5
    if GitLab refuses the token, 6 if it is unavailable (so a job never overwrites a good saved
    state with a rebuilt one)."""
    cfg = load(config, state)
    location = ci_state.StateLocation(version=package_version)
    with _state_project_named():
        result = ci_state.restore_state(_registry(cfg, project, gitlab_url), cfg.state_path,
                                        location)
    if as_json:
        common.echo_json({
            "status": result.status.value, "path": str(result.path),
            "location": str(result.location), "size": result.size, "problem": result.problem,
            "backup": str(result.backup) if result.backup else None,
        })
    elif result.status is ci_state.RestoreStatus.RESTORED:
        typer.echo(result.message)


@state_app.command("push")
@common.handle_errors
def push(
    config: Path | None = CONFIG_OPT,
    state: Path | None = STATE_OPT,
    project: str | None = PROJECT_OPT,
    gitlab_url: str | None = URL_OPT,
    package_version: str = VERSION_OPT,
    keep: int = typer.Option(
        ci_state.DEFAULT_KEEP, "--keep", min=0,
        help="Copies to keep in the registry after saving (0: never delete any).",
    ),
    force: bool = typer.Option(
        False, "--force",
        help="Save even if another copy was saved after this state was pulled (it is refused "
        "otherwise: that run's records, or a person's review verdicts, would be dropped).",
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Save the state after a run (a consistent copy, validated before upload). Exit 9 if
    the local state is missing or not a valid docsgap state (nothing is uploaded), 5 if
    GitLab refuses the token or the upload (a group that forbids duplicate generic packages:
    allow them for docsgap-state), 6 if it is unavailable or refuses the file; 9 as well when
    another copy was saved after this state was pulled (--force replaces it anyway)."""
    cfg = load(config, state)
    location = ci_state.StateLocation(version=package_version)
    registry = _registry(cfg, project, gitlab_url)
    if not cfg.state_path.is_file():  # said before anything is made beside it (a folder, a copy)
        raise StateError(f"no state to save at {cfg.state_path}",
                         hint="run `docsgap run` first (or pass --state PATH); nothing was "
                         "uploaded and the saved copy is as it was")
    with _state_project_named():
        result = ci_state.save_state(registry, cfg.state_path, location, keep=keep or None,
                                     force=force)
    if as_json:
        common.echo_json({
            "path": str(result.path), "location": str(result.location), "size": result.size,
            "pruned": result.pruned, "prune_error": result.prune_error,
        })
    else:
        typer.echo(result.message)


@state_app.command("check")
@common.handle_errors
def check(
    path: Path = typer.Argument(..., help="The SQLite file to check."),
    as_json: bool = JSON_OPT,
) -> None:
    """Check that a file is an intact docsgap state (SQLite integrity check and docsgap's
    tables). Exit 8 if it is not. Read-only."""
    problem = ci_state.check_state_file(path)
    if as_json:
        common.echo_json({"path": str(path), "ok": problem is None, "problem": problem})
    elif problem is None:
        typer.echo(f"ok: {path} is a docsgap state")
    else:
        typer.echo(f"FAIL: {path}: {problem}", err=True)
    if problem is not None:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `docsgap state`."""
    app.add_typer(state_app, name="state")
