"""`docsgap doctor`: the checks' logic over fake probes, the adapters' probes over `responses`,
and the command against the loopback sandbox (a seed of its own: a bot, tokens, labels)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from pydiscourse import DiscourseClient
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.config import Config, ForumConfig, GitLabConfig
from docsgap.detect.rules import load_rules
from docsgap.doctor import DoctorReport, Status, render_text, run_doctor
from docsgap.errors import (
    AuthError,
    ConfigError,
    ExitCode,
    PayloadError,
    RateLimitedError,
    UnavailableError,
)
from docsgap.forum.discourse_checks import DiscourseChecks
from docsgap.forum.interface import ForumUser, SiteInfo
from docsgap.state import StateStore
from docsgap.tracker.gitlab_checks import GitLabChecks
from docsgap.tracker.interface import ProjectInfo, TokenInfo

NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY = "forum-secret-key-123"
TOKEN = "glpat-secret-token-456"


class FakeForum:
    def __init__(self) -> None:
        self.site_error: Exception | None = None
        self.session: ForumUser | Exception | None = ForumUser("docsgap-bot", 2, staff=True)
        self.topic_error: Exception | None = None
        self.users = {"docsgap-bot": ForumUser("docsgap-bot", 2, staff=True)}

    def site(self) -> SiteInfo:
        if self.site_error:
            raise self.site_error
        return SiteInfo("/about.json", "Community Forum", "3.4.0")

    def session_user(self) -> ForumUser | None:
        if isinstance(self.session, Exception):
            raise self.session
        return self.session

    def key_reads_topic(self) -> int:
        if self.topic_error:
            raise self.topic_error
        return 1001

    def key_reads_stream(self) -> int:
        if self.topic_error:
            raise self.topic_error
        return 1002

    def user(self, username: str) -> ForumUser | None:
        return self.users.get(username)


class FakeTracker:
    url = "https://gl.test"

    def __init__(self) -> None:
        self.user_error: Exception | None = None
        self.token = TokenInfo("docsgap", ("api",), expires_at=date(2027, 1, 1))
        self.info = ProjectInfo("docs/handbook", "https://gl.test/docs/handbook", True, 30)
        self.missing: list[str] = []
        self.asked_labels: list[str] = []
        self.fork: str | None = None
        self.forks_asked = 0

    def answers(self) -> str:
        return "GitLab 18.0.0"

    def current_user(self) -> str:
        if self.user_error:
            raise self.user_error
        return "docsgap-bot (bot)"

    def token_info(self) -> TokenInfo | None:
        return self.token

    def project(self) -> ProjectInfo:
        return self.info

    def missing_labels(self, names: Sequence[str]) -> list[str]:
        self.asked_labels = list(names)
        return [n for n in names if n in self.missing]

    def owned_fork(self) -> str | None:
        self.forks_asked += 1
        return self.fork


def config(tmp_path: Path, **gitlab: Any) -> Config:
    return Config(
        forum=ForumConfig(url="https://forum.test", api_username="docsgap-bot", api_key=KEY),
        gitlab=replace(GitLabConfig(url="https://gl.test", project="docs/handbook", token=TOKEN),
                       **gitlab),
        state_path=tmp_path / "state" / "state.db",
        source="docsgap.toml",
    )


def doctor(
    cfg: Config | Exception, forum: FakeForum, tracker: FakeTracker, *, read_only: bool = False
) -> DoctorReport:
    def load() -> Config:
        if isinstance(cfg, Exception):
            raise cfg
        return cfg

    return run_doctor(load, forum=lambda _c: forum, tracker=lambda _c: tracker,
                      read_only=read_only, now=lambda: NOW)


def by_name(report: DoctorReport) -> dict[str, Status]:
    return {c.name: c.status for c in report.checks}


_RULES_CACHE: dict[tuple[Path, ...], Any] = {}


def _cached_load_rules(dirs: Sequence[Path] = ()) -> Any:
    key = tuple(dirs)
    if key not in _RULES_CACHE:
        _RULES_CACHE[key] = load_rules(dirs)
    return _RULES_CACHE[key]


@pytest.fixture(autouse=True)
def examples_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped rules' examples are `docsgap rules check`'s business; here they pass, so
    these tests don't follow edits to rules/ (test_broken_rules_fail covers the FAIL path).
    The shipped rules are compiled once for the module (a load takes a few tenths of a second)."""
    monkeypatch.setattr("docsgap.doctor.runner.failing_examples", lambda ruleset: [])
    monkeypatch.setattr("docsgap.doctor.runner.load_rules", _cached_load_rules)


@pytest.fixture
def fakes() -> tuple[FakeForum, FakeTracker]:
    return FakeForum(), FakeTracker()


# --- the checks over fakes -------------------------------------------------------------------


def test_everything_in_order_passes(tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]) -> None:
    report = doctor(config(tmp_path), *fakes)
    assert report.ok
    assert list(by_name(report)) == [
        "config", "forum url", "forum api key", "forum bot user", "gitlab url", "gitlab token",
        "gitlab token scopes", "gitlab project", "gitlab labels", "gitlab draft MRs",
        "state file", "rules",
    ]
    assert set(by_name(report).values()) == {Status.OK}
    assert fakes[1].asked_labels == ["documentation", "docsgap", "docs-feedback",
                                     "docs-missing", "docs-broken-link"]
    text = render_text(report)
    assert text.endswith("All 12 checks passed.")
    assert "branch: docsgap-bot is Developer in docs/handbook" in text
    assert fakes[1].forks_asked == 0  # a Developer pushes branches: no fork needed
    assert KEY not in text
    assert TOKEN not in text
    assert TOKEN not in json.dumps(report.to_json())


def test_a_broken_config_fails_and_skips_the_rest(fakes: tuple[FakeForum, FakeTracker]) -> None:
    report = doctor(ConfigError("docsgap.toml: [forum]: unknown key 'urll'"), *fakes)
    assert report.checks[0].status is Status.FAIL
    assert "unknown key 'urll'" in report.checks[0].detail
    assert {c.status for c in report.checks[1:]} == {Status.SKIP}
    assert len(report.failed) == 1


@pytest.mark.parametrize("side", ["forum", "gitlab"])
def test_a_probe_that_cannot_be_built_fails_its_first_check_and_skips_its_own(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker], side: str
) -> None:
    def broken(_cfg: Config) -> Any:
        raise ConfigError(f"{side}.url: not a URL", hint="set the url")

    forum, tracker = fakes
    report = run_doctor(lambda: config(tmp_path),
                        forum=broken if side == "forum" else (lambda _c: forum),
                        tracker=broken if side == "gitlab" else (lambda _c: tracker),
                        now=lambda: NOW)
    first = next(c for c in report.checks if c.name == f"{side} url")
    assert (first.status, first.detail, first.fix) == (
        Status.FAIL, f"{side}.url: not a URL", "set the url")
    own = [(c.name, c.status) for c in report.checks if c.name.startswith(side)]
    names = (["forum url", "forum api key", "forum bot user"] if side == "forum" else
             ["gitlab url", "gitlab token", "gitlab token scopes", "gitlab project",
              "gitlab labels", "gitlab draft MRs"])
    assert own == [(names[0], Status.FAIL)] + [(n, Status.SKIP) for n in names[1:]]
    other = "gitlab" if side == "forum" else "forum"
    assert {c.status for c in report.checks if c.name.startswith(other)} == {Status.OK}
    assert len(report.failed) == 1


def test_missing_secrets_fail_for_apply_but_not_for_a_dry_run(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    cfg = config(tmp_path, token=None)
    cfg = replace(cfg, forum=replace(cfg.forum, api_key=None, api_username=None))
    apply = by_name(doctor(cfg, *fakes))
    assert apply["forum api key"] is Status.FAIL
    assert apply["gitlab token"] is Status.FAIL
    assert apply["gitlab project"] is Status.SKIP

    dry = doctor(cfg, *fakes, read_only=True)
    assert dry.ok
    assert by_name(dry)["forum api key"] is Status.SKIP
    assert by_name(dry)["gitlab project"] is Status.OK
    assert "what a dry run needs" in render_text(dry)


def test_scopes_decide_by_mode_and_expiry_warns(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    forum, tracker = fakes
    tracker.token = TokenInfo("reader", ("read_api", "read_user"))
    report = doctor(config(tmp_path), forum, tracker)
    scopes = next(c for c in report.checks if c.name == "gitlab token scopes")
    assert scopes.status is Status.FAIL
    assert "needs api" in scopes.detail
    assert scopes.fix is not None
    assert doctor(config(tmp_path), forum, tracker, read_only=True).ok

    tracker.token = TokenInfo("docsgap", ("api",), expires_at=date(2026, 3, 8))
    report = doctor(config(tmp_path), forum, tracker)
    assert report.ok
    assert by_name(report)["gitlab token scopes"] is Status.WARN
    assert "expires in 7 day(s)" in render_text(report)
    # A warning is not "all passed": the last line says what was not plain ok.
    assert render_text(report).endswith("No check failed of 12: 11 ok, 1 warned.")


def test_remote_failures_name_the_fix_and_skip_what_depends_on_them(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    forum, tracker = fakes
    forum.site_error = UnavailableError("Discourse at https://forum.test is unreachable",
                                        hint="check forum.url and the network")
    tracker.user_error = AuthError("GitLab refused the credentials (401)", status=401,
                                   hint="check the token")
    report = doctor(config(tmp_path), forum, tracker)
    checks = by_name(report)
    assert checks["forum url"] is Status.FAIL
    assert checks["forum api key"] is Status.SKIP
    assert checks["gitlab token"] is Status.FAIL
    assert checks["gitlab labels"] is Status.SKIP
    assert checks["gitlab draft MRs"] is Status.SKIP
    assert checks["rules"] is Status.OK
    text = render_text(report)
    assert "fix: check forum.url and the network" in text
    assert text.endswith("2 of 12 checks failed (4 ok, 6 skipped).")


def test_a_granular_key_is_accepted_when_it_reads_topics(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    forum, tracker = fakes
    forum.session = AuthError("Discourse refused the request for /session/current.json (403)")
    report = doctor(config(tmp_path), forum, tracker)
    checks = {c.name: c for c in report.checks}
    assert checks["forum api key"].status is Status.OK
    assert "granular" in checks["forum api key"].detail
    assert checks["forum bot user"].status is Status.OK
    forum.topic_error = AuthError("Discourse refused the request for /t/1001/1.json (403)")
    assert by_name(doctor(config(tmp_path), forum, tracker))["forum api key"] is Status.FAIL


def test_a_rate_limited_forum_is_not_a_credentials_failure(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    forum, tracker = fakes
    forum.session = RateLimitedError("Discourse rate limits this client right now")
    report = doctor(config(tmp_path), forum, tracker)
    checks = {c.name: c for c in report.checks}
    assert checks["forum api key"].status is Status.WARN
    assert "not checked" in checks["forum api key"].detail
    assert checks["forum bot user"].status is Status.OK
    assert report.ok


def test_bot_user_problems(tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]) -> None:
    forum, tracker = fakes
    forum.session = ForumUser("someone-else")
    assert by_name(doctor(config(tmp_path), forum, tracker))["forum api key"] is Status.FAIL

    forum.session = ForumUser("docsgap-bot", 0)
    forum.users = {"docsgap-bot": ForumUser("docsgap-bot", 0)}
    assert by_name(doctor(config(tmp_path), forum, tracker))["forum bot user"] is Status.WARN
    forum.users = {"docsgap-bot": ForumUser("docsgap-bot", 2, silenced=True)}
    assert by_name(doctor(config(tmp_path), forum, tracker))["forum bot user"] is Status.FAIL
    forum.users = {}
    assert by_name(doctor(config(tmp_path), forum, tracker))["forum bot user"] is Status.FAIL


def test_project_labels_and_job_tokens(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]
) -> None:
    forum, tracker = fakes
    tracker.missing = ["docsgap", "docs-missing"]
    report = doctor(config(tmp_path), forum, tracker)
    labels = next(c for c in report.checks if c.name == "gitlab labels")
    assert labels.status is Status.OK  # a Developer's first use creates them
    assert labels.detail.startswith("missing in docs/handbook: docsgap, docs-missing; GitLab "
                                    "creates them on first use")
    tracker.missing = ["documentation"]
    labels = next(c for c in doctor(config(tmp_path), forum, tracker).checks
                  if c.name == "gitlab labels")
    assert labels.status is Status.FAIL
    assert "docs label 'documentation' does not exist" in labels.detail

    tracker.missing = []
    tracker.info = replace(tracker.info, issues_enabled=False)
    assert by_name(doctor(config(tmp_path), forum, tracker))["gitlab project"] is Status.FAIL

    # An archived project takes no writes; reading it (a dry run) still works.
    tracker.info = replace(tracker.info, issues_enabled=True, archived=True)
    checks = {c.name: c for c in doctor(config(tmp_path), forum, tracker).checks}
    assert checks["gitlab project"].status is Status.FAIL
    assert "archived" in checks["gitlab project"].detail
    dry = {c.name: c for c in doctor(config(tmp_path), forum, tracker, read_only=True).checks}
    assert dry["gitlab project"].status is Status.OK

    job = by_name(doctor(config(tmp_path, token_kind="job"), forum, tracker))
    assert job["gitlab token"] is Status.FAIL


@pytest.mark.parametrize(("level", "missing", "apply", "dry"), [
    (0, [], Status.FAIL, Status.OK),            # labels dropped: run --apply refuses
    (10, ["docsgap"], Status.FAIL, Status.WARN),  # a Guest's too; nor can it create one
    (20, ["docsgap"], Status.OK, Status.OK),    # a Reporter sets and creates them
])
def test_labels_check_follows_what_gitlab_does_with_them(
        tmp_path: Path, fakes: tuple[FakeForum, FakeTracker], level: int, missing: list[str],
        apply: Status, dry: Status) -> None:
    forum, tracker = fakes
    tracker.info = replace(tracker.info, access_level=level)
    tracker.missing = missing
    checks = doctor(config(tmp_path), forum, tracker).checks
    labels = next(c for c in checks if c.name == "gitlab labels")
    assert labels.status is apply
    if apply is Status.FAIL:
        assert "silently drop docsgap's labels" in labels.detail
        assert labels.fix == "make docsgap-bot a Reporter (or Planner) of docs/handbook"
    dry_run = doctor(config(tmp_path), forum, tracker, read_only=True)
    assert by_name(dry_run)["gitlab labels"] is dry


@pytest.mark.parametrize(("level", "fork", "status", "detail"), [
    (40, None, Status.OK, "branch: docsgap-bot is Maintainer in docs/handbook"),
    (20, "docsgap-bot/handbook", Status.OK,
     "fork: docsgap-bot is Reporter in docs/handbook and cannot push there: branches in its "
     "fork docsgap-bot/handbook"),
    (0, None, Status.WARN, "none: docsgap-bot cannot push to docs/handbook (not a member;"),
])
def test_draft_mr_mode_says_which_and_why(
        tmp_path: Path, fakes: tuple[FakeForum, FakeTracker], level: int, fork: str | None,
        status: Status, detail: str) -> None:
    forum, tracker = fakes
    tracker.info = replace(tracker.info, access_level=level)
    tracker.fork = fork
    report = doctor(config(tmp_path), forum, tracker, read_only=True)
    check = next(c for c in report.checks if c.name == "gitlab draft MRs")
    assert (check.status, check.detail[:len(detail)]) == (status, detail)
    assert report.ok  # no mode is a failure: issues and replies do not need one
    if status is Status.WARN:
        assert check.fix is not None and check.fix.startswith("fork docs/handbook as docsgap-bot")


def test_a_fork_listing_that_fails_is_a_warning(
        tmp_path: Path, fakes: tuple[FakeForum, FakeTracker],
        monkeypatch: pytest.MonkeyPatch) -> None:
    forum, tracker = fakes
    tracker.info = replace(tracker.info, access_level=20)

    def broken() -> str | None:
        raise UnavailableError("GitLab server error while listing forks (502)")

    monkeypatch.setattr(tracker, "owned_fork", broken)
    check = next(c for c in doctor(config(tmp_path), forum, tracker).checks
                 if c.name == "gitlab draft MRs")
    assert check.status is Status.WARN
    assert "listing the forks failed" in check.detail


def test_config_without_a_file_says_where_values_came_from(
        tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]) -> None:
    # Found walking the README: with the sandbox's `export DOCSGAP_...` lines and no file,
    # doctor said "from defaults" beside the sandbox's URLs.
    cfg = replace(config(tmp_path), source="defaults")
    detail = next(c.detail for c in doctor(cfg, *fakes).checks if c.name == "config")
    assert detail.startswith("from no docsgap.toml (defaults, DOCSGAP_* variables, flags); ")


def test_state_file_checks(tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]) -> None:
    cfg = config(tmp_path)
    assert "will be created" in next(
        c.detail for c in doctor(cfg, *fakes).checks if c.name == "state file")
    StateStore(cfg.state_path).close()
    assert by_name(doctor(cfg, *fakes))["state file"] is Status.OK
    cfg.state_path.write_bytes(b"not a database at all")
    assert by_name(doctor(cfg, *fakes))["state file"] is Status.FAIL
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    cfg = replace(cfg, state_path=blocked / "sub" / "state.db")
    assert by_name(doctor(cfg, *fakes))["state file"] is Status.FAIL
    # Found walking the README: a folder got "restore a saved copy ... move the file aside".
    folder = next(c for c in doctor(replace(cfg, state_path=tmp_path), *fakes).checks
                  if c.name == "state file")
    assert folder.status is Status.FAIL
    assert folder.fix == f"state_path names a file, not a folder: e.g. {tmp_path / 'state.db'}"


def test_broken_rules_fail(tmp_path: Path, fakes: tuple[FakeForum, FakeTracker]) -> None:
    extra = tmp_path / "rules"
    extra.mkdir()
    (extra / "broken.yml").write_text("rules: [unclosed\n", encoding="utf-8")
    report = doctor(replace(config(tmp_path), rules_dirs=(extra,)), *fakes)
    rules = next(c for c in report.checks if c.name == "rules")
    assert rules.status is Status.FAIL
    assert "broken.yml" in rules.detail


def test_failing_rule_examples_fail(
    tmp_path: Path, fakes: tuple[FakeForum, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    failure = "rules/signals/x.yml:3: rule x: example must match but did not: 'y'"
    monkeypatch.setattr("docsgap.doctor.runner.failing_examples", lambda ruleset: [failure])
    rules = doctor(config(tmp_path), *fakes).checks[-1]
    assert (rules.name, rules.status) == ("rules", Status.FAIL)
    assert rules.detail == f"1 rule example(s) fail; first: {failure}"


# --- the adapters' probes over responses ------------------------------------------------------


FORUM = "http://forum.test"
GITLAB = "http://gitlab.test"
DJSON = "application/json; charset=utf-8"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_discourse_probe_reads_site_session_and_user(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FORUM}/about.json", status=404, content_type=DJSON,
             body='{"errors": ["not found"], "error_type": "not_found"}')
    rsps.get(f"{FORUM}/site.json", content_type=DJSON, body='{"categories": []}')
    rsps.get(f"{FORUM}/session/current.json", content_type=DJSON,
             body='{"current_user": {"username": "docsgap-bot", "trust_level": 1}}')
    rsps.get(f"{FORUM}/u/docsgap-bot.json", content_type=DJSON, body=json.dumps(
        {"user": {"username": "docsgap-bot", "trust_level": 1, "moderator": True,
                  "suspended_till": "2999-01-01T00:00:00.000Z"}}))
    probe = DiscourseChecks(FORUM, "docsgap-bot", KEY)
    assert probe.site() == SiteInfo("/site.json")
    assert probe.session_user() == ForumUser("docsgap-bot", 1)
    assert probe.user("docsgap-bot") == ForumUser("docsgap-bot", 1, staff=True, suspended=True)
    assert rsps.calls[2].request.headers["Api-Key"] == KEY


def test_discourse_probe_names_a_forum_url_that_is_no_discourse_site(
    rsps: responses.RequestsMock,
) -> None:
    # Found walking the README: doctor said only "Discourse: /site.json not found (404)".
    for path in ("/about.json", "/site.json"):
        rsps.get(f"{FORUM}{path}", status=404, body="Not Found", content_type="text/html")
    with pytest.raises(ConfigError, match=f"forum.url '{FORUM}' is not a Discourse site") as info:
        DiscourseChecks(FORUM, None, None).site()
    assert "home page" in (info.value.hint or "")


def test_the_private_pydiscourse_call_the_probe_relies_on_still_takes_request_options() -> None:
    """`DiscourseChecks` reads three paths through `DiscourseClient._get` (no public method
    takes request options); this fails first if a pydiscourse release changes it."""
    params = inspect.signature(DiscourseClient._get).parameters
    assert list(params)[:3] == ["self", "path", "override_request_kwargs"]
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_discourse_probe_errors(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{FORUM}/session/current.json", status=403, content_type=DJSON,
             body='{"errors": ["invalid API key"], "error_type": "invalid_access"}')
    rsps.get(f"{FORUM}/about.json", status=301, headers={"Location": "https://forum.test/"})
    probe = DiscourseChecks(FORUM, "docsgap-bot", "wrong")
    with pytest.raises(AuthError, match="403"):
        probe.session_user()
    with pytest.raises(PayloadError, match="redirected"):
        probe.site()


def test_gitlab_probe_reads_version_token_project_labels(rsps: responses.RequestsMock) -> None:
    api = f"{GITLAB}/api/v4"
    rsps.get(f"{api}/version", json={"version": "18.1.0"})
    rsps.get(f"{api}/personal_access_tokens/self",
             json={"name": "bot", "scopes": ["api"], "active": True, "revoked": False,
                   "expires_at": "2026-12-31"})
    rsps.get(f"{api}/projects/docs%2Fhandbook",
             json={"id": 9, "path_with_namespace": "docs/handbook", "web_url": "w",
                   "issues_enabled": True,
                   "permissions": {"project_access": None, "group_access": {"access_level": 30}}})
    rsps.get(f"{api}/projects/docs%2Fhandbook/labels", json=[{"id": 1, "name": "Documentation"}])
    rsps.get(f"{api}/projects/docs%2Fhandbook/labels", json=[{"id": 2, "name": "docsgap-old"}])
    probe = GitLabChecks.build(GITLAB, "docs/handbook", token=TOKEN)
    assert probe.answers() == "GitLab 18.1.0"
    assert probe.token_info() == TokenInfo("bot", ("api",), True, date(2026, 12, 31))
    assert probe.project() == ProjectInfo("docs/handbook", "w", True, 30)
    # Exact titles: GitLab would create a second label "documentation" beside "Documentation"
    # (`Labels::FindOrCreateService` finds by exact title).
    assert probe.missing_labels(["documentation", "docsgap"]) == ["documentation", "docsgap"]
    assert "search=docsgap" in (rsps.calls[-1].request.url or "")


def test_gitlab_probe_tells_a_wrong_url_from_a_gitlab(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{GITLAB}/api/v4/version", status=401, json={"message": "401 Unauthorized"})
    assert GitLabChecks.build(GITLAB, "a/b").answers() == "a GitLab API (version needs a token)"
    rsps.get(f"{GITLAB}/x/api/v4/version", status=404, body="<html>nope</html>")
    with pytest.raises(PayloadError, match="does not answer like a GitLab API"):
        GitLabChecks.build(f"{GITLAB}/x", "a/b").answers()
    rsps.get(f"{GITLAB}/api/v4/personal_access_tokens/self", status=404,
             json={"message": "404 Not Found"})
    assert GitLabChecks.build(GITLAB, "a/b", token="oauth", token_kind="oauth").token_info() is None


# --- the command against the sandbox ---------------------------------------------------------


def seed() -> dict[str, Any]:
    labels = ["documentation", "docsgap", "docs-feedback", "docs-missing", "docs-broken-link"]
    return {
        "forum": {
            "users": [{"id": 1, "username": "docsgap-bot", "trust_level": 2, "moderator": True},
                      {"id": 2, "username": "ana", "trust_level": 1}],
            "api_keys": [{"key": KEY, "username": None}],
            "categories": [{"id": 1, "name": "Uncategorized"}],
            "topics": [],
        },
        "gitlab": {
            "users": [{"id": 1, "username": "docsgap-bot", "bot": True}],
            "tokens": [
                {"token": TOKEN, "username": "docsgap-bot", "scopes": ["api"]},
                {"token": "glpat-reader", "username": "docsgap-bot", "scopes": ["read_api"],
                 "write": False},
            ],
            "projects": [{"id": 7, "path_with_namespace": "docs/handbook",
                          "labels": [{"name": n} for n in labels]}],
        },
    }


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # TCP_NODELAY: without it every sandbox answer waits ~40 ms for a delayed ACK (Nagle).
    monkeypatch.setattr("docsgap.sandbox.httpd.Handler.disable_nagle_algorithm", True,
                        raising=False)
    sandbox_mod = pytest.importorskip("docsgap.sandbox")
    try:
        box = sandbox_mod.Sandbox(seed())
    except FileNotFoundError:  # the shipped demo seed is not there yet
        pytest.skip("sandbox demo data missing")
    with box:
        yield box


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: Any) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    values = {
        "DOCSGAP_FORUM_URL": sandbox.forum_url,
        "DOCSGAP_DISCOURSE_API_USERNAME": "docsgap-bot",
        "DOCSGAP_DISCOURSE_API_KEY": KEY,
        "DOCSGAP_GITLAB_URL": sandbox.gitlab_url,
        "DOCSGAP_GITLAB_PROJECT": "docs/handbook",
        "DOCSGAP_GITLAB_TOKEN": TOKEN,
        "DOCSGAP_STATE": str(tmp_path / "state.db"),
    }
    for name in ("DOCSGAP_CONFIG", "CI_SERVER_URL", "CI_JOB_TOKEN", "CI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_doctor_against_the_sandbox_passes_and_hides_secrets(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert data["ok"] is True
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert statuses["forum bot user"] == "ok"
    assert statuses["gitlab labels"] == "ok"
    assert KEY not in result.output
    assert TOKEN not in result.output


def test_doctor_against_the_sandbox_reports_what_to_fix(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", "glpat-reader")
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_USERNAME", "nobody")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == ExitCode.CHECK_FAILED
    assert "FAIL  gitlab token scopes" in result.stdout
    assert "has scopes read_api; needs api" in result.stdout
    assert "ok    forum url" in result.stdout
    assert "FAIL  forum api key" in result.stdout
    assert "fix: " in result.stdout
    assert "glpat-reader" not in result.output

    dry = CliRunner().invoke(app, ["doctor", "--dry-run"])
    assert "ok    gitlab token scopes" in dry.stdout


def test_doctor_against_the_sandbox_names_the_draft_mr_mode(
    env: dict[str, str], sandbox: Any
) -> None:
    project = sandbox.gitlab.project("docs/handbook")
    sandbox.gitlab.set_access(project, "docsgap-bot", 20)
    none = CliRunner().invoke(app, ["doctor"])
    assert "warn  gitlab draft MRs" in none.stdout
    assert "none: docsgap-bot cannot push to docs/handbook (Reporter" in none.stdout
    assert "fix: fork docs/handbook as docsgap-bot" in none.stdout
    made = requests.post(f"{sandbox.gitlab_url}/api/v4/projects/7/fork",
                         headers={"PRIVATE-TOKEN": TOKEN}, timeout=5)
    assert made.status_code == 201
    forked = CliRunner().invoke(app, ["doctor", "--json"])
    check = next(c for c in json.loads(forked.stdout)["checks"]
                 if c["name"] == "gitlab draft MRs")
    assert (check["status"], check["detail"][:5]) == ("ok", "fork:")
    assert "docsgap-bot/handbook" in check["detail"]
