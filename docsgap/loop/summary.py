"""The end-of-run summary a scheduled job prints on stderr and saves as JSON: counts per action,
skips grouped by reason, failures, API requests per service and the rate budget left."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from docsgap.act import held
from docsgap.models import RunResult


def summarize(
    result: RunResult,
    *,
    applied: bool,
    remaining: Mapping[str, int | None],
    stopped_early: str | None,
    exit_code: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-ready summary of one run."""
    per_kind: dict[str, Counter[str]] = {}
    for o in result.outcomes:
        per_kind.setdefault(o.action.kind.value, Counter())[o.status] += 1
    skips = Counter(_reason_class(s.reason) for s in result.plan.skips)
    written = {o.action.key: o.remote_url for o in result.outcomes if o.remote_url}
    return {
        "applied": applied,
        "exit_code": exit_code,
        "threads_scanned": result.threads_scanned,
        "signals": len(result.plan.signals),
        "actions": {k: dict(v) for k, v in sorted(per_kind.items())},
        "skips": dict(skips.most_common()),
        "failures": [
            {"key": o.action.key, "kind": o.action.kind.value, "error": o.error,
             # A reply to an issue this run opened names that issue, not "(new issue)".
             "target": o.action.target_url or written.get(o.action.depends_on or "")}
            for o in result.outcomes if o.status == "failed"
        ],
        "held": held.line(result.outcomes),
        "requests": dict(result.requests),
        "budget_remaining": dict(remaining),
        "stopped_early": stopped_early,
        **(extra or {}),
    }


_NOUNS = {"issue": "issue(s)", "merge_request": "MR(s)"}


def sync_line(synced: Mapping[str, Mapping[str, int]], page: int = 100) -> str:
    """What the GitLab list requests brought, when they took more than one page (`page`
    items) for a kind: per kind, items listed and changed; items that had not changed were
    re-listed by the sync's overlap (a second before its cursor, against late updates)."""
    if not any(n.get("listed", 0) >= page for n in synced.values()):
        return ""
    parts, again = [], 0
    for kind, n in synced.items():
        if n.get("listed"):
            parts.append(f"{n['listed']} {_NOUNS.get(kind, kind)} listed, {n['changed']} changed")
            again += n["listed"] - n["changed"]
    return ("tracker sync: " + "; ".join(parts)
            + (f" ({again} unchanged, re-listed by the 1 s overlap before the sync cursor "
               "that catches late updates)" if again else ""))


_URL_RE = re.compile(r"\bhttps?://\S+")


def _reason_class(reason: str) -> str:
    # Skip reasons carry specifics after a colon or a URL; group on the general part (a URL's
    # own colon is not the separator).
    head = _URL_RE.sub("<url>", reason).split(":", 1)[0].strip()
    return head if len(head) <= 80 else head[:77] + "..."


def render_text(summary: Mapping[str, Any]) -> str:
    """A few lines for stderr."""
    mode = "apply" if summary["applied"] else "dry run"
    lines = [
        f"docsgap summary ({mode}): {summary['threads_scanned']} thread(s) scanned, "
        f"{summary['signals']} signal(s) known, exit code {summary['exit_code']}"
    ]
    if summary["actions"]:
        parts = [f"{kind} " + ", ".join(f"{n} {st}" for st, n in sorted(v.items()))
                 for kind, v in summary["actions"].items()]
        lines.append("  actions: " + "; ".join(parts))
    else:
        lines.append("  actions: none")
    if summary["skips"]:
        skipped = "; ".join(f"{n} x {why}" for why, n in summary["skips"].items())
        lines.append(f"  skipped: {skipped}")
    lines.extend(f"  FAILED {f['kind']} {f['key']}"
                 + (f" (for {f['target']})" if f.get("target") else "") + f": {f['error']}"
                 for f in summary["failures"])
    if summary.get("held"):
        lines.append(f"  HELD {summary['held']}")
    requests = ", ".join(f"{svc} {n}" for svc, n in sorted(summary["requests"].items())) or "none"
    left = ", ".join(f"{svc} {'unlimited' if n is None else n}"
                     for svc, n in sorted(summary["budget_remaining"].items()))
    lines.append(f"  API requests: {requests}; budget left: {left or 'n/a'}")
    sync = sync_line(summary.get("tracker_sync") or {})
    if sync:
        lines.append(f"  {sync}")
    if summary.get("summary_issue"):
        lines.append(f"  summary issue: {summary['summary_issue']}")
    if summary["stopped_early"]:
        lines.append(f"  stopped early: {summary['stopped_early']} (cursor saved; the next run "
                     "resumes)")
    return "\n".join(lines)
