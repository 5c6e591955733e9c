"""Discourse's posting rules for new users and for topics in slow mode, as `POST /posts.json`
meets them: `PostCreator#valid?` (slow mode, then `Post#has_host_spam?`), `PostValidator`'s
new-user counts (`max_posts_validator`, `max_mention_validator`, `newuser_links_validator`),
its `force_edit_last_validator` (consecutive replies, any non-staff user) and
`Post#limit_posts_per_day` (the first-day replies limiter). Staff are exempt from all of
them (`User#has_trust_level?` is true for staff at any level)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from docsgap.sandbox.discourse import markup
from docsgap.sandbox.wire import (
    DISCOURSE_JSON,
    JSON,
    HttpError,
    Response,
    discourse_rate_limited,
    json_response,
    parse_time,
)

if TYPE_CHECKING:
    from docsgap.sandbox.discourse.state import ForumState

DAY = 86400.0
SLOW_MODE = "This topic is in slow mode."
SPAMMING_HOST = "Sorry you cannot post a link to that host."
FIRST_DAY_CODE = "first_day_replies_per_day"
FIRST_DAY = ("We appreciate your enthusiasm, keep it up! That said, for the safety of our "
             "community, you\u2019ve reached the maximum number of replies a new user can create "
             "on their first day. Please wait {time_left} and you\u2019ll be able to create more "
             "replies.")
"""`rate_limiter.by_type.first_day_replies_per_day` (config/locales/server.en.yml)."""

_ONEBOX = re.compile(r'<aside class="onebox.*?</aside>', re.S)
_QUOTE = re.compile(r'<aside class="quote.*?</aside>', re.S)
_QUOTE_TITLE = re.compile(r'<div class="title">.*?</div>\n(?=<blockquote>)', re.S)
_ANCHOR = re.compile(r'<a\s[^>]*href="([^"]*)"[^>]*>')
_MENTION = re.compile(r'class="mention"[^>]*>@([^<]+)<')


def trusted(state: ForumState, user: JSON, level: int = 1) -> bool:
    """`User#has_trust_level?`: staff count as every level."""
    return state.is_staff(user) or int(user["trust_level"]) >= level


def new_user(state: ForumState, user: JSON, now: float) -> bool:
    """`User#new_user?`: joined less than a day ago or trust level 0, below 2, not staff (who
    then wait `rate_limit_new_user_create_post` between posts)."""
    joined = parse_time(str(user["created_at"]))
    return (not trusted(state, user, 2)
            and (now - joined < DAY or int(user["trust_level"]) == 0))


def slow_mode(state: ForumState, user: JSON, topic: JSON | None, now: float) -> None:
    """`PostCreator#valid?`: in a topic with `slow_mode_seconds`, a non-staff user's reply
    within that many seconds of their last post there is a 422 (checked before the topic
    may be posted in at all)."""
    seconds = float((topic or {}).get("slow_mode_seconds") or 0)
    if topic is None or seconds <= 0 or state.is_staff(user):
        return
    own = [parse_time(state.posts[i]["created_at"]) for i in topic["post_ids"]
           if state.posts[i]["user_id"] == user["id"]]
    if own and now < max(own) + seconds:
        raise HttpError(post_errors(SLOW_MODE))


def link_urls(state: ForumState, raw: str) -> list[str]:
    """`PostAnalyzer#raw_links` plus its onebox URLs: every link of the cooked post, not
    deduplicated, without mentions and quote titles; a onebox counts once."""
    cooked = markup.cook(raw, state.user_exists)
    urls = [m.group(1) for box in _ONEBOX.findall(cooked) for m in [_ANCHOR.search(box)] if m]
    cooked = _QUOTE_TITLE.sub("", _ONEBOX.sub("", cooked))
    urls += [m.group(1) for m in _ANCHOR.finditer(cooked)
             if 'class="mention"' not in m.group(0)]
    return urls


def mentions(state: ForumState, raw: str) -> set[str]:
    """`PostAnalyzer#raw_mentions`: distinct names of `.mention` elements outside quotes
    (users that do not exist count too)."""
    cooked = _QUOTE.sub("", markup.cook(raw, state.user_exists))
    return {m.group(1).lower() for m in _MENTION.finditer(cooked)}


def host_spam(state: ForumState, user: JSON, raw: str) -> None:
    """`Post#has_host_spam?`: below trust level 1, a host linked in this post and in
    `newuser_spam_host_threshold` - 1 earlier posts of the user is a 422. Hosts ending in one
    of `allowed_spam_host_domains` are exempt (the site's own host is not modelled)."""
    threshold = state.settings.newuser_spam_host_threshold
    if trusted(state, user) or not threshold:
        return
    allowed = [d for d in state.settings.allowed_spam_host_domains if "." in d]
    hosts = {h for h in (urlsplit(u).hostname for u in link_urls(state, raw))
             if h and not any(h.endswith(d) for d in allowed)}
    if not hosts:
        return
    earlier = [p for p in state.posts.values()
               if p["user_id"] == user["id"] and p["deleted_at"] is None]
    for host in hosts:
        used = sum(1 for p in earlier if any(urlsplit(u).hostname == host for u, _ in p["links"]))
        if used + 1 >= threshold:
            raise HttpError(post_errors(SPAMMING_HOST))


def rule_errors(state: ForumState, user: JSON, topic: JSON | None, raw: str) -> list[str]:
    """`PostValidator`'s counts for a post by `user` in `topic` (None: a new topic), in its
    order: replies in one topic, mentions, links."""
    settings = state.settings
    errors: list[str] = []
    if topic is not None and _posted_too_much(state, user, topic):
        n = settings.newuser_max_replies_per_topic
        errors.append(f"We're sorry, but new users are temporarily limited to {n} "
                      f"{'reply' if n == 1 else 'replies'} in the same topic.")
    if not state.is_staff(user):
        count = len(mentions(state, raw))
        if trusted(state, user):
            limit, who = settings.max_mentions_per_post, "you"
        else:
            limit, who = settings.newuser_max_mentions_per_post, "new users"
        if count > limit:
            errors.append(f"Sorry, {who} can't mention other users." if limit == 0 else
                          f"Sorry, {who} can only mention one other user in a post." if limit == 1
                          else f"Sorry, {who} can only mention {limit} users in a post.")
    if not trusted(state, user):
        count, limit = len(link_urls(state, raw)), settings.newuser_max_links
        if count > limit:
            errors.append("Sorry, new users can't put links in posts." if limit == 0 else
                          "Sorry, new users can only put one link in a post." if limit == 1 else
                          f"Sorry, new users can only put {limit} links in a post.")
    return errors


def consecutive_error(state: ForumState, user: JSON, topic: JSON | None) -> str | None:
    """`PostValidator#force_edit_last_validator` (any non-staff user, last of the checks):
    when the topic's last `max_consecutive_replies` visible posts are all the user's and the
    user did not start the topic, the reply is refused (edit the last one instead)."""
    limit = state.settings.max_consecutive_replies
    if topic is None or not limit or state.is_staff(user) or topic["user_id"] == user["id"]:
        return None
    shown = [state.posts[i] for i in topic["post_ids"]
             if state.posts[i]["deleted_at"] is None and not state.posts[i]["hidden"]]
    last = sorted(shown, key=lambda p: p["post_number"])[-limit:]
    if len(last) < limit or any(p["user_id"] != user["id"] for p in last):
        return None
    if limit == 1:
        return ("No consecutive replies are allowed. Please edit your previous reply, or wait "
                "for someone to reply to you.")
    return (f"No more than {limit} consecutive replies are allowed. Please edit your previous "
            "reply, or wait for someone to reply to you.")


def _posted_too_much(state: ForumState, user: JSON, topic: JSON) -> bool:
    """`User#posted_too_much_in_topic?`: trust level 0 exactly, not staff, not the topic's
    author; counts the user's posts there since the last post that replied to one of theirs
    or mentioned them (`UserAction.last_action_in_topic`)."""
    if state.is_staff(user) or int(user["trust_level"]) != 0 or topic["user_id"] == user["id"]:
        return False
    posts = [state.posts[i] for i in topic["post_ids"] if state.posts[i]["deleted_at"] is None]
    mine = {p["post_number"] for p in posts if p["user_id"] == user["id"]}
    name = str(user["username"]).lower()
    since = 0
    for post in posts:
        if post["user_id"] != user["id"] and (
                post["reply_to_post_number"] in mine or name in mentions(state, post["raw"])):
            since = post["id"]
    count = sum(1 for p in posts if p["user_id"] == user["id"] and p["id"] > since)
    return count >= state.settings.newuser_max_replies_per_topic


def first_day(state: ForumState, user: JSON, now: float) -> None:
    """`Post#limit_posts_per_day`: a reply by a user on their first day
    (`new_user_posting_on_first_day?`: not staff, below trust level 2, and trust level 0 or
    a first post less than a day old or none) counts against `max_replies_in_first_day` a
    day; over it, the limiter's 429 (no `Discourse-Rate-Limit-Error-Code` header: the
    limiter has no error code)."""
    limit = state.settings.max_replies_in_first_day
    if not limit or trusted(state, user, 2):
        return
    own = [parse_time(p["created_at"]) for p in state.posts.values() if p["user_id"] == user["id"]]
    first = min(own, default=None)
    if int(user["trust_level"]) != 0 and first is not None and now - first >= DAY:
        return
    done = [t for t in state.first_day_replies.get(user["id"], []) if now - t < DAY]
    if len(done) >= limit:
        wait = max(1, int(done[0] + DAY - now))
        raise HttpError(discourse_rate_limited(wait, None, FIRST_DAY))
    state.first_day_replies[user["id"]] = [*done, now]


def post_errors(*messages: str) -> Response:
    """Post-create failures: 422 with `errors` but no `error_type` (CONTRACTS.md §A6)."""
    return json_response(422, {"action": "create_post", "errors": list(messages)},
                         content_type=DISCOURSE_JSON)
