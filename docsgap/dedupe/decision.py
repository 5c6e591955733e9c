"""The dedup decision on ranked candidates (`link`, `review` or `new`) and its explanation:
the fields of the best candidate, its state, and why the runners-up lost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from docsgap.models import Candidate, Decision, MatchResult

PRIORS = ("open", "recent", "ref")
"""Fields that order candidates but never make a link on their own."""
AMBIGUOUS_MARGIN = 4.0
"""A link whose runner-up (another item) is this close becomes a review."""


def decide(ranked: Sequence[Candidate], *, link_threshold: float, review_threshold: float,
           related: Callable[[str, str], bool] | None = None) -> MatchResult:
    """The decision on ranked candidates: `link` at or above `link_threshold` (unless only the
    open/recent priors lift the score there, or a runner-up is nearly as good), `review` down
    to `review_threshold`, else `new`; the reason says why."""
    if not ranked:
        return MatchResult("new", None, (), "new: no cached issue or MR shares a word or page")
    best, rest = ranked[0], list(ranked[1:])
    evidence = text_evidence(best.score, best.fields)
    notes = [f"{_brief(best)} {_fields(best)}"]
    if best.score < review_threshold:
        decision: Decision = "new"
        notes[0] = f"new: best {notes[0]} is below the review threshold " \
            f"{review_threshold:g}"
    elif best.score < link_threshold:
        decision = "review"
        notes[0] = f"review: {notes[0]} is below the link threshold {link_threshold:g}"
    elif evidence < link_threshold:
        decision = "review"
        notes[0] = f"review: {notes[0]} reaches the link threshold only through the " \
            "open/recent/named priors, which rank but never link"
    elif best.continues:
        decision = "review"
        notes[0] = f"review: {notes[0]} reaches the link threshold through the closed issue " \
            "it continues, which a person confirms"
    else:
        decision = "link"
        notes[0] = f"link: {notes[0]}"
    # A close runner-up that references the best (an MR closing the issue) is the same gap.
    close = [c for c in rest if best.score - c.score < AMBIGUOUS_MARGIN
             and not (related and related(best.url, c.url))]
    if decision == "link" and close:
        decision = "review"
        notes.append(f"ambiguous: {_brief(close[0])} is within {AMBIGUOUS_MARGIN:g} points")
    if _value(best, "ref"):
        notes.append("the report names this item")
    if best.via:
        notes.append(f"matched through {best.via}, closed as a duplicate of it")
    if best.continues:
        notes.append(f"matched through {best.continues}, a closed issue it references "
                     "(a regression or follow-up is tracked here now)")
    if best.shared_words:
        notes.append("shared words: " + ", ".join(best.shared_words))
    notes.append("same docs page" if best.page_match else "no page match")
    notes.append(_state_note(best))
    notes.extend(f"runner-up {_brief(c)}: {_lost_on(best, c)}" for c in rest[:2])
    return MatchResult(decision, best, tuple(ranked), "; ".join(n for n in notes if n))


def candidate_json(c: Candidate) -> dict[str, Any]:
    """A candidate with its explanation, as the plan, the review queue and `docsgap match`
    print it."""
    out = {"url": c.url, "title": c.title, "state": c.state, "score": c.score,
           "fields": dict(c.fields), "shared_words": list(c.shared_words),
           "page_match": c.page_match}
    if c.via:
        out["via"] = c.via
    if c.continues:
        out["continues"] = c.continues
    return out


def _brief(c: Candidate) -> str:
    return f"{c.url} ({c.score:.1f})"


def _fields(c: Candidate) -> str:
    return "[" + ", ".join(f"{k} {v:g}" for k, v in c.fields) + "]"


def _state_note(c: Candidate) -> str:
    if c.state == "declined":
        return "closed as declined (won't do / duplicate label): linking tells the thread so"
    if c.state == "closed":
        return "closed already, probably fixed"
    if c.state == "merged":
        return "merged MR: probably fixed"
    return ""


def _lost_on(best: Candidate, other: Candidate) -> str:
    """Which field cost a runner-up most against the winner."""
    lead = f"{best.score - other.score:.1f} behind"
    gaps = sorted(((_value(best, k) - v, k, v) for k, v in other.fields), reverse=True)
    if not gaps or gaps[0][0] <= 0:
        return lead
    _, name, theirs = gaps[0]
    return f"{lead}, mostly on {name} ({theirs:g} vs {_value(best, name):g})"


def _value(c: Candidate, name: str) -> float:
    """One field's value on a candidate (0 when absent)."""
    return field_value(c.fields, name)


def text_evidence(score: float, fields: Sequence[tuple[str, float]]) -> float:
    """A score less its priors: what the text and the page say."""
    return score - sum(field_value(fields, k) for k in PRIORS)


def field_value(fields: Sequence[tuple[str, float]], name: str) -> float:
    """One named value of a candidate's fields (0 when absent)."""
    return next((v for k, v in fields if k == name), 0.0)


__all__ = ["AMBIGUOUS_MARGIN", "PRIORS", "candidate_json", "decide", "field_value",
           "text_evidence"]
