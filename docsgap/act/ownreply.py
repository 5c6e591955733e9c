"""Whether docsgap's reply in a thread is still there, before a follow-up is posted under it.
A reply a moderator deleted (or the engineer, after `docsgap review --undo`) means the thread
no longer carries the link: a follow-up would answer a post nobody sees, so it is skipped, and
the ledger keeps the reason so later runs do not plan it again."""

from __future__ import annotations

import re

from docsgap.models import Thread

GONE = "docsgap's reply in this thread was "
"""How each such reason starts (`FollowUps.plan` knows a recorded one by it)."""

_POST_URL = re.compile(r"/(\d+)/(\d+)/?$")


def reply_gone(thread: Thread, reply_url: str | None) -> str | None:
    """Why docsgap's reply (`reply_url`, `.../t/slug/TOPIC/N`) cannot carry a follow-up, or
    None. A staff key still reads a deleted post (withheld, `deleted_at`) only when Discourse
    shows it; otherwise it is absent from the topic, which counts as deleted too."""
    found = _POST_URL.search(reply_url or "")
    if found is None or int(found.group(1)) != thread.id:
        return None  # no post of this topic to look for (a moved reply is not judged)
    number = int(found.group(2))
    post = next((p for p in thread.posts if p.number == number), None)
    why = "deleted" if post is None else post.withheld
    if why is None:
        return None
    if "deleted" in why or "withdrawn" in why:
        return GONE + "deleted: no follow-up"
    return GONE + f"{why}: no follow-up"
