"""`/site.json` of the sandbox forum: site-wide enums and every category the caller can see
(`SiteSerializer`; clients map `category_id` to names with it)."""

from __future__ import annotations

from docsgap.sandbox.discourse.state import ForumState
from docsgap.sandbox.discourse.views import category_json, tag_objects, user_brief
from docsgap.sandbox.wire import JSON

_NOTIFICATION_TYPES = (
    "mentioned", "replied", "quoted", "edited", "liked", "private_message",
    "invited_to_private_message", "invitee_accepted", "posted", "moved_post", "linked",
    "granted_badge", "invited_to_topic", "custom", "group_mentioned", "group_message_summary",
    "watching_first_post", "topic_reminder", "liked_consolidated", "post_approved",
    "code_review_commit_approved", "membership_request_accepted",
    "membership_request_consolidated", "bookmark_reminder", "reaction", "votes_released",
    "event_reminder", "event_invitation", "chat_mention", "chat_message", "chat_invitation",
    "chat_group_mention", "chat_quoted", "assigned", "question_answer_user_commented",
    "watching_category_or_tag", "new_features", "admin_problems", "linked_consolidated",
    "chat_watched_thread",
)
_ACTIONS = ((2, "like", "Like", False), (3, "off_topic", "Off-Topic", True),
            (4, "inappropriate", "Inappropriate", True), (8, "spam", "Spam", True),
            (7, "notify_moderators", "Something Else", True))


def _action(action_id: int, key: str, name: str, flag: bool) -> JSON:
    return {"id": action_id, "name_key": key, "name": name, "description": name,
            "short_description": name, "is_flag": flag, "require_message": key == "notify_user",
            "enabled": True, "applies_to": ["Post", "Topic"] if flag else ["Post"],
            "is_used": False, "position": action_id, "auto_action_type": False, "system": True}


def site_json(state: ForumState, viewer: JSON | None) -> JSON:
    """The `/site.json` body for `viewer`."""
    shown = sorted((c for c in state.categories.values()
                    if state.can_see_category(viewer, c["id"])), key=lambda c: c["position"])
    staff = state.is_staff(viewer)
    groups = [{"id": 10 + n, "name": f"trust_level_{n}", "flair_url": None,
               "flair_bg_color": None, "flair_color": None, "automatic": True} for n in range(5)]
    if staff:
        groups = [{"id": 1, "name": "admins", "flair_url": None, "flair_bg_color": None,
                   "flair_color": None, "automatic": True}, *groups]
    return {
        "default_archetype": "regular",
        "notification_types": {name: n + 1 for n, name in enumerate(_NOTIFICATION_TYPES)},
        "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
        "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
        "groups": groups,
        "filters": ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks"],
        "homepage_choices": [], "periods": ["all", "yearly", "quarterly", "monthly", "weekly",
                                            "daily"],
        "top_menu_items": ["latest", "new", "unread", "top", "categories"],
        "anonymous_top_menu_items": ["latest", "top", "categories"],
        "uncategorized_category_id": 1, "user_field_max_length": 2048,
        "post_action_types": [_action(*a) for a in _ACTIONS],
        "topic_flag_types": [_action(*a) for a in _ACTIONS if a[3]],
        "can_create_tag": staff, "can_tag_topics": viewer is not None, "can_tag_pms": staff,
        "tags_filter_regexp": "[\\/\\?#\\[\\]@!\\$&'\\(\\)\\*\\+,;=\\.%\\\\`^\\s|\\{\\}\"<>]+",
        "top_tags": tag_objects(state, sorted(state.tags)),
        "topic_featured_link_allowed_category_ids": [],
        "user_themes": [{"theme_id": 2, "name": "Default", "default": True,
                         "color_scheme_id": None, "dark_color_scheme_id": None}],
        "user_color_schemes": [], "default_light_color_scheme": None,
        "default_dark_color_scheme": None, "censored_regexp": [],
        "custom_emoji_translation": {}, "watched_words_replace": None,
        "watched_words_link": None,
        "categories": [category_json(state, c, site=True) for c in shown],
        "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
        "user_fields": [], "auth_providers": [], "full_name_required_for_signup": False,
        "full_name_visible_in_signup": True, "email_configured": True,
    }


SITE_TITLE = "GitLab Forum (sandbox)"
DISCOURSE_VERSION = "3.5.0.beta2"


def about_json(state: ForumState, viewer: JSON | None) -> JSON:
    """The `/about.json` body (`AboutSerializer`): what the site says about itself."""
    staff = [u for u in state.users.values() if state.is_staff(u)]

    def brief(user: JSON) -> JSON:
        return {**user_brief(user, state.base_path), "title": user.get("title"),
                "last_seen_at": None}

    return {"about": {
        "stats": None if viewer is None else {"topics_count": len(state.visible_topics(viewer)),
                                              "users_count": len(state.users)},
        "description": "Questions and answers about GitLab, sandbox copy",
        "title": SITE_TITLE, "locale": "en", "version": DISCOURSE_VERSION, "https": False,
        "can_see_about_stats": viewer is not None,
        "moderators": [brief(u) for u in staff if u.get("moderator")],
        "admins": [brief(u) for u in staff if u.get("admin")],
        "category_moderators": [],
    }}
