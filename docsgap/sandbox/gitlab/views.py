"""JSON shapes of the sandbox GitLab (issues, merge requests, notes, users, projects, labels,
branches, commits), following /work/shared/api/samples/gitlab-*.json."""

from __future__ import annotations

from dataclasses import dataclass

from docsgap.sandbox.gitlab.labels import GROUP_LABEL_IDS
from docsgap.sandbox.gitlab.mrs import is_draft, source_project_id
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import JSON


@dataclass(frozen=True)
class Urls:
    """`web`: the GitLab web root (`http://host:port/gitlab`); API URLs hang below it."""

    web: str

    @property
    def api(self) -> str:
        """The REST root, `{web}/api/v4`."""
        return f"{self.web}/api/v4"


def user_json(user: JSON, urls: Urls) -> JSON:
    """The short user object embedded in issues, notes and MRs."""
    return {
        "id": user["id"], "username": user["username"], "name": user["name"],
        "state": "active", "locked": False, "avatar_url": None,
        "web_url": f"{urls.web}/{user['username']}",
    }


def current_user_json(user: JSON, urls: Urls) -> JSON:
    """`GET /user`: the authenticated user, a few more fields."""
    return {
        **user_json(user, urls), "bot": bool(user.get("bot")), "is_admin": bool(user.get("admin")),
        "created_at": user.get("created_at"), "public_email": None, "can_create_project": False,
    }


def project_json(state: GitLabState, project: JSON, urls: Urls,
                 user: JSON | None = None) -> JSON:
    """`GET /projects/:id`; `permissions` as the requesting user sees them."""
    path = project["path_with_namespace"]
    level = state.access_level(project, user)
    access = {"access_level": level, "notification_level": 3} if level else None
    namespace = path.rsplit("/", 1)[0]
    return {
        "id": project["id"], "name": project["name"], "path": path.rsplit("/", 1)[-1],
        "path_with_namespace": path, "name_with_namespace": path.replace("/", " / "),
        "description": project.get("description", ""), "default_branch": project["default_branch"],
        "visibility": "public", "web_url": f"{urls.web}/{path}",
        "http_url_to_repo": f"{urls.web}/{path}.git", "created_at": project["created_at"],
        "last_activity_at": project["created_at"],
        "issues_enabled": project.get("issues_enabled", True) is not False,
        "archived": bool(project.get("archived")),
        "merge_requests_enabled": True, "open_issues_count": sum(
            1 for i in state.issues.values()
            if i["project_id"] == project["id"] and i["state"] == "opened"),
        "namespace": {"id": project["id"] - 1, "name": namespace, "path": namespace,
                      "kind": "group", "full_path": namespace,
                      "web_url": f"{urls.web}/groups/{namespace}"},
        "permissions": {"project_access": access, "group_access": None},
        "forked_from_project": _fork_parent(state, project, urls),
        "_links": {"self": f"{urls.api}/projects/{project['id']}",
                   "issues": f"{urls.api}/projects/{project['id']}/issues",
                   "merge_requests": f"{urls.api}/projects/{project['id']}/merge_requests",
                   "labels": f"{urls.api}/projects/{project['id']}/labels"},
    }


def _fork_parent(state: GitLabState, project: JSON, urls: Urls) -> JSON | None:
    parent = state.projects.get(project.get("forked_from_id") or 0)
    if parent is None:
        return None
    return {"id": parent["id"], "path_with_namespace": parent["path_with_namespace"],
            "web_url": f"{urls.web}/{parent['path_with_namespace']}"}


def label_json(state: GitLabState, project: JSON, label: JSON) -> JSON:
    """`GET /projects/:id/labels` items."""
    mine = [i for i in state.issues.values() if i["project_id"] == project["id"]
            and label["name"] in i["labels"]]
    return {
        "id": label["id"], "name": label["name"], "color": label["color"],
        "text_color": "#FFFFFF", "description": label.get("description"),
        "description_html": label.get("description") or "",
        "open_issues_count": sum(1 for i in mine if i["state"] == "opened"),
        "closed_issues_count": sum(1 for i in mine if i["state"] == "closed"),
        "open_merge_requests_count": sum(
            1 for m in state.merge_requests.values()
            if m["project_id"] == project["id"] and label["name"] in m["labels"]
            and m["state"] == "opened"),
        "subscribed": False, "priority": None,
        "is_project_label": label["id"] < GROUP_LABEL_IDS,
    }


def _who(state: GitLabState, user_id: int | None, urls: Urls) -> JSON | None:
    return user_json(state.users[user_id], urls) if user_id is not None else None


def issue_json(state: GitLabState, project: JSON, issue: JSON, urls: Urls) -> JSON:
    """An issue (samples/gitlab-issue.json)."""
    path = project["path_with_namespace"]
    api = f"{urls.api}/projects/{project['id']}/issues/{issue['iid']}"
    notes = state.notes_of(issue)
    mrs = [m for m in state.merge_requests.values() if m["project_id"] == project["id"]
           and f"#{issue['iid']}" in m["description"]]
    assignees = [user_json(state.users[i], urls) for i in issue["assignee_ids"]]
    return {
        "id": issue["id"], "iid": issue["iid"], "project_id": project["id"],
        "title": issue["title"], "description": issue["description"], "state": issue["state"],
        "created_at": issue["created_at"], "updated_at": issue["updated_at"],
        "closed_at": issue["closed_at"], "closed_by": _who(state, issue["closed_by_id"], urls),
        "labels": list(issue["labels"]), "milestone": None, "assignees": assignees,
        "author": user_json(state.users[issue["author_id"]], urls), "type": "ISSUE",
        "assignee": assignees[0] if assignees else None,
        "user_notes_count": sum(1 for n in notes if not n["system"]),
        "merge_requests_count": len(mrs), "upvotes": 0, "downvotes": 0, "due_date": None,
        "confidential": issue["confidential"], "discussion_locked": issue["discussion_locked"],
        "issue_type": "issue", "web_url": f"{urls.web}/{path}/-/issues/{issue['iid']}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                       "human_total_time_spent": None},
        "task_completion_status": {"count": 0, "completed_count": 0},
        "blocking_issues_count": 0, "has_tasks": False,
        "_links": {"self": api, "notes": f"{api}/notes", "award_emoji": f"{api}/award_emoji",
                   "project": f"{urls.api}/projects/{project['id']}",
                   "closed_as_duplicate_of": (
                       f"{urls.api}/projects/{project['id']}/issues/{issue['duplicated_to_iid']}"
                       if issue.get("duplicated_to_iid") else None)},
        "references": {"short": f"#{issue['iid']}", "relative": f"#{issue['iid']}",
                       "full": f"{path}#{issue['iid']}"},
        "severity": "UNKNOWN", "moved_to_id": None, "imported": False, "imported_from": "none",
        "service_desk_reply_to": None,
    }


def merge_request_json(state: GitLabState, project: JSON, mr: JSON, urls: Urls) -> JSON:
    """A merge request (samples/gitlab-merge-request.json)."""
    path = project["path_with_namespace"]
    draft = is_draft(mr["title"])
    source = state.branches.get((source_project_id(mr), mr["source_branch"]))
    sha = mr.get("sha") or (source["commit_id"] if source else None)
    status = "not_open" if mr["state"] == "merged" else "draft_status" if draft else "mergeable"
    return {
        "id": mr["id"], "iid": mr["iid"], "project_id": project["id"], "title": mr["title"],
        "description": mr["description"], "state": mr["state"], "created_at": mr["created_at"],
        "updated_at": mr["updated_at"], "merged_by": _who(state, mr["merged_by_id"], urls),
        "merge_user": _who(state, mr["merged_by_id"], urls), "merged_at": mr["merged_at"],
        "closed_by": _who(state, mr["closed_by_id"], urls), "closed_at": mr["closed_at"],
        "target_branch": mr["target_branch"], "source_branch": mr["source_branch"],
        "user_notes_count": sum(1 for n in state.notes_of(mr) if not n["system"]),
        "upvotes": 0, "downvotes": 0,
        "author": user_json(state.users[mr["author_id"]], urls), "assignees": [],
        "assignee": None, "reviewers": [], "source_project_id": source_project_id(mr),
        "target_project_id": project["id"], "labels": list(mr["labels"]), "draft": draft,
        "work_in_progress": draft, "milestone": None, "merge_when_pipeline_succeeds": False,
        "merge_status": "can_be_merged", "detailed_merge_status": status, "sha": sha,
        "merge_commit_sha": mr["merge_commit_sha"], "squash_commit_sha": None,
        "discussion_locked": mr["discussion_locked"], "should_remove_source_branch": None,
        "force_remove_source_branch": mr["remove_source_branch"],
        "reference": f"!{mr['iid']}",
        "references": {"short": f"!{mr['iid']}", "relative": f"!{mr['iid']}",
                       "full": f"{path}!{mr['iid']}"},
        "web_url": f"{urls.web}/{path}/-/merge_requests/{mr['iid']}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                       "human_total_time_spent": None},
        "squash": False, "squash_on_merge": False,
        "task_completion_status": {"count": 0, "completed_count": 0}, "has_conflicts": False,
        "blocking_discussions_resolved": True, "allow_collaboration": False,
        "allow_maintainer_to_push": False,
    }


def note_json(state: GitLabState, note: JSON, urls: Urls) -> JSON:
    """A note (samples/gitlab-note.json)."""
    return {
        "id": note["id"], "type": None, "body": note["body"], "attachment": None,
        "author": user_json(state.users[note["author_id"]], urls),
        "created_at": note["created_at"], "updated_at": note["updated_at"],
        "system": note["system"], "noteable_id": note["noteable_id"],
        "noteable_type": note["noteable_type"], "project_id": note["project_id"],
        "resolvable": False, "confidential": note["internal"], "internal": note["internal"],
        "imported": False, "imported_from": "none", "noteable_iid": note["noteable_iid"],
        "commands_changes": {},
    }


def commit_json(project: JSON, commit: JSON, urls: Urls) -> JSON:
    """A commit (without the sandbox's file snapshot)."""
    data = {k: v for k, v in commit.items() if k not in ("files", "project_id")}
    data["trailers"] = {}
    data["web_url"] = f"{urls.web}/{project['path_with_namespace']}/-/commit/{commit['id']}"
    return data


def branch_json(state: GitLabState, project: JSON, branch: JSON, urls: Urls) -> JSON:
    """`GET /repository/branches/:branch`."""
    name = branch["name"]
    return {
        "name": name, "merged": False, "protected": branch["protected"],
        "default": name == project["default_branch"], "developers_can_push": False,
        "developers_can_merge": False, "can_push": not branch["protected"],
        "web_url": f"{urls.web}/{project['path_with_namespace']}/-/tree/{name}",
        "commit": commit_json(project, state.commits[branch["commit_id"]], urls),
    }


def token_json(token: JSON) -> JSON:
    """`GET /personal_access_tokens/self`."""
    return {
        "id": token["id"], "name": token["name"], "revoked": False,
        "created_at": token["created_at"], "description": token.get("description", ""),
        "scopes": list(token["scopes"]), "user_id": token["user_id"], "last_used_at": None,
        "active": True, "expires_at": token.get("expires_at"),
    }
