"""The docs index's domain types: a page as indexed (its file, addresses, title, sections) and a
section of it. Frozen, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Section:
    """A page's text under one heading; the text before the first heading has anchor ""."""

    anchor: str
    heading: str
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class DocsPage:
    """One docs source file as the index holds it."""

    project: str
    """GitLab project of the source, e.g. `gitlab-org/gitlab`."""
    path: str
    """Source file in that project, e.g. `doc/ci/yaml/_index.md`."""
    url: str
    """Today's address on the docs site."""
    title: str
    sections: tuple[Section, ...] = ()
    urls: tuple[str, ...] = ()
    """Every address of the page the docs map knows (all URL eras), today's first."""
    redirect_to: str | None = None
    """For a stub left behind by a move: the source file (same project) or URL it moved to."""
    commit: str = ""
    """The docs commit at which this content was first seen by a sync."""
    stage: str = ""
    group: str = ""
    """The page's owners from its front matter (`stage: Verify`, `group: Pipeline Authoring`),
    as written; "" when the page names none."""
    owners_read: bool = True
    """False for a page indexed by a docsgap that did not keep owners (until the next sync)."""

    @property
    def key(self) -> str:
        """Same form as `DocPage.key`: `project:path`."""
        return f"{self.project}:{self.path}"

    @property
    def headings(self) -> tuple[str, ...]:
        """The page's headings, in order."""
        return tuple(s.heading for s in self.sections if s.heading)

    def section(self, anchor: str | None) -> Section | None:
        """The section with this anchor, if any."""
        return next((s for s in self.sections if anchor and s.anchor == anchor), None)

    def section_url(self, anchor: str | None) -> str:
        """Today's address of the page, with `#anchor` when given."""
        return f"{self.url}#{anchor}" if anchor else self.url
