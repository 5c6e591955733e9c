"""The GitLab checks: GitLab answers, the token is valid with enough scopes and not about to
expire, the project is visible with issues on, the labels and draft MRs docsgap needs work.
What GitLab does with labels and MR sources for each role lives in `tracker/gitlab_rights`."""

from __future__ import annotations

from collections.abc import Callable

from docsgap.config import Config, python_gitlab_config_file
from docsgap.doctor.report import CheckRun, Status
from docsgap.tracker.gitlab_rights import WriteRights, label_verdict, mr_verdict
from docsgap.tracker.interface import ProjectInfo, TokenInfo, TrackerProbe

TOKEN_FIX = (
    "set DOCSGAP_GITLAB_TOKEN to a personal, project or group access token with the `api` "
    "scope (`read_api` is enough for a dry run)"
)
EXPIRY_WARNING_DAYS = 14

GITLAB_CHECKS = ("gitlab url", "gitlab token", "gitlab token scopes", "gitlab project",
                 "gitlab labels", "gitlab draft MRs")


def gitlab_checks(run: CheckRun, cfg: Config, build: Callable[[Config], TrackerProbe]) -> None:
    """Add the GITLAB_CHECKS to `run`; a failed one skips those that need it."""
    g = cfg.gitlab
    probe = run.build(GITLAB_CHECKS, "needs a usable GitLab configuration", lambda: build(cfg))
    if probe is None:
        return

    def url() -> tuple[Status, str, str | None]:
        version = probe.answers()
        return Status.OK, f"{probe.url} answers: {version}", None

    if run.attempt("gitlab url", url) is Status.FAIL:
        run.skip(GITLAB_CHECKS[1:], "GitLab does not answer")
        return
    has_token = (bool(g.token) or g.python_gitlab_id is not None
                 or python_gitlab_config_file() is not None)
    if g.token_kind == "job":
        run.add("gitlab token", Status.FAIL,
                "a CI job token cannot read or create issues in another project",
                TOKEN_FIX)
        run.skip(GITLAB_CHECKS[2:], "needs a usable token")
        return
    if not has_token:
        if run.read_only:
            run.add("gitlab token", Status.SKIP,
                    "not set: a dry run reads a public project anonymously")
            run.add("gitlab token scopes", Status.SKIP, "no token")
        else:
            run.add("gitlab token", Status.FAIL, "DOCSGAP_GITLAB_TOKEN is not set", TOKEN_FIX)
            run.skip(GITLAB_CHECKS[2:], "needs a token")
            return
    user: list[str] = []
    if has_token:
        def token() -> tuple[Status, str, str | None]:
            user.append(probe.current_user())
            return Status.OK, f"valid; acts as {user[0]}", None

        if run.attempt("gitlab token", token) is Status.FAIL:
            run.skip(GITLAB_CHECKS[2:], "needs a valid token")
            return
        run.attempt("gitlab token scopes", lambda: _scopes(probe.token_info(), run))
    project: list[ProjectInfo] = []

    def project_check() -> tuple[Status, str, str | None]:
        info = probe.project()
        project.append(info)
        return _project(info, run.read_only)

    if run.attempt("gitlab project", project_check) is Status.FAIL:
        run.skip(GITLAB_CHECKS[4:], "needs the project")
        return
    info = project[0]
    # Level unknown (no token): nothing to say about what the token's user may write.
    rights = (WriteRights((user or ["the token's user"])[0].removesuffix(" (bot)"),
                          info.access_level) if info.access_level is not None else None)
    wanted, docs = _labels(cfg), cfg.gitlab.docs_label
    run.attempt("gitlab labels", lambda: _status(label_verdict(
        info.path, wanted, probe.missing_labels(wanted), docs, rights, run.read_only)))
    run.attempt("gitlab draft MRs", lambda: _status(mr_verdict(info.path, rights, probe)))


def _status(verdict: tuple[str, str, str | None]) -> tuple[Status, str, str | None]:
    return Status(verdict[0]), verdict[1], verdict[2]


def _scopes(info: TokenInfo | None, run: CheckRun) -> tuple[Status, str, str | None]:
    if info is None:
        return (Status.WARN, "GitLab cannot tell this token's scopes (OAuth or an older GitLab)",
                None)
    scopes = set(info.scopes)
    shown = ", ".join(sorted(scopes)) or "none"
    if not info.active:
        return Status.FAIL, f"token {info.name!r} is revoked or expired", TOKEN_FIX
    enough = "api" in scopes or (run.read_only and "read_api" in scopes)
    if not enough:
        need = "api or read_api" if run.read_only else "api"
        return Status.FAIL, f"token {info.name!r} has scopes {shown}; needs {need}", TOKEN_FIX
    if info.expires_at is not None:
        days = (info.expires_at - run.now.date()).days
        if days <= EXPIRY_WARNING_DAYS:
            return (Status.WARN, f"scopes {shown}; the token expires in {max(days, 0)} day(s) "
                    f"({info.expires_at.isoformat()})", "rotate the token and update the variable")
    return Status.OK, f"scopes {shown}", None


def _project(info: ProjectInfo, read_only: bool) -> tuple[Status, str, str | None]:
    if info.archived and not read_only:
        return (Status.FAIL, f"{info.path} is archived: GitLab refuses every write there",
                "unarchive it (Settings > General > Advanced), or set gitlab.project to the "
                "live docs project")
    if info.issues_enabled is False:
        return (Status.FAIL, f"{info.path}: issues are disabled",
                "enable issues in the project, or set gitlab.project to the docs project")
    return Status.OK, f"{info.path} is visible to the token ({info.web_url})", None


def _labels(cfg: Config) -> list[str]:
    g = cfg.gitlab
    names = [g.docs_label, g.marker_label, *g.issue_labels]
    for extra in g.labels_by_gap.values():
        names.extend(extra)
    return list(dict.fromkeys(n for n in names if n))
