"""The docs index on detected gaps: "missing" confirmed or downgraded to "confusing", pages that
are gone or moved become `broken_link` with the current page named, and the issue says so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from docsgap import compose
from docsgap.config import Config, DocsConfig
from docsgap.docpages.pages import map_url
from docsgap.docs.checks import annotate, check_signals
from docsgap.docs.index import DocsIndex
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import index_files
from docsgap.models import Action, ActionKind, Evidence, GapType, Plan, Signal
from docsgap.state import StateStore

FILES = {
    "doc/ci/pipelines/schedules.md": "---\ntitle: Scheduled pipelines\n---\n\n## Take ownership "
    "of a pipeline schedule\n\nA schedule runs as its owner. When the owner leaves, a "
    "Maintainer selects Take ownership so the schedule runs again.\n",
    "doc/ci/triggers/_index.md": "---\ntitle: Trigger pipelines with the API\n---\n\nUse a "
    "trigger token.\n",
    "doc/ci/pipelines/pipeline_triggers.md": "---\nredirect_to: '../triggers/_index.md'\n---\n\n"
    "Moved.\n",
    "doc/user/packages/dependency_proxy/_index.md": "---\ntitle: Dependency Proxy\n---\n\nA "
    "cache for images.\n",
}


@pytest.fixture
def index(store: StateStore) -> DocsIndex:
    docs = DocsStore(store.db)
    index_files(docs, "gitlab-org/gitlab", [(p, t.encode()) for p, t in FILES.items()],
                commit="c", ref="master", origin="archive")
    return DocsIndex(docs.pages())


def signal(url: str, gap: GapType, title: str = "t", text: str = "", tid: int = 1) -> Signal:
    return Signal(tid, title, f"https://forum.test/t/x/{tid}", gap, 1.0, ("r",),
                  (Evidence("r", text, "x", 1),), map_url(url), 1)


CFG = replace(Config(), docs=DocsConfig(cover_threshold=0.5))


def test_missing_gap_covered_elsewhere_becomes_confusing(index: DocsIndex) -> None:
    s = signal("https://docs.gitlab.com/ci/triggers/", GapType.MISSING,
               "Take ownership of a pipeline schedule when the owner leaves is not documented",
               "The docs do not say how to take ownership of a schedule after its owner left.")
    [out] = check_signals([s], index, CFG)
    assert out.gap_type is GapType.CONFUSING
    assert "covered by Scheduled pipelines > Take ownership of a pipeline schedule" in (
        out.docs_note)
    assert out.page == s.page  # the page the thread named stays the gap's page
    not_covered = signal("https://docs.gitlab.com/ci/triggers/", GapType.MISSING,
                         "Rotating the Gitaly token is not documented", "No word on rotation.")
    [kept] = check_signals([not_covered], index, CFG)
    assert kept.gap_type is GapType.MISSING and "finds no page covering this" in kept.docs_note


@pytest.mark.parametrize(("url", "current"), [
    # A source file that only redirects now.
    ("https://docs.gitlab.com/ee/ci/pipelines/pipeline_triggers.html", "/ci/triggers/"),
    # The old name of a section page (index.md, the Nanoc era).
    ("https://docs.gitlab.com/ee/ci/triggers/index.html", None),
])
def test_moved_pages(index: DocsIndex, url: str, current: str | None) -> None:
    [out] = check_signals([signal(url, GapType.OUTDATED)], index, CFG)
    if current is None:  # found under its current name: nothing to say
        assert out.gap_type is GapType.OUTDATED and not out.docs_note
        return
    assert out.gap_type is GapType.BROKEN_LINK
    assert "was moved" in out.docs_note and current in out.docs_note


def test_gone_page_names_its_replacement_unless_archived(index: DocsIndex) -> None:
    gone = signal("https://docs.gitlab.com/ci/pipelines/nightly_builds/", GapType.INCORRECT,
                  "Take ownership of a pipeline schedule", "the schedule owner left")
    [out] = check_signals([gone], index, CFG)
    assert out.gap_type is GapType.BROKEN_LINK
    assert "no longer exists" in out.docs_note and "Scheduled pipelines" in out.docs_note
    archived = replace(gone, page=map_url("https://docs.gitlab.com/16.11/ee/ci/gone.html"))
    [kept] = check_signals([archived], index, CFG)
    assert kept.gap_type is GapType.INCORRECT and "archived version" in kept.docs_note
    # The map guessed a page where the tree has a section: found by URL, nothing to say.
    section = signal("https://docs.gitlab.com/user/packages/dependency_proxy/", GapType.OUTDATED)
    assert check_signals([section], index, CFG) == [section]
    # Another project than the index holds: nothing is known.
    runner = signal("https://docs.gitlab.com/runner/executors/shell/", GapType.OUTDATED)
    assert check_signals([runner], index, CFG) == [runner]


def test_policies_off_and_annotate(index: DocsIndex) -> None:
    moved = signal("https://docs.gitlab.com/ee/ci/pipelines/pipeline_triggers.html",
                   GapType.OUTDATED, tid=1)
    missing = signal("https://docs.gitlab.com/ci/triggers/", GapType.MISSING, "Gitaly rotation",
                     tid=2)
    off = replace(CFG, policy=replace(CFG.policy, docs_moved="off", docs_check="off"))
    assert check_signals([moved, missing], index, off) == [moved, missing]
    checked = check_signals([moved, missing], index, CFG)
    plan = Plan(tuple(Action(ActionKind.OPEN_ISSUE, f"issue:{s.key}", "why", (s.thread_id,),
                             (s.key,)) for s in checked))
    first, second = annotate(plan, [moved, missing], checked, CFG).actions
    assert first.needs_review and "policy docs_moved=review" in first.reason
    assert not second.needs_review and "finds no page covering this" in second.reason
    auto = replace(CFG, policy=replace(CFG.policy, docs_moved="auto"))
    assert not annotate(plan, [moved, missing], checked, auto).actions[0].needs_review
    draft = compose.issue_draft([checked[0]], labels=(), key="k")
    assert "- Docs index: The reported page" in draft.description
    assert "Broken link" in draft.title
