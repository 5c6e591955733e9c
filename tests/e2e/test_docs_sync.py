"""`docsgap docs sync` against the sandbox over real HTTP (python-gitlab): the first sync is one
commit lookup and one archive download; a sync with nothing new is one request; a merged docs
change costs one download and rewrites only the changed page; a change outside the docs folder
costs one request."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.demo import demo_config
from docsgap.docs.service import load_index, sync_docs
from docsgap.docs.store import DocsStore
from docsgap.errors import PayloadError
from docsgap.sandbox import Sandbox
from docsgap.sandbox.seed import docs_tree
from docsgap.state import StateStore

pytestmark = pytest.mark.e2e

NEEDS_MR = 172455
"""The seeded MR that rewrites doc/ci/yaml/_index.md."""
RACK_MR = 174001
"""The seeded MR that touches only Gemfile.lock."""


def gitlab_gets(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests_log()
            if r["service"] == "gitlab" and r["method"] == "GET"]


def test_the_docs_ref_is_the_one_synced(sandbox: Sandbox, tmp_path: Path) -> None:
    # Found walking the README: docs.ref = "nobranch" synced master's docs; the commits request
    # went out without ref_name.
    cfg = demo_config(sandbox, tmp_path)
    cfg = replace(cfg, docs=replace(cfg.docs, ref="nobranch"))
    store = StateStore(cfg.state_path)
    try:
        sandbox.clear_requests()
        with pytest.raises(PayloadError, match="no commit on nobranch touches doc/"):
            sync_docs(cfg, store)
        assert "ref_name=nobranch" in gitlab_gets(sandbox)[0]
    finally:
        store.close()


def test_archive_sync_costs_one_request_when_unchanged(sandbox: Sandbox, tmp_path: Path) -> None:
    cfg = demo_config(sandbox, tmp_path)
    store = StateStore(cfg.state_path)
    try:
        sandbox.clear_requests()
        [first] = sync_docs(cfg, store)
        first_gets = gitlab_gets(sandbox)
        assert len(first_gets) == 2 and first.downloaded and not first.unchanged
        assert "/repository/commits" in first_gets[0] and "path=doc" in first_gets[0]
        assert "/repository/archive.tar.gz" in first_gets[1] and f"sha={first.commit}" in (
            first_gets[1])
        seeded = {p for p in docs_tree("demo_docs") if p.startswith("doc/")}
        pages = {p.path for p in DocsStore(store.db).pages()}
        assert seeded <= pages and "doc/ci/yaml/_index.md" in pages
        assert first.pages == len(pages) and first.changed == len(pages)

        sandbox.clear_requests()
        [again] = sync_docs(cfg, store)
        assert len(gitlab_gets(sandbox)) == 1
        assert again.unchanged and again.commit == first.commit and not again.downloaded

        # Outside the docs folder: still one request, nothing downloaded.
        sandbox.merge_merge_request(RACK_MR)
        sandbox.clear_requests()
        [outside] = sync_docs(cfg, store)
        assert len(gitlab_gets(sandbox)) == 1 and outside.unchanged

        # A merged docs change: one lookup, one download, one page rewritten.
        sandbox.merge_merge_request(NEEDS_MR)
        sandbox.clear_requests()
        [changed] = sync_docs(cfg, store)
        gets = gitlab_gets(sandbox)
        assert len(gets) == 2 and "/repository/archive.tar.gz" in gets[1]
        assert changed.downloaded and changed.commit != first.commit
        assert (changed.changed, changed.removed) == (1, 0)
        index = load_index(cfg, store)
        assert index is not None
        [hit, *_] = index.search("how do needs and dependencies interact")
        assert hit.page.path == "doc/ci/yaml/_index.md"
        assert hit.page.commit == changed.commit
    finally:
        store.close()


def test_cli_sync_then_search(sandbox: Sandbox, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = demo_config(sandbox, tmp_path)
    toml = tmp_path / "docsgap.toml"
    toml.write_text(f'state_path = "{cfg.state_path}"\n[gitlab]\nurl = "{cfg.gitlab.url}"\n'
                    f'project = "{cfg.gitlab.project}"\n', encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(app, ["docs", "sync", "--config", str(toml)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "gitlab-org/gitlab: synced at" in out.output and "one download" in out.output
    out = runner.invoke(app, ["docs", "sync", "--config", str(toml)], catch_exceptions=False)
    assert "unchanged" in out.output
    out = runner.invoke(app, ["docs", "search", "run a job only in scheduled pipelines",
                              "--config", str(toml)], catch_exceptions=False)
    assert out.exit_code == 0
    assert out.output.splitlines()[1].strip().endswith(
        "/ci/pipelines/schedules/#run-a-job-only-in-scheduled-pipelines")
