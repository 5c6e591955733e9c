"""The docs index from a Config: sync every configured docs project (from a local checkout or
GitLab's archive API), for the CLI, the run and the demo."""

from __future__ import annotations

from pathlib import Path

from docsgap.budget import Budget
from docsgap.config import Config
from docsgap.docpages.pages import load_docs_map
from docsgap.docs.gitlab_archive import GitLabArchive
from docsgap.docs.index import load_index
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import ArchiveSource, SyncResult, sync_archive, sync_path
from docsgap.errors import ConfigError
from docsgap.state import StateStore

__all__ = ["archive_source", "load_index", "sync_docs"]


def archive_source(cfg: Config, budget: Budget | None = None) -> GitLabArchive:
    """python-gitlab reads of the docs projects; the issue tracker's token is sent only to the
    same GitLab (public docs projects need none)."""
    url = cfg.docs.url or cfg.gitlab.url
    same = url.rstrip("/") == cfg.gitlab.url.rstrip("/")
    return GitLabArchive(url, token=cfg.gitlab.token if same else None,
                         token_kind=cfg.gitlab.token_kind, budget=budget,
                         timeout=max(cfg.gitlab.timeout, 60.0))


def sync_docs(cfg: Config, store: StateStore, *, path: Path | None = None,
              projects: tuple[str, ...] = (), source: ArchiveSource | None = None
              ) -> list[SyncResult]:
    """Sync `projects` (default: `docs.projects`): from `path` (or `docs.path`), a checkout of
    exactly one project, else from GitLab's archive API."""
    chosen = projects or cfg.docs.projects
    local = path or (Path(cfg.docs.path) if cfg.docs.path else None)
    docs = DocsStore(store.db)
    m = load_docs_map(cfg.rules_dirs)
    if local is not None:
        if len(chosen) != 1:
            raise ConfigError(f"a local docs checkout holds one project; {len(chosen)} given",
                              hint="name it with --project")
        return [sync_path(docs, local, chosen[0], docs_map=m)]
    archive = source or archive_source(cfg)
    return [sync_archive(docs, archive, p, ref=cfg.docs.ref, docs_map=m) for p in chosen]
