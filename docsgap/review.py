"""The review queue: actions whose policy is `review` (or whose match fell in the review band)
wait here until a person accepts, edits, skips or rejects them. Verdicts live in the state, so a
rejected signal never comes back and an accepted action runs on the next `--apply`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from docsgap import compose
from docsgap.apply import NEW_ISSUE_PLACEHOLDER
from docsgap.config import Config
from docsgap.models import Action, ActionKind, MatchResult, Plan, Signal
from docsgap.plan import mode_of
from docsgap.state import StateStore

VERDICTS = ("accept", "reject", "skip")


@dataclass(frozen=True)
class ReviewItem:
    """One pending action with everything a reviewer needs to decide."""

    action: Action
    signals: tuple[Signal, ...]
    match: MatchResult | None
    preview: str
    """The exact text that would be posted (or the edited text, if the reviewer edited it)."""


def preview_text(action: Action, signals: Mapping[str, Signal], config: Config) -> str:
    """Compose what the action would post, as `apply` would."""
    members = [signals[k] for k in action.signal_keys if k in signals]
    if action.kind is ActionKind.OPEN_ISSUE and members:
        labels = compose.labels_for(members[0].gap_type,
                                    (*config.gitlab.issue_labels, config.gitlab.marker_label),
                                    config.gitlab.labels_by_gap)
        draft = compose.issue_draft(members, labels=labels, key=action.key)
        return f"Title: {draft.title}\nLabels: {', '.join(draft.labels)}\n\n{draft.description}"
    if action.kind is ActionKind.LINK_EXISTING and action.target_url:
        return compose.evidence_note(action.target_url, members, key=action.key)
    if action.kind is ActionKind.REPLY and members:
        target = action.target_url or NEW_ISSUE_PLACEHOLDER
        kind = "merge_request" if "/merge_requests/" in target else "issue"
        return compose.reply_text(item_url=target, item_kind=kind, item_state="opened",
                                  page=members[0].page, gap_type=members[0].gap_type,
                                  key=action.key)
    return action.body or action.reason


def pending(plan: Plan, store: StateStore, config: Config) -> list[ReviewItem]:
    """The plan's actions that wait for a person, with previews."""
    verdicts = {r["key"]: r["verdict"] for r in store.db["verdicts"].rows}
    signals = {s.key: s for s in plan.signals}
    matches = dict(plan.matches)
    items = []
    for action in plan.actions:
        if mode_of(action, config, verdicts) != "review" or verdicts.get(action.key) == "skip":
            continue
        edited = store.verdict(action.key)
        text = (edited or {}).get("body") or preview_text(action, signals, config)
        first = action.signal_keys[0] if action.signal_keys else ""
        items.append(ReviewItem(action, tuple(signals[k] for k in action.signal_keys
                                              if k in signals), matches.get(first), text))
    return items


def decide(store: StateStore, item: ReviewItem, verdict: str, *, body: str | None = None,
           note: str | None = None) -> None:
    """Record a verdict. Rejecting an issue or link also rejects its signals for good."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    if body is not None:
        mark = compose.marker(item.action.key)
        if mark not in body:
            body = body.rstrip() + "\n\n" + mark
    store.set_verdict(item.action.key, verdict, body=body, note=note)
    if verdict == "reject" and item.action.kind in (ActionKind.OPEN_ISSUE,
                                                    ActionKind.LINK_EXISTING):
        for key in item.action.signal_keys:
            store.set_verdict(key, "reject", note=f"with {item.action.key}")
