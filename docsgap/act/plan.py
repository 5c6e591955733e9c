"""Turn signals and their matches into a Plan: which writes to make, in which order, and why.

Pure: no I/O. Every Action carries an idempotency key (derived from thread ids, gap and page, so a
rerun or a lost database derives the same key) and the policy that allows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from docsgap.config import Config, PolicyMode
from docsgap.models import Action, ActionKind, MatchResult, Plan, Signal, Skip


@dataclass(frozen=True)
class ThreadMeta:
    """What the planner needs to know about a thread beyond its signals."""

    closed: bool = False
    archived: bool = False
    category_id: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanContext:
    """Everything already known that changes the plan."""

    threads: Mapping[int, ThreadMeta] = field(default_factory=dict)
    linked: Mapping[int, frozenset[str]] = field(default_factory=dict)
    """thread id -> issue/MR URLs already linked (by docsgap or by someone in the thread)."""
    replied: frozenset[tuple[int, str]] = frozenset()
    """(thread id, item URL) pairs that already have a docsgap reply."""
    verdicts: Mapping[str, str] = field(default_factory=dict)
    """action key -> accept | reject | skip, from `docsgap review`."""
    done: frozenset[str] = frozenset()
    """Action keys the ledger records as done."""
    unreplied: Mapping[str, str] = field(default_factory=dict)
    """signal key -> issue/MR URL docsgap linked it to but has not replied about yet (a run
    that stopped between the issue and the reply)."""


Grouper = Callable[[Sequence[Signal]], list[list[Signal]]]

HAND_LINKED = "linked by hand"
"""How a match a reviewer chose (`docsgap review --link`) starts its reason: it is planned as
that reviewer's link, never grouped with docsgap's own matches on the same item."""


def issue_key(group: Sequence[Signal]) -> str:
    """Idempotency key of the issue opened for a group of signals (its earliest thread)."""
    first = min(group, key=lambda s: (s.thread_id, s.key))
    return f"issue:{first.key}"


def note_key(item_url: str) -> str:
    """One evidence note per issue, updated in place."""
    return f"note:{item_url}"


def reply_key(thread_id: int, item_url_or_issue_key: str) -> str:
    """One reply per thread and issue (draft MRs)."""
    return f"reply:t{thread_id}:{item_url_or_issue_key}"


def signal_reply_key(signal: Signal) -> str:
    """The reply telling a thread where its gap is tracked: keyed on the signal, so the key is
    the same before the issue exists and after (a rerun finds the same marker)."""
    return f"reply:{signal.key}"


def build_plan(
    signals: Sequence[Signal],
    matches: Mapping[str, MatchResult],
    config: Config,
    context: PlanContext,
    group: Grouper,
) -> Plan:
    """Decide the actions for `signals` (already deduplicated against the tracker)."""
    actions: list[Action] = []
    skips: list[Skip] = []
    live: list[Signal] = []
    for s in signals:
        meta = context.threads.get(s.thread_id, ThreadMeta())
        reason = _ignored(meta, config)
        if context.verdicts.get(s.key) == "reject":
            skips.append(Skip(s.key, "rejected by a reviewer"))
        elif reason:
            skips.append(Skip(s.key, reason))
        elif s.existing_links:
            skips.append(Skip(s.key, f"thread already links {', '.join(s.existing_links)}"))
        elif s.key in context.unreplied and not (meta.closed or meta.archived):
            actions.append(_action(
                ActionKind.REPLY, signal_reply_key(s), [s], config, context,
                why="linked earlier; tell the thread where the gap is tracked",
                target=context.unreplied[s.key],
            ))
        elif context.linked.get(s.thread_id):
            skips.append(Skip(s.key, "thread already linked to " + ", ".join(
                sorted(context.linked[s.thread_id]))))
        else:
            live.append(s)

    for bucket in _by_decision(live, matches, group):
        decision, members, match = bucket
        if decision in ("review", "link"):
            assert match.best is not None
            link = _link_action(members, match, config, context,
                                forced_review=decision == "review")
            actions.append(link)
            # The reply waits for the link: a link still in review holds its reply back.
            target, depends = match.best.url, link.key
        else:
            key = issue_key(members)
            actions.append(
                _action(
                    ActionKind.OPEN_ISSUE, key, members, config, context,
                    why=f"no existing issue matched ({match.reason or 'no candidates'})",
                )
            )
            target, depends = key, key
        for s in members:
            meta = context.threads.get(s.thread_id, ThreadMeta())
            rkey = signal_reply_key(s)
            if meta.closed or meta.archived:
                skips.append(Skip(rkey, "topic is closed or archived: no reply"))
                continue
            actions.append(
                _action(
                    ActionKind.REPLY, rkey, [s], config, context,
                    why="tell the thread where the gap is tracked",
                    target=None if depends == target else target, depends_on=depends,
                )
            )
    return _cap(Plan(tuple(actions), tuple(skips), tuple(signals), tuple(matches.items())),
                config, context)


def _ignored(meta: ThreadMeta, config: Config) -> str | None:
    if meta.category_id is not None and meta.category_id in config.forum.ignore_categories:
        return f"category {meta.category_id} is opted out"
    tags = set(meta.tags) & set(config.forum.ignore_tags)
    if tags:
        return f"tag {', '.join(sorted(tags))} opts the thread out"
    return None


def _by_decision(
    live: Sequence[Signal], matches: Mapping[str, MatchResult], group: Grouper
) -> list[tuple[str, list[Signal], MatchResult]]:
    """Signals that match the same item go together; unmatched ones are grouped by gap."""
    out: list[tuple[str, list[Signal], MatchResult]] = []
    by_target: dict[tuple[str, str, bool], list[Signal]] = {}
    fresh: list[Signal] = []
    for s in live:
        m = matches.get(s.key, MatchResult("new", None))
        if m.decision in ("link", "review") and m.best is not None:
            hand = m.reason.startswith(HAND_LINKED)
            by_target.setdefault((m.decision, m.best.url, hand), []).append(s)
        else:
            fresh.append(s)
    out.extend((decision, members, matches[members[0].key])
               for (decision, _url, _hand), members in by_target.items())
    out.extend(("new", members, matches.get(members[0].key, MatchResult("new", None)))
               for members in group(fresh))
    return out


def _link_action(
    members: Sequence[Signal], match: MatchResult, config: Config, context: PlanContext,
    *, forced_review: bool = False,
) -> Action:
    best = match.best
    assert best is not None
    why = f"matches {best.url} (score {best.score:.1f})"
    if best.state != "opened":
        why += f"; that item is {best.state}"
    if forced_review:
        why = "score in the review band: " + why
    if match.reason.startswith(HAND_LINKED):
        why = match.reason + (f"; that item is {best.state}" if best.state != "opened" else "")
    elif match.reason:  # the whole explanation: fields, shared words, page, runners-up
        why += f" ({match.reason})"
    key = note_key(best.url)
    if forced_review:
        # Its own key: the issue's note may already be done for threads linked automatically,
        # and that must not let these threads (and their replies) skip the review.
        key += "#review:" + ",".join(f"t{t}" for t in sorted({s.thread_id for s in members}))
    return _action(
        ActionKind.LINK_EXISTING, key, members, config, context, why=why,
        target=best.url, force_review=forced_review,
    )


def _action(
    kind: ActionKind,
    key: str,
    members: Sequence[Signal],
    config: Config,
    context: PlanContext,
    *,
    why: str,
    target: str | None = None,
    depends_on: str | None = None,
    force_review: bool = False,
) -> Action:
    mode: PolicyMode = config.policy.mode(kind)
    if force_review and mode == "auto":
        mode = "review"
    verdict = context.verdicts.get(key)
    rules = sorted({r for s in members for r in s.rules})
    reason = f"{why}; rules {', '.join(rules) or '-'}; policy {kind.value}={mode}"
    if verdict:
        reason += f"; reviewer said {verdict}"
    return Action(
        kind=kind,
        key=key,
        reason=reason,
        thread_ids=tuple(sorted({s.thread_id for s in members})),
        signal_keys=tuple(s.key for s in members),
        target_url=target,
        depends_on=depends_on,
    )


def mode_of(action: Action, config: Config, verdicts: Mapping[str, str]) -> str:
    """What may happen to an action: `auto`, `accepted`, `review` (waits), `off`, `rejected`."""
    verdict = verdicts.get(action.key)
    if verdict == "reject":
        return "rejected"
    mode = config.policy.mode(action.kind)
    if mode == "off":
        return "off"
    if verdict == "accept":
        return "accepted"
    if mode == "auto" and "review band" not in action.reason and not action.needs_review:
        return "auto"
    return "review"


def extend_plan(plan: Plan, extra: Sequence[Action], config: Config,
                context: PlanContext) -> Plan:
    """`plan` with more actions (docs-first replies) under the same per-run cap of writes."""
    if not extra:
        return plan
    return _cap(Plan(plan.actions + tuple(extra), plan.skips, plan.signals, plan.matches),
                config, context)


def _cap(plan: Plan, config: Config, context: PlanContext) -> Plan:
    """Keep whole groups under the per-run cap of writes: an issue never loses its own replies.
    Only actions that would write count; those waiting for a reviewer (or on an action that
    waits) stay in the plan uncounted, so the plan shows everything and the cap buys writes."""
    max_actions = config.max_actions
    kept: list[Action] = []
    skips = list(plan.skips)
    budget = max_actions
    pending = [a for a in plan.actions if a.key not in context.done]
    done = [a for a in plan.actions if a.key in context.done]
    kept_keys: set[str] = set()
    writing: set[str] = set()
    for a in pending:
        waits = a.depends_on and a.depends_on not in context.done
        if waits and a.depends_on not in kept_keys:
            skips.append(Skip(a.key, "waits for its issue (cap reached)"))
            continue
        writes = mode_of(a, config, context.verdicts) in ("auto", "accepted") and (
            not waits or a.depends_on in writing)
        if writes and budget <= 0:
            skips.append(Skip(a.key, f"per-run cap of {max_actions} writes reached"))
            continue
        kept.append(a)
        kept_keys.add(a.key)
        if writes:
            writing.add(a.key)
            budget -= 1
    return Plan(tuple(done + kept), tuple(skips), plan.signals, plan.matches)
