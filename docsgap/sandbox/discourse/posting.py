"""`POST /posts.json` in the sandbox forum, in the order Discourse checks things: whisper
permission (403), the 120 s payload memo, the topic (`topic_not_found`, 422), the body
(length, `unique_posts_mins`; 422), then the per-user create-post interval (429)."""

from __future__ import annotations

from typing import Any

from docsgap.sandbox.discourse.state import WHISPER, ForumState
from docsgap.sandbox.wire import (
    DISCOURSE_JSON,
    JSON,
    HttpError,
    Response,
    discourse_error,
    discourse_rate_limited,
    json_response,
)

TOPIC_NOT_FOUND = ("Something went wrong. Perhaps this topic was closed or deleted while you "
                   "were looking at it?")
"""`topic_not_found`: PostCreator's answer for an unknown, deleted or closed topic."""
TOO_SIMILAR = "Body is too similar to what you posted recently"
"""`just_posted_that` on `raw`: the same body from the same user within `unique_posts_mins`."""
INVALID_WHISPER = "invalid_whisper_access"


def create_post(state: ForumState, user: JSON, form: JSON, now: float) -> JSON:
    """A reply (`topic_id`) or a new topic (`title`, `category`) by `user`; raises `HttpError`
    with Discourse's answer when a rule refuses it."""
    whisper = str(form.get("whisper") or "").lower() == "true"
    if whisper and not state.is_staff(user):
        raise HttpError(discourse_error(403, INVALID_WHISPER, "invalid_access"))
    raw = str(form.get("raw") or "")
    topic_id = int_param(form.get("topic_id"), "topic_id")
    reply_to = int_param(form.get("reply_to_post_number"), "reply_to_post_number")
    title = str(form.get("title") or "")
    key = (user["id"], topic_id, raw, reply_to, title, whisper)
    remembered = state.memo.get(key)
    if remembered and now - remembered[0] <= state.settings.duplicate_window:
        return state.posts[remembered[1]]
    if topic_id is None:
        if not title.strip():
            raise HttpError(post_errors("Title can\u2019t be blank"))
        category = int_param(form.get("category"), "category") or 1
        if category not in state.categories or not state.can_see_category(user, category):
            raise HttpError(post_errors("Category is invalid"))
        _check_body(state, user, raw, now)
        _check_interval(state, user, now)
        topic = state.new_topic(user, title, category, list(form.get("tags") or []), now)
    else:
        topic = _reply_target(state, user, topic_id)
        _check_body(state, user, raw, now)
        _check_interval(state, user, now)
    post = state.add_post(topic, user, raw, now, reply_to=reply_to,
                          post_type=WHISPER if whisper else 1)
    state.memo[key] = (now, post["id"])
    state.recent_bodies[(user["id"], raw)] = now
    state.last_post_at[user["id"]] = now
    return post


def _reply_target(state: ForumState, user: JSON, topic_id: int) -> JSON:
    """`Guardian#can_create_post_on_topic?`: never a deleted topic; admins anywhere; closed or
    archived topics only for trust level 4 and moderators. Anything else is a 422."""
    topic = state.topics.get(topic_id)
    visible = (topic is not None and topic["deleted_at"] is None
               and state.can_see_category(user, topic["category_id"])
               and (topic["visible"] or state.is_staff(user)))
    if not visible or topic is None:
        raise HttpError(post_errors(TOPIC_NOT_FOUND))
    trusted = bool(user.get("admin") or user.get("moderator")) or user["trust_level"] >= 4
    if (topic["closed"] or topic["archived"]) and not trusted:
        raise HttpError(post_errors(TOPIC_NOT_FOUND))
    return topic


def _check_body(state: ForumState, user: JSON, raw: str, now: float) -> None:
    stripped = raw.strip()
    if not stripped:
        raise HttpError(post_errors("Body can\u2019t be blank"))
    minimum = state.settings.min_post_length
    if len(stripped) < minimum:
        raise HttpError(post_errors(f"Body is too short (minimum is {minimum} characters)"))
    window = state.settings.unique_posts_mins * 60
    last = state.recent_bodies.get((user["id"], raw))
    if window and last is not None and now - last < window and not state.is_staff(user):
        raise HttpError(post_errors(TOO_SIMILAR))


def _check_interval(state: ForumState, user: JSON, now: float) -> None:
    """The `create_post` limiter: one post per interval for non-staff users (longer at trust
    level 0); staff are exempt."""
    settings = state.settings
    interval = (settings.new_user_create_post_interval if user["trust_level"] == 0
                else settings.create_post_interval)
    last = state.last_post_at.get(user["id"])
    if interval and last is not None and not state.is_staff(user) and now - last < interval:
        wait = max(1, int(last + interval - now + 0.999))
        raise HttpError(discourse_rate_limited(wait, "create_post"))


def post_errors(message: str) -> Response:
    """Post-create failures: 422 with `errors` but no `error_type` (CONTRACTS.md §A6)."""
    return json_response(422, {"action": "create_post", "errors": [message]},
                         content_type=DISCOURSE_JSON)


def invalid_parameters(name: str) -> HttpError:
    """`Discourse::InvalidParameters`: 400 with `error_type` `invalid_parameters`."""
    message = f"You supplied invalid parameters to the request: {name}"
    return HttpError(discourse_error(400, message, "invalid_parameters"))


def int_param(value: Any, name: str) -> int | None:
    """An optional integer parameter; anything else is a 400 `invalid_parameters`."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_parameters(name) from None
