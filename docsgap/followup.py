"""Close the loop: when a linked issue is closed as done or a linked MR is merged, post one
follow-up in each thread that got a docsgap reply. Declined issues get none."""

from __future__ import annotations

from dataclasses import dataclass

from docsgap.apply import Applier, parse_item_url
from docsgap.config import Config
from docsgap.errors import NotFoundError
from docsgap.forum.interface import Forum
from docsgap.models import Action, ActionKind, Outcome, Plan, Skip, TrackerItem
from docsgap.state import StateStore
from docsgap.tracker.interface import Tracker


def is_done(item: TrackerItem, config: Config) -> str | None:
    """Why the item counts as fixed, or None (still open, or declined)."""
    if item.kind == "merge_request":
        return "merged" if item.state == "merged" else None
    if item.state != "closed":
        return None
    declined = {label.lower() for label in config.gitlab.wontdo_labels}
    if any(label.lower() in declined for label in item.labels):
        return None
    return "closed as done"


def followup_key(thread_id: int, item_url: str) -> str:
    """One follow-up per thread and issue/MR."""
    return f"followup:t{thread_id}:{item_url}"


@dataclass
class FollowUps:
    """Finds threads whose linked item was fixed and posts (or plans) the follow-up."""

    forum: Forum
    tracker: Tracker
    store: StateStore
    config: Config

    def plan(self) -> Plan:
        """Refresh each replied-to item's state and plan the follow-ups that are due."""
        actions: list[Action] = []
        skips: list[Skip] = []
        fresh: dict[str, TrackerItem | None] = {}
        for row in self.store.links():
            if not row["reply_url"] or row["followup_url"]:
                continue
            url = row["item_url"]
            if url not in fresh:
                fresh[url] = self._refresh(url)
            item = fresh[url]
            key = followup_key(row["thread_id"], url)
            if item is None:
                skips.append(Skip(key, f"{url} no longer exists"))
                continue
            why = is_done(item, self.config)
            if why is None:
                skips.append(Skip(key, f"{item.ref} is {item.state}"
                                  + (" (declined)" if item.state == "closed" else "")))
                continue
            actions.append(Action(ActionKind.FOLLOWUP, key,
                                  f"{item.ref} was {why}; policy followup="
                                  f"{self.config.policy.followup}",
                                  (row["thread_id"],), (row["signal_key"],) if row["signal_key"]
                                  else (), target_url=url))
        return Plan(tuple(actions), tuple(skips))

    def _refresh(self, url: str) -> TrackerItem | None:
        kind, iid = parse_item_url(url)
        try:
            item = self.tracker.get_item(kind, iid)
        except NotFoundError:
            return None
        self.store.upsert_items([item])
        return item

    def run(self, *, apply: bool) -> tuple[Plan, list[Outcome]]:
        """Plan the follow-ups and, with `apply`, post them."""
        plan = self.plan()
        signals = {s.key: s for s in self.store.signals()}
        applier = Applier(self.forum, self.tracker, self.store, self.config, signals)
        return plan, applier.apply(plan, write=apply)
