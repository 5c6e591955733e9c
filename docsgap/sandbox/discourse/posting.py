"""`POST /posts.json` in the sandbox forum, in the order Discourse checks things: whisper
permission (403), the 120 s payload memo (it keeps the whole answer: a post, an `enqueued`
answer or a 422; a 429 is raised past it), blocked watched words (422), then either the
approval queue (`queue`: the body's checks, the topic, `enqueued`) or slow mode and the
topic (`topic_not_found`, 422), a new user's host spam, the body and `PostValidator`'s new-user
counts (length, entropy, replies in the topic, mentions, links, `unique_posts_mins`; one 422
listing them all), the per-user create-post interval and the first-day replies (429s;
`newuser.py`)."""

from __future__ import annotations

from typing import Any

from docsgap.sandbox.discourse import newuser, queue
from docsgap.sandbox.discourse.newuser import post_errors
from docsgap.sandbox.discourse.state import WHISPER, ForumState
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Response,
    discourse_error,
    discourse_rate_limited,
)

TOPIC_NOT_FOUND = ("Something went wrong. Perhaps this topic was closed or deleted while you "
                   "were looking at it?")
"""`topic_not_found`: PostCreator's answer for an unknown, deleted or closed topic."""
TOO_SIMILAR = "Body is too similar to what you posted recently"
"""`just_posted_that` on `raw`: the same body from the same user within `unique_posts_mins`."""
INVALID_WHISPER = "invalid_whisper_access"
CREATE_POST = ("You\u2019re replying a bit too quickly. Please wait {time_left} before trying "
               "again.")
"""`rate_limiter.by_type.create_post`: the limiter's type names its text; it has no error
code, so no `Discourse-Rate-Limit-Error-Code` header (`ApplicationController`)."""
UNCLEAR = "Body seems unclear, is it a complete sentence?"
"""`is_invalid` on `raw`: a body with fewer than `body_min_entropy` distinct characters."""


def create_post(state: ForumState, user: JSON, form: JSON, now: float) -> JSON:
    """A reply (`topic_id`) or a new topic (`title`, `category`) by `user`: the post, or the
    `enqueued` answer when it waits for approval (that one has an `action`); raises
    `HttpError` with Discourse's answer when a rule refuses it."""
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
        answer = remembered[1]
        if isinstance(answer, Response):
            raise HttpError(answer)
        return state.posts[answer] if isinstance(answer, int) else dict(answer)
    try:
        result = _perform(state, user, form, raw, topic_id, reply_to, title, whisper, now)
    except HttpError as exc:
        if exc.response.status == 422:  # a failed NewPostResult is memoized like any answer
            state.memo[key] = (now, exc.response)
        raise
    state.memo[key] = (now, dict(result) if "action" in result else result["id"])
    return result


def _perform(state: ForumState, user: JSON, form: JSON, raw: str, topic_id: int | None,
             reply_to: int | None, title: str, whisper: bool, now: float) -> JSON:
    """`NewPostManager#perform` after the memo."""
    refused = queue.blocked(state, user, f"{title} {raw}")
    if refused:
        raise HttpError(post_errors(refused))
    category = None
    if topic_id is None:
        if not title.strip():
            raise HttpError(post_errors("Title can\u2019t be blank"))
        category = int_param(form.get("category"), "category") or 1
        if category not in state.categories or not state.can_see_category(user, category):
            raise HttpError(post_errors("Category is invalid"))
    reason = queue.approval_reason(state, user, state.topics.get(topic_id or 0), f"{title} {raw}")
    if reason is not None:
        _check_body(state, user, raw, now)
        topic = _reply_target(state, user, topic_id) if topic_id is not None else None
        return queue.enqueue(state, user, topic, raw, now, reply_to=reply_to, title=title,
                             category=category, reason=reason)
    if topic_id is None:
        newuser.host_spam(state, user, raw)
        _check_body(state, user, raw, now, rules=True)
        _check_interval(state, user, now)
        topic = state.new_topic(user, title, category or 1, list(form.get("tags") or []), now)
    else:
        newuser.slow_mode(state, user, state.topics.get(topic_id), now)
        topic = _reply_target(state, user, topic_id)
        newuser.host_spam(state, user, raw)
        _check_body(state, user, raw, now, rules=True, topic=topic)
        _check_interval(state, user, now)
        newuser.first_day(state, user, now)
    post = state.add_post(topic, user, raw, now, reply_to=reply_to,
                          post_type=WHISPER if whisper else 1)
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


def _check_body(state: ForumState, user: JSON, raw: str, now: float, *, rules: bool = False,
                topic: JSON | None = None) -> None:
    """`PostValidator`: the body's first fault, then with `rules` (the queue keeps only the
    body's errors) the new-user counts for a post in `topic` (None: a new topic), then
    `unique_posts_mins`; one 422 lists them all."""
    errors = [_body_error(state, raw)]
    if rules:
        errors += newuser.rule_errors(state, user, topic, raw)
    window = state.settings.unique_posts_mins * 60
    last = state.recent_bodies.get((user["id"], raw))
    if (raw.strip() and window and last is not None and now - last < window
            and not state.is_staff(user)):
        errors.append(TOO_SIMILAR)
    if rules:
        errors.append(newuser.consecutive_error(state, user, topic))
    found = [e for e in errors if e]
    if found:
        raise HttpError(post_errors(*found))


def _body_error(state: ForumState, raw: str) -> str | None:
    stripped = raw.strip()
    settings = state.settings
    if not stripped:
        return "Body can\u2019t be blank"
    if len(stripped) < settings.min_post_length:
        return f"Body is too short (minimum is {settings.min_post_length} characters)"
    if len(stripped) > settings.max_post_length:
        return f"Body is too long (maximum is {settings.max_post_length} characters)"
    if len(set(stripped)) < settings.body_min_entropy:  # `TextSentinel#entropy`
        return UNCLEAR
    return None


def _check_interval(state: ForumState, user: JSON, now: float) -> None:
    """The `create_post` limiter: one post per interval for non-staff users (longer for new
    users: `User#new_user?`); staff are exempt."""
    settings = state.settings
    interval = (settings.new_user_create_post_interval if newuser.new_user(state, user, now)
                else settings.create_post_interval)
    last = state.last_post_at.get(user["id"])
    if interval and last is not None and not state.is_staff(user) and now - last < interval:
        wait = max(1, int(last + interval - now + 0.999))
        raise HttpError(discourse_rate_limited(wait, None, CREATE_POST))


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
