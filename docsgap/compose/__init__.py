"""Every text docsgap writes (issues, notes, replies, follow-ups, draft MRs), composed from the
templates in `rules/templates/` (`texts`, `templates`), plus the hidden idempotency marker
(`markers`) and the escaping that keeps forum text inert (`inert`): copied into GitLab it can
run no quick action, mention nobody and create no reference; posted on the forum it mentions
nobody."""

from docsgap.compose.inert import (
    TITLE_LIMIT,
    ZWSP,
    for_forum,
    for_gitlab,
    gitlab_quote,
    gitlab_title,
)
from docsgap.compose.markers import MARKER_PREFIX, find_markers, marker
from docsgap.compose.templates import SPECS, check_templates
from docsgap.compose.texts import (
    NEW_ITEM_PLACEHOLDER,
    QUOTE_LIMIT,
    THREADS_WITH_QUOTES,
    docs_reply_text,
    evidence_note,
    followup_text,
    issue_draft,
    labels_for,
    mr_description,
    mr_title,
    reply_text,
)

__all__ = [
    "MARKER_PREFIX", "NEW_ITEM_PLACEHOLDER", "QUOTE_LIMIT", "SPECS", "THREADS_WITH_QUOTES",
    "TITLE_LIMIT", "ZWSP", "check_templates", "docs_reply_text", "evidence_note", "find_markers",
    "followup_text", "for_forum", "for_gitlab", "gitlab_quote", "gitlab_title", "issue_draft",
    "labels_for", "marker", "mr_description", "mr_title", "reply_text",
]
