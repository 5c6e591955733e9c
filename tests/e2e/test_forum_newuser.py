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
from docsgap.loop import summary
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
        held = [o for o in later.result.outcomes if o.status == "held"]
        assert held and later.exit_code == 6
        assert not [o for o in later.result.outcomes if o.status == "failed"]
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


def test_the_first_day_cap_holds_the_rest_of_the_runs_posts_without_asking(
    tmp_path: Path
) -> None:
    """Once Discourse's first-day cap answers a reply with a 429 of ~23 h, the run's later
    forum posts are held without a request and said once (how many, when the limit lifts);
    the GitLab writes go on, exit 6, and a later run posts the held ones (once each). The old
    code stopped the whole run at the 429: the issues after it were not opened."""
    clock = Clock(time.time())
    with Sandbox(now=clock, discourse_limits=True, skip_waits=True) as sandbox:
        bot = sandbox.forum.user(BOT)
        assert bot is not None
        bot["trust_level"] = 1
        cfg = demo_config(sandbox, tmp_path)

        first = run_once(cfg, apply=True)

        outcomes = first.result.outcomes
        assert len(outcomes) == len(first.result.plan.actions)  # every action reached
        held = [o for o in outcomes if o.status == "held"]
        assert len(held) >= 2 and first.exit_code == 6
        assert {o.action.kind.value for o in held} <= set(FORUM_WRITES)
        assert not [o for o in outcomes if o.status == "failed"]
        # GitLab writes after the first held post went on.
        first_held = outcomes.index(held[0])
        later_issues = [o for o in outcomes[first_held:] if o.action.kind.value == "open_issue"]
        assert later_issues and all(o.status == "applied" for o in later_issues)
        posts = [r for r in sandbox.requests_log()
                 if r["service"] == "forum" and r["method"] == "POST"]
        statuses = [r["status"] for r in posts]  # a 429 before each 200: the 30 s interval
        assert statuses.count(200) == 10 and statuses[-2:] == [200, 429]  # none after the cap
        text = summary.render_text(summary.summarize(
            first.result, applied=True, remaining=first.remaining,
            stopped_early=first.stopped_early, exit_code=int(first.exit_code)))
        [said] = [line for line in text.splitlines() if "not sent" in line]
        assert f"{len(held)} forum post(s) held" in said
        assert "the limit lifts in about" in said and "first day" in said
        assert "FAILED" not in text

        bot["trust_level"] = 2
        last = run_once(cfg, apply=True)

        assert last.exit_code == 0
        markers = bot_markers(sandbox)
        assert {o.action.key for o in held} <= set(markers)
        assert max(markers.values()) == 1
