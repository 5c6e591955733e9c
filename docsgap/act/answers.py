"""Docs-first replies: for a forum question nobody answered (no accepted answer, no staff reply
after `docs.unanswered_hours`), the docs section that answers it, as a reply that links the
page and section. Each is a `docs_reply` action, waiting for review by default.

The suggestion is the index's best section when the answerability gate (`docsgap.docs.gate`: a
small logistic model over the ranker's own figures) gives it a probability of being the answering
page of at least `docs.answer_threshold`; both are measured by `docsgap eval suggest`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from docsgap import compose
from docsgap.act.plan import PlanContext, ThreadMeta
from docsgap.config import Config
from docsgap.docs.gate import AnswerGate, load_gate
from docsgap.docs.gatefeatures import judge
from docsgap.docs.index import DocsIndex, Hit
from docsgap.docs.questions import DOCS_REPLY_PREFIX, Question, open_questions
from docsgap.models import Action, ActionKind
from docsgap.state import StateStore


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The section a docs-first reply would link, and why the gate let it through."""

    hit: Hit
    probability: float
    why: str
    """The features that carried the probability most (`AnswerGate.explain`)."""


def suggest(index: DocsIndex, title: str, text: str, threshold: float,
            gate: AnswerGate | None = None) -> Suggestion | None:
    """The section that answers a question, or None when the gate's probability is below
    `threshold`."""
    g = gate or load_gate()
    judged = judge(index, title, text, limit=1)
    if not judged.hits:
        return None
    p = g.probability(judged.features)
    return Suggestion(judged.hits[0], p, g.explain(judged.features)) if p >= threshold else None


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
    gate = load_gate()
    for q in open_questions(store, asked_before=asked_before):
        meta = context.threads.get(q.thread_id, ThreadMeta())
        if _excluded(meta, config) or context.linked.get(q.thread_id):
            continue  # closed, opted out, or a reported gap (linked to its issue)
        found = suggest(index, q.title, q.text, d.answer_threshold, gate)
        if found is None or found.hit.page.key in q.linked:
            continue
        actions.append(_action(q, found, config))
    return actions


def _excluded(meta: ThreadMeta, config: Config) -> bool:
    return (meta.closed or meta.archived
            or (meta.category_id is not None and meta.category_id in config.forum.ignore_categories)
            or bool(set(meta.tags) & set(config.forum.ignore_tags)))


def _action(q: Question, found: Suggestion, config: Config) -> Action:
    hit = found.hit
    key = docs_reply_key(q.thread_id)
    section = hit.section.heading if hit.section else ""
    where = f"{hit.page.title} > {section}" if section else hit.page.title
    hours = f"{config.docs.unanswered_hours:g}"
    reason = (f"no accepted answer or staff reply after {hours} h; the docs answer it: {where} "
              f"({hit.page.path}; gate probability {found.probability:.2f} >= "
              f"{config.docs.answer_threshold:g}, carried by {found.why}; score "
              f"{hit.score:.2f}; shared words {', '.join(hit.shared) or '-'}); "
              f"policy docs_reply={config.policy.docs_reply}")
    body = compose.docs_reply_text(
        page_url=hit.page.url, page_title=hit.page.title, section_title=section,
        anchor=hit.section.anchor if hit.section else "", key=key,
        templates=config.templates_dir)
    return Action(kind=ActionKind.DOCS_REPLY, key=key, reason=reason, thread_ids=(q.thread_id,),
                  target_url=hit.url, title=q.title, body=body)
