"""`docsgap doctor`: check what a first run needs (configuration, forum and GitLab reachable,
credentials, scopes, project, labels, where draft MRs come from, state file, rules) and say what
to fix. Read-only: every
remote check is a GET; nothing is written anywhere.

The remote probes are small protocols (`ForumProbe`, `TrackerProbe`) implemented by the
adapters in `forum/discourse_checks.py` and `tracker/gitlab_checks.py`, so tests can pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from docsgap.config import Config, mask, python_gitlab_config_file
from docsgap.detect.examples import failing_examples
from docsgap.detect.rules import load_rules
from docsgap.errors import AuthError, DocsgapError, RateLimitedError, RulesError
from docsgap.forum.interface import ForumProbe, ForumUser
from docsgap.state import CORRUPT_HINT
from docsgap.state.ci import check_state_path
from docsgap.tracker.gitlab_rights import WriteRights, label_verdict, mr_verdict
from docsgap.tracker.interface import ProjectInfo, TokenInfo, TrackerProbe

API_KEY_FIX = (
    "create an API key for the bot user (Discourse admin > API > New key) and set "
    "DOCSGAP_DISCOURSE_API_KEY and DOCSGAP_DISCOURSE_API_USERNAME"
)
TOKEN_FIX = (
    "set DOCSGAP_GITLAB_TOKEN to a personal, project or group access token with the `api` "
    "scope (`read_api` is enough for a dry run)"
)
EXPIRY_WARNING_DAYS = 14


class Status(StrEnum):
    """Outcome of one check. Only FAIL makes `docsgap doctor` exit non-zero."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check, in the order they ran."""

    checks: tuple[Check, ...]
    read_only: bool = False

    @property
    def failed(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if c.status is Status.FAIL)

    @property
    def ok(self) -> bool:
        """No check failed (warnings and skips are fine)."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (what `docsgap doctor --json` prints)."""
        return {
            "ok": self.ok,
            "mode": "dry-run" if self.read_only else "apply",
            "failed": len(self.failed),
            "checks": [
                {"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
                for c in self.checks
            ],
        }


def render_text(report: DoctorReport) -> str:
    """The report as aligned lines, each failure followed by what to fix."""
    mode = "a dry run" if report.read_only else "`docsgap run --apply`"
    lines = [f"docsgap doctor: what {mode} needs"]
    width = max((len(c.name) for c in report.checks), default=0)
    for c in report.checks:
        lines.append(f"  {c.status.value:<5} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status in (Status.FAIL, Status.WARN):
            lines.append(f"  {'':<5} {'':<{width}}  fix: {c.fix}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: DoctorReport) -> str:
    """The last line: failures first, and never "all passed" when a check warned or was
    skipped (a skipped check could not be made, so nothing is known of it)."""
    total = len(report.checks)
    counts = {s: sum(1 for c in report.checks if c.status is s) for s in Status}
    rest = ", ".join(f"{n} {label}" for n, label in (
        (counts[Status.OK], "ok"), (counts[Status.WARN], "warned"),
        (counts[Status.SKIP], "skipped")) if n)
    if counts[Status.FAIL]:
        return f"{counts[Status.FAIL]} of {total} checks failed ({rest})."
    if counts[Status.OK] == total:
        return f"All {total} checks passed."
    return f"No check failed of {total}: {rest}."


# --- the checks --------------------------------------------------------------------------------


@dataclass
class _Run:
    read_only: bool
    now: datetime
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str, fix: str | None = None) -> Status:
        self.checks.append(Check(name, status, detail, fix))
        return status

    def attempt(self, name: str, fn: Callable[[], tuple[Status, str, str | None]]) -> Status:
        """Run one check; a DocsgapError becomes a FAIL with its hint as the fix."""
        try:
            status, detail, fix = fn()
        except DocsgapError as exc:
            return self.add(name, Status.FAIL, str(exc), exc.hint)
        return self.add(name, status, detail, fix)

    def skip(self, names: Sequence[str], why: str) -> None:
        for name in names:
            self.add(name, Status.SKIP, why)


FORUM_CHECKS = ("forum url", "forum api key", "forum bot user")
GITLAB_CHECKS = ("gitlab url", "gitlab token", "gitlab token scopes", "gitlab project",
                 "gitlab labels", "gitlab draft MRs")
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
    run = _Run(read_only, (now or (lambda: datetime.now(UTC)))())
    try:
        cfg = load()
    except DocsgapError as exc:
        run.add("config", Status.FAIL, str(exc), exc.hint)
        run.skip([*FORUM_CHECKS, *GITLAB_CHECKS, *LOCAL_CHECKS], "needs a valid configuration")
        return DoctorReport(tuple(run.checks), read_only)
    run.add("config", Status.OK, _describe(cfg))
    _forum_checks(run, cfg, forum)
    _gitlab_checks(run, cfg, tracker)
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
    run = _Run(read_only, datetime.now(UTC))
    if forum is not None:
        _forum_checks(run, cfg, forum)
    if tracker is not None:
        _gitlab_checks(run, cfg, tracker)
    return DoctorReport(tuple(run.checks), read_only)


def _describe(cfg: Config) -> str:
    f, g = cfg.forum, cfg.gitlab
    return (
        f"from {cfg.source}; forum {f.url} as {f.api_username or '(anonymous)'} "
        f"(key {mask(f.api_key)}); gitlab {g.url} project {g.project} (token {mask(g.token)})"
    )


def _forum_checks(run: _Run, cfg: Config, build: Callable[[Config], ForumProbe]) -> None:
    try:
        probe = build(cfg)
    except DocsgapError as exc:
        run.add("forum url", Status.FAIL, str(exc), exc.hint)
        run.skip(FORUM_CHECKS[1:], "needs a usable forum configuration")
        return

    def site() -> tuple[Status, str, str | None]:
        info = probe.site()
        about = ", ".join(x for x in (info.title and f'"{info.title}"', info.version) if x)
        shown = f"{info.endpoint}: {about}" if about else info.endpoint
        return Status.OK, f"{cfg.forum.url} answers ({shown})", None

    if run.attempt("forum url", _unless_limited(site)) is Status.FAIL:
        run.skip(FORUM_CHECKS[1:], "the forum does not answer")
        return
    username = cfg.forum.api_username
    if not cfg.forum.api_key:
        if run.read_only:
            run.add("forum api key", Status.SKIP,
                    "not set: a dry run reads the public forum anonymously")
        else:
            run.add("forum api key", Status.FAIL, "DOCSGAP_DISCOURSE_API_KEY is not set",
                    API_KEY_FIX)
    else:
        acting: list[ForumUser] = []

        def key() -> tuple[Status, str, str | None]:
            try:
                who = probe.session_user()
            except AuthError:
                # A granular key is refused /session/current.json: try what it is for.
                topic = probe.key_reads_topic()
                return (Status.OK, f"valid granular key: it reads topics (tried topic {topic}); "
                        "whether it may reply (topics:write) only a reply shows", None)
            if who is None:
                return Status.FAIL, "the forum treats the API key as anonymous", API_KEY_FIX
            acting.append(who)
            if username and who.username.lower() != username.lower():
                return (Status.FAIL, f"the key acts as {who.username}, not {username}",
                        "set DOCSGAP_DISCOURSE_API_USERNAME to the key's user")
            return Status.OK, f"valid; acts as {who.username}", None

        if run.attempt("forum api key", _unless_limited(key)) is Status.FAIL:
            run.skip(["forum bot user"], "needs a valid API key")
            return
        username = username or (acting[0].username if acting else None)
    if not username:
        run.add("forum bot user", Status.SKIP, "no bot user configured (dry run)")
        return
    name = username
    run.attempt("forum bot user", _unless_limited(
        lambda: _bot_user(probe.user(name), name, run.read_only)))


_Probe = Callable[[], tuple[Status, str, str | None]]


def _unless_limited(check: _Probe) -> _Probe:
    """A forum check that a 429 leaves undecided (WARN) instead of failed: the site-wide API
    bucket is shared with every other integration, and a limit is no credential problem (so
    `run --apply`'s preflight is not stopped by one)."""
    def checked() -> tuple[Status, str, str | None]:
        try:
            return check()
        except RateLimitedError as exc:
            return Status.WARN, f"not checked: {exc}", "run `docsgap doctor` again in a minute"
    return checked


def _bot_user(user: ForumUser | None, name: str, read_only: bool) -> tuple[Status, str, str | None]:
    if user is None:
        return (Status.FAIL, f"no forum user {name!r}",
                "create the bot user or fix DOCSGAP_DISCOURSE_API_USERNAME")
    if user.suspended or user.silenced or not user.active:
        state = "suspended" if user.suspended else "silenced" if user.silenced else "inactive"
        return (Status.FAIL if not read_only else Status.WARN,
                f"{user.username} is {state} and cannot post",
                "lift the suspension/silence in the user's admin page")
    if not user.staff and (user.trust_level or 0) < 1:
        return (Status.WARN,
                f"{user.username} exists but is trust level {user.trust_level or 0}, not staff: "
                "new-user limits apply (a pause between posts, a few replies a day)",
                "make the bot a moderator or raise its trust level")
    rank = "staff" if user.staff else f"trust level {user.trust_level}"
    return Status.OK, f"{user.username} exists and can post ({rank})", None


def _gitlab_checks(run: _Run, cfg: Config, build: Callable[[Config], TrackerProbe]) -> None:
    g = cfg.gitlab
    try:
        probe = build(cfg)
    except DocsgapError as exc:
        run.add("gitlab url", Status.FAIL, str(exc), exc.hint)
        run.skip(GITLAB_CHECKS[1:], "needs a usable GitLab configuration")
        return

    def url() -> tuple[Status, str, str | None]:
        version = probe.answers()
        return Status.OK, f"{g.url} answers: {version}", None

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


def _scopes(info: TokenInfo | None, run: _Run) -> tuple[Status, str, str | None]:
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


def _state_file(path: Path) -> tuple[Status, str, str | None]:
    problem, detail = check_state_path(path)
    if problem is None:
        return Status.OK, detail, None
    if not path.exists():
        fix = "set state_path (or DOCSGAP_STATE) to a writable location"
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
