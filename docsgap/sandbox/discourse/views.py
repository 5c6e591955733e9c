"""JSON shapes of the sandbox forum: posts, topic lists, topic views, categories, users.

Field sets follow the response schemas in Discourse's OpenAPI spec (which sets
`additionalProperties: false` on most of them), plus what real sites add on top and docsgap
relies on: the Solved plugin's fields, `raw` with `include_raw`, `action_code` on small actions.
"""

from __future__ import annotations

from typing import Literal

from docsgap.sandbox.discourse import markup
from docsgap.sandbox.discourse.state import HIDDEN_OWN_TEXT, HIDDEN_TEXT, SMALL_ACTION, ForumState
from docsgap.sandbox.wire import JSON, parse_time

PostContext = Literal["topic", "latest", "create", "single"]


def avatar(username: str, base_path: str = "") -> str:
    """A letter-avatar template like Discourse's (site-relative: `base_path` first)."""
    return f"{base_path}/letter_avatar_proxy/v4/letter/{username[:1].lower()}/7993a0/{{size}}.png"


def user_brief(user: JSON, base_path: str = "") -> JSON:
    """`{id, username, name, avatar_template}` (side-loaded users, details.created_by, ...)."""
    return {"id": user["id"], "username": user["username"], "name": user["name"],
            "avatar_template": avatar(user["username"], base_path)}


def post_url(state: ForumState, topic: JSON, post: JSON) -> str:
    """Site-relative post URL (`Post#url`, with the subfolder when there is one)."""
    return f"{state.base_path}/t/{topic['slug']}/{topic['id']}/{post['post_number']}"


def _shown_text(post: JSON, viewer: JSON | None, staff: bool) -> tuple[str, bool, bool]:
    """(cooked, cooked_hidden, raw allowed) for `viewer`: a hidden post's text is for staff
    and its author only; everyone else gets `flagging.user_must_edit`."""
    if not post["hidden"] or staff:
        return post["cooked"], False, True
    if viewer is not None and viewer["id"] == post["user_id"]:
        return HIDDEN_OWN_TEXT, True, True
    return HIDDEN_TEXT, True, False


def post_json(
    state: ForumState,
    post: JSON,
    viewer: JSON | None,
    context: PostContext,
    *,
    include_raw: bool = False,
) -> JSON:
    """A post as `/t/{id}.json` (`topic`), `/posts.json` (`latest`), `/posts/{id}.json`
    (`single`) or the create response."""
    topic = state.topics[post["topic_id"]]
    author = state.users[post["user_id"]]
    mine = viewer is not None and viewer["id"] == author["id"]
    staff = state.is_staff(viewer)
    cooked, cooked_hidden, raw_allowed = _shown_text(post, viewer, staff)
    data: JSON = {
        "id": post["id"],
        "name": author["name"],
        "username": author["username"],
        "avatar_template": avatar(author["username"], state.base_path),
        "created_at": post["created_at"],
        "cooked": cooked,
        "post_number": post["post_number"],
        "post_type": post["post_type"],
        "updated_at": post["updated_at"],
        "reply_count": post["reply_count"],
        "reply_to_post_number": post["reply_to_post_number"],
        "quote_count": cooked.count('<aside class="quote'),
        "incoming_link_count": 0,
        "reads": 3 + post["post_number"],
        "readers_count": 2 + post["post_number"],
        "score": float(post["reply_count"] * 5 + 1),
        "yours": mine,
        "topic_id": topic["id"],
        "topic_slug": topic["slug"],
        "display_username": author["name"],
        "primary_group_name": None,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "version": post["version"],
        "can_edit": mine or staff,
        "can_delete": staff,
        "can_recover": staff,
        "can_see_hidden_post": staff,
        "can_wiki": staff,
        "user_title": author.get("title"),
        "bookmarked": False,
        "actions_summary": [{"id": 2, "can_act": viewer is not None and not mine}],
        "moderator": bool(author.get("moderator")),
        "admin": bool(author.get("admin")),
        "staff": state.is_staff(author),
        "user_id": author["id"],
        "hidden": post["hidden"],
        "trust_level": author["trust_level"],
        "deleted_at": post["deleted_at"],
        "user_deleted": post["user_deleted"],
        "edit_reason": None,
        "can_view_edit_history": True,
        "wiki": False,
        "reviewable_id": 0 if context == "topic" else None,
        "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0,
    }
    if cooked_hidden:
        data["cooked_hidden"] = True
    if staff and post["deleted_by"] is not None:
        data["deleted_by"] = user_brief(state.users[post["deleted_by"]], state.base_path)
    if context == "topic":
        data["link_counts"] = [
            {"url": url, "internal": False, "reflection": False, "title": title, "clicks": 0}
            for url, title in post["links"]
        ]
        data["read"] = viewer is not None
        accepted = topic["accepted_answer"]
        data["accepted_answer"] = accepted == post["post_number"]
        data["can_accept_answer"] = False
        data["can_unaccept_answer"] = False
        data["topic_accepted_answer"] = accepted is not None
        if post["post_type"] == SMALL_ACTION:
            data["action_code"] = post["action_code"]
        if include_raw and raw_allowed:
            data["raw"] = post["raw"]
        return data
    data["posts_count"] = len(topic["post_ids"])
    data["flair_group_id"] = None
    if raw_allowed:
        data["raw"] = post["raw"]
    data["post_url"] = post_url(state, topic, post)
    if context == "latest":
        data["badges_granted"] = []
        data["topic_title"] = topic["title"]
        data["topic_html_title"] = topic["title"]
        data["category_id"] = topic["category_id"]
        data["excerpt"], data["truncated"] = markup.excerpt(cooked)
    elif context == "single":
        data["mentioned_users"] = []
    else:
        data["badges_granted"] = []
        data["draft_sequence"] = 0
        data["mentioned_users"] = []
    return data


def tag_objects(state: ForumState, names: list[str]) -> list[JSON]:
    """Tags as current Discourse core sends them: `{id, name, slug}`."""
    return [{"id": state.tags.get(n, 0), "name": n, "slug": n} for n in names]


def topic_list_item(state: ForumState, topic: JSON, viewer: JSON | None) -> JSON:
    """One entry of `topic_list.topics` (`/latest.json`)."""
    posts = state.topic_posts(topic, viewer)
    regular = [p for p in posts if p["post_type"] != SMALL_ACTION]
    last = regular[-1] if regular else posts[-1]
    posters = []
    seen: list[int] = []
    for p in regular:
        if p["user_id"] not in seen:
            seen.append(p["user_id"])
    for n, user_id in enumerate(seen[:5]):
        roles = ["Original Poster"] if n == 0 else ["Frequent Poster"]
        if user_id == last["user_id"]:
            roles.append("Most Recent Poster")
        poster: JSON = {"description": ", ".join(roles), "user_id": user_id,
                        "primary_group_id": None, "flair_group_id": None}
        if user_id == last["user_id"]:
            poster["extras"] = "latest"
        posters.append(poster)
    return {
        "id": topic["id"],
        "title": topic["title"],
        "fancy_title": topic["title"],
        "slug": topic["slug"],
        "posts_count": len(posts),
        "reply_count": max(0, len(regular) - 1),
        "highest_post_number": max((p["post_number"] for p in posts), default=0),
        "image_url": None,
        "created_at": topic["created_at"],
        "last_posted_at": topic["last_posted_at"],
        "bumped": True,
        "bumped_at": topic["bumped_at"],
        "archetype": "regular",
        "unseen": False,
        "pinned": topic["pinned"],
        "unpinned": None,
        "visible": topic["visible"],
        "closed": topic["closed"],
        "archived": topic["archived"],
        "bookmarked": False,
        "liked": False,
        "tags": tag_objects(state, topic["tags"]),
        "tags_descriptions": {},
        "views": topic["views"],
        "like_count": topic["like_count"],
        "has_summary": False,
        "last_poster_username": state.users[last["user_id"]]["username"],
        "category_id": topic["category_id"],
        "pinned_globally": topic["pinned_globally"],
        "featured_link": None,
        "has_accepted_answer": topic["accepted_answer"] is not None,
        "posters": posters,
    }


def topic_view(
    state: ForumState,
    topic: JSON,
    viewer: JSON | None,
    shown: list[JSON],
    all_posts: list[JSON],
    *,
    include_raw: bool,
) -> JSON:
    """`/t/{id}.json`: the topic, the chunk `shown`, and every visible id in `stream`."""
    creator = state.users[topic["user_id"]]
    regular = [p for p in all_posts if p["post_type"] != SMALL_ACTION] or all_posts
    last_poster = state.users[regular[-1]["user_id"]]
    counts: dict[int, int] = {}
    for p in regular:
        counts[p["user_id"]] = counts.get(p["user_id"], 0) + 1
    staff = state.is_staff(viewer)
    trusted = viewer is not None and (staff or viewer["trust_level"] >= 4)
    can_post = (viewer is not None and topic["deleted_at"] is None
                and (bool(viewer.get("admin")) or trusted
                     or not (topic["closed"] or topic["archived"])))
    first = parse_time(topic["created_at"])
    last = parse_time(topic["last_posted_at"])
    data: JSON = {
        "post_stream": {
            "posts": [post_json(state, p, viewer, "topic", include_raw=include_raw) for p in shown],
            "stream": [p["id"] for p in all_posts],
        },
        "timeline_lookup": [[1, max(0, int((last - first) // 86400))]],
        "suggested_topics": [],
        "tags": tag_objects(state, topic["tags"]),
        "tags_descriptions": {},
        "id": topic["id"],
        "title": topic["title"],
        "fancy_title": topic["title"],
        "posts_count": len(all_posts),
        "created_at": topic["created_at"],
        "views": topic["views"],
        "reply_count": max(0, len(regular) - 1),
        "like_count": topic["like_count"],
        "last_posted_at": topic["last_posted_at"],
        "visible": topic["visible"],
        "closed": topic["closed"],
        "archived": topic["archived"],
        "has_summary": len(all_posts) > 20,
        "archetype": "regular",
        "slug": topic["slug"],
        "category_id": topic["category_id"],
        "word_count": sum(len(p["raw"].split()) for p in all_posts),
        "deleted_at": topic["deleted_at"],
        "user_id": creator["id"],
        "featured_link": None,
        "pinned_globally": topic["pinned_globally"],
        "pinned_at": topic["created_at"] if topic["pinned"] else None,
        "pinned_until": None,
        "image_url": None,
        "slow_mode_seconds": 0,
        "draft": None,
        "draft_key": f"topic_{topic['id']}",
        "draft_sequence": 0,
        "unpinned": None,
        "pinned": topic["pinned"],
        "current_post_number": shown[0]["post_number"] if shown else 1,
        "highest_post_number": max((p["post_number"] for p in all_posts), default=0),
        "deleted_by": None,
        "has_deleted": staff and state.deleted_count(topic) > 0,
        "actions_summary": [],
        "chunk_size": 20,
        "bookmarked": False,
        "bookmarks": [],
        "topic_timer": None,
        "message_bus_last_id": 0,
        "participant_count": len(counts),
        "show_read_indicator": False,
        "thumbnails": None,
        "slow_mode_enabled_until": None,
        "details": _details(state, viewer, creator, last_poster, counts, can_post, staff),
    }
    accepted = topic["accepted_answer"]
    if accepted is not None:
        answer = next((p for p in all_posts if p["post_number"] == accepted), None)
        if answer is not None:
            author = state.users[answer["user_id"]]
            data["accepted_answer"] = {
                "post_number": accepted,
                "username": author["username"],
                "name": author["name"],
                "excerpt": markup.excerpt(answer["cooked"], 120)[0],
            }
    return data


def _details(
    state: ForumState,
    viewer: JSON | None,
    creator: JSON,
    last_poster: JSON,
    counts: dict[int, int],
    can_post: bool,
    staff: bool,
) -> JSON:
    participants = []
    for user_id, n in sorted(counts.items(), key=lambda kv: -kv[1])[:24]:
        user = state.users[user_id]
        participants.append({
            **user_brief(user, state.base_path), "post_count": n, "primary_group_name": None,
            "flair_name": None, "flair_url": None, "flair_color": None, "flair_bg_color": None,
            "flair_group_id": None,
            "admin": bool(user.get("admin")), "moderator": bool(user.get("moderator")),
            "trust_level": user["trust_level"],
        })
    details: JSON = {"can_edit": staff, "notification_level": 1, "can_move_posts": staff,
                     "can_delete": staff, "can_remove_allowed_users": staff,
                     "can_create_post": can_post, "can_reply_as_new_topic": viewer is not None}
    for flag in ("can_convert_topic", "can_review_topic", "can_close_topic", "can_archive_topic",
                 "can_split_merge_topic", "can_edit_staff_notes", "can_toggle_topic_visibility",
                 "can_pin_unpin_topic", "can_moderate_category"):
        details[flag] = staff
    details["can_remove_self_id"] = viewer["id"] if viewer else 0
    details["participants"] = participants
    details["created_by"] = user_brief(creator, state.base_path)
    details["last_poster"] = user_brief(last_poster, state.base_path)
    return details


def category_json(state: ForumState, category: JSON, *, site: bool = False) -> JSON:
    """A category as `/categories.json` lists it (`site=True`: the `/site.json` variant)."""
    topics = [t for t in state.topics.values() if t["category_id"] == category["id"]]
    children = [c["id"] for c in state.categories.values()
                if c.get("parent_category_id") == category["id"]]
    data: JSON = {
        "id": category["id"], "name": category["name"], "color": category["color"],
        "text_color": "FFFFFF", "style_type": "square", "emoji": None, "icon": None,
        "slug": category["slug"], "topic_count": len(topics),
        "post_count": sum(len(t["post_ids"]) for t in topics), "position": category["position"],
        "description": category["description"], "description_text": category["description"],
        "description_excerpt": category["description"],
        "topic_url": f"{state.base_path}/t/about-the-{category['slug']}-category/{category['id']}",
        "read_restricted": category["read_restricted"], "permission": 1,
        "notification_level": 1, "topic_template": None, "topic_title_placeholder": None,
        "has_children": bool(children), "subcategory_count": len(children) or None,
        "sort_order": None, "sort_ascending": None, "show_subcategory_list": False,
        "num_featured_topics": 3, "default_view": None,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all", "default_list_filter": "all", "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False, "uploaded_logo": None,
        "uploaded_logo_dark": None, "uploaded_background": None, "uploaded_background_dark": None,
        "can_edit": False,
    }
    if site:
        data.update(allow_global_tags=False, required_tag_groups=[], read_only_banner=None)
        if category.get("parent_category_id"):
            data["parent_category_id"] = category["parent_category_id"]
        return data
    data.update(topics_day=0, topics_week=0, topics_month=len(topics), topics_year=len(topics),
                topics_all_time=len(topics), subcategory_ids=children)
    return data
