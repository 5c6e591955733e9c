"""Detection: score a post or a whole thread against the rules, with typed evidence and the
docs page it is about. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from docsgap.detect.doclinks import tracker_links
from docsgap.detect.features import context_features, post_vector
from docsgap.detect.hits import Hit, Searchers, evidence, near_ok, rule_features
from docsgap.detect.model import Model, ModelInputs
from docsgap.detect.posttext import Sentence, clean_post, sentences_of
from docsgap.detect.ruleset import THREAD_SCOPES, Rule, RuleSet
from docsgap.detect.unit import DocsRefs, Unit
from docsgap.docpages.pages import map_url
from docsgap.models import Detection, DocPage, Evidence, GapType, Post, Signal, Thread

_BOT_NAMES = frozenset({"system", "discobot", "github", "gitlab-bot", "forum-bot"})
_BOT_RE = re.compile(r"[-_.]bot$|^bot[-_.]")
_OWN_MARK = "docsgap:key="
"""In every text docsgap writes (its replies never judge a thread)."""


@dataclass(frozen=True, slots=True)
class ThreadVerdict:
    """What a whole thread says: signals (one per docs page), links already posted, and the
    posts that could not create signals and why."""

    signals: tuple[Signal, ...] = ()
    existing_links: tuple[str, ...] = ()
    """GitLab issue/MR/work-item URLs anyone posted in the thread."""
    skipped_posts: tuple[tuple[int, str], ...] = ()
    """(post number, reason): withheld (deleted, hidden...), staff, bot, ignored user, not a
    regular post, quote-only, empty."""
    cancelled: tuple[tuple[str, str], ...] = ()
    """(signal key, why): signals the thread cancelled (a retraction, the docs shown to cover
    it)."""


MODEL_RULE = "model"
"""The rule id under which the learned scorer's evidence is reported."""
_SHIPPED = object()


class Detector:
    """Scores text with a `RuleSet` (hits per sentence, cancellers, summed weights) and, by
    default, the learned scorer: the rules directories' `detect-model.json.gz`, else the one
    shipped in the package (`model=None` for the rules alone)."""

    def __init__(self, ruleset: RuleSet, model: Model | None | object = _SHIPPED) -> None:
        self.ruleset = ruleset
        if model is _SHIPPED:
            model = ruleset.model
        self.model: Model | None = model if isinstance(model, Model) else None
        self._model_rules = {t: Rule(MODEL_RULE, t, re.compile(r"(?!)"),
                                     ruleset.settings.threshold,
                                     "The learned scorer (docsgap.detect.model).")
                             for t in GapType}
        self._globals = tuple(c for c in ruleset.cancellers.values()
                              if c.is_global and c.scope not in THREAD_SCOPES)
        self._thread = tuple(c for c in ruleset.cancellers.values() if c.scope in THREAD_SCOPES)
        self._priority = {t: n for n, t in enumerate(ruleset.settings.type_priority)}
        # Each rule's regex runs only on sentences holding the literals it cannot match without.
        self._refs = DocsRefs(ruleset.docs_ref, ruleset.twins)
        self._gates = ruleset.gate_index
        self._search = Searchers([*ruleset.rules, *ruleset.cancellers.values()],
                                   ruleset.twins)

    # --- public API ---------------------------------------------------------------------------
    def detect_text(self, title: str, text: str, *, context: str = "") -> Detection:
        """Judge one text (HTML or Markdown) with its title; the title is scored like a
        sentence. A reply passes "" as `title` and its thread's title as `context`: the rules
        never see it, the learned scorer weighs its words apart (`t:` features)."""
        unit = self._unit(title, list(clean_post(text).sentences), self._context(context))
        hits, cancelled = self._post_hits(unit, None)
        is_gap, gap, score, rules = self._verdict(hits)
        urls = [u for _, u in unit.docs_urls()]
        if hits and urls:
            strongest = max(hits, key=lambda h: h.weight)
            first = unit.nearest_docs_url(strongest.sentence)
            urls = [u for u in [first, *urls] if u is not None]
        pages = {p.key: p for p in (self._page(u) for u in dict.fromkeys(urls))}
        return Detection(
            is_gap, gap if is_gap else None, score, rules, tuple(h.evidence for h in hits),
            tuple(pages.values()), tuple(dict.fromkeys(c for c, _ in cancelled)),
        )

    def detect_thread(
        self,
        thread: Thread,
        *,
        ignore_usernames: Collection[str] = (),
        ignore_staff: bool = True,
    ) -> ThreadVerdict:
        """Judge a thread as a whole: title + opening post + replies by people (not staff, bots
        or docsgap). At most one signal per docs page, each with its evidence."""
        ignored = {u.lower() for u in ignore_usernames}
        existing: dict[str, None] = {}
        skipped: list[tuple[int, str]] = []
        thread_docs: list[str] = []
        judged: list[tuple[Post, Unit]] = []
        for post in thread.posts:
            if post.withheld:  # deleted, hidden, withdrawn or off limits: never evidence
                skipped.append((post.number, post.withheld))
                continue
            body = post.cooked or post.raw or ""
            existing.update(dict.fromkeys(tracker_links(f"{body}\n{post.raw or ''}")))
            if post.post_type != 1:
                skipped.append((post.number, "not a regular post"))
                continue
            clean = clean_post(body)
            thread_docs.extend(clean.docs_urls())
            reason = _skip_reason(post, ignored, ignore_staff)
            if reason is None and not clean.has_own_text:
                reason = "quote-only" if clean.had_quote else "empty"
            if reason is not None:
                skipped.append((post.number, reason))
                continue
            opener = post.number == 1
            judged.append((post, self._unit(thread.title if opener else "",
                                             list(clean.sentences),
                                             "" if opener else self._context(thread.title))))
        groups: dict[str, list[Hit]] = {}
        pages: dict[str, DocPage | None] = {}
        for post, unit in judged:
            for hit in self._post_hits(unit, post.number)[0]:
                url = unit.nearest_docs_url(hit.sentence) or next(iter(thread_docs), None)
                page = self._page(url) if url else None
                key = page.key if page else "-"
                groups.setdefault(key, []).append(hit)
                pages[key] = page
        signals = []
        cancelled: list[tuple[str, str]] = []
        for key, hits in groups.items():
            veto = self._judge_in_thread(thread, hits, ignored)
            is_gap, gap, score, rules = self._verdict(hits)
            if not is_gap or gap is None:
                continue
            if veto is not None:
                cancelled.append((Signal(thread.id, "", "", gap, 0.0, (), (), pages[key],
                                         0).key, veto))
                continue
            numbers = [h.evidence.post_number or 0 for h in hits]
            signals.append(Signal(
                thread.id, thread.title, thread.url, gap, score, rules,
                tuple(h.evidence for h in hits), pages[key], min(numbers), tuple(existing),
            ))
        return ThreadVerdict(tuple(signals), tuple(existing), tuple(skipped), tuple(cancelled))

    def _judge_in_thread(self, thread: Thread, hits: list[Hit], ignored: set[str]) -> str | None:
        """Judge a page's hits in their thread: the author's later retraction or a staff reply
        showing the docs already cover it vetoes them (returns why); a staff reply confirming
        the gap adds its `boost` as a hit of its own (appended to `hits`)."""
        if not self._thread or not hits:
            return None
        first = min(h.evidence.post_number or 1 for h in hits)
        author = next((p.username for p in thread.posts if p.number == first), None)
        gap = self._verdict(hits)[1] or GapType.MISSING
        for post in thread.posts:
            if (post.number <= first or post.post_type != 1 or post.withheld
                    or _OWN_MARK in (post.raw or post.cooked)):
                continue
            staff = post.staff or post.username.lower() in ignored
            scope = "author-later" if post.username == author else (
                "staff-reply" if staff else None)
            if scope is None:
                continue
            sentences = list(clean_post(post.cooked or post.raw or "").sentences)
            for c in self._thread:
                if c.scope != scope:
                    continue
                found = next(((i, m) for i, s in enumerate(sentences)
                              if (m := self._search.of(c)(s.norm)) is not None), None)
                if found is None:
                    continue
                if c.boost is None:
                    return f"{c.id} (post {post.number})"
                i, m = found
                rule = Rule(c.id, gap, re.compile(r"(?!)"), c.boost, c.description)
                ev = evidence(c.id, sentences[i], m.start(), m.end(), post.number)
                hits.append(Hit(rule, -1, m.start(), m.end(), c.boost, ev))
        return None

    def _page(self, url: str) -> DocPage:
        return map_url(url, self.ruleset.docs_map)

    def model_inputs(self, title: str, text: str, context: str = "") -> ModelInputs:
        """What the learned scorer sees of a text and what decides around it (the rules'
        verdict, each sentence's veto): training computes this once per message and then
        tries many models on it, exactly as `detect_text` would decide."""
        unit = self._unit(title, list(clean_post(text).sentences), context)
        hits, cancelled = self._hits(unit, None)
        per = rule_features(unit, hits, cancelled)
        vetoes = tuple(
            next((c.id for c in self._globals if c.penalty is None and unit.cancels(
                c, self._search.of(c), i, 0, len(norm))), None)
            for i, norm in enumerate(unit.norms))
        return ModelInputs(tuple(unit.norms), tuple(frozenset(p) for p in per),
                           self._verdict(hits)[0], bool(hits), vetoes, unit.context)

    def post_features(self, title: str, text: str, context: str = "") -> dict[str, float]:
        """What the learned scorer sees of a text: its words, the rule hits and vetoes, and a
        reply's thread title (`t:`)."""
        return self.model_inputs(title, text, context).vector()

    def _model_view(
        self, unit: Unit, hits: list[Hit], cancelled: list[tuple[str, int]]
    ) -> tuple[float, int, str | None] | None:
        """(probability, the sentence that carried it, the canceller vetoing that sentence);
        below the model's threshold the sentence is -1 and no veto is looked for."""
        model = self.model
        if model is None or not unit.norms:
            return None
        per = rule_features(unit, hits, cancelled) if hits or cancelled else None
        p = model.probability(unit.norms, set().union(*per) if per else (), unit.context)
        if hits:  # the rules already name the sentence that matters most
            return p, max(hits, key=lambda h: h.weight).sentence, None
        if p < model.threshold:  # no evidence needed (the common case: spare the work)
            return p, -1, None
        i = model.best_sentence(unit.norms, per or [set() for _ in unit.norms])
        # The rules' vetoes (praise, success, questions, negation) silence the model as well.
        end = len(unit.norms[i])
        for c in self._globals:
            if c.penalty is None and unit.cancels(c, self._search.of(c), i, 0, end):
                return p, i, c.id
        return p, i, None

    def _post_hits(
        self, unit: Unit, post_number: int | None
    ) -> tuple[list[Hit], list[tuple[str, int]]]:
        """The rule hits of one post, joined by the model's verdict: a post the model scores at
        or above its threshold gets a `model` hit on the sentence that carried the score (typed
        like the rules' hits, else by the type scorer) unless a canceller vetoes that sentence;
        one below it keeps its rule hits only when the model is combined with the rules by
        `or`."""
        hits, cancelled = self._hits(unit, post_number)
        model = self.model
        view = self._model_view(unit, hits, cancelled)
        if model is None or view is None:
            return hits, cancelled
        p, i, veto = view
        if p < model.threshold or veto is not None:
            if veto is not None:
                cancelled.append((veto, i))
            return (hits if model.combine == "or" else []), cancelled
        gap = self._verdict(hits)[1] if hits else model.gap_type(
            post_vector(unit.norms, set().union(*rule_features(unit, hits, cancelled)),
                        chars=False))
        words = ", ".join(model.top_words(unit.norms[i])) or "-"
        s = unit.sentences[i]
        ev = evidence(MODEL_RULE, s, 0, len(s.text), post_number)
        ev = Evidence(MODEL_RULE, ev.text, f"p={p:.2f}: {words}", post_number)
        rule = self._model_rules[gap or GapType.MISSING]
        return [*hits, Hit(rule, i, 0, len(s.text), rule.weight, ev)], cancelled

    def rule_fires(self, rule: Rule, text: str) -> bool:
        """Whether one rule (with its cancellers) fires on a text; runs rules' examples."""
        unit = Unit(list(clean_post(text).sentences), self._refs)
        return bool(self._hits(unit, None, (rule,))[0])

    def has_docs_ref(self, text: str) -> bool:
        """Whether a text refers to the docs (the `docs_refs` vocabulary or a docs URL)."""
        return any(self._refs.search(s.norm) for s in clean_post(text).sentences)

    # --- scoring ------------------------------------------------------------------------------
    def _context(self, title: str) -> str:
        """A reply's thread title, when the model weighs it (spares the work otherwise)."""
        return title if self.model is not None and self.model.uses_context else ""

    def _unit(self, title: str, body: list[Sentence], context: str = "") -> Unit:
        head = sentences_of(title) if title.strip() else []
        ctx = context_features("\n".join(s.norm for s in sentences_of(context))) \
            if context.strip() else ()
        return Unit([*head, *body], self._refs, tuple(ctx))

    def _hits(
        self, unit: Unit, post_number: int | None, only: Sequence[Rule] | None = None
    ) -> tuple[list[Hit], list[tuple[str, int]]]:
        """Surviving hits, and (canceller id, sentence) for each vetoed one."""
        hits: list[Hit] = []
        cancelled: list[tuple[str, int]] = []
        search = self._search
        per_sentence = self._rules_each(unit, only)
        for i, (norm, rules) in enumerate(zip(unit.norms, per_sentence, strict=True)):
            for rule in rules:
                m = search.of(rule)(norm)
                if m is None or not near_ok(rule, unit, i, m.start(), m.end()):
                    continue
                weight = rule.weight
                veto = None
                for c in (*rule.cancel, *self._globals):
                    if unit.cancels(c, search.of(c), i, m.start(), m.end()):
                        if c.penalty is None:
                            veto = c.id
                            break
                        weight -= c.penalty
                if veto is not None:
                    cancelled.append((veto, i))
                elif weight > 0:
                    ev = evidence(rule.id, unit.sentences[i], m.start(), m.end(), post_number)
                    hits.append(Hit(rule, i, m.start(), m.end(), weight, ev))
        return hits, cancelled

    def _rules_each(self, unit: Unit, only: Sequence[Rule] | None) -> list[Sequence[Rule]]:
        """Per sentence, the rules that can match it: `only`, or the rules whose literal gate
        the sentence passes (usually none or a few), in rule order."""
        if only:
            return [only] * len(unit.norms)
        rules = self.ruleset.rules
        return [[rules[n] for n in picked] for picked in self._gates.candidates_each(unit.norms)]

    def _verdict(
        self, hits: Sequence[Hit]
    ) -> tuple[bool, GapType | None, float, tuple[str, ...]]:
        """Each rule counts once (its best hit); weights sum per gap type; the total decides."""
        best: dict[str, Hit] = {}
        for hit in hits:
            if hit.rule.id not in best or hit.weight > best[hit.rule.id].weight:
                best[hit.rule.id] = hit
        scores: dict[GapType, float] = {}
        for hit in best.values():
            scores[hit.rule.gap_type] = scores.get(hit.rule.gap_type, 0.0) + hit.weight
        if not scores:
            return False, None, 0.0, ()
        total = round(sum(scores.values()), 3)
        gap = min(scores, key=lambda t: (-scores[t], self._priority.get(t, 99)))
        return total >= self.ruleset.settings.threshold, gap, total, tuple(best)


def _skip_reason(post: Post, ignored: set[str], ignore_staff: bool) -> str | None:
    name = post.username.lower()
    if name in ignored:
        return "ignored user"
    if name in _BOT_NAMES or _BOT_RE.search(name):
        return "bot"
    if ignore_staff and post.staff:
        return "staff"
    return None
