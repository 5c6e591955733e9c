"""Crash safety over real HTTP: `docsgap run --apply` (the CLI, in a child process) is killed
with SIGKILL at twenty seeded moments, each right after the sandbox has applied a request and
before the client reads the answer, then run to the end; with its state file kept, and again
with it deleted. Either way GitLab and the forum must hold exactly the writes of one clean run,
while the sandbox's issue search drops HTML comments as older GitLab releases do (so nothing
can lean on searching for a marker)."""

from __future__ import annotations

import os
import random
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from docsgap.cli import main
from docsgap.demo import demo_config
from docsgap.detect.detector import Detector
from docsgap.detect.rules import load_rules
from docsgap.sandbox import SANDBOX_DISCOURSE_API_USERNAME, Sandbox

pytestmark = pytest.mark.e2e

KILLS = 20
SEED = 13
BOT_GITLAB = "docsgap-bot"


@pytest.fixture(autouse=True)
def _secrets_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    """`write_config` sets the secrets in `os.environ` (the forked children read them there);
    recorded here first, so they are put back after each test instead of leaking into the
    tests that run after these in the same process."""
    for name in ("DOCSGAP_GITLAB_TOKEN", "DOCSGAP_DISCOURSE_API_KEY"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
        monkeypatch.delenv(name)


def write_config(sandbox: Sandbox, tmp_path: Path) -> Path:
    cfg = demo_config(sandbox, tmp_path)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "{tmp_path / "state.db"}"\nmax_actions = 100\n'
        f'[forum]\nurl = "{cfg.forum.url}"\napi_username = "{cfg.forum.api_username}"\n'
        f'staff_usernames = ["gitlab-team"]\ninitial_pages = 10\nmax_requests = 500\n'
        f'[gitlab]\nurl = "{cfg.gitlab.url}"\nproject = "{cfg.gitlab.project}"\n'
        f'summary_issue = true\n[dedup]\nclosed_within_days = 3650\n'
        f'[policy]\nopen_issue = "auto"\nlink_existing = "auto"\nreply = "auto"\n'
        f'followup = "auto"\n', encoding="utf-8")
    os.environ["DOCSGAP_GITLAB_TOKEN"] = cfg.gitlab.token or ""
    os.environ["DOCSGAP_DISCOURSE_API_KEY"] = cfg.forum.api_key or ""
    return toml


def cli(toml: Path) -> int:
    """`docsgap run --apply --quiet` exactly as a user runs it; its exit code."""
    sys.argv = ["docsgap", "run", "--config", str(toml), "--apply", "--quiet"]
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def run_cli(sandbox: Sandbox, toml: Path, kill_at: int | None = None,
            writes_only: bool = False) -> int | None:
    """The CLI in a forked child (it inherits this process's warm imports and regex cache, so a
    run takes a fraction of a second); with `kill_at`, SIGKILL it once the sandbox has applied
    that many of its requests (of its writes with `writes_only`), before the child reads the
    answer. Returns the exit code, or None when killed."""
    served = 0
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = cli(toml)
        finally:
            os._exit(code)

    def kill(entry: dict[str, Any]) -> None:
        nonlocal served
        served += not writes_only or entry["method"] != "GET"
        if served == kill_at:
            os.kill(pid, signal.SIGKILL)

    sandbox.on_request = kill if kill_at else None
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        sandbox.on_request = None
    return None if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def writes(sandbox: Sandbox) -> Counter[tuple[str, ...]]:
    """Everything docsgap wrote, as comparable text (iids and ids left out)."""
    state = sandbox.state()
    urls = {i["web_url"]: f"issue<{i['title']}>" for i in state["issues"]}

    def plain(text: str) -> str:
        text = re.sub(r"^_Updated .*$", "", text or "", flags=re.M)
        return re.sub(r"https?://\S+?/-/issues/\d+", lambda m: urls.get(m.group(0), "?"), text)

    found: Counter[tuple[str, ...]] = Counter()
    for i in state["issues"]:
        if i["author"] == BOT_GITLAB:
            text = plain(i["description"])
            if "<!-- docsgap:summary -->" in text:
                # A report rewritten each run: its rows come in the state's order, and the
                # review queue's match scores move with the cache (a lost state refetches it
                # with docsgap's new issues in it); the same rows, once each, is what counts.
                rows = (ln.split("|")[:3] if "score" in ln else [ln] for ln in text.splitlines())
                text = "\n".join(sorted("|".join(r) for r in rows))
            found[("issue", i["title"], text, ",".join(sorted(i["labels"])))] += 1
    for n in state["notes"]:
        if n["author"] == BOT_GITLAB and not n["system"]:
            found[("note", str(n["noteable_iid"]), plain(n["body"]))] += 1
    for m in state["merge_requests"]:
        if m["author"] == BOT_GITLAB:
            found[("mr", m["title"], plain(m["description"]))] += 1
    for t in state["topics"]:
        for p in t["posts"]:
            if p["username"] == SANDBOX_DISCOURSE_API_USERNAME:
                found[("reply", str(t["id"]), plain(p["raw"]))] += 1
    return found


@pytest.fixture
def raw_search(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox indexing issues as older GitLab releases do; and the rules compiled once
    here, so the forked runs skip the second it takes (they would compile the same rules)."""
    sandbox.gitlab.search_mode = "raw"
    rules = load_rules()
    detector = Detector(rules)
    monkeypatch.setattr("docsgap.loop.services.load_rules", lambda *args: rules)
    monkeypatch.setattr("docsgap.loop.services._DetectorOnDemand", lambda *args: detector)
    return sandbox


def clean_run(sandbox: Sandbox, tmp_path: Path) -> Counter[tuple[str, ...]]:
    """One uninterrupted run, in this process (which warms it for the forked ones)."""
    assert cli(write_config(sandbox, tmp_path / "clean")) == 0
    expected = writes(sandbox)
    sandbox.reset()
    sandbox.gitlab.search_mode = "raw"
    return expected


@pytest.mark.parametrize("lose_state", [False, True])
def test_sigkill_twenty_times_then_finish_equals_one_clean_run(
        raw_search: Sandbox, tmp_path: Path, lose_state: bool) -> None:
    sandbox = raw_search
    (tmp_path / "clean").mkdir()
    expected = clean_run(sandbox, tmp_path)
    assert sum(1 for k in expected if k[0] == "issue") >= 5
    assert sum(1 for k in expected if k[0] == "reply") >= 5
    toml = write_config(sandbox, tmp_path)
    rng = random.Random(SEED + lose_state)
    killed = 0
    for _ in range(KILLS):
        # Most kills land on the first or second write of the run (after GitLab or the forum
        # applied it, before docsgap heard back); the others on any of its first 12 requests
        # (the tracker sync and forum scan, with their cursors).
        if rng.random() < 0.65:
            code = run_cli(sandbox, toml, kill_at=rng.randint(1, 2), writes_only=True)
        else:
            code = run_cli(sandbox, toml, kill_at=rng.randint(1, 12))
        killed += code is None
        if lose_state and rng.random() < 0.3:
            for f in tmp_path.glob("state.db*"):
                f.unlink()
    assert killed == KILLS  # every run really was cut short
    if lose_state:
        for f in tmp_path.glob("state.db*"):
            f.unlink()
    assert run_cli(sandbox, toml) == 0
    got = writes(sandbox)
    assert got == expected, {"extra": got - expected, "missing": expected - got}
