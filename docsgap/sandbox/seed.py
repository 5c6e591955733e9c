"""Seed data: load the shipped demo (`demo_forum.json`, `demo_gitlab.json`) and turn a seed
dict into the forum and GitLab states (post ids in time order, cooked HTML, commits)."""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from docsgap.sandbox.discourse.state import REGULAR, SMALL_ACTION, WHISPER, ForumState, slugify
from docsgap.sandbox.gitlab import repo
from docsgap.sandbox.gitlab.labels import GROUP_LABEL_IDS
from docsgap.sandbox.gitlab.state import OWNER, GitLabState
from docsgap.sandbox.wire import JSON, norm_time, parse_time

POST_TYPES = {"regular": REGULAR, "small_action": SMALL_ACTION, "whisper": WHISPER}

# What a seed part holds: key -> (required keys, "a|b" for either; its own list keys). A
# list key's value is a list of objects; these keys hold objects; `check` walks both.
_Shape = dict[str, tuple[str, "_Shape"]]
_NOTES: _Shape = {"notes": ("at body author", {})}
SHAPE: _Shape = {
    "forum": ("", {
        "users": ("id username", {}), "categories": ("id name", {}), "api_keys": ("key", {}),
        "topics": ("id title posts", {"posts": ("user|username at|created_at", {})}),
    }),
    "gitlab": ("", {
        "users": ("id username", {}), "tokens": ("username token", {}),
        "projects": ("id path_with_namespace", {
            "labels": ("name", {}), "group_labels": ("name", {}), "branches": ("name at", {}),
            "issues": ("iid title author created_at", _NOTES),
            "merge_requests": ("iid title author created_at source_branch", _NOTES),
        }),
    }),
}
_OBJECTS = {"settings", "files", "members"}
_LISTS = {"tags", "groups", "scopes", "labels", "group_labels"}


class SeedError(ValueError):
    """A seed the sandbox cannot build, with where in it and what is wrong."""


def check(data: Any) -> None:
    """Raise `SeedError` naming the first misshapen part (`forum.topics[2]: missing 'title'`)
    before building, instead of a Python error from deep in the builder."""
    for part, (_, lists) in SHAPE.items():
        if part in data:
            _check_object(data[part], part, "", lists)


def _check_object(value: Any, where: str, required: str, lists: _Shape) -> None:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: expected an object, got {_kind(value)}")
    for need in required.split():
        if not any(name in value for name in need.split("|")):
            raise SeedError(f"{where}: missing {' or '.join(map(repr, need.split('|')))}")
    for key in _OBJECTS & set(value):
        if not isinstance(value[key], dict):
            raise SeedError(f"{where}.{key}: expected an object, got {_kind(value[key])}")
    for key in _LISTS & set(value):
        if not isinstance(value[key], list):
            raise SeedError(f"{where}.{key}: expected a list, got {_kind(value[key])}")
    for key, (needs, inner) in lists.items():
        items = value.get(key, [])
        if not isinstance(items, list):
            raise SeedError(f"{where}.{key}: expected a list, got {_kind(items)}")
        for n, item in enumerate(items):
            _check_object(item, f"{where}.{key}[{n}]", needs, inner)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


@cache
def _demo_text(name: str) -> str:
    return resources.files("docsgap.sandbox").joinpath(name).read_text(encoding="utf-8")


@cache
def docs_tree(name: str) -> dict[str, str]:
    """The shipped docs tree `name` (e.g. `demo_docs`) as repository path -> text."""
    root = resources.files("docsgap.sandbox").joinpath(name)
    found: dict[str, str] = {}
    stack = [("", root)]
    while stack:
        prefix, node = stack.pop()
        for child in node.iterdir():
            path = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((path + "/", child))
            elif child.name.endswith(".md"):
                found[path] = child.read_text(encoding="utf-8")
    return dict(sorted(found.items()))


def load_demo_data() -> JSON:
    """A fresh deep copy of the shipped demo seed: `{"forum": {...}, "gitlab": {...}}`."""
    return {
        "forum": json.loads(_demo_text("demo_forum.json")),
        "gitlab": json.loads(_demo_text("demo_gitlab.json")),
    }


def _fill(text: str, places: dict[str, str]) -> str:
    """Replace `{{forum_url}}` / `{{gitlab_url}}` so seeded links point at this sandbox."""
    for key, value in places.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def build_forum(data: JSON, places: dict[str, str], base_path: str = "/forum") -> ForumState:
    """The forum state from a seed's `forum` part (the site served below `base_path`)."""
    data = copy.deepcopy(data)
    users = {int(u["id"]): _forum_user(u) for u in data.get("users", [])}
    categories = {int(c["id"]): _category(c, n) for n, c in enumerate(data.get("categories", []))}
    keys = {str(k["key"]): {"username": k.get("username"), "scopes": k.get("scopes")}
            for k in data.get("api_keys", [])}
    state = ForumState(users=users, categories=categories, topics={}, posts={}, api_keys=keys,
                       base_path=base_path)
    state.settings.update(data.get("settings") or {})
    tag_names = list(data.get("tags", []))
    for item in data.get("topics", []):
        tag_names += [t for t in item.get("tags", []) if t not in tag_names]
    state.tags = {name: n + 1 for n, name in enumerate(dict.fromkeys(tag_names))}
    pending: list[tuple[float, int, int, JSON, JSON]] = []
    for t_index, spec in enumerate(data.get("topics", [])):
        posts = spec.get("posts") or []
        if not posts:
            raise ValueError(f"topic {spec.get('id')} has no posts")
        first = state.user(posts[0].get("user") or posts[0].get("username"))
        if first is None:
            raise ValueError(f"topic {spec.get('id')}: unknown author")
        created = norm_time(posts[0].get("at") or posts[0]["created_at"])
        topic: JSON = {
            "id": int(spec["id"]), "title": spec["title"],
            "slug": spec.get("slug") or slugify(spec["title"]),
            "category_id": int(spec.get("category_id", 1)), "tags": list(spec.get("tags", [])),
            "closed": False, "archived": False, "pinned": bool(spec.get("pinned")),
            "pinned_globally": bool(spec.get("pinned_globally")),
            "visible": spec.get("visible", True), "views": int(spec.get("views", 40)),
            "like_count": int(spec.get("like_count", 0)), "created_at": created,
            "bumped_at": created, "last_posted_at": created, "user_id": first["id"],
            "post_ids": [], "accepted_answer": spec.get("accepted_answer"), "deleted_at": None,
            "archetype": "regular",
        }
        state.topics[topic["id"]] = topic
        for p_index, post in enumerate(posts):
            at = parse_time(post.get("at") or post["created_at"])
            pending.append((at, t_index, p_index, topic, post))
    # Real post ids grow with time across the whole site; `/posts.json` relies on that.
    post_ids: dict[tuple[int, int], int] = {}
    for at, _t, p_index, topic, post in sorted(pending, key=lambda x: (x[0], x[1], x[2])):
        author = state.user(post.get("user") or post.get("username"))
        if author is None:
            raise ValueError(f"topic {topic['id']}: unknown user {post.get('user')!r}")
        made = state.add_post(
            topic, author, _fill(post.get("raw", ""), places), at,
            reply_to=post.get("reply_to"), post_type=_post_type(post),
            action_code=post.get("action"),
            created_at=norm_time(post.get("at") or post["created_at"]),
        )
        post_ids[(topic["id"], p_index)] = made["id"]
    for spec in data.get("topics", []):
        topic = state.topics[int(spec["id"])]
        topic["closed"] = bool(spec.get("closed"))
        topic["archived"] = bool(spec.get("archived"))
        if spec.get("slow_mode_seconds"):  # `Topic#slow_mode_seconds` (0: off)
            topic["slow_mode_seconds"] = int(spec["slow_mode_seconds"])
        for p_index, post_spec in enumerate(spec.get("posts") or []):
            _moderate(state, post_ids[(topic["id"], p_index)], post_spec)
    state.mentions_seen.clear()  # only what arrives through the API counts
    return state


def _post_type(post: JSON) -> int:
    name = post.get("type", "regular")
    if name not in POST_TYPES:
        raise SeedError(f"unknown post type {name!r}: one of {', '.join(POST_TYPES)}")
    return POST_TYPES[name]


def _moderate(state: ForumState, post_id: int, spec: JSON) -> None:
    """Seeded moderation: `"deleted": "<moderator>"` (an hour after posting), `"hidden": true`
    (after flags), `"withdrawn": true` (deleted by its author)."""
    if spec.get("hidden"):
        state.hide_post(post_id)
    if spec.get("withdrawn"):
        state.withdraw_post(post_id)
    if spec.get("deleted"):
        stamp = parse_time(state.posts[post_id]["created_at"]) + 3600
        state.delete_post(post_id, str(spec["deleted"]), stamp)


def _forum_user(spec: JSON) -> JSON:
    return {
        "id": int(spec["id"]), "username": spec["username"],
        "name": spec.get("name") or spec["username"],
        "trust_level": int(spec.get("trust_level", 1)), "admin": bool(spec.get("admin")),
        "moderator": bool(spec.get("moderator")), "title": spec.get("title"),
        "created_at": norm_time(spec.get("created_at", "2020-01-01T00:00:00Z")),
        "groups": list(spec.get("groups", [])),
    }


def _category(spec: JSON, position: int) -> JSON:
    return {
        "id": int(spec["id"]), "name": spec["name"],
        "slug": spec.get("slug") or slugify(spec["name"]),
        "color": spec.get("color", "0088CC"), "description": spec.get("description"),
        "position": int(spec.get("position", position)),
        "read_restricted": bool(spec.get("read_restricted")),
        "groups": list(spec.get("groups", ["staff"] if spec.get("read_restricted") else [])),
        "parent_category_id": spec.get("parent_category_id"),
        "require_reply_approval": bool(spec.get("require_reply_approval")),
    }


def build_gitlab(data: JSON, places: dict[str, str]) -> GitLabState:
    """The GitLab state from a seed's `gitlab` part."""
    data = copy.deepcopy(data)
    users = {int(u["id"]): {
        "id": int(u["id"]), "username": u["username"], "name": u.get("name") or u["username"],
        "bot": bool(u.get("bot")), "admin": bool(u.get("admin")),
        "created_at": norm_time(u.get("created_at", "2020-01-01T00:00:00Z")),
    } for u in data.get("users", [])}
    state = GitLabState(users=users, tokens={}, projects={})
    for name, value in (data.get("settings") or {}).items():
        if not hasattr(state, name):
            raise ValueError(f"unknown GitLab setting {name!r}")
        setattr(state, name, value)
    for n, spec in enumerate(data.get("tokens", [])):
        user = _gl_user(state, spec["username"])
        state.tokens[str(spec["token"])] = {
            "id": int(spec.get("id", n + 1)), "name": spec.get("name", "token"),
            "user_id": user["id"], "scopes": list(spec.get("scopes", ["api"])),
            "write": bool(spec.get("write", True)), "description": spec.get("description", ""),
            "created_at": norm_time(spec.get("created_at", "2026-01-01T00:00:00Z")),
            "expires_at": spec.get("expires_at"), "kind": spec.get("kind", "personal"),
        }
    for spec in data.get("projects", []):
        _project(state, spec, places)
    return state


def _gl_user(state: GitLabState, username: str) -> JSON:
    user = state.user_named(username)
    if user is None:
        raise ValueError(f"unknown GitLab user {username!r}")
    return user


def _project(state: GitLabState, spec: JSON, places: dict[str, str]) -> None:
    created = norm_time(spec.get("created_at", "2016-01-01T00:00:00Z"))
    labels = [{"id": n + 1, "name": lb["name"], "color": lb.get("color", "#428BCA"),
               "description": lb.get("description")} for n, lb in enumerate(spec.get("labels", []))]
    group_labels = [{"id": GROUP_LABEL_IDS + n + 1, "name": lb["name"],
                     "color": lb.get("color", "#428BCA"), "description": lb.get("description")}
                    for n, lb in enumerate(spec.get("group_labels", []))]
    project: JSON = {
        "id": int(spec["id"]), "path_with_namespace": spec["path_with_namespace"],
        "name": spec.get("name") or spec["path_with_namespace"].rsplit("/", 1)[-1],
        "description": spec.get("description", ""),
        "default_branch": spec.get("default_branch", "master"), "created_at": created,
        "labels": labels, "group_labels": group_labels, "archived": bool(spec.get("archived")),
        "issues_enabled": spec.get("issues_enabled", True) is not False,
    }
    state.projects[project["id"]] = project
    if not spec.get("owner") and not state.users:
        raise SeedError(f"project {spec['path_with_namespace']}: no 'owner' and no users")
    owner = _gl_user(state, str(spec.get("owner") or next(iter(state.users.values()))["username"]))
    project["owner_id"] = owner["id"]
    project["members"] = {owner["id"]: OWNER} | {
        _gl_user(state, name)["id"]: int(level) for name, level in spec.get("members", {}).items()}
    if spec.get("forked_from"):
        project["forked_from_id"] = state.project(str(spec["forked_from"]))["id"]
    # A project can start from a shipped docs tree (`docs_tree`); its own `files` win.
    files = {**(docs_tree(spec["docs_tree"]) if spec.get("docs_tree") else {}),
             **spec.get("files", {})}
    root = repo.new_commit(state, project, parent=None, files=files,
                           message="Import documentation", author=owner, created_at=created)
    state.branches[(project["id"], project["default_branch"])] = {
        "name": project["default_branch"], "project_id": project["id"], "commit_id": root["id"],
        "base_commit_id": root["id"], "protected": True, "created_at": created,
    }
    for branch in spec.get("branches", []):
        at = parse_time(branch["at"])
        repo.create_branch(state, project, branch["name"], branch.get("from", "master"), at)
        record = state.branches[(project["id"], branch["name"])]
        files = dict(state.commits[record["commit_id"]]["files"]) | branch.get("files", {})
        author = _gl_user(state, str(branch.get("author") or owner["username"]))
        made = repo.new_commit(state, project, parent=record["commit_id"], files=files,
                               message=branch.get("message", "Update docs"),
                               author=author, created_at=norm_time(branch["at"]))
        record["commit_id"] = made["id"]
    for issue in spec.get("issues", []):
        _issue(state, project, issue, places)
    for mr in spec.get("merge_requests", []):
        _merge_request(state, project, mr, places)


def _stamps(spec: JSON) -> tuple[str, str, str | None]:
    created = norm_time(spec["created_at"])
    updated = norm_time(spec.get("updated_at") or spec["created_at"])
    closed = spec.get("closed_at")
    return created, updated, norm_time(closed) if closed else None


def _issue(state: GitLabState, project: JSON, spec: JSON, places: dict[str, str]) -> None:
    created, updated, closed = _stamps(spec)
    issue: JSON = {
        "id": 100000 + len(state.issues) + 1, "iid": int(spec["iid"]), "project_id": project["id"],
        "title": spec["title"], "description": _fill(spec.get("description", ""), places),
        "state": spec.get("state", "opened"), "created_at": created, "updated_at": updated,
        "closed_at": closed, "closed_by_id": None, "labels": list(spec.get("labels", [])),
        "author_id": _gl_user(state, spec["author"])["id"], "assignee_ids": [],
        "confidential": bool(spec.get("confidential")),
        "discussion_locked": True if spec.get("discussion_locked") else None,
    }
    if closed:
        issue["closed_by_id"] = _gl_user(state, str(spec.get("closed_by") or spec["author"]))["id"]
    if spec.get("duplicate_of"):  # closed with `/duplicate #N`
        issue["duplicated_to_iid"] = int(spec["duplicate_of"])
    state.issues[(project["id"], issue["iid"])] = issue
    for note in spec.get("notes", []):
        _note(state, project, issue, "Issue", note, places)


def _merge_request(state: GitLabState, project: JSON, spec: JSON, places: dict[str, str]) -> None:
    created, updated, closed = _stamps(spec)
    merged = spec.get("merged_at")
    mr: JSON = {
        "id": 700000 + len(state.merge_requests) + 1, "iid": int(spec["iid"]),
        "project_id": project["id"], "title": spec["title"],
        "description": _fill(spec.get("description", ""), places),
        "state": spec.get("state", "opened"), "created_at": created, "updated_at": updated,
        "merged_at": norm_time(merged) if merged else None, "merged_by_id": None,
        "closed_at": closed, "closed_by_id": None, "source_branch": spec["source_branch"],
        "target_branch": spec.get("target_branch", project["default_branch"]),
        "labels": list(spec.get("labels", [])), "author_id": _gl_user(state, spec["author"])["id"],
        "merge_commit_sha": None, "discussion_locked": None,
        "remove_source_branch": bool(spec.get("remove_source_branch", True)),
    }
    if merged:
        mr["merged_by_id"] = _gl_user(state, str(spec.get("merged_by") or spec["author"]))["id"]
        mr["sha"] = hashlib.sha1(f"{mr['id']}:head".encode()).hexdigest()
        mr["merge_commit_sha"] = hashlib.sha1(f"{mr['id']}:merge".encode()).hexdigest()
    if closed:
        mr["closed_by_id"] = _gl_user(state, str(spec.get("closed_by") or spec["author"]))["id"]
    state.merge_requests[(project["id"], mr["iid"])] = mr
    for note in spec.get("notes", []):
        _note(state, project, mr, "MergeRequest", note, places)


def _note(state: GitLabState, project: JSON, item: JSON, kind: str, spec: JSON,
          places: dict[str, str]) -> None:
    stamp = norm_time(spec["at"])
    note_id = state.next_note_id()
    state.store_note({
        "id": note_id, "body": _fill(spec["body"], places),
        "author_id": _gl_user(state, spec["author"])["id"], "created_at": stamp,
        "updated_at": stamp, "system": bool(spec.get("system")), "noteable_id": item["id"],
        "noteable_type": kind, "noteable_iid": item["iid"], "project_id": project["id"],
        "internal": False,
    })


def describe(data: Any) -> str:
    """One line about a seed (for the CLI)."""
    forum = data.get("forum", {})
    gitlab = data.get("gitlab", {})
    issues = sum(len(p.get("issues", [])) for p in gitlab.get("projects", []))
    return f"{len(forum.get('topics', []))} topics, {issues} issues"
