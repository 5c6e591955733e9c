"""The sandbox GitLab's data (users, tokens, projects, issues, notes, merge requests) and the
rules for changing issues and notes; merge requests' own rules live in `mrs`, the
repository (branches, files, commits) in `repo`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docsgap.sandbox.gitlab import labels
from docsgap.sandbox.textscan import gitlab_mentions, only_quick_actions, quick_action_lines
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    gitlab_bad_request,
    gitlab_message,
    gitlab_not_found,
    iso,
)

GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50
"""Project access levels. Setting labels (`set_issue_metadata`) and creating them
(`admin_label`) take Planner or above; pushing a branch Developer; the protected default
branch Maintainer. Non-members (0) of the public project may still open issues and comment."""
ROLE_NAMES = {0: "not a member", GUEST: "Guest", PLANNER: "Planner", REPORTER: "Reporter",
              DEVELOPER: "Developer", MAINTAINER: "Maintainer", OWNER: "Owner"}



@dataclass
class GitLabState:
    """Everything the GitLab side knows; callers hold the sandbox lock."""

    users: dict[int, JSON]
    tokens: dict[str, JSON]
    projects: dict[int, JSON]
    issues: dict[tuple[int, int], JSON] = field(default_factory=dict)
    merge_requests: dict[tuple[int, int], JSON] = field(default_factory=dict)
    notes: dict[int, JSON] = field(default_factory=dict)
    issue_links: list[JSON] = field(default_factory=list)
    branches: dict[tuple[int, str], JSON] = field(default_factory=dict)
    commits: dict[str, JSON] = field(default_factory=dict)
    quick_actions_seen: list[JSON] = field(default_factory=list)
    mentions_seen: list[JSON] = field(default_factory=list)
    packages: list[JSON] = field(default_factory=list)
    """Generic packages: `{id, project_id, name, version, created_at, files: [...]}`."""
    generic_duplicates_allowed: bool = True
    """The namespace's package setting (Settings > Packages and registries > Duplicate
    packages, Generic): off, a second file of the same name in a package version is refused."""
    generic_duplicate_exception_regex: str = ""
    """Package names or versions it matches (whole) are exceptions to that setting: allowed
    when duplicates are off, refused when they are on (`Namespace::PackageSetting`)."""
    search_mode: str = "unwrap"
    """How issue text is indexed for `search=`: `unwrap` (tags and HTML comments unwrapped, as
    current GitLab does) or `raw` (older releases: PostgreSQL drops a tag or comment whole)."""
    search_rate_limit: int = 30
    """Searches (`search=` on issue and MR lists) a user may make per minute (GitLab's
    application setting; its default is 30, 0 turns the limit off)."""
    search_rate_limit_unauthenticated: int = 10
    issues_create_limit: int = 200
    """Issues a user may open per minute in a project (gitlab.com; self-managed: off)."""
    guest_new_issue_labels: bool = True
    """A Guest member sets existing labels on the issue it opens (`IssuePolicy`: `~persisted &
    is_project_member & guest_access` enables `set_issue_metadata`, gitlab-org/gitlab#300100)
    but creates none and changes none later; False: older GitLab, where a Guest's are dropped."""
    notes_create_limit: int = 60
    """Notes a user may add per minute (gitlab.com; self-managed default 300)."""
    rate_counts: dict[tuple[Any, ...], int] = field(default_factory=dict)
    """Rate-limited requests per (limit, scope..., minute window)."""
    spam_rules: list[JSON] = field(default_factory=list)
    """What the spam check says of new or edited issues and notes (`gitlab.guards`):
    `{"on": "issue"|"note", "pattern": regex, "verdict": "disallow"|"captcha", "count": n}`."""
    spam_logs: int = 0
    _last_note_id: int = 900000
    version: int = 0
    """Moves on every change to an issue or MR, so lists can keep their sorted order."""
    listings: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Sorted, filtered lists by query and `version` (see `gitlab.list_issues`)."""

    def next_note_id(self) -> int:
        """The id the next note gets (O(1): a max() per note made seeding quadratic)."""
        if self._last_note_id + 1 in self.notes:  # notes placed by hand
            self._last_note_id = max(self.notes)
        return self._last_note_id + 1

    def store_note(self, note: JSON) -> None:
        """Keep a note made with `next_note_id()`."""
        self.notes[note["id"]] = note
        self._last_note_id = max(self._last_note_id, note["id"])

    # --- permissions -----------------------------------------------------------------------

    def access_level(self, project: JSON, user: JSON | None) -> int:
        """The user's access level in the project (admins count as owners)."""
        if user is None:
            return 0
        if user.get("admin"):
            return OWNER
        return int(project.get("members", {}).get(user["id"], 0))

    def set_access(self, project: JSON, username: str, level: int) -> None:
        """Make `username` a member at `level` (0 removes them)."""
        user = self.user_named(username)
        if user is None:
            raise KeyError(username)
        members = project.setdefault("members", {})
        if level:
            members[user["id"]] = level
        else:
            members.pop(user["id"], None)

    # --- lookups ---------------------------------------------------------------------------

    def project(self, ref: str) -> JSON:
        """A project by numeric id or (decoded) full path; `404 Project Not Found` otherwise."""
        if ref.isdigit():
            found = self.projects.get(int(ref))
        else:
            wanted = ref.strip("/").lower()
            found = next((p for p in self.projects.values()
                          if p["path_with_namespace"].lower() == wanted), None)
        if found is None:
            raise gitlab_not_found("Project")
        return found

    def issue(self, project: JSON, iid: int) -> JSON:
        """One issue of `project`."""
        found = self.issues.get((project["id"], iid))
        if found is None:
            raise gitlab_not_found("Issue")
        return found

    def merge_request(self, project: JSON, iid: int) -> JSON:
        """One merge request of `project`."""
        found = self.merge_requests.get((project["id"], iid))
        if found is None:
            raise gitlab_not_found("Merge Request")
        return found

    def noteable(self, project: JSON, kind: str, iid: int) -> JSON:
        """The issue or MR notes hang on (`kind` is `issues` or `merge_requests`)."""
        return self.issue(project, iid) if kind == "issues" else self.merge_request(project, iid)

    def notes_of(self, item: JSON) -> list[JSON]:
        """Notes on an issue or MR, oldest first."""
        kind = "MergeRequest" if "source_branch" in item else "Issue"
        return [n for n in self.notes.values()
                if n["noteable_type"] == kind and n["noteable_id"] == item["id"]]

    def fork_root(self, project: JSON) -> JSON:
        """The project a fork network grew from (`project` itself when it is no fork)."""
        while project.get("forked_from_id") in self.projects:
            project = self.projects[project["forked_from_id"]]
        return project

    def user_named(self, username: str) -> JSON | None:
        """A user by username."""
        return next((u for u in self.users.values() if u["username"] == username), None)

    # --- issues ----------------------------------------------------------------------------

    def create_issue(self, project: JSON, author: JSON, form: JSON, now: float) -> JSON:
        """`POST /projects/:id/issues` (quick actions recorded, not run)."""
        title = str(form.get("title") or "").strip()
        if not title:
            raise gitlab_bad_request("title is missing")
        iid = max((k[1] for k in self.issues if k[0] == project["id"]), default=0) + 1
        stamp = iso(now)
        issue: JSON = {
            "id": max((i["id"] for i in self.issues.values()), default=100000) + 1,
            "iid": iid, "project_id": project["id"], "title": title,
            "description": str(form.get("description") or ""), "state": "opened",
            "created_at": stamp, "updated_at": stamp, "closed_at": None, "closed_by_id": None,
            "labels": [], "author_id": author["id"], "assignee_ids": [],
            "confidential": truthy(form.get("confidential")), "discussion_locked": None,
        }
        issue["labels"] = self.known_labels(project, split_labels(form.get("labels")), author,
                                            new_issue=True)
        self.issues[(project["id"], iid)] = issue
        self.version += 1
        self.record_text(project, issue, "description", issue["description"], author)
        return issue

    def update_issue(self, project: JSON, issue: JSON, actor: JSON, form: JSON, now: float) -> JSON:
        """`PUT /projects/:id/issues/:iid`: state_event, title, description, labels."""
        self.update_item(project, issue, actor, form, now)
        event = form.get("state_event")
        if event == "close" and issue["state"] != "closed":
            issue.update(state="closed", closed_at=iso(now), closed_by_id=actor["id"])
            self.add_note(project, issue, actor, "closed", now, system=True)
        elif event == "reopen" and issue["state"] == "closed":
            issue.update(state="opened", closed_at=None, closed_by_id=None)
            self.add_note(project, issue, actor, "reopened", now, system=True)
        elif event not in (None, "", "close", "reopen"):
            raise gitlab_bad_request("state_event does not have a valid value")
        return issue

    def update_item(
        self, project: JSON, item: JSON, actor: JSON, form: JSON, now: float
    ) -> None:
        """What a `PUT` on an issue or MR changes besides its state: title, description and
        labels (each label change a system note, as on GitLab)."""
        if "title" in form:
            item["title"] = str(form["title"])
        if "description" in form:
            item["description"] = str(form["description"] or "")
            self.record_text(project, item, "description", item["description"], actor)
        before = list(item["labels"])
        if self.access_level(project, actor) < PLANNER:
            form = {k: v for k, v in form.items()
                    if k not in ("labels", "add_labels", "remove_labels")}
        if "labels" in form:
            item["labels"] = self.known_labels(project, split_labels(form["labels"]), actor)
        for name in self.known_labels(project, split_labels(form.get("add_labels")), actor):
            if name not in item["labels"]:  # an added scoped label replaces its scope's
                item["labels"] = labels.exclusive([*item["labels"], name])
        removed = set(split_labels(form.get("remove_labels")))
        item["labels"] = [n for n in item["labels"] if n not in removed]
        if item["labels"] != before:
            added = [n for n in item["labels"] if n not in before]
            dropped = [n for n in before if n not in item["labels"]]
            parts = [f"added {_refs(added)} label"] if added else []
            parts += [f"removed {_refs(dropped)} label"] if dropped else []
            self.add_note(project, item, actor, " and ".join(parts), now, system=True)
        item["updated_at"] = iso(now)
        self.version += 1

    def known_labels(self, project: JSON, names: list[str], actor: JSON, *,
                     new_issue: bool = False) -> list[str]:
        """The labels GitLab applies for `names` (`sandbox/gitlab/labels.py`: exact titles of
        the project's and its groups' labels; a missing one created only for a user who may
        create labels, Planner and above, silently skipped otherwise). A user who may not set
        metadata gets none: GitLab drops the `labels` params unsaid
        (`IssuableBaseService#filter_params`); on a new issue a Guest member may
        (`guest_new_issue_labels`)."""
        level = self.access_level(project, actor)
        guest = new_issue and self.guest_new_issue_labels and level >= GUEST
        if level < PLANNER and not guest:
            return []
        return labels.find_or_create(project, names, may_create=level >= PLANNER)

    # --- notes -----------------------------------------------------------------------------

    def add_note(
        self, project: JSON, item: JSON, author: JSON, body: str, now: float,
        *, system: bool = False,
    ) -> JSON | None:
        """Add a note; `None` when the body holds only quick actions (GitLab answers 202)."""
        target = "merge_request" if "source_branch" in item else "issue"
        note_id = self.next_note_id()
        if not system:
            if not body.strip():
                raise gitlab_bad_request("body is empty")
            # `IssuablePolicy`: a locked discussion takes notes from project members only.
            if item.get("discussion_locked") and not self.access_level(project, author):
                raise HttpError(gitlab_message(403, "403 Forbidden"))
            commands_only = only_quick_actions(body)
            self.record_text(project, item, "note", body, author,
                             note_id=None if commands_only else note_id)
            if commands_only:
                return None
        stamp = iso(now)
        note: JSON = {
            "id": note_id, "body": body, "author_id": author["id"], "created_at": stamp,
            "updated_at": stamp, "system": system, "noteable_id": item["id"],
            "noteable_type": "MergeRequest" if target == "merge_request" else "Issue",
            "noteable_iid": item["iid"], "project_id": project["id"], "internal": False,
        }
        self.store_note(note)
        item["updated_at"] = stamp  # a note touches its noteable
        self.version += 1
        return note

    def update_note(
        self, project: JSON, item: JSON, note: JSON, actor: JSON, body: str, now: float
    ) -> JSON:
        """`PUT .../notes/:note_id` (authors only, as on GitLab; on a locked discussion only
        project members, `NotePolicy`)."""
        if note["author_id"] != actor["id"] or note["system"]:
            raise HttpError(gitlab_message(403, "403 Forbidden"))
        if item.get("discussion_locked") and not self.access_level(project, actor):
            raise HttpError(gitlab_message(403, "403 Forbidden"))
        note["body"] = body
        note["updated_at"] = iso(now)
        self.record_text(project, item, "note", body, actor, note_id=note["id"])
        return note

    # --- text that would fire on GitLab ----------------------------------------------------

    def record_text(
        self, project: JSON, item: JSON, field_name: str, text: str, author: JSON,
        *, note_id: int | None = None,
    ) -> None:
        """Record quick-action lines and `@mentions` in a description or note."""
        where = {
            "project": project["path_with_namespace"],
            "target": "merge_request" if "source_branch" in item else "issue",
            "iid": item["iid"], "field": field_name, "note_id": note_id,
            "author": author["username"],
        }
        for command, line in quick_action_lines(text):
            self.quick_actions_seen.append({**where, "command": command, "line": line})
        for mention in gitlab_mentions(text):
            self.mentions_seen.append({"service": "gitlab", **where, "mention": mention})


def split_labels(value: Any) -> list[str]:
    """`labels` as GitLab accepts it: a comma string or a list (of strings or comma strings)."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _refs(names: list[str]) -> str:
    return " ".join(f'~"{n}"' for n in names)


def truthy(value: Any) -> bool:
    """A form flag as GitLab's API reads it (`true`, `1`, `yes`)."""
    return value is True or str(value).lower() in ("true", "1", "yes")
