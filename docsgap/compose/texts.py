"""What each text docsgap writes says: issues, evidence notes, replies, follow-ups, docs-first
replies and draft MRs, from the templates and the signals."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from docsgap.compose.inert import (
    URL_LIMIT,
    clean_text,
    for_forum,
    for_gitlab,
    gitlab_quote,
    gitlab_title,
    link_target,
    trim,
)
from docsgap.compose.templates import render_body, render_title
from docsgap.models import DocPage, Evidence, GapType, IssueDraft, Signal

QUOTE_LIMIT = 300
"""Characters kept of each quoted piece of evidence."""
QUOTES_PER_THREAD = 3
THREADS_WITH_QUOTES = 10
"""Threads shown with their quotes; any further thread is listed by link only."""
_THREAD_TITLE_LIMIT = 120

_GAP_LABEL = {
    GapType.INCORRECT: "Incorrect docs", GapType.OUTDATED: "Outdated docs",
    GapType.CONFUSING: "Confusing docs", GapType.MISSING: "Missing docs",
    GapType.BROKEN_LINK: "Broken link in docs",
}
_GAP_PHRASE = {
    GapType.INCORRECT: "that the docs seem to be wrong here",
    GapType.OUTDATED: "that the docs look out of date",
    GapType.CONFUSING: "that the docs are hard to follow here",
    GapType.MISSING: "that the docs do not cover this yet",
    GapType.BROKEN_LINK: "the broken link in the docs",
}
_NOUN = {"issue": "issue", "merge_request": "merge request"}
_PLAIN_URL_RE = re.compile(r"https?://[^\s<>()\[\]`\"'\\]+")
NEW_ITEM_PLACEHOLDER = "<link to the new issue>"
"""Shown by `review` before the issue exists (the same string as `apply.NEW_ISSUE_PLACEHOLDER`)."""


def _one_line(text: str, limit: int = 200) -> str:
    """Forum-supplied text for inside a line: one line, trimmed."""
    return trim(" ".join(clean_text(text).split()), limit)


def _item_url(url: str, escape: Callable[[str], str]) -> str:
    """An issue/MR URL from GitLab goes in verbatim (apply and review look for it in posts);
    anything that is not a plain web URL is escaped like forum text."""
    if _PLAIN_URL_RE.fullmatch(url) or url == NEW_ITEM_PLACEHOLDER:
        return url
    return escape(_one_line(url))


def _page_name(page: DocPage) -> str:
    return page.path or re.sub(r"^https?://", "", page.url).rstrip("/")


def _page_values(page: DocPage | None, escape: Callable[[str], str]) -> dict[str, str]:
    """Placeholders about the docs page, escaped with `escape` (GitLab or forum)."""
    if page is None:
        return {}
    target = link_target(page.url)
    target = target if len(target) <= URL_LIMIT else ""  # shown as (trimmed) text instead
    name = _one_line(_page_name(page))
    if escape is for_forum:
        url = target or escape(_one_line(page.url))
        link = f"[{escape(name)}]({target})" if target else escape(name)
    else:
        url = link = escape(target or _one_line(page.url))  # an <autolink>: not a reference
    source = f"{page.path} in {page.project}" if page.project else page.path or ""
    values = {
        "page_url": url, "page_link": link, "page_name": escape(name),
        "source": escape(_one_line(source)), "section": escape(_one_line(page.section or "")),
    }
    return {k: v for k, v in values.items() if v}


def _rules_of(signals: Sequence[Signal]) -> list[str]:
    return list(dict.fromkeys(r for s in signals for r in
                              [*(e.rule_id for e in s.evidence), *s.rules]))


def _code(items: Sequence[str]) -> str:
    """Rule ids as code spans (reference filters skip code)."""
    return ", ".join("`" + " ".join(clean_text(i).replace("`", "'").split()) + "`" for i in items)


def _gap_labels(signals: Sequence[Signal]) -> str:
    return ", ".join(dict.fromkeys(_GAP_LABEL[s.gap_type].lower() for s in signals))


def _threads_block(signals: Sequence[Signal]) -> tuple[str, int]:
    """One list item per thread (signals of one thread merge): title, gap types and link, then
    its trimmed quotes and rule ids. Threads past `THREADS_WITH_QUOTES` get the link only."""
    by_thread: dict[str, list[Signal]] = {}
    for s in signals:
        by_thread.setdefault(s.thread_url, []).append(s)
    items = []
    for n, (url, group) in enumerate(by_thread.items()):
        title = for_gitlab(trim(_one_line(group[0].thread_title), _THREAD_TITLE_LIMIT))
        link = for_gitlab(_one_line(url, URL_LIMIT))
        head = f"- **{title or 'Untitled thread'}** ({_gap_labels(group)}): {link}"
        if n >= THREADS_WITH_QUOTES:
            items.append(head)
            continue
        quotes = []
        # Several rules often fire on one sentence: quote each sentence once.
        unique: dict[tuple[int | None, str], Evidence] = {}
        for e in (e for s in group for e in s.evidence):
            unique.setdefault((e.post_number, " ".join(e.text.split())), e)
        for e in list(unique.values())[:QUOTES_PER_THREAD]:
            where = f" (post {e.post_number})" if e.post_number else ""
            quotes.append(gitlab_quote(trim(e.text, QUOTE_LIMIT) + where, indent="  "))
        rules = _rules_of(group)
        parts = [head, "\n  >\n".join(quotes), f"  Rules: {_code(rules)}" if rules else ""]
        items.append("\n\n".join(p for p in parts if p))
    return "\n\n".join(items), len(by_thread)


def _count(n: int) -> str:
    return f"{n} forum thread" + ("" if n == 1 else "s")


# --- public composers -------------------------------------------------------------------------


def labels_for(
    gap_type: GapType, base: Sequence[str], by_gap: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """`base` labels plus the gap type's own, without blanks or duplicates, order kept."""
    labels = [*base, *by_gap.get(gap_type.value, ())]
    return tuple(dict.fromkeys(label.strip() for label in labels if label.strip()))


def issue_draft(
    signals: Sequence[Signal], *, labels: Sequence[str], key: str, templates: Path | None = None
) -> IssueDraft:
    """The issue for one docs gap reported in one or more threads (the first signal leads):
    docs page, source file and section, gap type, quoted evidence, every thread, the marker."""
    if not signals:
        raise ValueError("an issue needs at least one signal")
    lead = signals[0]
    page = next((s.page for s in signals if s.page is not None), None)
    thread_title = trim(_one_line(lead.thread_title), _THREAD_TITLE_LIMIT)
    name = _one_line(_page_name(page)) if page else ""
    section = _one_line(page.section or "") if page else ""
    where = f"{name} ({section})" if section else name
    subject = f"{where}: {thread_title}" if where and thread_title else where or thread_title
    raw = {"gap_label": _GAP_LABEL[lead.gap_type], "gap_type": lead.gap_type.value,
           "subject": subject, "thread_title": thread_title, "page_name": name,
           "section": section}
    threads, count = _threads_block(signals)
    values = {
        **_page_values(page, for_gitlab), **{k: for_gitlab(v) for k, v in raw.items()},
        "threads": threads, "thread_count": _count(count), "rules": _code(_rules_of(signals)),
        # What the local docs index said (docsgap.docs.checks): docsgap's text, docs URLs.
        "docs_evidence": for_gitlab(_one_line(lead.docs_note, 600)) if lead.docs_note else "",
    }
    title = render_title("issue.md", raw, templates, "{gap_label}: {subject}")
    return IssueDraft(title, render_body("issue.md", values, key, templates), tuple(labels))


def evidence_note(
    item_url: str, signals: Sequence[Signal], *, key: str, templates: Path | None = None
) -> str:
    """The one note on an existing issue/MR listing every linked thread (gap type, link,
    quotes); `apply` rewrites it in place (same marker) when more threads arrive."""
    threads, count = _threads_block(signals)
    values = {
        "item_url": _item_url(item_url, for_gitlab), "thread_count": _count(count),
        "threads": threads or "_No thread details are available._",
        "gap_labels": _gap_labels(signals), "rules": _code(_rules_of(signals)),
    }
    return render_body("evidence_note.md", values, key, templates)


def reply_text(
    *, item_url: str, item_kind: str, item_state: str, page: DocPage | None, gap_type: GapType,
    key: str, templates: Path | None = None,
) -> str:
    """The forum reply that links the issue or MR and the docs page, thanks the author and
    invites them to comment or contribute. Never an @mention."""
    values = {
        **_page_values(page, for_forum),
        "item_url": _item_url(item_url, for_forum), "item_noun": _NOUN.get(item_kind, "issue"),
        "state_note": {"merged": "(already merged: the updated page may be live)",
                       "closed": "(already closed: the fix may be live, please check the page)",
                       }.get(item_state, ""),
        "gap_phrase": _GAP_PHRASE[gap_type],
    }
    return render_body("reply.md", values, key, templates)


def followup_text(
    *, item_url: str, item_kind: str, page: DocPage | None, key: str,
    templates: Path | None = None,
) -> str:
    """The forum follow-up once the issue is closed as done or the MR merged."""
    values = {
        **_page_values(page, for_forum),
        "item_url": _item_url(item_url, for_forum), "item_noun": _NOUN.get(item_kind, "issue"),
        "done_phrase": "merged" if item_kind == "merge_request" else "closed as fixed",
    }
    return render_body("followup.md", values, key, templates)


def docs_reply_text(
    *, page_url: str, page_title: str, section_title: str = "", anchor: str = "", key: str,
    templates: Path | None = None,
) -> str:
    """A docs-first reply: the docs page (and section) that answers an unanswered question,
    linked by its title. Docs text is GitLab's own, still escaped like forum text."""
    target = link_target(f"{page_url}#{anchor}" if anchor else page_url)
    title = _one_line(page_title) or _page_name(DocPage(page_url))
    section = _one_line(section_title)
    label = for_forum(f"{title}: {section}" if section else title)
    values = {
        "page_link": f"[{label}]({target})" if target else label,
        "page_title": for_forum(title), "section_title": for_forum(section),
        "page_url": target or for_forum(_one_line(page_url)),
    }
    return render_body("docs_reply.md", values, key, templates)


_DRAFT_RE = re.compile(r"^(?:\s*(?:draft:|\[draft\]|\(draft\)))+\s*", re.I)


def _mr_raw(page: DocPage | None, summary: str, file_path: str | None) -> dict[str, str]:
    first = _DRAFT_RE.sub("", _one_line(clean_text(summary).strip().split("\n")[0]))
    path = _one_line(file_path or (page.path if page else None) or "")
    subject = first or (f"Update {path} from forum feedback" if path else
                        "Update the docs from forum feedback")
    return {"subject": trim(subject, 200), "file_path": path,
            "page_name": _one_line(_page_name(page)) if page else "",
            "section": _one_line(page.section or "") if page else ""}


def mr_title(
    *, summary: str = "", page: DocPage | None = None, file_path: str | None = None,
    templates: Path | None = None,
) -> str:
    """The draft MR's title; always starts with `Draft: ` so GitLab opens it as a draft."""
    raw = _mr_raw(page, summary, file_path)
    title = render_title("mr_description.md", raw, templates, "Draft: {subject}")
    return gitlab_title("Draft: " + _DRAFT_RE.sub("", title))


def mr_description(
    *, thread_urls: Sequence[str], issue_url: str | None, page: DocPage | None, summary: str,
    key: str, file_path: str | None = None, templates: Path | None = None,
) -> str:
    """The draft MR's description: the summary, the issue it closes, the docs page and
    source file, every forum thread, and the marker."""
    urls = list(dict.fromkeys(u for u in thread_urls if u.strip()))
    raw = _mr_raw(page, summary, file_path)
    values = {
        **_page_values(page, for_gitlab), **{k: for_gitlab(v) for k, v in raw.items()},
        "summary": for_gitlab(trim(summary, 10_000)),
        "issue_url": _item_url(issue_url, for_gitlab) if issue_url else "",
        "threads": "\n".join(f"- {for_gitlab(u)}" for u in urls), "thread_count": _count(len(urls)),
    }
    return render_body("mr_description.md", values, key, templates)
