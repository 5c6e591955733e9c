"""User payloads of the sandbox forum: `/u/{username}.json` (`UserSerializer` as an admin key
sees it, the field set of the OpenAPI schema) and `/session/current.json`
(`CurrentUserSerializer`, the fields a client checks before posting)."""

from __future__ import annotations

from docsgap.sandbox.discourse.state import ForumState
from docsgap.sandbox.discourse.views import avatar, user_brief
from docsgap.sandbox.wire import JSON

_WEEK = {f"day_{d}_{edge}_time": (480 if edge == "start" else 1020)
         for d in range(7) for edge in ("start", "end")}


def _activity(state: ForumState, user: JSON) -> tuple[list[JSON], list[JSON]]:
    posts = [p for p in state.posts.values() if p["user_id"] == user["id"]]
    topics = [t for t in state.topics.values() if t["user_id"] == user["id"]]
    return posts, topics


def _user_option(user: JSON) -> JSON:
    return {
        "user_id": user["id"], "mailing_list_mode": False, "mailing_list_mode_frequency": 1,
        "email_digests": True, "email_level": 1, "email_messages_level": 0,
        "external_links_in_new_tab": False, "bookmark_auto_delete_preference": 3,
        "color_scheme_id": None, "dark_scheme_id": None, "dynamic_favicon": False,
        "enable_quoting": True, "enable_smart_lists": True,
        "enable_markdown_monospace_font": False, "digest_after_minutes": 10080,
        "automatically_unpin_topics": True, "auto_track_topics_after_msecs": 240000,
        "notification_level_when_replying": 2, "new_topic_duration_minutes": 2880,
        "email_previous_replies": 2, "email_in_reply_to": False, "like_notification_frequency": 1,
        "notify_on_linked_posts": True, "push_notification_level": "always",
        "enable_upcoming_change_available_notifications": False, "include_tl0_in_digests": False,
        "theme_ids": [2], "theme_key_seq": 0, "allow_private_messages": True,
        "enable_allowed_pm_users": False, "homepage_id": None, "hide_profile_and_presence": False,
        "hide_profile": False, "hide_presence": False, "text_size": "normal", "text_size_seq": 0,
        "title_count_mode": "notifications", "timezone": "UTC", "skip_new_user_tips": True,
        "default_calendar": "none_selected", "oldest_search_log_date": None,
        "sidebar_link_to_filtered_list": False, "sidebar_show_count_of_new_items": False,
        "watched_precedence_over_muted": False, "seen_popups": None,
        "topics_unread_when_closed": True, "composition_mode": 0, "interface_color_mode": 1,
        "automatically_translate": False, "understood_languages": ["en"],
        "show_original_content": False, "send_shortcut": "ctrl",
    }


def user_profile_json(state: ForumState, user: JSON, viewer: JSON | None) -> JSON:
    """`/u/{username}.json`'s `user`. `featured_topic` is `null` for users who never picked
    one, as real sites answer (the OpenAPI schema types it as an object only)."""
    posts, topics = _activity(state, user)
    last = max((p["created_at"] for p in posts), default=None)
    staff_view = state.is_staff(viewer)
    own = viewer is not None and viewer["id"] == user["id"]
    return {
        **user_brief(user, state.base_path),
        "last_posted_at": last, "last_seen_at": last, "created_at": user["created_at"],
        "ignored": False, "muted": False, "can_ignore_user": False, "can_ignore_users": False,
        "can_mute_user": not own, "can_mute_users": True, "can_send_private_messages": True,
        "can_send_private_message_to_user": not own, "trust_level": user["trust_level"],
        "moderator": bool(user.get("moderator")), "admin": bool(user.get("admin")),
        "title": user.get("title"), "badge_count": 0, "custom_fields": {},
        "time_read": 60 * len(posts), "recent_time_read": 0, "primary_group_id": None,
        "primary_group_name": None, "flair_group_id": None, "flair_name": None,
        "flair_url": None, "flair_bg_color": None, "flair_color": None,
        "featured_topic": None, "staged": False, "can_edit": own or staff_view,
        "can_edit_username": own or staff_view, "can_edit_email": own or staff_view,
        "can_edit_name": own or staff_view, "uploaded_avatar_id": None,
        "has_title_badges": False, "pending_count": 0, "pending_posts_count": 0,
        "profile_view_count": 0, "second_factor_enabled": False,
        "can_upload_profile_header": True, "can_upload_user_card_background": True,
        "post_count": len(posts), "topic_count": len(topics), "can_be_deleted": False,
        "can_delete_all_posts": staff_view, "locale": None, "muted_category_ids": [],
        "regular_category_ids": [], "watched_tags": [], "watching_first_post_tags": [],
        "tracked_tags": [], "muted_tags": [], "tracked_category_ids": [],
        "watched_category_ids": [], "watched_first_post_category_ids": [],
        "system_avatar_upload_id": None,
        "system_avatar_template": avatar(user["username"], state.base_path),
        "muted_usernames": [], "ignored_usernames": [], "allowed_pm_usernames": [],
        "mailing_list_posts_per_day": 0, "can_change_bio": True, "can_change_location": True,
        "can_change_website": True, "can_change_tracking_preferences": True,
        "user_api_keys": None, "user_auth_tokens": [],
        "user_notification_schedule": {"enabled": False, **_WEEK},
        "use_logo_small_as_avatar": False, "featured_user_badge_ids": [], "invited_by": None,
        "groups": [], "group_users": [], "user_option": _user_option(user),
    }


def current_user_json(state: ForumState, user: JSON) -> JSON:
    """`/session/current.json`'s `current_user` (a subset of `CurrentUserSerializer`)."""
    posts, topics = _activity(state, user)
    staff = state.is_staff(user)
    return {
        **user_brief(user, state.base_path),
        "last_posted_at": max((p["created_at"] for p in posts), default=None),
        "last_seen_at": max((p["created_at"] for p in posts), default=None),
        "created_at": user["created_at"], "total_unread_notifications": 0,
        "unread_notifications": 0, "unread_high_priority_notifications": 0,
        "read_first_notification": True, "admin": bool(user.get("admin")),
        "moderator": bool(user.get("moderator")), "staff": staff, "whisperer": staff,
        "title": user.get("title"), "any_posts": bool(posts), "enable_quoting": True,
        "trust_level": user["trust_level"], "can_create_topic": True,
        "can_send_private_messages": True, "can_send_private_email_messages": staff,
        "can_edit": True, "can_invite_to_forum": staff, "can_review": staff,
        "post_count": len(posts), "topic_count": len(topics),
        "groups": [{"id": 10 + min(user["trust_level"], 4),
                    "name": f"trust_level_{min(user['trust_level'], 4)}",
                    "has_messages": False}],
        "muted_category_ids": [], "muted_tags": [], "watched_tags": [],
        "user_option": {k: v for k, v in _user_option(user).items()
                        if k in ("user_id", "enable_quoting", "timezone", "text_size")},
    }
