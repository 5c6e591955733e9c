"""The docs index: reading a source file, its URLs in every era, the local sync (incremental,
removals, atomic), GitLab's archive layout, search and finding pages by URL."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from docsgap.docpages.urls import page_urls
from docsgap.docs.index import DocsIndex
from docsgap.docs.mdpage import heading_anchor, parse_page
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import CommitRef, index_files, sync_archive, sync_path
from docsgap.errors import ConfigError, PayloadError
from docsgap.state import StateStore

PAGE = """---
stage: Verify
title: Scheduled pipelines
---

Intro text about schedules.

## Add a pipeline schedule

Select **New schedule**.

```yaml
# not a heading
job:
  script: echo
```

## Run a job only in `schedule` pipelines {#only-scheduled}

Use `rules`.

## FAQ

### FAQ
"""


def test_parse_page_reads_title_sections_and_anchors() -> None:
    page = parse_page(PAGE, "ci/pipelines/schedules.md")
    assert page.title == "Scheduled pipelines"
    assert [s.heading for s in page.sections] == [
        "", "Add a pipeline schedule", "Run a job only in schedule pipelines", "FAQ", "FAQ"]
    assert [s.anchor for s in page.sections] == [
        "", "add-a-pipeline-schedule", "only-scheduled", "faq", "faq-1"]
    assert "# not a heading" in page.sections[1].text  # a fence is not a heading
    assert page.redirect_to is None


def test_parse_page_nanoc_title_and_redirect() -> None:
    old = "# Caching in GitLab CI/CD **(FREE)**\n\nText.\n\n## Cache vs artifacts\n"
    assert parse_page(old, "ci/caching/index.md").title == "Caching in GitLab CI/CD (FREE)"
    stub = "---\nredirect_to: '../triggers/_index.md#top'\n---\n\nMoved.\n"
    assert parse_page(stub, "ci/pipelines/old.md").redirect_to == "ci/triggers/_index.md"
    assert parse_page("no front matter", "user/profile/_index.md").title == "Profile"


@pytest.mark.parametrize(("heading", "anchor"), [
    ("`artifacts:expose_as`", "artifactsexpose_as"),
    ("Use tags to control which jobs a runner can run",
     "use-tags-to-control-which-jobs-a-runner-can-run"),
    ("CI/CD variable precedence", "cicd-variable-precedence"),
    ("[Link](x.md) and **bold**", "link-and-bold"),
])
def test_heading_anchor(heading: str, anchor: str) -> None:
    assert heading_anchor(heading) == anchor


def test_page_urls_cover_every_era_and_map_back() -> None:
    urls = page_urls("gitlab-org/gitlab", "doc/ci/yaml/_index.md")
    assert urls[0] == "https://docs.gitlab.com/ci/yaml/"
    assert "https://docs.gitlab.com/ee/ci/yaml/index.html" in urls
    assert "https://docs.gitlab.com/ce/ci/yaml/README.html" in urls
    assert "https://gitlab.com/help/ci/yaml/index.md" in urls
    page = page_urls("gitlab-org/gitlab-runner", "docs/executors/shell.md")
    assert page[:2] == ("https://docs.gitlab.com/runner/executors/shell/",
                        "https://docs.gitlab.com/runner/executors/shell.html")


def write_tree(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


def test_sync_path_is_incremental_and_drops_removed_pages(tmp_path: Path,
                                                          store: StateStore) -> None:
    docs = DocsStore(store.db)
    write_tree(tmp_path, {"doc/ci/pipelines/schedules.md": PAGE,
                          "doc/ci/old.md": "---\ntitle: Old\n---\n\nGone soon.\n",
                          "doc/img/x.png": "not a page", "README.md": "# outside doc/"})
    first = sync_path(docs, tmp_path, "gitlab-org/gitlab", commit="c1")
    assert (first.pages, first.changed, first.removed) == (2, 2, 0)
    (tmp_path / "doc/ci/old.md").unlink()
    second = sync_path(docs, tmp_path, "gitlab-org/gitlab", commit="c2")
    assert (second.pages, second.changed, second.removed) == (1, 0, 1)
    [page] = docs.pages()
    assert page.path == "doc/ci/pipelines/schedules.md" and page.commit == "c1"
    assert page.url == "https://docs.gitlab.com/ci/pipelines/schedules/"
    source = docs.source("gitlab-org/gitlab")
    assert source is not None and (source.commit, source.pages) == ("c2", 1)
    with pytest.raises(ConfigError):
        sync_path(docs, tmp_path / "nowhere", "gitlab-org/gitlab")


def tar_gz(files: dict[str, str], prefix: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeArchive:
    def __init__(self, head: str, files: dict[str, str]) -> None:
        self.head, self.files, self.calls = head, files, []

    def last_commit(self, project: str, path: str, ref: str) -> CommitRef | None:
        self.calls.append(("commits", project, path, ref))
        return CommitRef(self.head, "2026-01-01T00:00:00Z")

    def archive(self, project: str, path: str, sha: str) -> bytes:
        self.calls.append(("archive", project, path, sha))
        return tar_gz(self.files, f"gitlab-{sha}-{sha}-doc")


def test_sync_archive_downloads_only_when_the_docs_folder_changed(store: StateStore) -> None:
    docs = DocsStore(store.db)
    source = FakeArchive("aaa", {"doc/ci/pipelines/schedules.md": PAGE, "app/x.rb": "code"})
    first = sync_archive(docs, source, "gitlab-org/gitlab")
    assert first.downloaded and first.pages == 1
    assert [c[0] for c in source.calls] == ["commits", "archive"]
    assert source.calls[0][2:] == ("doc", "master")
    again = sync_archive(docs, source, "gitlab-org/gitlab")
    assert again.unchanged and [c[0] for c in source.calls] == ["commits", "archive", "commits"]
    source.head = "bbb"
    source.files["doc/ci/new.md"] = "---\ntitle: New page\n---\n\nNew.\n"
    third = sync_archive(docs, source, "gitlab-org/gitlab")
    assert (third.downloaded, third.changed, third.pages) == (True, 1, 2)
    assert {p.path: p.commit for p in docs.pages()} == {
        "doc/ci/new.md": "bbb", "doc/ci/pipelines/schedules.md": "aaa"}


def test_a_broken_archive_leaves_the_index_whole(store: StateStore) -> None:
    docs = DocsStore(store.db)
    sync_archive(docs, FakeArchive("aaa", {"doc/a.md": PAGE}), "gitlab-org/gitlab")

    class Broken(FakeArchive):
        def archive(self, project: str, path: str, sha: str) -> bytes:
            return b"\x1f\x8b not really gzip"

    with pytest.raises(PayloadError):
        sync_archive(docs, Broken("bbb", {}), "gitlab-org/gitlab")
    assert [p.path for p in docs.pages()] == ["doc/a.md"]
    assert docs.source("gitlab-org/gitlab").commit == "aaa"  # type: ignore[union-attr]


def test_index_search_names_the_section_and_find_follows_every_era(store: StateStore) -> None:
    docs = DocsStore(store.db)
    index_files(docs, "gitlab-org/gitlab", [
        ("doc/ci/pipelines/schedules.md", PAGE.encode()),
        ("doc/ci/jobs/_index.md", b"---\ntitle: CI/CD jobs\n---\n\n## Retry a failed job\n\n"
                                  b"Select Retry.\n"),
        ("doc/ci/old.md", b"---\nredirect_to: 'jobs/_index.md'\n---\n\nMoved.\n"),
    ], commit="c1", ref="master", origin="archive")
    index = DocsIndex(docs.pages())
    [best, *_] = index.search("How do I add a pipeline schedule?")
    assert best.page.path == "doc/ci/pipelines/schedules.md"
    assert best.url.endswith("/ci/pipelines/schedules/#add-a-pipeline-schedule")
    assert "schedul" in best.shared and 0 < best.score <= 1
    assert index.search("retry failed job")[0].page.title == "CI/CD jobs"
    assert all(h.page.path != "doc/ci/old.md" for h in index.search("moved"))
    for url in ("https://docs.gitlab.com/ee/ci/jobs/index.html", "docs.gitlab.com/ci/jobs",
                "https://docs.gitlab.com/16.11/ee/ci/jobs/#retry-a-failed-job"):
        found = index.find(url)
        assert found is not None and found.path == "doc/ci/jobs/_index.md", url
    assert index.find("https://docs.gitlab.com/ci/nothing/") is None
    assert index.knows("gitlab-org/gitlab") and not index.knows("gitlab-org/gitlab-runner")
