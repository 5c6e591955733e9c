"""Links a reviewer chose by hand (`docsgap review --link KEY URL`): the signal goes to that
issue or MR instead of docsgap's own match. Kept in the `verdicts` table as
`link:<signal key>` with the item's URL as body, so a rerun, `review` and `--apply` all plan
the same link, and `review --undo` gives docsgap's match back."""

from __future__ import annotations

from collections.abc import Mapping

from docsgap.act.plan import HAND_LINKED
from docsgap.models import Candidate, MatchResult
from docsgap.state import StateStore

PREFIX = "link:"
"""Verdict key prefix of a hand link (`link:<signal key>`)."""


def hand_links(store: StateStore) -> dict[str, str]:
    """Signal key -> the item URL a reviewer linked it to."""
    rows = store.db.table("verdicts").rows_where("key like ?", [PREFIX + "%"]) \
        if store.db.table("verdicts").exists() else []
    return {str(r["key"])[len(PREFIX):]: str(r["body"]) for r in rows
            if r["verdict"] == "accept" and r["body"]}


def apply_hand_links(store: StateStore, matches: Mapping[str, MatchResult]
                     ) -> dict[str, MatchResult]:
    """`matches` with each hand-linked signal matched to the reviewer's item (decision
    `review`: it is a person's link, planned under its own key, which `review --link` accepts),
    the reason saying what docsgap had proposed."""
    chosen = hand_links(store)
    out = dict(matches)
    for key, url in chosen.items():
        if key not in out:
            continue
        before = out[key]
        item = store.item(url)
        mine = Candidate(url, item.title if item else "", item.state if item else "opened",
                         100.0, confidential=bool(item and item.confidential))
        was = ("docsgap proposed a new issue" if before.decision == "new"
               else f"docsgap proposed {before.best.url} ({before.best.score:.1f}%)"
               if before.best is not None and before.best.url != url else "")
        reason = f"{HAND_LINKED} to {url} by a reviewer" + (f"; {was}" if was else "")
        rest = tuple(c for c in before.candidates if c.url != url)
        out[key] = MatchResult("review", mine, (mine, *rest), reason)
    return out
