"""Render a run's plan and outcomes for people (text) and scripts (JSON): what, and why."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from docsgap.act import held
from docsgap.dedupe.decision import candidate_json
from docsgap.models import Action, MatchResult, Outcome, RunResult

_LABEL = {
    "open_issue": "OPEN ISSUE",
    "link_existing": "LINK",
    "reply": "REPLY",
    "open_draft_mr": "DRAFT MR",
    "followup": "FOLLOW-UP",
    "docs_reply": "DOCS REPLY",
}


def _status_word(o: Outcome) -> str:
    return {
        "applied": "done",
        "already_done": "already done",
        "failed": "FAILED",
        "pending_review": "queued for review",
        "queued": "awaiting forum moderator",
        "held": "held (rate limit)",
        "dry_run": "would do" if not o.error else o.error,
    }[o.status]


def render_text(result: RunResult, *, applied: bool, compact: bool = False) -> str:
    """The plan and what happened to each action, with reasons (`compact`: one line per action
    plus its thread, for the demo)."""
    plan = result.plan
    matches = dict(plan.matches)
    lines = [
        f"Scanned {result.threads_scanned} thread(s); {len(plan.signals)} docs-gap signal(s) "
        f"known; {len(plan.actions)} action(s) planned, {len(plan.skips)} skipped."
    ]
    if not applied:
        lines.append("Dry run: nothing was written. Add --apply to carry out the plan.")
    by_key = {o.action.key: o for o in result.outcomes}
    signals = {s.key: s for s in plan.signals}
    # One column for the item URLs, however long this plan's status words are.
    words = {a.key: _status_word(by_key[a.key]) if a.key in by_key else "not reached"
             for a in plan.actions}
    width = max([18, *map(len, words.values())])
    for action in plan.actions:
        o = by_key.get(action.key)
        status = words[action.key]
        where = _where(action, o, by_key)
        lines.append(f"- {_LABEL[action.kind.value]:<10} {status:<{width}} {where}")
        if compact:
            first = signals.get(action.signal_keys[0]) if action.signal_keys else None
            if first is not None:
                lines.append(f"    thread #{first.thread_id} {first.thread_title[:60]!r} "
                             f"({first.gap_type.value})")
            continue
        for key in action.signal_keys[:5]:
            s = signals.get(key)
            if s is None:
                continue
            page = s.page.path or s.page.url if s.page else "no docs page"
            lines.append(f"    thread #{s.thread_id} {s.thread_title[:60]!r}: {s.gap_type.value}, "
                         f"{page}")
            if action.kind.value in ("open_issue", "link_existing") and s.evidence:
                ev = s.evidence[0]
                lines.append(f"      evidence [{ev.rule_id}]: \"{ev.text[:100]}\"")
        lines.append(f"    why: {refs(action.reason, action.target_url)}")
        lines.extend(label_lines(action, "    "))
        if action.kind.value in ("open_issue", "link_existing") and action.signal_keys:
            m = matches.get(action.signal_keys[0])
            if m and m.reason and m.reason not in action.reason:  # else "why" already says it
                lines.append(f"    match: {refs(m.reason, action.target_url)}")
        if o and o.note:
            lines.append(f"    note: {o.note}")
        if o and o.status == "failed" and o.error:
            lines.append(f"    error: {o.error}")
        elif o and o.status == "queued" and o.error:
            lines.append(f"    {o.error}")
    said = held.line(result.outcomes)
    if said:
        lines.append(said)
    if plan.skips and not compact:
        lines.append("Skipped:")
        lines.extend(f"- {s.subject}: {s.reason}" for s in plan.skips)
    waiting = [o for o in result.outcomes if o.status == "pending_review"
               or (o.status == "dry_run" and o.error == "would wait for review")]
    if waiting and not compact:
        lines.append(f"{len(waiting)} action(s) wait for a person: `docsgap review` shows each "
                     "with the text it would post (accept, edit, reject, or link another "
                     "issue).")
    return "\n".join(lines)


def label_lines(action: Action, indent: str) -> list[str]:
    """The labels a new issue gets and why: the settings they come from, each owner label's
    page, or why there are none."""
    if not action.labels:
        return []
    by_source: dict[str, list[str]] = {}
    for label in action.labels:
        if not label.owner:
            by_source.setdefault(label.why, []).append(label.name)
    said = "; ".join(f"{', '.join(names)} ({why})" for why, names in by_source.items())
    lines = [f"{indent}labels: {said}"]
    lines += [f"{indent}  {label.name}: {label.why}" for label in action.labels if label.owner]
    if action.labels_note:
        lines.append(f"{indent}  {action.labels_note}")
    return lines


_ITEM_URL = re.compile(r"(https?://\S+?)/-/(issues|merge_requests)/(\d+)\b")


def refs(text: str, target: str | None = None) -> str:
    """`text` with the issue and MR URLs of one project written as GitLab references (`#12`,
    `!34`), as a terminal line can hold them: the project of `target` (the URL on the
    action's first line), else of the first item URL in `text`. Others stay URLs."""
    first = _ITEM_URL.search(target or "") or _ITEM_URL.search(text)
    if first is None:
        return text
    project = first.group(1)

    def short(m: re.Match[str]) -> str:
        if m.group(1) != project:
            return m.group(0)
        return ("#" if m.group(2) == "issues" else "!") + m.group(3)

    return _ITEM_URL.sub(short, text)


def _where(action: Action, o: Outcome | None, by_key: dict[str, Outcome]) -> str:
    """The item the action wrote or aims at: a reply to an issue opened earlier in this run
    names that issue's URL even when the reply itself failed."""
    if o is not None and o.remote_url:
        return o.remote_url
    if action.target_url:
        return action.target_url
    dep = by_key.get(action.depends_on or "")
    if dep is not None and dep.remote_url:
        return dep.remote_url
    return "(new issue)"


def counts(result: RunResult) -> dict[str, dict[str, int]]:
    """Outcome counts per action kind."""
    out: dict[str, Counter[str]] = {}
    for o in result.outcomes:
        out.setdefault(o.action.kind.value, Counter())[o.status] += 1
    return {k: dict(v) for k, v in out.items()}


def _match_json(m: MatchResult | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "decision": m.decision,
        "best": m.best.url if m.best else None,
        "score": m.best.score if m.best else None,
        "reason": m.reason,
        "candidates": [candidate_json(c) for c in m.candidates],
    }


def _action_json(a: Action, o: Outcome | None) -> dict[str, Any]:
    return {
        "kind": a.kind.value, "key": a.key, "reason": a.reason, "threads": list(a.thread_ids),
        "signals": list(a.signal_keys), "target": a.target_url, "depends_on": a.depends_on,
        "status": o.status if o else None, "remote_url": o.remote_url if o else None,
        "error": o.error if o else None, "note": o.note if o else None,
        "labels": [{"name": label.name, "why": label.why, "owner": label.owner}
                   for label in a.labels],
        "labels_note": a.labels_note or None,
    }


def to_json(result: RunResult, *, applied: bool) -> dict[str, Any]:
    """Everything in `render_text`, machine-readable."""
    by_key = {o.action.key: o for o in result.outcomes}
    matches = dict(result.plan.matches)
    return {
        "applied": applied,
        "threads_scanned": result.threads_scanned,
        "signals": [
            {"key": s.key, "thread_id": s.thread_id, "title": s.thread_title,
             "gap_type": s.gap_type.value, "score": s.score, "rules": list(s.rules),
             "evidence": [{"rule_id": e.rule_id, "text": e.text, "matched": e.matched}
                          for e in s.evidence],
             "page": s.page.url if s.page else None,
             "doc_path": s.page.path if s.page else None,
             "match": _match_json(matches.get(s.key))}
            for s in result.plan.signals
        ],
        "actions": [_action_json(a, by_key.get(a.key)) for a in result.plan.actions],
        "skips": [{"subject": s.subject, "reason": s.reason} for s in result.plan.skips],
        "counts": counts(result),
        "requests": dict(result.requests),
    }
