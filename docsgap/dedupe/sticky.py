"""Review decisions that stay put between runs. A match in the review band waits for a person;
if the next run's probability dipped just under the review threshold (an item's recency decays
by the day, a new cached item takes a share of the probability), the report would turn `new`
and open an issue while the earlier match still waits in the queue. So a report once put in
review with an item stays in review with it until a person decides, its own text changes (the
match cache keeps results per signal text), the item leaves the candidates, or the evidence
falls well below the threshold (`HOLD`): hysteresis, not a second threshold to tune."""

from __future__ import annotations

from collections.abc import Mapping

from docsgap.dedupe.decision import text_evidence
from docsgap.models import MatchResult

HOLD = 0.5
"""A held review lets go when the item's evidence (its probability without the priors' lift)
falls below this share of the review threshold."""


def hold_reviews(previous: Mapping[str, MatchResult], fresh: Mapping[str, MatchResult], *,
                 review_threshold: float) -> dict[str, MatchResult]:
    """`fresh` results (signal key -> result), with each report that `previous` (the last
    run's results for the same signal text) put in review kept in review with the same item
    when this run would call it `new` only because the evidence dipped (see `HOLD`)."""
    out = dict(fresh)
    for key, now in fresh.items():
        before = previous.get(key)
        if now.decision != "new" or before is None or before.decision != "review" \
                or before.best is None:
            continue
        same = next((c for c in now.candidates if c.url == before.best.url), None)
        if same is None:
            continue
        evidence = text_evidence(same.score, same.fields)
        if evidence < HOLD * review_threshold:
            continue
        out[key] = MatchResult(
            "review", same, now.candidates,
            f"review: held: an earlier run put {same.url} in review and its evidence "
            f"({evidence:.1f}%) is still above {HOLD:g} x the review threshold "
            f"{review_threshold:g}; a person decides (this run alone: {now.reason})")
    return out


__all__ = ["HOLD", "hold_reviews"]
