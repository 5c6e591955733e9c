"""Draft merge requests for `GitLabTracker` (mixed into it): find docsgap's MR from a branch
(of the project or the token user's own fork), commit the file and open the MR, each step
safe to rerun. Uses the tracker's client, pages and error translation."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from gitlab.exceptions import GitlabError

from docsgap.errors import NotFoundError
from docsgap.models import ItemKind, MergeRequestDraft, TrackerItem
from docsgap.tracker.gitlab_limits import check_issuable
from docsgap.tracker.gitlab_payload import item

if TYPE_CHECKING:
    import gitlab

_DRAFT = re.compile(r"^\s*(draft:|\[draft\]|\(draft\))", re.IGNORECASE)


class DraftMergeRequests:
    """The draft-MR methods of `GitLabTracker`."""

    gl: gitlab.Gitlab
    project: str
    _project: Any
    _read: dict[str, Any]
    _write: dict[str, Any]
    _fork: tuple[str, int] | None | bool

    if TYPE_CHECKING:  # provided by GitLabTracker
        def owned_fork(self) -> str | None: ...
        def _project_info(self) -> dict[str, Any]: ...
        def _pages(self, manager: Any, params: Mapping[str, Any]
                   ) -> Iterator[dict[str, Any]]: ...
        def _errors(self, doing: str, *, write: bool = False
                    ) -> AbstractContextManager[None]: ...
        def _writing(self, doing: str, kind: ItemKind | None = None, iid: int | None = None
                     ) -> AbstractContextManager[None]: ...

    def find_merge_request(self, source_branch: str) -> TrackerItem | None:
        """The MR into the project from `source_branch` of the project itself or of the token
        user's own fork (any state), preferring an open one. Branches of the same name in
        other people's forks are not ours."""
        params = {"source_branch": source_branch, "state": "all"}
        with self._errors(f"looking for a merge request from {source_branch}"):
            rows = list(self._pages(self._project.mergerequests, params))
            found = [item("merge_request", d, self.project) for d in rows if self._ours(d)]
        opened = [i for i in found if i.state == "opened"]
        return opened[0] if opened else found[0] if found else None

    def _ours(self, data: dict[str, Any]) -> bool:
        source = data.get("source_project_id")
        if source in (None, data.get("project_id"), data.get("target_project_id")):
            return True
        self.owned_fork()
        return isinstance(self._fork, tuple) and self._fork[1] == int(source)


    def open_draft_mr(self, draft: MergeRequestDraft) -> TrackerItem:
        """Commit the file to `draft.source_branch` and open a Draft MR. With
        `draft.source_project` (a fork), the branch is made there from the project's target
        branch (`start_project`) and the MR opened from it into the project
        (`target_project_id`). Safe to rerun: an existing MR from the branch is returned as is;
        an existing branch gets the commit only if its file differs (no `start_branch`)."""
        existing = self.find_merge_request(draft.source_branch)
        if existing is not None:
            return existing
        title = draft.title if _DRAFT.match(draft.title) else f"Draft: {draft.title}"
        # Before the commit: a branch whose MR GitLab would refuse helps nobody.
        check_issuable("opening a draft merge request", title=title,
                       description=draft.description)
        source = self._project
        commit: dict[str, Any] = {
            "branch": draft.source_branch,
            "commit_message": draft.commit_message,
            "actions": [
                {"action": "update", "file_path": draft.file_path, "content": draft.content}
            ],
        }
        data: dict[str, Any] = {}
        if draft.source_project is not None:
            source = self.gl.projects.get(draft.source_project, lazy=True)
            upstream = int(self._project_info()["id"])
            data["target_project_id"] = upstream
        if not self._branch_exists(source, draft.source_branch):
            commit["start_branch"] = draft.target_branch
            if draft.source_project is not None:
                commit["start_project"] = data["target_project_id"]
            self._commit(source, commit)
        elif self._file_or_none(source, draft.file_path, draft.source_branch) != draft.content:
            self._commit(source, commit)
        data.update({
            "source_branch": draft.source_branch,
            "target_branch": draft.target_branch,
            "title": title,
            "description": draft.description,
            "labels": list(draft.labels),
            "remove_source_branch": True,
        })
        with self._writing("creating a draft merge request"):
            mr = source.mergerequests.create(data, **self._write)
            return item("merge_request", mr.asdict(), self.project)


    def _branch_exists(self, project: Any, name: str) -> bool:
        with self._errors(f"checking branch {name}"):
            try:
                project.branches.get(name, **self._read)
            except GitlabError as exc:
                if exc.response_code == 404:
                    return False
                raise
        return True

    def _file_or_none(self, project: Any, path: str, ref: str) -> str | None:
        try:
            with self._errors(f"reading {path}"):
                f = project.files.get(file_path=path, ref=ref, **self._read)
                text: str = f.decode().decode("utf-8")
                return text
        except NotFoundError:
            return None

    def _commit(self, project: Any, commit: dict[str, Any]) -> None:
        with self._writing(f"committing to {commit['branch']}"):
            project.commits.create(commit, **self._write)
