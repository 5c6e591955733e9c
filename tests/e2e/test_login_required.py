"""docsgap against a `login_required` Discourse site, where every anonymous JSON request but the
session's is a 403 `not_logged_in`: with the API key it works (one topic is tried as the public
first, refused, then read with the key), without one `run` and `doctor` say the forum requires
login with their documented exit codes (5 and 8), never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.demo import demo_config
from docsgap.errors import ExitCode
from docsgap.sandbox import SANDBOX_DISCOURSE_GRANULAR_KEY, Sandbox
from tests.e2e.test_run_topic import write_config


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(discourse_limits=True, skip_waits=True, login_required=True) as sandbox:
        yield sandbox


@pytest.fixture
def toml(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = demo_config(sandbox, tmp_path)
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", cfg.gitlab.token or "")
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", cfg.forum.api_key or "")
    return write_config(sandbox, tmp_path)


def forum_log(sandbox: Sandbox) -> list[tuple[str, int, bool]]:
    return [(e["path"].split("?")[0], e["status"], e["keyed"]) for e in sandbox.requests_log()
            if e["service"] == "forum"]


def invoke(toml: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [args[0], "--config", str(toml), *args[1:]])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_run_topic_with_a_key_is_refused_as_the_public_then_read_with_the_key(
        sandbox: Sandbox, toml: Path) -> None:
    code, out = invoke(toml, "run", "--topic", "1033", "--quiet")
    assert code == 0, out
    assert "thread #1033" in out and "Dry run: nothing was written" in out
    assert len(sandbox.requests_log()) == 5  # issues, MRs, and these three
    assert forum_log(sandbox) == [("/t/1033/1.json", 403, False), ("/t/1033/1.json", 200, True),
                                  ("/categories.json", 200, True)]


def test_apply_for_one_topic_replies_on_a_login_required_site(
        sandbox: Sandbox, toml: Path) -> None:
    code, out = invoke(toml, "run", "--topic", "1033", "--apply", "--quiet")
    assert code == 0, out
    posted = [e for e in sandbox.requests_log() if e["method"] == "POST"
              and e["service"] == "forum"]
    assert [(e["path"], e["status"], e["keyed"]) for e in posted] == [("/posts", 200, True)]


def test_a_scan_with_a_key_reads_everything_with_the_key(sandbox: Sandbox, toml: Path) -> None:
    code, out = invoke(toml, "run", "--quiet")
    assert code == 0, out
    reads = forum_log(sandbox)
    assert reads[0] == ("/posts.json", 200, True)
    assert all(status == 200 and keyed for _, status, keyed in reads), reads


@pytest.mark.parametrize("args", [("run", "--quiet"), ("run", "--topic", "1033", "--quiet")])
def test_without_a_key_run_stops_with_exit_5_saying_the_forum_requires_login(
        sandbox: Sandbox, toml: Path, monkeypatch: pytest.MonkeyPatch,
        args: tuple[str, ...]) -> None:
    monkeypatch.delenv("DOCSGAP_DISCOURSE_API_KEY")
    code, out = invoke(toml, *args)
    assert code == ExitCode.AUTH, out
    assert "requires login" in out and "DOCSGAP_DISCOURSE_API_KEY" in out
    assert len(forum_log(sandbox)) == 1, "one refusal, no retries"


def test_a_granular_key_that_cannot_read_the_category_list_says_why(
        sandbox: Sandbox, toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's granular key has topics:read and topics:write only: the category list is
    refused to it, and this forum refuses it to the public too."""
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", SANDBOX_DISCOURSE_GRANULAR_KEY)
    code, out = invoke(toml, "run", "--topic", "1033", "--quiet")
    assert code == ExitCode.AUTH, out
    assert "requires login" in out and "categories" in out


def test_doctor_with_a_key_passes_the_forum_checks(sandbox: Sandbox, toml: Path) -> None:
    code, out = invoke(toml, "doctor")
    assert code == 0, out
    assert "login required" in out


def test_doctor_without_a_key_fails_the_key_check_saying_login_is_required(
        sandbox: Sandbox, toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCSGAP_DISCOURSE_API_KEY")
    code, out = invoke(toml, "doctor")
    assert code == ExitCode.CHECK_FAILED, out
    key_line = next(line for line in out.splitlines() if "forum api key" in line)
    assert "FAIL" in key_line and "requires login" in key_line
    bot_line = next(line for line in out.splitlines() if "forum bot user" in line)
    assert "FAIL" not in bot_line, "not a second failure for the same cause"


def test_doctor_fails_a_granular_key_on_a_login_required_site(
        sandbox: Sandbox, toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without posts:list a granular key cannot read /posts.json, and the public may not here."""
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", SANDBOX_DISCOURSE_GRANULAR_KEY)
    code, out = invoke(toml, "doctor")
    assert code == ExitCode.CHECK_FAILED, out
    key_line = next(line for line in out.splitlines() if "forum api key" in line)
    assert "FAIL" in key_line and "requires login" in key_line and "granular" in key_line
    assert "posts:list" in out


LISTING_KEY = "sandbox0docsgap0granular0posts0list0key00000000000000000000003"


def test_a_granular_key_with_posts_list_works_on_a_login_required_site(
        sandbox: Sandbox, toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discourse 3.1 added `posts:list` (`/posts.json`): with it, the topic scopes,
    `categories:list` and `users:show` (nothing is public here), a granular key passes doctor
    and scans a forum that requires login, every request with the key."""
    with sandbox._lock:
        sandbox.forum.api_keys[LISTING_KEY] = {
            "username": "docsgap-bot",
            "scopes": ["posts:list", "topics:read", "topics:write", "categories:list",
                       "users:show"]}
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", LISTING_KEY)
    code, out = invoke(toml, "doctor")
    key_line = next(line for line in out.splitlines() if "forum api key" in line)
    assert code == 0 and "granular" in key_line, out
    code, out = invoke(toml, "run", "--quiet")
    assert code == 0, out
    posts = [e for e in forum_log(sandbox) if e[0].endswith("/posts.json")]
    assert posts and all(status == 200 and keyed for _, status, keyed in posts)
