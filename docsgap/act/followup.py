"""Close the loop: when an issue docsgap linked in a thread is closed as done, or a linked MR is
merged, post one follow-up in that thread. Declined issues (closed with a won't-do label) and MRs
closed without merging get none, and the plan says why.

Only threads where docsgap replied are followed up (they were told where the gap is tracked), and
each thread gets at most one follow-up, however many of its items get fixed. Exactly once comes
from the ledger and the hidden marker in the posted text (see `act/apply.py`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docsgap.act import held
from docsgap.act.apply import Applier
from docsgap.act.items import parse_item_url
from docsgap.act.ownreply import GONE
from docsgap.config import Config
from docsgap.errors import NotFoundError, PayloadError, UnavailableError
from docsgap.forum.interface import Forum
from docsgap.models import Action, ActionKind, Outcome, Plan, Skip, TrackerItem
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker


def declined_label(item: TrackerItem, config: Config) -> str | None:
    """The won't-do label a closed issue carries, if any (case-insensitive)."""
    declined = {label.lower() for label in config.gitlab.wontdo_labels}
    return next((label for label in item.labels if label.lower() in declined), None)


def is_done(item: TrackerItem, config: Config) -> str | None:
    """Why the item counts as fixed (`merged`, `closed as done`), or None."""
    if item.kind == "merge_request":
        return "merged" if item.state == "merged" else None
    if item.state != "closed" or declined_label(item, config):
        return None
    return "closed as done"


def not_done_reason(item: TrackerItem, config: Config) -> str:
    """Why an item gets no follow-up (yet, or ever)."""
    if item.kind == "merge_request" and item.state == "closed":
        return f"{item.ref} was closed without merging: no follow-up"
    label = declined_label(item, config) if item.state == "closed" else None
    if label:
        return f"{item.ref} was closed as won't do (label '{label}'): no follow-up"
    return f"{item.ref} is still {item.state}"


def followup_key(thread_id: int, item_url: str) -> str:
    """One follow-up per thread and issue/MR."""
    return f"followup:t{thread_id}:{item_url}"


def _preference(item: TrackerItem) -> int:
    # A merged MR is the change itself; prefer it over the issue it closed.
    return 0 if item.kind == "merge_request" else 1


@dataclass
class FollowUps:
    """Finds threads whose linked item was fixed and posts (or plans) the follow-up."""

    forum: Forum
    tracker: Tracker
    store: StateStore
    config: Config

    def plan(self, *, refresh: bool = True) -> Plan:
        """The follow-ups that are due, and why others are not. With `refresh` each candidate
        item's state is fetched fresh from the tracker (one request per item); without it the
        local cache is used (as `docsgap review` does, offline)."""
        verdicts = {r["key"]: r["verdict"] for r in self.store.db["verdicts"].rows}
        links = self.store.links()
        followed = {r["thread_id"]: r["followup_url"] for r in links if r["followup_url"]}
        skips: list[Skip] = []
        due: dict[int, list[tuple[TrackerItem, str, dict[str, Any]]]] = {}
        fresh: dict[str, TrackerItem | str] = {}
        for row in links:
            if not row["reply_url"] or row["followup_url"]:
                continue
            thread_id, url = row["thread_id"], row["item_url"]
            key = followup_key(thread_id, url)
            if thread_id in followed:
                skips.append(Skip(key, f"thread already has a follow-up ({followed[thread_id]})"))
                continue
            if verdicts.get(key) == "reject":
                skips.append(Skip(key, "rejected by a reviewer"))
                continue
            gone = str((self.store.ledger_entry(key) or {}).get("error") or "")
            if gone.startswith(GONE):  # found by an earlier --apply: not read again
                skips.append(Skip(key, gone))
                continue
            if url not in fresh:
                fresh[url] = self._refresh(url) if refresh else (
                    self.store.item(url) or f"{url} is not in the local cache")
            item = fresh[url]
            if isinstance(item, str):
                skips.append(Skip(key, item))
                continue
            why = is_done(item, self.config)
            if why is None:
                skips.append(Skip(key, not_done_reason(item, self.config)))
                continue
            quiet = self._thread_quiet(thread_id)
            if quiet:
                skips.append(Skip(key, quiet))
                continue
            due.setdefault(thread_id, []).append((item, why, row))
        actions: list[Action] = []
        mode = self.config.policy.followup
        for thread_id, fixed in due.items():
            fixed.sort(key=lambda f: _preference(f[0]))
            item, why, row = fixed[0]
            key = followup_key(thread_id, item.web_url)
            for other, _, _ in fixed[1:]:
                skips.append(Skip(followup_key(thread_id, other.web_url),
                                  f"one follow-up per thread: {key} covers it"))
            if mode == "off":
                skips.append(Skip(key, f"{item.ref} was {why}, but policy followup=off"))
                continue
            actions.append(Action(
                ActionKind.FOLLOWUP, key,
                f"{item.ref} was {why}; tell the thread; policy followup={mode}",
                (thread_id,), (row["signal_key"],) if row["signal_key"] else (),
                target_url=item.web_url,
            ))
        return Plan(tuple(actions), tuple(skips))

    def _refresh(self, url: str) -> TrackerItem | str:
        """The item fetched fresh (and cached), or why it could not be."""
        kind, iid = parse_item_url(url)
        try:
            item = self.tracker.get_item(kind, iid)
        except NotFoundError:
            return f"{url} no longer exists"
        except (UnavailableError, PayloadError) as exc:
            # One unreadable item must not hold back the others; the next run retries it.
            return f"could not refresh {url}: {exc}"
        self.store.upsert_items([item])
        return item

    def _thread_quiet(self, thread_id: int) -> str | None:
        """Why the thread must get no post (closed, archived, opted out), from the state."""
        row = self.store.thread_row(thread_id)
        if row is None:
            return None
        if row.get("closed") or row.get("archived"):
            return "topic is closed or archived: no follow-up"
        tags = set(json.loads(row.get("tags") or "[]")) & set(self.config.forum.ignore_tags)
        if tags:
            return f"tag {', '.join(sorted(tags))} opts the thread out"
        if row.get("category_id") in self.config.forum.ignore_categories:
            return f"category {row['category_id']} is opted out"
        return None

    def run(self, *, apply: bool) -> tuple[Plan, list[Outcome]]:
        """Plan the follow-ups (fresh item states) and, with `apply`, post them."""
        plan = self.plan()
        signals = {s.key: s for s in self.store.signals()}
        applier = Applier(self.forum, self.tracker, self.store, self.config, signals)
        return plan, applier.apply(plan, write=apply)


_STATUS = {
    "applied": "posted", "already_done": "already posted", "failed": "FAILED",
    "pending_review": "queued for review (docsgap review)",
    "queued": "awaiting forum moderator approval", "held": "held (rate limit)",
}


def render_text(plan: Plan, outcomes: Sequence[Outcome], *, applied: bool) -> str:
    """What `docsgap followup` did or would do, and why the other links got no follow-up.
    Links whose item is merely still open are counted, not listed (they are most of them)."""
    open_items = [s for s in plan.skips if " is still " in s.reason]
    # Each count once: the open items are part of the links not followed up.
    head = f"{len(plan.actions)} follow-up(s) due; {len(plan.skips)} link(s) not followed up"
    if open_items and len(open_items) == len(plan.skips):
        head += ": their issues and MRs are all still open"
    elif open_items:
        head += f", {len(open_items)} of them because their issue or MR is still open"
    lines = [head + "."]
    if not applied:
        lines.append("Dry run: nothing was posted. Add --apply to post the follow-ups.")
    by_key = {o.action.key: o for o in outcomes}
    for action in plan.actions:
        o = by_key.get(action.key)
        status = "not reached" if o is None else (
            f"not posted, {o.error}" if o.status == "already_done" and not o.remote_url
            and o.error else _STATUS.get(o.status) or o.error or "would post")
        where = (o.remote_url if o and o.remote_url else None) or f"thread #{action.thread_ids[0]}"
        lines.append(f"- FOLLOW-UP {status}: {where} -> {action.target_url}")
        lines.append(f"    why: {action.reason}")
        if o is not None and o.status == "failed" and o.error:
            lines.append(f"    error: {o.error}")
    said = held.line(outcomes)
    if said:
        lines.append(said)
    shown = [s for s in plan.skips if s not in open_items]
    if shown:
        lines.append("No follow-up:")
        lines.extend(f"- {s.subject}: {s.reason}" for s in shown)
    return "\n".join(lines)
