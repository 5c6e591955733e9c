"""`GitLabArchive`: the docs sync's `ArchiveSource` over python-gitlab: the newest commit touching
the docs folder (`GET /projects/:id/repository/commits?path=&ref_name=&per_page=1`) and the
folder as one archive (`GET /projects/:id/repository/archive.tar.gz?path=&sha=`)."""

from __future__ import annotations

from typing import Any

import gitlab

from docsgap.budget import Budget
from docsgap.docs.sync import CommitRef
from docsgap.http_budget import BudgetAdapter, WaitAllowance
from docsgap.tracker.gitlab_client import gitlab_errors, make_client

SERVICE = "gitlab"


class GitLabArchive:
    """Reads docs projects (any project the token, or anyone, can read) on one GitLab."""

    def __init__(self, url: str, *, token: str | None = None, token_kind: str = "private",
                 budget: Budget | None = None, timeout: float = 60.0,
                 gl: gitlab.Gitlab | None = None, max_wait: float = 120.0) -> None:
        self.gl = gl or make_client(url, token=token, token_kind=token_kind, timeout=timeout)
        self.gl.retry_transient_errors = False
        self._transport = BudgetAdapter(budget if budget is not None else Budget(), SERVICE,
                                        WaitAllowance(SERVICE, max_wait))
        self._transport.install(self.gl.session)
        self._read: dict[str, Any] = {"retry_transient_errors": True}

    @property
    def requests_made(self) -> int:
        """HTTP requests sent, retries included."""
        return self._transport.requests_made

    def last_commit(self, project: str, path: str, ref: str) -> CommitRef | None:
        """The newest commit on `ref` that touches `path`: one request."""
        with gitlab_errors(f"reading the last commit of {project}/{path}", project=project):
            proj = self.gl.projects.get(project, lazy=True)
            # `path` is python-gitlab's own keyword (the URL path): pass it as a query parameter,
            # and `ref_name` with it: python-gitlab drops every other keyword beside
            # query_parameters but the page ones, so docs.ref was never sent.
            found = proj.commits.list(per_page=1, page=1, get_all=False,
                                      query_parameters={"path": path, "ref_name": ref},
                                      **self._read)
            if not found:
                return None
            data = found[0].asdict()
            return CommitRef(str(data["id"]), data.get("committed_date"))

    def archive(self, project: str, path: str, sha: str) -> bytes:
        """`path` at `sha` as one `tar.gz`: one download."""
        with gitlab_errors(f"downloading the {path}/ archive of {project}", project=project):
            proj = self.gl.projects.get(project, lazy=True)
            blob = proj.repository_archive(sha=sha, format="tar.gz", path=path, **self._read)
            if not isinstance(blob, bytes):
                raise TypeError("the archive answer is not bytes")
            return blob
