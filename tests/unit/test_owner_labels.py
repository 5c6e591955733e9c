"""Owner labels: a docs page's front matter (`stage`, `group`) kept by the index, turned into
GitLab's stage and group labels by `gitlab.owner_labels`, explained in the plan, and applied
only when the project or its groups have them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from docsgap.act import planview
from docsgap.act.apply import Applier
from docsgap.compose.labels import PageOwner, issue_labels, owner_labels
from docsgap.config import Config, GitLabConfig
from docsgap.config.validate import check_merged
from docsgap.docpages.pages import map_url
from docsgap.docs.index import DocsIndex
from docsgap.docs.mdpage import parse_page
from docsgap.docs.owners import label_issues
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import index_files
from docsgap.errors import ConfigError, UnavailableError
from docsgap.models import (
    Action,
    ActionKind,
    Evidence,
    GapType,
    Plan,
    Post,
    RunResult,
    Signal,
    Thread,
)
from docsgap.state import StateStore
from tests.fakes import T0, FakeForum, FakeTracker

YAML_PAGE = "doc/ci/yaml/_index.md"
FILES = {
    YAML_PAGE: "---\nstage: Verify\ngroup: Pipeline Authoring\ninfo: x\ntitle: CI/CD YAML\n"
    "---\n\nKeywords.\n",
    "doc/development/labels.md": "---\nstage: none\ngroup: unassigned\ntitle: Labels\n"
    "---\n\nLabels.\n",
    "doc/ci/old.md": "---\nredirect_to: 'yaml/_index.md'\n---\n\nMoved.\n",
    "doc/user/odd.md": "---\nstage: [Verify]\ngroup: 'Team, with comma'\ntitle: Odd\n---\n\nx\n",
}
CFG = Config()


def synced(store: StateStore) -> DocsIndex:
    docs = DocsStore(store.db)
    index_files(docs, "gitlab-org/gitlab", [(p, t.encode()) for p, t in FILES.items()],
                commit="c1", ref="master", origin="archive")
    return DocsIndex(docs.pages())


def signal(url: str | None, tid: int = 1, gap: GapType = GapType.MISSING) -> Signal:
    page = map_url(url) if url else None
    return Signal(tid, "t", f"https://forum.test/t/x/{tid}", gap, 1.0, ("r",),
                  (Evidence("r", "text", "x", 1),), page, 1)


def planned(docs: DocsIndex | None, *signals: Signal, cfg: Config = CFG) -> Action:
    action = Action(ActionKind.OPEN_ISSUE, f"issue:{signals[0].key}", "why",
                    tuple(s.thread_id for s in signals), tuple(s.key for s in signals))
    [out] = label_issues(Plan((action,), (), signals), docs, cfg).actions
    return out


# --- front matter and templates ------------------------------------------------------------

def test_front_matter_gives_stage_and_group_as_written() -> None:
    page = parse_page(FILES[YAML_PAGE], "ci/yaml/_index.md")
    assert (page.title, page.stage, page.group) == ("CI/CD YAML", "Verify", "Pipeline Authoring")
    odd = parse_page(FILES["doc/user/odd.md"], "user/odd.md")
    assert (odd.stage, odd.group) == ("", "Team, with comma")  # a list is no owner
    assert parse_page("# Title\n\ntext", "a.md").stage == ""


def test_templates_write_gitlab_label_names_and_skip_pages_nobody_owns() -> None:
    owner = PageOwner(YAML_PAGE, "Verify", "Pipeline  Authoring")
    got = owner_labels(("devops::{stage}", "group::{group}", "{Group} team"), owner)
    assert [(g.name, g.why) for g in got] == [
        ("devops::verify", f"front matter of {YAML_PAGE} (stage: Verify)"),
        ("group::pipeline authoring", f"front matter of {YAML_PAGE} (group: Pipeline  Authoring)"),
        ("Pipeline Authoring team", f"front matter of {YAML_PAGE} (group: Pipeline  Authoring)"),
    ]
    assert all(g.owner for g in got)
    assert owner_labels(("devops::{stage}", "group::{group}"),
                        PageOwner("p.md", "none", "unassigned")) == ()
    assert owner_labels(("group::{group}",), PageOwner("p.md", "", "a, b")) == ()  # comma


def test_issue_labels_keep_order_and_each_name_once() -> None:
    g = replace(GitLabConfig(), issue_labels=("documentation", "group::pipeline authoring"))
    got = issue_labels(GapType.MISSING, g, PageOwner(YAML_PAGE, "Verify", "Pipeline Authoring"))
    assert [(x.name, x.why, x.owner) for x in got] == [
        ("documentation", "gitlab.issue_labels", False),
        ("group::pipeline authoring", "gitlab.issue_labels", False),
        ("docsgap", "gitlab.marker_label", False),
        ("docs-missing", "gitlab.labels_by_gap.missing", False),
        ("devops::verify", f"front matter of {YAML_PAGE} (stage: Verify)", True),
    ]


@pytest.mark.parametrize(("templates", "says"), [
    (("group::{team}",), "not {team}"),
    (("group::pipeline authoring",), "names no owner"),
    (("group::{group",), "expected {stage} or {group}"),
    (("a,{group}",), "comma"),
])
def test_owner_label_templates_are_checked(templates: tuple[str, ...], says: str) -> None:
    cfg = replace(CFG, gitlab=replace(CFG.gitlab, owner_labels=templates))
    with pytest.raises(ConfigError, match="gitlab.owner_labels") as err:
        check_merged(cfg)
    assert says in str(err.value)
    check_merged(replace(CFG, gitlab=replace(CFG.gitlab, owner_labels=())))  # off is fine


@pytest.mark.parametrize(("gitlab", "says"), [
    ({"issue_labels": ("documentation", "group::technical writing")},
     "gitlab.owner_labels 'group::{group}' and gitlab.issue_labels 'group::technical writing'"),
    ({"issue_labels": ("type::maintenance", "type::bug")},
     "gitlab.issue_labels 'type::maintenance' and gitlab.issue_labels 'type::bug'"),
    ({"labels_by_gap": {"missing": ("devops::create",)}},
     "gitlab.owner_labels 'devops::{stage}' and gitlab.labels_by_gap.missing 'devops::create'"),
    ({"issue_labels": ("docs::fix",), "labels_by_gap": {"missing": ("docs::new",)}},
     "'docs::fix' and gitlab.labels_by_gap.missing 'docs::new'"),
])
def test_two_labels_of_one_scope_are_refused(gitlab: dict[str, object], says: str) -> None:
    # GitLab keeps one scoped label per scope: the plan would list a label the issue lacks.
    cfg = replace(CFG, gitlab=replace(CFG.gitlab, **gitlab))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="share the scope") as err:
        check_merged(cfg)
    assert says in str(err.value)
    check_merged(replace(CFG, gitlab=replace(CFG.gitlab, owner_labels=(), **{
        k: v for k, v in gitlab.items() if k == "labels_by_gap"})))  # type: ignore[arg-type]


def test_scoped_labels_of_different_scopes_and_gaps_are_fine() -> None:
    check_merged(replace(CFG, gitlab=replace(CFG.gitlab, issue_labels=(
        "documentation", "type::maintenance"), labels_by_gap={
        "missing": ("docs::new",), "incorrect": ("docs::fix",)})))


# --- the plan and why ----------------------------------------------------------------------

def test_the_plan_names_each_owner_label_with_its_page(store: StateStore) -> None:
    action = planned(synced(store), signal("https://docs.gitlab.com/ci/yaml/#rules"))
    owners = [(x.name, x.why) for x in action.labels if x.owner]
    assert owners == [
        ("devops::verify", f"front matter of {YAML_PAGE} (stage: Verify)"),
        ("group::pipeline authoring", f"front matter of {YAML_PAGE} (group: Pipeline Authoring)"),
    ]
    assert action.labels_note == ""
    text = planview.render_text(RunResult(Plan((action,), (), ())), applied=False)
    assert f"group::pipeline authoring: front matter of {YAML_PAGE}" in text
    assert "documentation, docs-feedback (gitlab.issue_labels); docsgap (gitlab.marker_label)" \
        in text


@pytest.mark.parametrize(("url", "synced_first", "note"), [
    ("https://docs.gitlab.com/ci/yaml/", False, "no docs index (`docsgap docs sync`"),
    ("https://example.com/other/", True, "is not a page of a docs project docsgap knows"),
    ("https://docs.gitlab.com/ci/nothing_here/", True, "is not in the docs index"),
    ("https://docs.gitlab.com/development/labels/", True,
     "names no owner in its front matter (stage: none, group: unassigned)"),
    (None, True, "the report names no docs page"),
])
def test_no_owner_labels_and_the_plan_says_why(
        store: StateStore, url: str | None, synced_first: bool, note: str) -> None:
    docs = synced(store) if synced_first else None
    action = planned(docs, signal(url))
    assert not any(x.owner for x in action.labels)
    assert action.labels_note.startswith("no owner labels: ") and note in action.labels_note
    text = planview.render_text(RunResult(Plan((action,), (), ())), applied=False)
    assert action.labels_note in text
    off = replace(CFG, gitlab=replace(CFG.gitlab, owner_labels=()))
    assert planned(docs, signal(url), cfg=off).labels_note == ""


def test_a_moved_page_is_answered_for_by_where_it_went(store: StateStore) -> None:
    action = planned(synced(store), signal("https://docs.gitlab.com/ci/old/"))
    assert [x.why for x in action.labels if x.owner] == [
        f"front matter of {YAML_PAGE} (stage: Verify)",
        f"front matter of {YAML_PAGE} (group: Pipeline Authoring)"]


def test_a_later_member_can_name_the_owner(store: StateStore) -> None:
    action = planned(synced(store), signal(None, 1), signal("https://docs.gitlab.com/ci/yaml/", 2))
    assert [x.name for x in action.labels if x.owner] == [
        "devops::verify", "group::pipeline authoring"]


def test_sync_keeps_owners_and_a_resync_notices_a_new_group(store: StateStore) -> None:
    synced(store)
    docs = DocsStore(store.db)

    def owner() -> tuple[str, str]:
        [page] = [p for p in docs.pages() if p.path == YAML_PAGE]
        return page.stage, page.group

    assert owner() == ("Verify", "Pipeline Authoring")
    moved = FILES[YAML_PAGE].replace("Pipeline Authoring", "Pipeline Execution")
    index_files(docs, "gitlab-org/gitlab", [(YAML_PAGE, moved.encode())], commit="c2",
                ref="master", origin="archive")
    assert owner() == ("Verify", "Pipeline Execution")


# --- applied: only labels the project has --------------------------------------------------

def applier(store: StateStore, tracker: FakeTracker, s: Signal) -> Applier:
    post = Post(11, s.thread_id, 1, "ana", T0, "<p>text</p>", "text")
    thread = Thread(s.thread_id, "x", "t", s.thread_url, (post,))
    return Applier(FakeForum([thread]), tracker, store, replace(CFG, policy=replace(
        CFG.policy, open_issue="auto")), {s.key: s})


def test_owner_labels_the_project_lacks_are_left_out_and_said(store: StateStore) -> None:
    s = signal("https://docs.gitlab.com/ci/yaml/")
    action = planned(synced(store), s)
    tracker = FakeTracker(label_names=("documentation", "group::pipeline authoring"))

    [out] = applier(store, tracker, s).apply(Plan((action,), (), (s,)), write=True)

    assert out.status == "applied"
    [issue] = tracker.created
    assert issue.labels == ("documentation", "docs-feedback", "docsgap", "docs-missing",
                            "group::pipeline authoring")
    assert out.note is not None and "devops::verify: no such label in gitlab-org/gitlab" \
        in out.note
    assert tracker.label_lookups == ["devops::verify", "group::pipeline authoring"]
    text = planview.render_text(RunResult(Plan((action,), (), (s,)), (out,)), applied=True)
    assert f"note: {out.note}" in text


def test_a_failed_lookup_files_the_issue_without_owner_labels(
        store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    s = signal("https://docs.gitlab.com/ci/yaml/")
    action = planned(synced(store), s)
    tracker = FakeTracker()

    def down(names: object) -> dict[str, str | None]:
        raise UnavailableError("GitLab answered 502", status=502)

    monkeypatch.setattr(tracker, "label_titles", down)
    [out] = applier(store, tracker, s).apply(Plan((action,), (), (s,)), write=True)
    assert out.status == "applied" and "looking them up failed" in (out.note or "")
    assert not {"devops::verify", "group::pipeline authoring"} & set(tracker.created[0].labels)


def test_a_plan_without_labels_files_the_configured_ones(store: StateStore) -> None:
    s = signal(None)
    action = Action(ActionKind.OPEN_ISSUE, f"issue:{s.key}", "why", (1,), (s.key,))
    tracker = FakeTracker()
    [out] = applier(store, tracker, s).apply(Plan((action,), (), (s,)), write=True)
    assert out.status == "applied" and out.note is None and tracker.label_lookups == []
    assert tracker.created[0].labels == ("documentation", "docs-feedback", "docsgap",
                                         "docs-missing")


def test_owner_labels_found_once_are_not_asked_again_for_a_day(store: StateStore) -> None:
    index = synced(store)
    first, second = signal("https://docs.gitlab.com/ci/yaml/", 1), \
        signal("https://docs.gitlab.com/ci/yaml/#rules", 2, GapType.INCORRECT)
    tracker = FakeTracker(label_names=("devops::verify",))
    for s in (first, second):
        action = planned(index, s)
        [out] = applier(store, tracker, s).apply(Plan((action,), (), (s,)), write=True)
        assert out.status == "applied"
    # devops::verify was found the first time; the missing group label is asked each time.
    assert tracker.label_lookups == ["devops::verify", "group::pipeline authoring",
                                     "group::pipeline authoring"]
    assert all("devops::verify" in i.labels for i in tracker.created)
    store.db.execute("update label_titles set checked_at = '2000-01-01T00:00:00Z'")
    third = signal("https://docs.gitlab.com/ci/yaml/", 3)
    applier(store, tracker, third).apply(Plan((planned(index, third),), (), (third,)),
                                         write=True)
    assert tracker.label_lookups[-2:] == ["devops::verify", "group::pipeline authoring"]


def test_owner_labels_from_the_file_are_checked_and_shown(tmp_path: Path) -> None:
    from docsgap.cli.config_cmd import settings
    from docsgap.config import load_config

    toml = tmp_path / "docsgap.toml"
    toml.write_text('[gitlab]\nproject = "a/b"\nowner_labels = ["team::{Group}"]\n',
                    encoding="utf-8")
    cfg = load_config(toml, env={})
    assert cfg.gitlab.owner_labels == ("team::{Group}",)
    shown = {name: (value, origin) for name, value, origin in settings(cfg)}
    assert shown["gitlab.owner_labels"][0] == ["team::{Group}"]
    toml.write_text('[gitlab]\nproject = "a/b"\nowner_labels = ["team::{grup}"]\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"gitlab.owner_labels: 'team::\{grup\}'"):
        load_config(toml, env={})


def test_docs_status_counts_the_pages_that_name_their_owners(store: StateStore) -> None:
    from docsgap.docs.sync import sync_path

    tree = Path(__file__).resolve().parents[2] / "docsgap" / "sandbox" / "demo_docs"
    sync_path(DocsStore(store.db), tree, "gitlab-org/gitlab", commit="demo")
    [source] = DocsStore(store.db).sources()
    pages = {p.path: p for p in DocsStore(store.db).pages()}
    assert source.owned == sum(1 for p in pages.values() if p.stage or p.group) == len(pages)
    page = pages["doc/user/packages/dependency_proxy/_index.md"]
    assert (page.stage, page.group) == ("Package", "Container Registry")


def test_review_shows_each_label_and_why(store: StateStore) -> None:
    from docsgap.cli.review_cmd import render_item
    from docsgap.review import ReviewItem, item_json

    s = signal("https://docs.gitlab.com/ci/yaml/")
    action = planned(synced(store), s)
    item = ReviewItem(action, (s,), None, "Title: t\nLabels: x\n\nbody")
    shown = render_item(item, 1, 1, None)
    assert f"devops::verify: front matter of {YAML_PAGE} (stage: Verify)" in shown
    assert shown.index("why:") < shown.index("labels: documentation") < shown.index("----")
    data = item_json(item)
    assert {"name": "group::pipeline authoring", "owner": True,
            "why": f"front matter of {YAML_PAGE} (group: Pipeline Authoring)"} in data["labels"]


def test_pages_indexed_before_owners_were_kept_say_so_until_a_sync(store: StateStore) -> None:
    synced(store)
    # As m011 leaves a state synced by an older docsgap: owners unknown, the next sync re-reads.
    store.db.execute("update docs_pages set stage = null, owner_group = null, digest = ''")
    docs = DocsStore(store.db)
    action = planned(DocsIndex(docs.pages()), signal("https://docs.gitlab.com/ci/yaml/"))
    assert "indexed before docsgap kept page owners (run `docsgap docs sync`)" in (
        action.labels_note)
    again = index_files(docs, "gitlab-org/gitlab", [(p, t.encode()) for p, t in FILES.items()],
                        commit="c1", ref="master", origin="archive")
    assert again.changed == len(FILES)
    action = planned(DocsIndex(docs.pages()), signal("https://docs.gitlab.com/ci/yaml/"))
    assert [x.name for x in action.labels if x.owner] == [
        "devops::verify", "group::pipeline authoring"]


def test_upgrading_a_synced_state_makes_the_next_sync_read_every_page(tmp_path: Path) -> None:
    from docsgap.docs.sync import ArchiveSource, CommitRef, sync_archive
    from tests.oldstate import state_before

    path = tmp_path / "old.db"
    db = state_before(path, "m011_docs_page_owners")
    db.table("docs_sources").insert({"project": "gitlab-org/gitlab", "dir": "doc",
                                     "ref": "master", "commit_id": "c1", "origin": "archive",
                                     "pages": 1})
    db.table("docs_pages").insert({"key": f"gitlab-org/gitlab:{YAML_PAGE}",
                                   "project": "gitlab-org/gitlab", "path": YAML_PAGE,
                                   "url": "https://docs.gitlab.com/ci/yaml/", "urls": "[]",
                                   "title": "CI/CD YAML", "sections": "[]", "digest": "d",
                                   "commit_id": "c1"})
    db.close()
    store = StateStore(path)
    asked: list[str] = []

    class Source:
        def last_commit(self, project: str, path: str, ref: str) -> CommitRef:
            return CommitRef("c1")  # the docs did not change since the old sync

        def archive(self, project: str, path: str, sha: str) -> bytes:
            import io
            import tarfile
            asked.append(sha)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                data = FILES[YAML_PAGE].encode()
                info = tarfile.TarInfo(f"gitlab-c1/{YAML_PAGE}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            return buf.getvalue()

    source: ArchiveSource = Source()
    [page] = DocsStore(store.db).pages()
    assert not page.owners_read
    result = sync_archive(DocsStore(store.db), source, "gitlab-org/gitlab")
    assert asked == ["c1"] and result.changed == 1  # downloaded again although unchanged
    [page] = DocsStore(store.db).pages()
    assert (page.stage, page.group, page.owners_read) == ("Verify", "Pipeline Authoring", True)
