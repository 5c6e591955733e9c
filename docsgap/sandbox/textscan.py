"""Find text that would fire on the real services: GitLab quick actions and `@mentions`.

The sandbox never executes them; it records them so tests can prove docsgap never sends any
(CONTRACTS.md §C). The rules follow GitLab's `QuickActions::Extractor` closely enough for that:
a command is a line starting at column 0 with `/` + a known name followed by a space or the end
of the line; ```` ``` ```` fences, `>>>` blocks and HTML blocks are skipped, `~~~` fences are not.
"""

from __future__ import annotations

import re

QUICK_ACTIONS = frozenset((
    "add_child", "add_contacts", "add_email", "approve", "assign", "assign_reviewer", "award",
    "blocked_by", "blocks", "board_move", "cc", "checkin_reminder", "clear_health_status",
    "clear_weight", "clone", "close", "confidential", "convert_to_ticket", "copy_metadata",
    "create_merge_request", "done", "draft", "due", "duplicate", "epic", "estimate",
    "health_status", "iteration", "label", "lock", "merge", "milestone", "move", "page", "parent",
    "promote", "promote_to", "promote_to_incident", "publish", "q", "react", "ready", "rebase",
    "reassign", "reassign_reviewer", "relabel", "relate", "remove_child", "remove_contacts",
    "remove_due_date", "remove_email", "remove_epic", "remove_estimate", "remove_iteration",
    "remove_milestone", "remove_parent", "remove_time_spent", "reopen", "request_review",
    "severity", "set_parent", "shrug", "spend", "spent", "status", "submit_review", "subscribe",
    "summarize_diff", "tableflip", "target_branch", "timeline", "title", "todo", "type",
    "unapprove", "unassign", "unassign_reviewer", "unlabel", "unlink", "unlock", "unrelate",
    "unsubscribe", "weight", "wip", "zoom", "remove_zoom",
))
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:[ \t].*)?$")
_HTML_OPEN = re.compile(r"^<(\w+)[^>]*>\s*$")
_GITLAB_MENTION = re.compile(
    r"(?<![\w@`/.+-])@([A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_])"
)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_FORUM_QUOTE_OPEN = re.compile(r"^\[quote(=[^\]]*)?\]\s*$")


def quick_action_lines(text: str) -> list[tuple[str, str]]:
    """(command name, whole line) for every line GitLab would run as a quick action."""
    found: list[tuple[str, str]] = []
    skip_until: re.Pattern[str] | None = None
    for line in text.splitlines():
        if skip_until is not None:
            if skip_until.fullmatch(line):
                skip_until = None
            continue
        if line.startswith("```"):
            skip_until = re.compile(r"```[ \t]*")
            continue
        if line.startswith(">>>"):
            skip_until = re.compile(r">>>[ \t]*")
            continue
        html_open = _HTML_OPEN.match(line)
        if html_open:
            skip_until = re.compile(rf"</{re.escape(html_open.group(1))}>\s*")
            continue
        m = _COMMAND.match(line)
        if m and m.group(1).lower() in QUICK_ACTIONS:
            found.append((m.group(1).lower(), line))
    return found


def only_quick_actions(text: str) -> bool:
    """True when every non-blank line is a quick action (GitLab then creates no note: 202)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and len(quick_action_lines(text)) == len(lines)


def gitlab_mentions(text: str) -> list[str]:
    """`@name` references GitLab would notify: outside code (fences and inline), inside
    blockquotes included (Banzai ignores only `pre`, `code` and `a`)."""
    return _mentions(text, quote_skips=False)


def forum_mentions(text: str) -> list[str]:
    """`@name` mentions Discourse would notify: outside code and `[quote]` blocks (a plain
    `> @name` blockquote still notifies, per `PostStripper`)."""
    return _mentions(text, quote_skips=True)


def _mentions(text: str, *, quote_skips: bool) -> list[str]:
    names: list[str] = []
    fence: str | None = None
    quote_depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if quote_skips and _FORUM_QUOTE_OPEN.match(stripped):
            quote_depth += 1
            continue
        if quote_skips and stripped == "[/quote]":
            quote_depth = max(0, quote_depth - 1)
            continue
        if quote_depth:
            continue
        prose = _INLINE_CODE.sub("", line)
        names.extend("@" + m.group(1) for m in _GITLAB_MENTION.finditer(prose))
    return names
