"""Who owns the docs page a gap is about, from the local docs index (its front matter's
`stage` and `group`), and the labels each planned issue gets with it: GitLab's docs team
triages doc issues to the technical writer and product group by their stage and group labels.

A page the index does not hold (no `docsgap docs sync`, a page it does not know) gives no
owner labels, and the plan says why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from docsgap.compose.labels import PageOwner, issue_labels, no_owner_reason
from docsgap.config import Config
from docsgap.docs.index import DocsIndex
from docsgap.models import Action, ActionKind, Plan, Signal


def page_owner(index: DocsIndex | None, signal: Signal) -> tuple[PageOwner | None, str]:
    """The owner of `signal`'s page, or None and why not. A moved page's stub (`redirect_to`
    and no owner of its own) is answered for by the page it moved to."""
    page = signal.page
    if page is None:
        return None, "the report names no docs page"
    if index is None:
        return None, "no docs index (`docsgap docs sync` reads the pages' front matter)"
    if page.project is None or page.path is None:
        return None, f"{page.url} is not a page of a docs project docsgap knows"
    if not index.knows(page.project):
        return None, f"{page.project} is not in the docs index (docs.projects)"
    found = index.find(page.url) or index.by_key.get(page.key)
    if found is None:
        return None, f"{page.path} is not in the docs index"
    if not found.owners_read:
        return None, (f"{page.path} was indexed before docsgap kept page owners (run "
                      "`docsgap docs sync`)")
    moved = found.redirect_to
    if not (found.stage or found.group) and moved and "://" not in moved:
        target = index.by_key.get(f"{found.project}:{moved}")
        if target is not None and (target.stage or target.group):
            found = target
    return PageOwner(found.path, found.stage, found.group), ""


def label_issues(plan: Plan, index: DocsIndex | None, config: Config) -> Plan:
    """`plan` with each new issue's labels and their reasons (`Action.labels`), and, when it
    gets no owner labels, why (`Action.labels_note`)."""
    if not any(a.kind is ActionKind.OPEN_ISSUE for a in plan.actions):
        return plan
    signals = {s.key: s for s in plan.signals}
    actions = [_labelled(a, [signals[k] for k in a.signal_keys if k in signals], index, config)
               if a.kind is ActionKind.OPEN_ISSUE else a for a in plan.actions]
    return replace(plan, actions=tuple(actions))


def _labelled(action: Action, members: Sequence[Signal], index: DocsIndex | None,
              config: Config) -> Action:
    if not members:
        return action
    owner, why = None, ""
    for s in members:  # the first member whose page the index can answer for
        owner, reason = page_owner(index, s)
        why = why or reason
        if owner is not None:
            break
    labels = issue_labels(members[0].gap_type, config.gitlab, owner)
    note = ""
    if config.gitlab.owner_labels and not any(label.owner for label in labels):
        note = "no owner labels: " + (why if owner is None else no_owner_reason(owner))
    return replace(action, labels=labels, labels_note=note)
