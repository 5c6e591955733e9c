"""Owner labels through the CLI against the sandbox over real HTTP: `docs sync` keeps each page's
front matter owners, `run --apply` files issues with the owning stage and group labels (the
sandbox's gitlab-org group labels), says why in the plan, creates no label, and a rerun creates
nothing new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.demo import demo_config
from docsgap.sandbox import Sandbox

pytestmark = pytest.mark.e2e


def test_issues_carry_their_pages_owners_and_a_rerun_adds_nothing(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = demo_config(sandbox, tmp_path)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(
        f'state_path = "state.db"\nmax_actions = 100\n'
        f'[forum]\nurl = "{cfg.forum.url}"\napi_username = "{cfg.forum.api_username}"\n'
        f'staff_usernames = ["gitlab-team"]\ninitial_pages = 10\n'
        f'[gitlab]\nurl = "{cfg.gitlab.url}"\nproject = "{cfg.gitlab.project}"\n'
        f'[policy]\nopen_issue = "auto"\nlink_existing = "auto"\nreply = "auto"\n',
        encoding="utf-8")
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", cfg.gitlab.token or "")
    monkeypatch.setenv("DOCSGAP_DISCOURSE_API_KEY", cfg.forum.api_key or "")
    runner = CliRunner()
    assert runner.invoke(app, ["docs", "sync", "--config", str(toml)]).exit_code == 0
    labels_before = {p["path_with_namespace"]: p["labels"]
                     for p in sandbox.state()["projects"]}

    dry = runner.invoke(app, ["run", "--config", str(toml)])
    assert dry.exit_code == 0, dry.output
    assert ("group::pipeline authoring: front matter of doc/ci/yaml/_index.md "
            "(group: Pipeline Authoring)") in dry.stdout

    sandbox.clear_requests()
    applied = runner.invoke(app, ["run", "--config", str(toml), "--apply", "--json",
                                  "--quiet"])
    assert applied.exit_code == 0, applied.output
    opened = [a for a in json.loads(applied.stdout)["actions"]
              if a["kind"] == "open_issue" and a["status"] == "applied"]
    assert len(opened) >= 4
    issues = {i["web_url"]: i for i in sandbox.state()["issues"]}
    routed = 0
    for action in opened:
        owners = [label["name"] for label in action["labels"] if label["owner"]]
        assert all(label["why"].startswith("front matter of doc/")
                   for label in action["labels"] if label["owner"])
        filed = issues[action["remote_url"]]["labels"]
        if owners:
            routed += 1
            assert filed[-len(owners):] == owners
        else:  # and the plan said why
            assert action["labels_note"].startswith("no owner labels: "), action
            assert not any(n.startswith(("devops::", "group::")) for n in filed)
    assert routed >= 4
    yaml_issues = [issues[a["remote_url"]] for a in opened
                   if "group::pipeline authoring" in issues[a["remote_url"]]["labels"]]
    assert yaml_issues and all("devops::verify" in i["labels"] for i in yaml_issues)
    # Only labels the project's group had: nothing was created in the project.
    assert {p["path_with_namespace"]: p["labels"] for p in sandbox.state()["projects"]} == (
        labels_before)
    lookups = [r for r in sandbox.requests_log() if "/labels?" in r["path"]
               and "include_ancestor_groups" in r["path"] and "%3A%3A" in r["path"]]
    owner_names = {n for a in opened for n in (x["name"] for x in a["labels"] if x["owner"])}
    assert len(lookups) == len(owner_names)  # one request per distinct owner label

    sandbox.clear_requests()
    again = runner.invoke(app, ["run", "--config", str(toml), "--apply", "--json", "--quiet"])
    assert again.exit_code == 0, again.output
    assert [a for a in json.loads(again.stdout)["actions"] if a["status"] == "applied"] == []
    assert len(sandbox.state()["issues"]) == len(issues)
    assert not [r for r in sandbox.requests_log() if "/labels?" in r["path"] and "%3A%3A"
                in r["path"]]


def test_a_draft_mr_carries_its_files_owners(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`docsgap mr` labelled a draft MR with the docs label and the marker only: the owning
    group's technical writer was not routed to it as to an issue about the same page."""
    from docsgap.demo.loop import MR_FILE, MR_TOPIC
    from tests.e2e.test_mr_fork import config

    cfg = demo_config(sandbox, tmp_path)
    toml = config(sandbox, tmp_path, monkeypatch)
    runner = CliRunner()
    assert runner.invoke(app, ["docs", "sync", "--config", str(toml)]).exit_code == 0
    content = tmp_path / "fixed.md"
    content.write_text(sandbox.state()["files"][f"{cfg.gitlab.project}@master"][MR_FILE]
                       + "\nTo expose a whole directory, end its path with `/`.\n",
                       encoding="utf-8")
    args = ["mr", str(MR_TOPIC), "--file", MR_FILE, "--content", str(content),
            "--config", str(toml)]

    dry = runner.invoke(app, args)
    assert dry.exit_code == 0, dry.output
    assert ("label group::pipeline authoring: front matter of doc/ci/yaml/_index.md (group: "
            "Pipeline Authoring) (added if the project or its groups have it)") in dry.stdout

    applied = runner.invoke(app, [*args, "--apply"])
    assert applied.exit_code == 0, applied.output
    [mr] = [m for m in sandbox.state()["merge_requests"]
            if m["source_branch"].startswith(f"docsgap/t{MR_TOPIC}")]
    assert mr["labels"][-2:] == ["devops::verify", "group::pipeline authoring"]
