"""Docs-first replies: for a forum question nobody answered (no accepted answer, no staff reply
after `docs.unanswered_hours`), the docs section that answers it, as a reply that links the
page and section. Each is a `docs_reply` action, waiting for review by default.

The suggestion is the index's best section when its score (normalised BM25F, 0-1) reaches
`docs.answer_threshold`; the threshold is measured by `docsgap eval suggest`."""

from __future__ import annotations

from datetime import datetime, timedelta

from docsgap import compose
from docsgap.act.plan import PlanContext, ThreadMeta
from docsgap.config import Config
from docsgap.docs.index import DocsIndex, Hit
from docsgap.docs.questions import DOCS_REPLY_PREFIX, Question, open_questions
from docsgap.models import Action, ActionKind
from docsgap.state import StateStore


def suggest(index: DocsIndex, title: str, text: str, threshold: float) -> Hit | None:
    """The section that answers a question, or None below `threshold`."""
    hits = index.search(title, text, limit=1)
    return hits[0] if hits and hits[0].score >= threshold else None


def docs_reply_key(thread_id: int) -> str:
    """One docs-first reply per thread."""
    return f"{DOCS_REPLY_PREFIX}t{thread_id}"


def plan_replies(store: StateStore, index: DocsIndex | None, config: Config,
                 context: PlanContext, *, now: datetime) -> list[Action]:
    """A `docs_reply` action for every open question the docs answer."""
    if index is None or config.policy.docs_reply == "off":
        return []
    d = config.docs
    asked_before = now - timedelta(hours=d.unanswered_hours)
    actions = []
    for q in open_questions(store, asked_before=asked_before):
        meta = context.threads.get(q.thread_id, ThreadMeta())
        if _excluded(meta, config) or context.linked.get(q.thread_id):
            continue  # closed, opted out, or a reported gap (linked to its issue)
        hit = suggest(index, q.title, q.text, d.answer_threshold)
        if hit is None or hit.page.key in q.linked:
            continue
        actions.append(_action(q, hit, config))
    return actions


def _excluded(meta: ThreadMeta, config: Config) -> bool:
    return (meta.closed or meta.archived
            or (meta.category_id is not None and meta.category_id in config.forum.ignore_categories)
            or bool(set(meta.tags) & set(config.forum.ignore_tags)))


def _action(q: Question, hit: Hit, config: Config) -> Action:
    key = docs_reply_key(q.thread_id)
    section = hit.section.heading if hit.section else ""
    where = f"{hit.page.title} > {section}" if section else hit.page.title
    hours = f"{config.docs.unanswered_hours:g}"
    reason = (f"no accepted answer or staff reply after {hours} h; the docs answer it: {where} "
              f"({hit.page.path}, score {hit.score:.2f} >= "
              f"{config.docs.answer_threshold:g}; shared words {', '.join(hit.shared) or '-'}); "
              f"policy docs_reply={config.policy.docs_reply}")
    body = compose.docs_reply_text(
        page_url=hit.page.url, page_title=hit.page.title, section_title=section,
        anchor=hit.section.anchor if hit.section else "", key=key,
        templates=config.templates_dir)
    return Action(kind=ActionKind.DOCS_REPLY, key=key, reason=reason, thread_ids=(q.thread_id,),
                  target_url=hit.url, title=q.title, body=body)
