"""docsgap's bot as a new forum account (trust level 0) on a forum with Discourse's new-user
rules, as forum.gitlab.com has them: a reply Discourse refuses is one action's failure that
says what to do (exit 7, the rest of the run goes on), the first-day replies limit holds the
rest of a run's replies (exit 6), a later run posts them once the bot may, and no reply is
ever posted twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from docsgap.compose import find_markers
from docsgap.demo import demo_config
from docsgap.loop.run import run_once
from docsgap.sandbox import SANDBOX_DISCOURSE_API_USERNAME as BOT
from docsgap.sandbox import Sandbox
from tests.sandbox.clock import Clock

FORUM_WRITES = ("reply", "docs_reply", "followup")


def bot_markers(sandbox: Sandbox) -> Counter[str]:
    return Counter(key for topic in sandbox.state()["topics"] for post in topic["posts"]
                   if post["username"] == BOT for key in find_markers(post["raw"]))


def test_a_trust_level_0_bot_fails_refused_replies_clearly_and_posts_them_once_later(
    tmp_path: Path
) -> None:
    clock = Clock(time.time())
    with Sandbox(now=clock, discourse_limits=True, skip_waits=True) as sandbox:
        bot = sandbox.forum.user(BOT)
        assert bot is not None
        bot["trust_level"] = 0
        cfg = demo_config(sandbox, tmp_path)

        first = run_once(cfg, apply=True)

        writes = [o for o in first.result.outcomes if o.action.kind.value in FORUM_WRITES]
        failed = [o for o in writes if o.status == "failed"]
        assert [o for o in writes if o.status == "applied"] and failed
        assert first.exit_code == 7
        assert all("Sorry you cannot post a link to that host" in (o.error or "")
                   and "trust level 0" in (o.error or "") for o in failed)
        assert max(bot_markers(sandbox).values()) == 1

        bot["trust_level"] = 1  # what the message asks a forum admin to do
        clock.now += 121  # Discourse keeps an API post's answer, a 422 too, for 120 s
        later = run_once(cfg, apply=True)

        # Trust level 1 lifts the host rule, but the bot's first post is less than a day old:
        # 10 replies a day, then the first-day limiter's 429 holds the rest of the run's.
        held = [o for o in later.result.outcomes if o.status == "failed"]
        assert held and later.exit_code == 6
        assert all("replies a new user can create on their first day" in (o.error or "")
                   for o in held)
        assert sum(bot_markers(sandbox).values()) == 10
        assert max(bot_markers(sandbox).values()) == 1

        bot["trust_level"] = 2
        last = run_once(cfg, apply=True)

        assert last.exit_code == 0
        markers = bot_markers(sandbox)
        assert {o.action.key for o in writes if o.status != "pending_review"} <= set(markers)
        assert max(markers.values()) == 1
