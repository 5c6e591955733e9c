"""`GitLabTracker`: the Tracker protocol over python-gitlab; the only module that imports it."""

from __future__ import annotations

import configparser
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import gitlab
import gitlab.config
from gitlab.exceptions import GitlabError

from docsgap.budget import Budget
from docsgap.errors import AuthError, ConfigError, DocsgapError, NotFoundError, PayloadError
from docsgap.http_budget import BudgetAdapter, WaitAllowance
from docsgap.models import IssueDraft, ItemKind, Note, TrackerItem
from docsgap.tracker.gitlab_checks import GitLabChecks
from docsgap.tracker.gitlab_client import TOKEN_ARGS, gitlab_errors, make_client
from docsgap.tracker.gitlab_limits import check_issuable, check_note, forbidden_why, item_gone
from docsgap.tracker.gitlab_mr import DraftMergeRequests
from docsgap.tracker.gitlab_payload import iso, item, note
from docsgap.tracker.gitlab_rights import WriteRights, access_level

log = logging.getLogger(__name__)

SERVICE = "gitlab"
OWN_TEXT = "<!-- docsgap:"
"""What every text docsgap writes carries (its markers, the summary's too)."""


class GitLabTracker(DraftMergeRequests):
    """One GitLab project's doc issues, notes, files and draft MRs through python-gitlab.

    GETs retry transient errors (5xx, timeouts); POST/PUT never do, because a retried create
    can duplicate an issue or note when the first attempt did land (callers check markers).
    429s are retried by python-gitlab after the `BudgetAdapter` has vetted the wait; every
    attempt is charged to `budget` before it is sent.

    Pass `gl` to reuse a configured client (its own timeout and auth then apply); the tracker
    mounts its budget adapter on `gl.session` and turns `gl.retry_transient_errors` off.
    """

    def __init__(
        self,
        url: str,
        project: str,
        *,
        token: str | None = None,
        token_kind: str = "private",
        docs_label: str = "documentation",
        budget: Budget | None = None,
        timeout: float = 30.0,
        per_page: int = 100,
        gl: gitlab.Gitlab | None = None,
        max_wait: float = 120.0,
        max_retries: int = 5,
    ) -> None:
        if token_kind not in TOKEN_ARGS:
            raise ConfigError(
                f"gitlab.token_kind = {token_kind!r}: expected one of {', '.join(TOKEN_ARGS)}"
            )
        if gl is None:
            gl = make_client(url, token=token, token_kind=token_kind, timeout=timeout)
        # Per call below: True for GETs only.
        gl.retry_transient_errors = False
        self.gl = gl
        self.project = project
        self.docs_label = docs_label
        self._budget = budget if budget is not None else Budget()
        self._transport = BudgetAdapter(self._budget, SERVICE, WaitAllowance(SERVICE, max_wait))
        self._transport.install(gl.session)
        self._per_page = per_page
        self._read: dict[str, Any] = {"retry_transient_errors": True, "max_retries": max_retries}
        self._write: dict[str, Any] = {"retry_transient_errors": False, "max_retries": max_retries}
        self._keyset = True
        self._own: list[dict[str, Any]] | None = None
        self._username: str | None = None
        self._user: dict[str, Any] | None = None  # what GET /user answered
        self._info: dict[str, Any] | None = None
        self._info_fresh = False  # `_info` was just read by `checks()`: rights() need not ask
        self._fork: tuple[str, int] | None | bool = False  # False: not looked up yet
        self._labels: dict[str, str | None] = {}
        # lazy=True: no GET /projects/:id (rate-limited on GitLab.com); paths use the encoded id.
        self._project = gl.projects.get(project, lazy=True)

    @classmethod
    def from_python_gitlab_config(
        cls,
        gitlab_id: str | None,
        project: str,
        *,
        config_files: list[str] | None = None,
        **kwargs: Any,
    ) -> GitLabTracker:
        """Build from python-gitlab's config (PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg, section
        `gitlab_id` or its default); `kwargs` are passed to the constructor."""
        try:
            gl = gitlab.Gitlab.from_config(gitlab_id, config_files)
        except (gitlab.config.ConfigError, configparser.Error, OSError) as exc:
            raise ConfigError(
                f"python-gitlab config section {gitlab_id or '(default)'}: {exc}",
                hint="check PYTHON_GITLAB_CFG or ~/.python-gitlab.cfg",
            ) from exc
        # We pass pagination and ordering per call; a global keyset setting would break notes.
        gl.pagination = None
        gl.order_by = None
        return cls(gl.url, project, gl=gl, **kwargs)

    @property
    def requests_made(self) -> int:
        """HTTP requests sent by this tracker, retries and redirects included."""
        return self._transport.requests_made

    # --- reading ----------------------------------------------------------------------------

    def doc_items(
        self, updated_after: datetime | None, *, kind: ItemKind | None = None
    ) -> Iterator[TrackerItem]:
        """Issues (any state) then MRs (any state) with the docs label, oldest update first;
        `kind` limits it to one of them."""
        params: dict[str, Any] = {
            "labels": self.docs_label,
            "order_by": "updated_at",
            "sort": "asc",
        }
        if updated_after is not None:
            params["updated_after"] = iso(updated_after)
        if kind in (None, "issue"):
            with self._errors("listing doc issues"):
                for data in self._issue_pages(params):
                    yield item("issue", data, self.project)
        if kind == "issue":
            return
        with self._errors("listing doc merge requests"):
            for data in self._pages(self._project.mergerequests, {**params, "state": "all"}):
                yield item("merge_request", data, self.project)

    def get_item(self, kind: ItemKind, iid: int) -> TrackerItem:
        """One issue or MR, fresh."""
        with self._on_item(kind, iid), self._errors(f"reading {kind} {iid}"):
            obj = self._manager(kind).get(int(iid), **self._read)
            return item(kind, obj.asdict(), self.project)

    def find_issue_with_marker(self, marker: str) -> TrackerItem | None:
        """docsgap's own issue whose description holds `marker`. Not GitLab's `search=`: that is
        full-text search, which drops HTML comments on older releases and long words on all,
        so a marker may not be found. Instead the issues the token's user opened in the project
        are listed once per tracker (any state, newest first) and checked locally."""
        for data in self._own_issues():
            if marker in str(data.get("description") or ""):
                return item("issue", data, self.project)
        return None

    def _own_issues(self) -> list[dict[str, Any]]:
        """The token user's issues that carry a docsgap marker (one listing, then cached)."""
        if self._own is None:
            params = {"author_username": self.username(), "scope": "all",
                      "order_by": "created_at", "sort": "desc"}
            with self._errors("listing docsgap's own issues"):
                self._own = [d for d in self._pages(self._project.issues, params)
                             if OWN_TEXT in str(d.get("description") or "")]
        return self._own

    def _remember_own(self, data: dict[str, Any]) -> None:
        if self._own is not None and OWN_TEXT in str(data.get("description") or ""):
            self._own = [d for d in self._own if d.get("iid") != data.get("iid")]
            self._own.insert(0, data)

    def rights(self, labels: Sequence[str] = ()) -> WriteRights:
        """What the token may write here: its access level (`GET /projects/:id`), which of
        `labels` are missing, and, when it cannot push, a fork it owns. A few GETs."""
        if not self._info_fresh:
            self._info = None  # the role may have changed since: ask again
        self._info_fresh = False
        data = self._project_info()
        with self._errors(f"listing labels of {self.project}"):
            missing = tuple(name for name in labels if not any(  # exact titles: as GitLab
                str(label.name) == name
                for label in self._project.labels.list(
                    search=name, include_ancestor_groups=True, iterator=True, per_page=100,
                    **self._read)))
        rights = WriteRights(self.username(), access_level(data), missing)
        if rights.can_push:
            return rights
        return replace(rights, fork=self.owned_fork())

    def label_titles(self, names: Sequence[str]) -> dict[str, str | None]:
        """Each name -> the title of the project's or an ancestor group's label it names, or
        None when there is none. GitLab applies a label only by its exact title and creates a
        new project label for any other spelling (`Labels::FindOrCreateService`), so a label
        differing only in case answers with its own spelling. One `GET /projects/:id/labels
        ?search=` per name, asked once per tracker."""
        for name in dict.fromkeys(n for n in names if n not in self._labels):
            with self._errors(f"looking up the label {name!r} in {self.project}"):
                titles = [str(d.get("name") or "") for d in self._pages(
                    self._project.labels, {"search": name, "include_ancestor_groups": True})]
            self._labels[name] = _same_label(name, titles)
        return {n: self._labels[n] for n in names}

    def checks(self) -> GitLabChecks:
        """`docsgap doctor`'s read-only probe over this tracker's client, for `run --apply`'s
        preflight: its requests count in this tracker's budget, and the token's user and the
        project it reads (`GET /user`, `GET /projects/:id`, both rate limited on GitLab.com)
        are not asked again by the `rights()` and `username()` that follow."""
        known = {k: v for k, v in (("user", self._user), ("project", self._info)) if v}
        return GitLabChecks(self.gl, self.project, learned=self._learn, known=known)

    def _learn(self, what: str, data: dict[str, Any]) -> None:
        if what == "user" and isinstance(data.get("username"), str) and data["username"]:
            self._username, self._user = str(data["username"]), data
        elif what == "project" and type(data.get("id")) is int:
            self._info, self._info_fresh = data, True

    def owned_fork(self) -> str | None:
        """The path of a fork of the project that the token's user owns, if any (asked once)."""
        if self._fork is False:
            self._fork = None
            with self._errors(f"listing forks of {self.project}"):
                for fork in self._pages(self._project.forks, {"owned": True}):
                    self._fork = (str(fork["path_with_namespace"]), int(fork["id"]))
                    break
        return self._fork[0] if isinstance(self._fork, tuple) else None

    def _project_info(self) -> dict[str, Any]:
        """`GET /projects/:id` as the token sees it (asked once: rate limited on GitLab.com)."""
        if self._info is None:
            with self._errors(f"reading {self.project} and its permissions"):
                data = self.gl.http_get(f"/projects/{self._project.encoded_id}", **self._read)
            if not isinstance(data, dict) or type(data.get("id")) is not int:
                raise PayloadError("GitLab answered /projects/:id without a JSON object "
                                   "holding an integer id")
            self._info = data
        return self._info

    def username(self) -> str:
        """The token's user (`GET /user`, asked once)."""
        if self._username is None:
            with self._errors("reading the token's user"):
                data = self.gl.http_get("/user", **self._read)
            if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
                    or not data["username"]:
                raise PayloadError("GitLab answered /user without a username")
            self._username, self._user = str(data["username"]), data
        return self._username

    def notes(self, kind: ItemKind, iid: int) -> list[Note]:
        """Every note, oldest first (system notes kept, flagged `system`; the token user's
        flagged `own`)."""
        params = {"sort": "asc", "order_by": "created_at"}
        me = self.username()
        with self._on_item(kind, iid), self._errors(f"listing notes of {kind} {iid}"):
            manager = self._manager(kind).get(int(iid), lazy=True).notes
            rows = sorted(self._pages(manager, params), key=lambda d: (d["created_at"], d["id"]))
            return [note(d, me) for d in rows]

    def read_file(self, path: str, ref: str | None = None) -> str:
        """A file's text on `ref`; `HEAD` (the default branch) when `None`."""
        with self._errors(f"reading {path}"):
            f = self._project.files.get(file_path=path, ref=ref or "HEAD", **self._read)
            text: str = f.decode().decode("utf-8")
            return text

    # --- writing ----------------------------------------------------------------------------

    def open_issue(self, draft: IssueDraft) -> TrackerItem:
        """Create an issue (never retried; see the class docstring)."""
        data = {
            "title": draft.title,
            "description": draft.description,
            "labels": list(draft.labels),
        }
        # The title names it: a run creates several (the summary issue too).
        title = draft.title if len(draft.title) <= 60 else draft.title[:59] + "…"
        doing = f"creating the issue {title!r}"
        check_issuable(doing, title=draft.title, description=draft.description)
        with self._writing(doing):
            obj = self._project.issues.create(data, **self._write)
        self._remember_own(obj.asdict())
        return item("issue", obj.asdict(), self.project)

    def update_issue(self, iid: int, *, title: str | None = None,
                     description: str | None = None) -> TrackerItem:
        """Rewrite an issue's title and/or description in place (never retried)."""
        data: dict[str, Any] = {}
        if title is not None:
            data["title"] = title
        if description is not None:
            data["description"] = description
        check_issuable(f"updating issue {iid}", title=title, create=False)
        with self._writing(f"updating issue {iid}", "issue", iid):
            updated = self._project.issues.update(int(iid), data, **self._write)
        self._remember_own(dict(updated))
        return item("issue", dict(updated), self.project)

    def add_note(self, kind: ItemKind, iid: int, body: str) -> Note:
        """Add a note; a body made only of quick actions creates none (PayloadError)."""
        check_note(f"adding a note to {kind} {iid}", body)
        with self._writing(f"adding a note to {kind} {iid}", kind, iid):
            manager = self._manager(kind).get(int(iid), lazy=True).notes
            return replace(note(manager.create({"body": body}, **self._write).asdict()), own=True)

    def update_note(self, kind: ItemKind, iid: int, note_id: int, body: str) -> Note:
        """Replace a note's body in place."""
        check_note(f"updating note {note_id} on {kind} {iid}", body)
        with self._writing(f"updating note {note_id} on {kind} {iid}", kind, iid):
            manager = self._manager(kind).get(int(iid), lazy=True).notes
            return replace(note(manager.update(int(note_id), {"body": body}, **self._write)),
                           own=True)

    # --- helpers ----------------------------------------------------------------------------

    def _manager(self, kind: ItemKind) -> Any:
        return self._project.issues if kind == "issue" else self._project.mergerequests

    def _pages(self, manager: Any, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Lazily every item of a list, following `Link: rel="next"`."""
        # The raw dicts: a RESTObject per item (built, then deep-copied by asdict) cost about
        # 7 s of CPU for a 50,000-issue refresh.
        yield from manager.gitlab.http_list(manager.path, iterator=True, per_page=self._per_page,
                                            **self._read, **params)

    def _issue_pages(self, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Keyset pagination (no 50,000 offset cap; project issues since GitLab 18.3), falling
        back to offset pagination once if the server refuses keyset on the first page."""
        if self._keyset:
            yielded = False
            try:
                for data in self._pages(self._project.issues, {**params, "pagination": "keyset"}):
                    yielded = True
                    yield data
                return
            except GitlabError as exc:
                if yielded or exc.response_code not in (400, 405) or "Offset" in str(exc):
                    raise
                log.info("GitLab refused keyset pagination (%s); using offsets", exc)
                self._keyset = False
        yield from self._pages(self._project.issues, params)

    @contextmanager
    def _writing(self, doing: str, kind: ItemKind | None = None,
                 iid: int | None = None) -> Iterator[None]:
        """`_errors` for a write, with a 403 explained when GitLab's refusal has a reason
        beyond the token's role (`gitlab_limits.forbidden_why`; a GET or two, only then)."""
        try:
            with self._errors(doing, write=True):
                yield
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise self._forbidden(exc, doing, kind, iid) from exc
        except NotFoundError as exc:
            if kind is None or iid is None:
                raise
            raise item_gone(exc, kind, iid, self.project) from exc

    @contextmanager
    def _on_item(self, kind: ItemKind, iid: int) -> Iterator[None]:
        """A 404 while reading an issue or MR said as what it may mean (`item_gone`)."""
        try:
            yield
        except NotFoundError as exc:
            raise item_gone(exc, kind, iid, self.project) from exc

    def _forbidden(self, exc: AuthError, doing: str, kind: ItemKind | None,
                   iid: int | None) -> DocsgapError:
        try:
            self._info = None  # archived or not, as of now
            info = self._project_info()
            item = None
            if kind is not None and iid is not None:
                with self._errors(f"reading {kind} {iid}"):
                    item = self.gl.http_get(f"{self._manager(kind).path}/{int(iid)}",
                                            **self._read)
            user = self.username()
        except DocsgapError:
            return exc  # the explanation is a bonus: the 403 stands as it was
        return forbidden_why(exc, doing, self.project, user, info,
                             item if isinstance(item, dict) else None)

    def _errors(self, doing: str, *, write: bool = False) -> AbstractContextManager[None]:
        """docsgap's errors for what python-gitlab raises while `doing` (see gitlab_client)."""
        return gitlab_errors(doing, project=self.project, write=write,
                             retry_after=lambda: self._transport.last_wait)


def _same_label(name: str, titles: Sequence[str]) -> str | None:
    """The title among `titles` that is `name`, else the one spelling it in another case."""
    if name in titles:
        return name
    folded = [t for t in titles if t.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None
