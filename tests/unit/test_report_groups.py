"""The report by owning group: each link's group (the issue's `group::` label, else the docs
page's front matter), shown in the table, CSV and JSON, `--group` to keep one group, and the
summary issue's new gaps grouped by it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.docs.store import DocsStore
from docsgap.docs.sync import index_files
from docsgap.report import SummaryOptions, extras_from_state, render, render_summary
from docsgap.report.groups import owner_group, same_group
from docsgap.report.rows import rows_from_state
from docsgap.state import StateStore
from tests.unit.report_builder import DEMO_NOW, PAGES, build_demo_state
from tests.unit.test_report_cli import cli  # noqa: F401 - the fixture

OWNERS = {"yaml": ("Verify", "Pipeline Authoring"), "vars": ("Verify", "Pipeline Authoring"),
          "backup": ("Systems", "Geo"), "registry": ("Package", "Container Registry"),
          "pages": ("none", "unassigned")}


@pytest.fixture
def demo(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "state.db")
    build_demo_state(store)
    files = [(PAGES[name].path or "", f"---\nstage: {stage}\ngroup: {group}\ntitle: t\n---\n\nx\n"
              .encode()) for name, (stage, group) in OWNERS.items()]
    index_files(DocsStore(store.db), "gitlab-org/gitlab", files, commit="c", ref="master",
                origin="archive")
    return store


def test_group_comes_from_the_issue_label_else_the_front_matter() -> None:
    assert owner_group(("documentation", "group::Pipeline Execution"), "Runner") == (
        "pipeline execution")
    assert owner_group(("documentation",), "Pipeline  Authoring") == "pipeline authoring"
    assert owner_group((), "unassigned") is None
    assert same_group("pipeline authoring", "group::Pipeline Authoring")
    assert same_group(None, "none") and not same_group("geo", "none")


def test_rows_carry_their_group_in_every_format(demo: StateStore) -> None:
    rows = rows_from_state(demo)
    yaml = [r for r in rows if r.page_path == PAGES["yaml"].path]
    assert yaml and all((r.group, r.group_from) == ("pipeline authoring", "front matter")
                        for r in yaml)
    assert all(r.group is None for r in rows if r.page_path == PAGES["pages"].path)
    relabelled = replace(yaml[0], item_labels=("documentation", "group::pipeline execution"))
    assert (relabelled.group, relabelled.group_from) == ("pipeline execution", "label")

    parsed = list(csv.DictReader(io.StringIO(render(rows, "csv"))))
    assert {p["group"] for p in parsed} >= {"pipeline authoring", "geo", ""}
    data = json.loads(render(rows, "json"))
    assert {r["group"] for r in data["rows"]} >= {"pipeline authoring", "container registry"}
    table = render(rows, "table", width=120)
    assert table.splitlines()[2].split()[-1] == "group"
    assert "pipeline authoring" in table


def test_without_a_docs_index_the_table_has_no_group_column(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "plain.db")
    build_demo_state(store)
    table = render(rows_from_state(store), "table", width=120)
    assert "group" not in table.splitlines()[2]


def test_report_group_keeps_one_groups_links(cli: typer.Typer, demo: StateStore) -> None:  # noqa: F811
    runner = CliRunner()
    got = runner.invoke(cli, ["report", "--state", demo.path, "--json", "--group",
                              "group::Pipeline Authoring"])
    assert got.exit_code == 0, got.output
    rows = json.loads(got.stdout)["rows"]
    assert rows and {r["group"] for r in rows} == {"pipeline authoring"}
    everyone = json.loads(runner.invoke(cli, ["report", "--state", demo.path, "--json"]).stdout)
    assert len(rows) == sum(r["group"] == "pipeline authoring" for r in everyone["rows"])
    nobody = json.loads(runner.invoke(cli, ["report", "--state", demo.path, "--json",
                                            "--group", "none"]).stdout)["rows"]
    assert nobody and all(r["group"] is None for r in nobody)


def test_summary_groups_new_gaps_by_owner(demo: StateStore) -> None:
    rows = rows_from_state(demo)
    text = render_summary(rows, extras_from_state(demo), now=DEMO_NOW,
                          options=SummaryOptions(since=DEMO_NOW.replace(year=2024)))
    section = text.split("### New gaps", 1)[1].split("###", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")][2:]
    groups = [line.rstrip(" |").rsplit("| ", 1)[-1] for line in lines]
    assert "| Group |" in section
    firsts = list(dict.fromkeys(groups))
    assert firsts[0] == "pipeline authoring" and firsts[-1] == "–"
    assert groups == sorted(groups, key=firsts.index)  # each group's gaps together
