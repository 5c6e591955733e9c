"""Discourse's posting rules for new users and slow mode, as the bot meets them in a reply's
refusal: what each refusal text (`config/locales/server.en.yml`) means for docsgap's bot and
what to do about it. A refused reply stays a per-action failure that a later run retries;
this only says why and how to stop it recurring."""

from __future__ import annotations

import re

RAISE = ("raise the bot's trust level (a forum admin: the bot's admin page, Trust Level; "
         "trust level 1 lifts the link, mention, host and per-topic limits, 2 the first-day "
         "cap)")

_N = r"(one|\d+)"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"new users can only put {_N} links? in a post|new users can't put links"),
     "the bot account is at trust level 0: Discourse allows it {n} link{s} a post "
     "(newuser_max_links); " + RAISE + ", or use a reply template with fewer links"),
    (re.compile(r"you can't include links in your posts"),
     "the forum lets only some groups post links (post_links_allowed_groups) and the bot is "
     "in none of them: " + RAISE + " or ask the forum's admins to add it to such a group"),
    (re.compile(r"cannot post a link to that host"),
     "the bot account is at trust level 0: Discourse refuses a link to a host its earlier "
     "posts already linked (newuser_spam_host_threshold, 3 posts by default; every reply "
     "links gitlab.com and docs.gitlab.com); " + RAISE + ", or ask the forum's admins to "
     "add those hosts to allowed_spam_host_domains"),
    (re.compile(rf"new users can only mention {_N} (other )?users?|new users can't mention"),
     "the bot account is at trust level 0: Discourse allows it {n} mention{s} a post "
     "(newuser_max_mentions_per_post); " + RAISE + ", or mention fewer users in the template"),
    (re.compile(rf"you can only mention {_N} (other )?users? in a post|you can't mention"),
     "Discourse allows {n} mention{s} a post (max_mentions_per_post): mention fewer users "
     "in the reply template"),
    (re.compile(rf"new users are temporarily limited to {_N} repl"),
     "the bot account is at trust level 0: Discourse allows it {n} replies in a topic it did "
     "not start until someone answers it there (newuser_max_replies_per_topic); " + RAISE
     + "; a later run retries the reply"),
    (re.compile(r"No (more than (\d+) )?consecutive replies are allowed"),
     "the bot's last posts in the topic are all its own (max_consecutive_replies, 3 by "
     "default): a later run retries the reply once someone else has posted there"),
    (re.compile(r"This topic is in slow mode"),
     "the topic is in slow mode and the bot posted there less than its slow-mode interval "
     "ago: a later run retries the reply"),
    (re.compile(r"replies a new user can create on their first day"),
     "the bot account is new (trust level 0, or 1 with its first post less than a day ago): "
     "Discourse allows it max_replies_in_first_day replies (10 by default) in its first 24 "
     "hours; later runs post the rest, or " + RAISE),
)


def advice(message: str) -> str | None:
    """What to do about a refusal whose text is one of the rules above, else None."""
    for pattern, text in _RULES:
        found = pattern.search(message)
        if found is not None:
            count = found.group(1) if found.groups() else None
            n = "1" if count == "one" else count or ""
            return text.format(n=n, s="" if n == "1" else "s")
    return None


def explain(message: str) -> str:
    """`message` with its advice appended when there is one."""
    said = advice(message)
    return f"{message.rstrip('. ')}: {said}" if said else message
