"""The sandbox's inspection snapshot (`GET /_sandbox/state`): topics with posts, issues, notes,
merge requests, branches, files, what would have fired, and request counts."""

from __future__ import annotations

from collections import Counter

from docsgap.sandbox.discourse.state import ForumState
from docsgap.sandbox.gitlab.mrs import is_draft, source_project_id
from docsgap.sandbox.gitlab.repo import changes
from docsgap.sandbox.gitlab.state import GitLabState
from docsgap.sandbox.wire import JSON


def snapshot(
    forum: ForumState, gitlab: GitLabState, forum_url: str, gitlab_url: str, log: list[JSON]
) -> JSON:
    """Everything, as plain JSON (callers hold the lock and copy the result)."""
    return {
        "forum_url": forum_url,
        "gitlab_url": gitlab_url,
        "categories": [dict(c) for c in forum.categories.values()],
        "users": [dict(u) for u in forum.users.values()],
        "topics": [_topic(forum, t, forum_url) for t in sorted(forum.topics.values(),
                                                                 key=lambda t: t["id"])],
        "queued_posts": [dict(q) for q in sorted(forum.queued.values(), key=lambda q: q["id"])],
        "projects": [{"id": p["id"], "path_with_namespace": p["path_with_namespace"],
                      "default_branch": p["default_branch"],
                      "labels": [lb["name"] for lb in p["labels"]],
                      "group_labels": [lb["name"] for lb in p.get("group_labels", ())],
                      "forked_from": (gitlab.projects[p["forked_from_id"]]["path_with_namespace"]
                                      if p.get("forked_from_id") in gitlab.projects else None)}
                     for p in gitlab.projects.values()],
        "issues": [issue_row(gitlab, i, gitlab_url) for i in _ordered(gitlab.issues)],
        "notes": [_note(gitlab, n) for n in sorted(gitlab.notes.values(), key=lambda n: n["id"])],
        "merge_requests": [merge_request_row(gitlab, m, gitlab_url)
                           for m in _ordered(gitlab.merge_requests)],
        "issue_links": list(gitlab.issue_links),
        "branches": [{"project": gitlab.projects[pid]["path_with_namespace"], "name": name,
                      "commit_id": b["commit_id"], "protected": b["protected"]}
                     for (pid, name), b in sorted(gitlab.branches.items())],
        "files": {
            gitlab.projects[pid]["path_with_namespace"] + "@" + name:
                dict(gitlab.commits[b["commit_id"]]["files"])
            for (pid, name), b in sorted(gitlab.branches.items())
        },
        "packages": [
            {"project": gitlab.projects[p["project_id"]]["path_with_namespace"], "id": p["id"],
             "name": p["name"], "version": p["version"], "status": p["status"],
             "files": [{"id": f["id"], "file_name": f["file_name"], "size": f["size"],
                        "file_sha256": f["file_sha256"], "created_at": f["created_at"]}
                       for f in p["files"]]}
            for p in gitlab.packages
        ],
        "quick_actions_seen": list(gitlab.quick_actions_seen),
        "mentions_seen": list(forum.mentions_seen) + list(gitlab.mentions_seen),
        "requests": _counts(log),
    }


def _ordered(items: dict[tuple[int, int], JSON]) -> list[JSON]:
    return [items[k] for k in sorted(items)]


def _topic(forum: ForumState, topic: JSON, forum_url: str) -> JSON:
    url = f"{forum_url}/t/{topic['slug']}/{topic['id']}"
    return {
        **{k: v for k, v in topic.items() if k != "post_ids"},
        "url": url,
        "posts": [
            {"id": p["id"], "post_number": p["post_number"],
             "username": forum.users[p["user_id"]]["username"], "raw": p["raw"],
             "created_at": p["created_at"], "reply_to_post_number": p["reply_to_post_number"],
             "post_type": p["post_type"], "url": f"{url}/{p['post_number']}",
             "deleted_at": p["deleted_at"], "hidden": p["hidden"],
             "user_deleted": p["user_deleted"]}
            for p in (forum.posts[i] for i in topic["post_ids"])
        ],
    }


def issue_row(gitlab: GitLabState, issue: JSON, gitlab_url: str) -> JSON:
    """One issue as the snapshot lists it."""
    project = gitlab.projects[issue["project_id"]]["path_with_namespace"]
    return {
        "project": project, "iid": issue["iid"], "title": issue["title"],
        "description": issue["description"], "state": issue["state"],
        "labels": list(issue["labels"]), "author": gitlab.users[issue["author_id"]]["username"],
        "created_at": issue["created_at"], "updated_at": issue["updated_at"],
        "closed_at": issue["closed_at"], "confidential": issue["confidential"],
        "web_url": f"{gitlab_url}/{project}/-/issues/{issue['iid']}",
    }


def _note(gitlab: GitLabState, note: JSON) -> JSON:
    return {
        "id": note["id"], "project": gitlab.projects[note["project_id"]]["path_with_namespace"],
        "noteable_type": note["noteable_type"], "noteable_iid": note["noteable_iid"],
        "body": note["body"], "author": gitlab.users[note["author_id"]]["username"],
        "system": note["system"], "created_at": note["created_at"],
    }


def merge_request_row(gitlab: GitLabState, mr: JSON, gitlab_url: str) -> JSON:
    """One merge request as the snapshot lists it."""
    project = gitlab.projects[mr["project_id"]]
    path = project["path_with_namespace"]
    return {
        "project": path, "iid": mr["iid"], "title": mr["title"],
        "description": mr["description"], "state": mr["state"], "draft": is_draft(mr["title"]),
        "labels": list(mr["labels"]), "source_branch": mr["source_branch"],
        "source_project": gitlab.projects[source_project_id(mr)]["path_with_namespace"],
        "target_branch": mr["target_branch"], "author": gitlab.users[mr["author_id"]]["username"],
        "created_at": mr["created_at"], "updated_at": mr["updated_at"],
        "merged_at": mr["merged_at"], "closed_at": mr["closed_at"],
        "changed_files": [c["new_path"] for c in changes(gitlab, project, mr)],
        "web_url": f"{gitlab_url}/{path}/-/merge_requests/{mr['iid']}",
    }


def _counts(log: list[JSON]) -> JSON:
    by_service = Counter(e["service"] for e in log)
    return {
        "total": len(log),
        "forum": by_service.get("forum", 0),
        "gitlab": by_service.get("gitlab", 0),
        "by_status": {str(k): v for k, v in sorted(Counter(e["status"] for e in log).items())},
        "faults_fired": sum(1 for e in log if e["fault"]),
    }
