"""`docsgap docs sync`: bring the local docs index up to date with a docs project, from a local
checkout or from GitLab's repository archive of the docs folder.

From GitLab it costs one request when nothing changed (the newest commit touching the docs
folder is the one already indexed) and one download more when something did: the whole folder
as one `tar.gz` at that commit. Either way only files whose content changed are parsed and
written, and the pages, removals and the new commit are committed together."""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from docsgap.docpages.pages import DocsMap, load_docs_map
from docsgap.docpages.urls import docs_dir, page_urls
from docsgap.docs.mdpage import parse_page
from docsgap.docs.model import DocsPage
from docsgap.docs.store import DocsStore, SourceState
from docsgap.errors import ConfigError, PayloadError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 4 << 20
"""Larger files in an archive are skipped (no docs page is near this)."""


@dataclass(frozen=True, slots=True)
class CommitRef:
    """A commit as the sync needs it."""

    id: str
    committed_at: str | None = None


class ArchiveSource(Protocol):
    """Where docs archives come from (GitLab's repository API; a fake in tests)."""

    def last_commit(self, project: str, path: str, ref: str) -> CommitRef | None:
        """The newest commit on `ref` touching `path` (one request), None if there is none."""
        ...

    def archive(self, project: str, path: str, sha: str) -> bytes:
        """The `tar.gz` of `path` at `sha` (one download)."""
        ...


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one sync of one docs project did."""

    project: str
    commit: str
    origin: str
    pages: int
    changed: int = 0
    removed: int = 0
    downloaded: bool = False
    unchanged: bool = False
    """Nothing to do: the docs folder's newest commit is the one already indexed."""


def sync_archive(store: DocsStore, source: ArchiveSource, project: str, *, ref: str = "master",
                 docs_map: DocsMap | None = None) -> SyncResult:
    """Sync `project`'s docs folder from GitLab: one request to learn its newest commit, and
    one download of the folder when that commit is not the one indexed."""
    m = docs_map or load_docs_map()
    folder = _folder(project, m)
    head = source.last_commit(project, folder, ref)
    if head is None:
        raise PayloadError(f"{project}: no commit on {ref} touches {folder}/",
                           hint="check docs.projects and docs.ref")
    known = store.source(project)
    if known is not None and known.commit == head.id and known.origin == "archive":
        log.info("%s: docs unchanged at %s", project, head.id[:12])
        return SyncResult(project, head.id, "archive", known.pages, unchanged=True)
    blob = source.archive(project, folder, head.id)
    result = index_files(store, project, _tar_files(blob, folder), commit=head.id, ref=ref,
                         origin="archive", committed_at=head.committed_at, docs_map=m)
    log.info("%s: docs synced at %s (%d changed, %d removed)", project, head.id[:12],
             result.changed, result.removed)
    return SyncResult(result.project, result.commit, result.origin, result.pages,
                      result.changed, result.removed, downloaded=True)


def sync_path(store: DocsStore, root: Path, project: str, *, docs_map: DocsMap | None = None,
              commit: str | None = None) -> SyncResult:
    """Sync `project`'s docs from a local checkout at `root` (the repository root, holding the
    docs folder). Pages are compared by content, so uncommitted edits count too."""
    m = docs_map or load_docs_map()
    folder = _folder(project, m)
    base = root / folder
    if not root.is_dir():  # the checkout itself is missing (a relative path from elsewhere)
        raise ConfigError(f"{root}: no such folder (a checkout of {project} was expected)",
                          hint=f"a relative path is read from the current folder ({Path.cwd()})"
                          if not root.is_absolute() else None)
    if not base.is_dir():
        raise ConfigError(f"{base}: no docs folder {folder}/ for {project} in this checkout")
    head = commit or _git_head(root, folder) or "local"
    files = ((p.relative_to(root).as_posix(), p.read_bytes())
             for p in sorted(base.rglob("*.md")) if p.is_file())
    return index_files(store, project, files, commit=head, ref="", origin="path", docs_map=m)


def index_files(store: DocsStore, project: str, files: Iterable[tuple[str, bytes]], *,
                commit: str, ref: str, origin: str, committed_at: str | None = None,
                docs_map: DocsMap | None = None) -> SyncResult:
    """Index (path in the repository, content) pairs as the whole docs folder of `project`:
    changed files are parsed and written, files no longer there are dropped."""
    m = docs_map or load_docs_map()
    folder = _folder(project, m)
    old = store.digests(project)
    seen: set[str] = set()
    changed: list[tuple[DocsPage, str]] = []
    for path, data in files:
        if not path.startswith(folder + "/") or not path.lower().endswith(".md"):
            continue
        seen.add(path)
        digest = hashlib.sha1(data).hexdigest()
        if old.get(path, ("", ""))[0] == digest:
            continue
        changed.append((_page(project, path, data, folder, commit, m), digest))
    removed = sorted(set(old) - seen)
    state = SourceState(project, folder, ref, commit, origin, len(seen), committed_at)
    store.replace_pages(project, changed, removed, state)
    return SyncResult(project, commit, origin, len(seen), len(changed), len(removed))


def _page(project: str, path: str, data: bytes, folder: str, commit: str, m: DocsMap
          ) -> DocsPage:
    parsed = parse_page(data.decode("utf-8", "replace"), path[len(folder) + 1:])
    redirect = parsed.redirect_to
    if redirect and "://" not in redirect:
        redirect = f"{folder}/{redirect}"
    urls = page_urls(project, path, m)
    return DocsPage(project=project, path=path, url=urls[0], title=parsed.title,
                    sections=parsed.sections, urls=urls, redirect_to=redirect, commit=commit,
                    stage=parsed.stage, group=parsed.group)


def _folder(project: str, m: DocsMap) -> str:
    folder = docs_dir(project, m)
    if folder is None:
        raise ConfigError(f"docs.projects: {project} is not in the docs map ({m.file})",
                          hint="add it to rules/docs-map.yml (sites.products or repositories)")
    return folder


def _tar_files(blob: bytes, folder: str) -> Iterator[tuple[str, bytes]]:
    """(path in the repository, content) of each regular file in GitLab's archive, whose names
    start with one `<project>-<ref>-<sha>[-<path>]/` directory; nothing touches the disk."""
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            for member in tar:
                if not member.isfile() or member.size > MAX_FILE_BYTES:
                    continue
                _, _, inner = member.name.partition("/")
                if not inner.startswith(folder + "/"):
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    yield inner, handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise PayloadError(f"the docs archive is not a readable tar.gz: {exc}") from exc


def _git_head(root: Path, folder: str) -> str | None:
    """The newest commit touching `folder` in a git checkout (None when it is not one)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%H", "--", folder],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    head = out.stdout.strip()
    return head if out.returncode == 0 and head else None
