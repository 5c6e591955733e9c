"""Correcting a decision: link a pending report to another issue by hand, and take a verdict
back. What docsgap already wrote it does not unwrite; `undo` says what to do by hand then."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docsgap.docs.questions import DOCS_REPLY_PREFIX
from docsgap.loop.handlinks import PREFIX as HAND_PREFIX
from docsgap.models import ActionKind, TrackerItem
from docsgap.review.queue import ReviewItem
from docsgap.state import StateStore

LINKABLE = (ActionKind.OPEN_ISSUE, ActionKind.LINK_EXISTING, ActionKind.REPLY)
_SHORT = re.compile(r"^([#!])(\d+)$")


def resolve_item(store: StateStore, text: str, project: str) -> TrackerItem:
    """The cached issue or MR `text` names: its web URL, or `#123` / `!45` in `project`.
    KeyError (with what to do) when docsgap does not hold it."""
    short = _SHORT.match(text.strip())
    if short:
        kind = "issue" if short.group(1) == "#" else "merge_request"
        found = [i for i in store.items() if i.kind == kind and i.iid == int(short.group(2))
                 and i.project == project]
        if found:
            return found[0]
    else:
        item = store.item(text.strip().rstrip("/"))
        if item is not None:
            return item
    raise KeyError(f"{text!r} is not among the documentation issues and MRs docsgap holds; "
                   "it links only those (label the issue, then `docsgap review --refresh`)")


def link_by_hand(store: StateStore, item: ReviewItem, target: TrackerItem,
                 note: str | None = None) -> list[str]:
    """Record that the signals of `item` (an issue, link or reply waiting for review) go to
    `target` instead of docsgap's match. Returns their signal keys. The next plan links them
    there under its own key, which the caller accepts (`hand_link_action`)."""
    if item.action.kind not in LINKABLE:
        raise ValueError(f"{item.action.key} is a {item.action.kind.value}: only a gap's new "
                         "issue, link or reply can be linked to another issue by hand")
    keys = list(item.action.signal_keys)
    for key in keys:
        store.set_verdict(HAND_PREFIX + key, "accept", body=target.web_url, note=note)
    return keys


@dataclass(frozen=True)
class Unlinked:
    """A link `--apply` made that a hand link replaces."""

    signal_key: str
    item_url: str
    reply_url: str | None
    """docsgap's reply in the thread that named `item_url`, if it posted one."""
    followup_url: str | None = None
    """docsgap's follow-up about `item_url` in the thread, if it posted one."""


def relink_written(store: StateStore, thread_id: int, target: TrackerItem,
                   note: str | None = None) -> list[Unlinked]:
    """Move a thread docsgap already linked (and replied in) to `target`: its links to other
    items are forgotten, its signals are linked to `target` by hand, and its reply may be
    written again (the ledger forgets it; the old reply's hidden marker, while it is in the
    thread, still stops a second one). The evidence note on the old item and the old reply
    stay as they are: a person edits or deletes them."""
    rows = [r for r in store.links() if r["thread_id"] == thread_id
            and r["source"] == "docsgap" and r["signal_key"]
            and r["item_url"] != target.web_url]
    out = []
    for r in rows:
        key = str(r["signal_key"])
        store.db.table("links").delete((thread_id, r["item_url"]))
        reply = store.ledger_entry(f"reply:{key}")
        if reply is not None and reply["status"] == "done":
            store.db.table("ledger").delete(f"reply:{key}")
        store.set_verdict(HAND_PREFIX + key, "accept", body=target.web_url, note=note)
        out.append(Unlinked(key, str(r["item_url"]), r["reply_url"], r["followup_url"]))
    return out


def hand_link_action(items: Sequence[ReviewItem], signal_keys: Sequence[str],
                     url: str) -> ReviewItem | None:
    """The link action a plan made for signals linked by hand to `url`."""
    wanted = set(signal_keys)
    return next((i for i in items if i.action.kind is ActionKind.LINK_EXISTING
                 and i.action.target_url == url and set(i.action.signal_keys) & wanted), None)


@dataclass(frozen=True)
class Undone:
    """What `undo` took back."""

    key: str
    verdict: str
    also: tuple[str, ...]
    """Other verdicts that went with it (the signals a reject took, a hand link)."""


def undo(store: StateStore, key: str) -> Undone:
    """Forget the verdict on `key` (or the one decided key it starts), so the action waits for
    review again: a rejected report comes back, an accepted action no longer runs, a hand link
    goes back to docsgap's match. KeyError when there is nothing to take back, or when the
    action was carried out already (then it says how to correct that by hand)."""
    table = store.db.table("verdicts")
    decided = {str(r["key"]): r for r in table.rows} if table.exists() else {}
    hits = [k for k in decided if not k.startswith(HAND_PREFIX)
            and (k == key or k.startswith(key))]
    if key in decided:
        hits = [key]
    if not hits:
        raise KeyError(f"no verdict on {key!r} to undo (`docsgap review --list` shows what "
                       "waits; the state's `verdicts` table what was decided)")
    if len(hits) > 1:
        raise KeyError(f"{key!r} matches {len(hits)} decided actions; give more of the key")
    [found] = hits
    done = store.ledger_entry(found)
    if done and done["status"] == "done":
        raise KeyError(f"{found} was carried out already ({done['remote_url'] or 'no URL'}): "
                       + written_already(found))
    also = [k for k, r in decided.items() if r["verdict"] == "reject"
            and r["note"] == f"with {found}"]
    if found.startswith("note:"):
        url = found.removeprefix("note:").partition("#")[0]
        also += [k for k, r in decided.items() if k.startswith(HAND_PREFIX) and r["body"] == url]
    for k in (found, *also):
        table.delete(k)
    return Undone(found, str(decided[found]["verdict"]), tuple(also))


def written_already(key: str) -> str:
    """What to do by hand about a write docsgap made and will not make again (its ledger
    records it done, so no rerun repeats or reverts it)."""
    if key.startswith(("reply:", "followup:", DOCS_REPLY_PREFIX)):
        return "edit or delete that post in the forum; docsgap never posts it again"
    if key.startswith("note:"):
        return ("edit or delete the evidence note on that issue in GitLab; docsgap keeps the "
                "thread linked there (the report shows it)")
    if key.startswith("issue:"):
        return ("if it was no docs gap, close the issue with a won't-do label "
                "(gitlab.wontdo_labels), so no follow-up tells the thread it was fixed")
    return "correct it in GitLab or the forum by hand"
