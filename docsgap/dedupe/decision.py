"""The dedup decision on ranked candidates (`link`, `review` or `new`) and its explanation:
what carried the best candidate (each feature's contribution to its logit), its state, and why
the runners-up lost. A candidate's score is the ranker's probability, in percent, that it is the
report's original."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from docsgap.dedupe.features import PRIORS
from docsgap.dedupe.ranker import without_priors
from docsgap.models import Candidate, Decision, MatchResult

CONFIDENTIAL = ("a confidential issue: forum readers cannot open it, so a person decides what "
                "the thread is told")
"""Said of a confidential best candidate, whatever its score: docsgap never links it alone."""


def decide(ranked: Sequence[Candidate], *, link_threshold: float, review_threshold: float,
           related: Callable[[str, str], bool] | None = None) -> MatchResult:
    """The decision on ranked candidates (scores: probabilities in percent): `link` at or above
    `link_threshold`, `review` down to `review_threshold`, else `new`; the reason says why. The
    open/recent/named priors order candidates but never reach a threshold on their own: the
    probability without their lift must reach it too. Candidates that reference the best
    (an MR and the issue it closes) track the same gap: their probability counts for it."""
    if not ranked:
        return MatchResult("new", None, (), "new: no cached issue or MR shares a word or page")
    best, rest = ranked[0], list(ranked[1:])
    same_gap = sum(c.score for c in rest if related and related(best.url, c.url))
    score = best.score + same_gap
    evidence = text_evidence(best.score, best.fields) + same_gap
    notes = [f"{_brief(best)} {_fields(best)}"]
    if same_gap:
        notes[0] += f", {score:.1f} with the items that reference it"
    if score < review_threshold:
        decision: Decision = "new"
        notes[0] = f"new: best {notes[0]} is below the review threshold " \
            f"{review_threshold:g}"
    elif evidence < review_threshold:
        decision = "new"
        notes[0] = f"new: best {notes[0]} reaches the review threshold {review_threshold:g} " \
            "only through the open/recent/named priors"
    elif score < link_threshold:
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
    elif best.confidential:
        decision = "review"
        notes[0] = f"review: {notes[0]} is {CONFIDENTIAL}"
    else:
        decision = "link"
        notes[0] = f"link: {notes[0]}"
    if best.confidential and decision != "new" and "is a confidential issue" not in notes[0]:
        notes.append(f"{best.url} is {CONFIDENTIAL}")
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
    if c.confidential:
        out["confidential"] = True
    return out


def _brief(c: Candidate) -> str:
    return f"{c.url} ({c.score:.1f}%)"


def _fields(c: Candidate) -> str:
    """The contributions to its logit, largest first: what carried it."""
    ordered = sorted(c.fields, key=lambda kv: -abs(kv[1]))
    return "[" + ", ".join(f"{k} {v:+g}" for k, v in ordered) + "]"


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
    lead = f"{best.score - other.score:.1f} points behind"
    names = dict.fromkeys(k for k, _ in (*best.fields, *other.fields))
    gaps = sorted(((_value(best, k) - _value(other, k), k, _value(other, k)) for k in names),
                  reverse=True)
    if not gaps or gaps[0][0] <= 0:
        return lead
    _, name, theirs = gaps[0]
    return f"{lead}, mostly on {name} ({theirs:g} vs {_value(best, name):g})"


def _value(c: Candidate, name: str) -> float:
    """One field's value on a candidate (0 when absent)."""
    return field_value(c.fields, name)


def text_evidence(score: float, fields: Sequence[tuple[str, float]]) -> float:
    """A score (percent) had the priors added nothing: what the text and the page say."""
    return 100 * without_priors(score / 100, fields)


def field_value(fields: Sequence[tuple[str, float]], name: str) -> float:
    """One named value of a candidate's fields (0 when absent)."""
    return next((v for k, v in fields if k == name), 0.0)


__all__ = ["PRIORS", "candidate_json", "decide", "field_value",
           "text_evidence"]
