"""The review queue: actions whose policy is `review` (or whose match fell in the review band)
wait here until a person accepts, edits, skips or rejects them.

Verdicts live in the state, keyed by the action's idempotency key: `accept` lets the next
`run --apply` (or `followup --apply`) carry the action out, with the edited text if there is one;
`reject` drops it for good, and rejecting an issue or a link also rejects its signals, so the same
report never comes back; `skip` only defers (the item stays in the queue, shown last).

The queue is planned from the local state the last `docsgap run` left (no scan, no writes), so
what a person reviews is what the next run plans; `refresh=True` syncs and scans first.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from docsgap import compose
from docsgap.act.followup import FollowUps
from docsgap.act.items import NEW_ISSUE_PLACEHOLDER, parse_item_url
from docsgap.act.labels import planned_labels
from docsgap.act.plan import mode_of
from docsgap.config import Config
from docsgap.dedupe.decision import candidate_json
from docsgap.detect.detector import Detector
from docsgap.forum.interface import Forum
from docsgap.loop.pipeline import Pipeline
from docsgap.models import Action, ActionKind, MatchResult, Plan, Signal, Thread
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker

VERDICTS = ("accept", "reject", "skip")


@dataclass(frozen=True)
class ReviewItem:
    """One pending action with everything a reviewer needs to decide."""

    action: Action
    signals: tuple[Signal, ...]
    match: MatchResult | None
    preview: str
    """The exact text that would be posted (or the edited text, if the reviewer edited it)."""
    edited: bool = False
    """`preview` is a reviewer's edit, not the composed text."""
    skipped: bool = False
    """A reviewer skipped it before (it stays in the queue)."""
    target_confidential: bool = False
    """The issue it links (or a reply points forum readers at) is confidential."""


def review_plan(
    config: Config, forum: Forum, tracker: Tracker, store: StateStore, detector: Detector,
    *, refresh: bool = False,
) -> Plan:
    """Everything that may wait for review: the run's plan (uncapped, so nothing hides behind
    `max_actions`) and the follow-ups that are due. Writes nothing remote."""
    uncapped = replace(config, max_actions=10**9)
    pipe = Pipeline(uncapped, forum, tracker, store, detector)
    if refresh:
        pipe.sync_tracker()
        pipe.scan()
    plan = pipe.plan()
    later = FollowUps(forum, tracker, store, config).plan(refresh=refresh)
    return Plan(plan.actions + later.actions, plan.skips + later.skips, plan.signals,
                plan.matches)


def preview_text(action: Action, signals: Mapping[str, Signal], config: Config,
                 store: StateStore | None = None) -> str:
    """Compose what the action would post, as `apply` would."""
    members = [signals[k] for k in action.signal_keys if k in signals]
    first = members[0] if members else None
    if action.kind is ActionKind.OPEN_ISSUE and first:
        labels = planned_labels(action, first.gap_type, config)
        draft = compose.issue_draft(members, labels=labels, key=action.key,
                                    templates=config.templates_dir)
        return f"Title: {draft.title}\nLabels: {', '.join(draft.labels)}\n\n{draft.description}"
    if action.kind is ActionKind.LINK_EXISTING and action.target_url:
        return compose.evidence_note(action.target_url, members, key=action.key,
                                     templates=config.templates_dir)
    if action.kind is ActionKind.REPLY and first:
        target = action.target_url or NEW_ISSUE_PLACEHOLDER
        kind = "merge_request" if "/merge_requests/" in target else "issue"
        item = store.item(target) if store and action.target_url else None
        return compose.reply_text(item_url=target, item_kind=kind,
                                  item_state=item.state if item else "opened",
                                  page=first.page, gap_type=first.gap_type, key=action.key,
                                  templates=config.templates_dir)
    if action.kind is ActionKind.FOLLOWUP and action.target_url:
        kind, _ = parse_item_url(action.target_url)
        return compose.followup_text(item_url=action.target_url, item_kind=kind,
                                     page=first.page if first else None, key=action.key,
                                     templates=config.templates_dir)
    return action.body or action.reason


def pending(plan: Plan, store: StateStore, config: Config) -> list[ReviewItem]:
    """The plan's actions that wait for a person, with previews; skipped ones last."""
    verdicts = {r["key"]: r["verdict"] for r in store.db["verdicts"].rows}
    done = {r["key"] for r in store.ledger() if r["status"] == "done"}
    signals = {s.key: s for s in plan.signals}
    matches = dict(plan.matches)
    fresh: list[ReviewItem] = []
    later: list[ReviewItem] = []
    for action in plan.actions:
        if action.key in done or mode_of(action, config, verdicts) != "review":
            continue
        body = (store.verdict(action.key) or {}).get("body")
        first = action.signal_keys[0] if action.signal_keys else ""
        item = ReviewItem(
            action,
            tuple(signals[k] for k in action.signal_keys if k in signals),
            matches.get(first),
            body or preview_text(action, signals, config, store),
            edited=bool(body),
            skipped=verdicts.get(action.key) == "skip",
            target_confidential=_confidential(action, store),
        )
        (later if item.skipped else fresh).append(item)
    return fresh + later


def _confidential(action: Action, store: StateStore) -> bool:
    target = store.item(action.target_url) if action.target_url else None
    return target is not None and target.confidential


def confidential_warning(item: ReviewItem) -> str | None:
    """What accepting means when the target is a confidential issue (docsgap never links one
    on its own): who can read what is posted, and what forum readers get."""
    if not item.target_confidential:
        return None
    url = item.action.target_url
    readers = ("forum readers cannot open it: GitLab shows anyone who is not a project member "
               "(Planner and up) or its author a 404")
    if item.action.kind is ActionKind.LINK_EXISTING:
        return (f"{url} is confidential; {readers}. The evidence note stays inside it, but "
                "the thread's reply would send readers to a page they cannot read: accept "
                "the note, and reject or edit the reply")
    if item.action.kind in (ActionKind.REPLY, ActionKind.FOLLOWUP):
        return (f"this links {url}, a confidential issue; {readers}. Edit the text to say "
                "the gap is tracked without the link, or reject it")
    return f"{url} is confidential; {readers}"


def decide(store: StateStore, item: ReviewItem, verdict: str, *, body: str | None = None,
           note: str | None = None) -> None:
    """Record a verdict (keeping an earlier edit unless `body` replaces it). Rejecting an issue
    or a link also rejects its signals, so the report is never planned again."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    if body is not None:
        # The marker is what makes the write findable after a lost database: never lose it.
        mark = compose.marker(item.action.key)
        if mark not in body:
            body = body.rstrip() + "\n\n" + mark
    else:
        body = (store.verdict(item.action.key) or {}).get("body")
    store.set_verdict(item.action.key, verdict, body=body, note=note)
    if verdict == "reject" and item.action.kind in (ActionKind.OPEN_ISSUE,
                                                    ActionKind.LINK_EXISTING):
        for key in item.action.signal_keys:
            store.set_verdict(key, "reject", note=f"with {item.action.key}")


_DECIDED = {"accept": "accepted (`docsgap run --apply` carries out accepted actions)",
            "reject": "rejected for good"}


def find(items: Sequence[ReviewItem], key: str,
         decided: Mapping[str, str] | None = None) -> ReviewItem:
    """The item whose key is `key`, or starts with it when that is unambiguous. A key no
    longer pending that `decided` (key -> verdict) holds is said to be decided already."""
    exact = [i for i in items if i.action.key == key]
    if exact:
        return exact[0]
    hits = [i for i in items if i.action.key.startswith(key)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        verdicts = decided or {}
        before = [k for k in verdicts if k == key or k.startswith(key)]
        if len(before) == 1 and verdicts[before[0]] in _DECIDED:
            raise KeyError(f"{before[0]!r} is no longer pending: already "
                           f"{_DECIDED[verdicts[before[0]]]}")
        raise KeyError(f"no pending action with key {key!r} (see `docsgap review --list`)")
    raise KeyError(f"{key!r} matches {len(hits)} pending actions; give more of the key")


def dropped_with(items: Sequence[ReviewItem], rejected: ReviewItem) -> list[ReviewItem]:
    """Items a rejection makes moot: the replies waiting for a rejected issue, and the actions
    that only concern the signals a rejected issue or link takes with it."""
    if rejected.action.kind not in (ActionKind.OPEN_ISSUE, ActionKind.LINK_EXISTING):
        return []
    gone = set(rejected.action.signal_keys)
    return [i for i in items if i is not rejected and (
        i.action.depends_on == rejected.action.key
        or (i.action.signal_keys and set(i.action.signal_keys) <= gone))]


def edit_warnings(item: ReviewItem, body: str) -> list[str]:
    """Problems with an edited text that would make the write less useful."""
    problems = []
    if item.action.depends_on and NEW_ISSUE_PLACEHOLDER in item.preview and (
        NEW_ISSUE_PLACEHOLDER not in body
    ):
        problems.append(f"the text no longer holds {NEW_ISSUE_PLACEHOLDER}, so the reply "
                        "will not link the new issue")
    if item.action.kind is ActionKind.OPEN_ISSUE and not body.startswith("Title:"):
        problems.append("no 'Title:' line at the top: the composed title is kept")
    if not body.strip():
        problems.append("the text is empty")
    return problems


_TAG = re.compile(r"<[^>]+>")


def excerpt(thread: Thread, post_number: int, limit: int = 500) -> str:
    """The reported post's text, flattened and trimmed, for a reviewer to read."""
    post = next((p for p in thread.posts if p.number == post_number),
                thread.posts[0] if thread.posts else None)
    if post is None:
        return ""
    text = post.raw if post.raw is not None else html.unescape(_TAG.sub(" ", post.cooked))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def match_lines(match: MatchResult | None) -> list[str]:
    """Why the signal matched (or did not match) an existing issue, for people."""
    if match is None:
        return []
    lines = [f"decision: {match.decision}" + (f" ({match.reason})" if match.reason else "")]
    lines.extend(f"candidate {c.url} [{c.state}{', CONFIDENTIAL' * c.confidential}] "
                 f"score {c.score:.1f}: {c.title[:70]!r}"
                 + (" (same docs page)" if c.page_match else "")
                 for c in match.candidates[:3])
    return lines


def item_json(item: ReviewItem) -> dict[str, Any]:
    """A review item for scripts (`docsgap review --list --json`)."""
    a = item.action
    return {
        "key": a.key, "kind": a.kind.value, "threads": list(a.thread_ids), "target": a.target_url,
        "depends_on": a.depends_on, "reason": a.reason,
        "labels": [{"name": label.name, "why": label.why, "owner": label.owner}
                   for label in a.labels],
        "labels_note": a.labels_note or None, "edited": item.edited,
        "target_confidential": item.target_confidential,
        "warning": confidential_warning(item),
        "skipped": item.skipped, "text": item.preview,
        "signals": [
            {"key": s.key, "thread_id": s.thread_id, "title": s.thread_title,
             "url": s.thread_url, "gap_type": s.gap_type.value, "rules": list(s.rules),
             "page": s.page.url if s.page else None,
             "evidence": [{"rule_id": e.rule_id, "text": e.text, "matched": e.matched,
                           "post_number": e.post_number} for e in s.evidence]}
            for s in item.signals
        ],
        "match": None if item.match is None else {
            "decision": item.match.decision, "reason": item.match.reason,
            "best": item.match.best.url if item.match.best else None,
            "score": item.match.best.score if item.match.best else None,
            "candidates": [candidate_json(c) for c in item.match.candidates],
        },
    }
