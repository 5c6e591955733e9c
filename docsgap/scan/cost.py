"""What a first scan costs, said before it is paid: `/posts.json` pages down to the oldest
post or `forum.initial_pages`, at the configured request rate."""

from __future__ import annotations

import math

from docsgap.config import ForumConfig

PAGE = 50
"""Posts per `/posts.json` page."""


def first_scan_cost(forum: ForumConfig, newest_id: int) -> tuple[int, str]:
    """The pages a first scan reads at most, and the notice that says what they cost."""
    pages = min(forum.initial_pages, max(1, math.ceil(newest_id / PAGE)))
    rate = max(1, forum.rate_limit_per_minute)
    budget = (f"; this run stops after {forum.max_requests} (forum.max_requests) and the next "
              "resumes" if forum.max_requests < pages else "")
    return pages, (
        f"first scan: up to {pages:,} requests for /posts.json pages (post ids reach "
        f"{newest_id:,}), {_duration(pages / rate)} at {rate} requests/minute, plus one "
        f"request ({60 / rate:.0f} s) per topic holding a candidate signal{budget}")


def _duration(minutes: float) -> str:
    if minutes < 1:
        return "under a minute"
    if minutes < 90:
        return f"about {minutes:.0f} min"
    return f"about {minutes / 60:.1f} h"
