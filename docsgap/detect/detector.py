"""Detection: score a post or a whole thread against the rules, with typed evidence and the
docs page it is about. Pure: no I/O."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from docsgap.detect.features import post_vector, rule_names, veto_name
from docsgap.detect.gate import GateIndex, gate_for, lowercase_twin
from docsgap.detect.model import Model, read_model, shipped_model
from docsgap.detect.posttext import Sentence, clean_post, is_docs_url, sentences_of, tracker_links
from docsgap.detect.ruleset import Canceller, Rule, RuleSet
from docsgap.docs.pages import map_url
from docsgap.models import Detection, DocPage, Evidence, GapType, Post, Signal, Thread

_BOT_NAMES = frozenset({"system", "discobot", "github", "gitlab-bot", "forum-bot"})
_BOT_RE = re.compile(r"[-_.]bot$|^bot[-_.]")
_EVIDENCE_CHARS = 320


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


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: Rule
    sentence: int
    start: int
    end: int
    weight: float
    evidence: Evidence


_Search = Callable[[str], "re.Match[str] | None"]


def _searcher(regex: re.Pattern[str]) -> _Search:
    """`regex.search` for lower-case text: ASCII text (most posts) goes to the same pattern
    without IGNORECASE when that cannot change a match, which runs about twice as fast."""
    twin = lowercase_twin(regex)
    if twin is None or twin is regex:
        return regex.search
    fast, slow = twin.search, regex.search
    return lambda text: fast(text) if text.isascii() else slow(text)


class _DocsRefs:
    """The docs vocabulary, with a cheap literal check before the (slow) full regex."""

    __slots__ = ("regex", "_ascii", "_search", "_precheck")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self._ascii = lowercase_twin(regex) or regex
        self._search = _searcher(regex)
        gate = gate_for([regex.pattern])
        literals = sorted(gate.literals) if gate and len(gate.alternatives) == 1 else []
        # One literal set covering every alternative: a text without any cannot match.
        single = literals and len(gate.alternatives[0]) == 1 if gate else False
        self._precheck = re.compile("|".join(map(re.escape, literals))) if single else None

    def search(self, norm: str) -> bool:
        if self._precheck is not None and self._precheck.search(norm) is None:
            return False
        return self._search(norm) is not None

    def finditer(self, norm: str) -> Iterator[re.Match[str]]:
        """Every docs reference in a lower-case text."""
        return (self._ascii if norm.isascii() else self.regex).finditer(norm)


class _Unit:
    """The sentences judged together (a post, plus the title for the opening post)."""

    __slots__ = ("sentences", "norms", "_refs", "_docs", "_post", "_cancels", "_urls", "_at")

    def __init__(self, sentences: Sequence[Sentence], refs: _DocsRefs) -> None:
        self.sentences = sentences
        self.norms = [s.norm for s in sentences]
        self._refs = refs
        self._docs: list[bool | None] = [None] * len(self.norms)
        self._post: str | None = None
        self._cancels: dict[tuple[int, int], bool] = {}
        self._urls: list[tuple[int, str]] | None = None
        self._at: list[int] = []

    def docs_in(self, i: int) -> bool:
        if not 0 <= i < len(self._docs):
            return False
        found = self._docs[i]
        if found is None:
            found = self._docs[i] = self._refs.search(self.norms[i])
        return found

    def any_docs(self) -> bool:
        return any(self.docs_in(i) for i in range(len(self.norms)))

    def docs_within(self, i: int, start: int, end: int, words: int) -> bool:
        norm = self.norms[i]
        for m in self._refs.finditer(norm):
            gap = norm[end : m.start()] if m.start() >= end else norm[m.end() : start]
            if m.start() < end and m.end() > start or len(gap.split()) <= words:
                return True
        return False

    def region(self, c: Canceller, i: int, start: int, end: int) -> str:
        norm = self.norms[i]
        if c.scope == "before":
            return " ".join(norm[:start].split()[-c.window :])
        if c.scope == "after":
            return " ".join(norm[end:].split()[: c.window])
        if c.scope == "adjacent":
            return "\n".join(self.norms[max(0, i - 1) : i + 2])
        if c.scope == "post":
            if self._post is None:
                self._post = "\n".join(self.norms)
            return self._post
        return norm

    def cancels(self, c: Canceller, search: _Search, i: int, start: int, end: int) -> bool:
        """Whether canceller `c` fires around a hit; remembered for the regions that do not
        depend on the hit's span (a long post with many hits asks again and again)."""
        if c.scope in ("before", "after"):
            return search(self.region(c, i, start, end)) is not None
        key = (id(c), -1 if c.scope == "post" else i)
        found = self._cancels.get(key)
        if found is None:
            found = self._cancels[key] = search(self.region(c, i, start, end)) is not None
        return found

    def docs_urls(self) -> list[tuple[int, str]]:
        """(sentence index, URL) of every docs URL, in order; made once per unit (a long
        post asks for the nearest one per hit)."""
        if self._urls is None:
            self._urls = [(i, u) for i, s in enumerate(self.sentences) for u in s.urls
                          if is_docs_url(u)]
            self._at = [i for i, _ in self._urls]
        return self._urls

    def nearest_docs_url(self, i: int) -> str | None:
        """The docs URL of the sentence nearest to `i` (the earlier one on a tie), first in
        its sentence: a binary search, not a pass over every URL."""
        found = self.docs_urls()
        if not found:
            return None
        after = bisect_left(self._at, i)
        if after == 0:
            return found[0][1]
        before = bisect_left(self._at, self._at[after - 1])  # first URL of that sentence
        if after == len(found) or i - self._at[before] <= self._at[after] - i:
            return found[before][1]
        return found[after][1]


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
            model = read_model(ruleset.model_file) if ruleset.model_file else shipped_model()
        self.model: Model | None = model if isinstance(model, Model) else None
        self._model_rules = {t: Rule(MODEL_RULE, t, re.compile(r"(?!)"),
                                     ruleset.settings.threshold,
                                     "The learned scorer (docsgap.detect.model).")
                             for t in GapType}
        self._globals = tuple(c for c in ruleset.cancellers.values() if c.is_global)
        self._priority = {t: n for n, t in enumerate(ruleset.settings.type_priority)}
        # Each rule's regex runs only on sentences holding the literals it cannot match without.
        self._refs = _DocsRefs(ruleset.docs_ref)
        self._gates = GateIndex([gate_for(r.sources) for r in ruleset.rules])
        # Keyed by id(): rules and cancellers live as long as the ruleset (hashing them is slow).
        self._search: dict[int, _Search] = {id(r): _searcher(r.regex) for r in ruleset.rules}
        self._search.update((id(c), _searcher(c.regex)) for c in ruleset.cancellers.values())

    # --- public API ---------------------------------------------------------------------------
    def detect_text(self, title: str, text: str) -> Detection:
        """Judge one text (HTML or Markdown) with its title; the title is scored like a sentence."""
        unit = self._unit(title, list(clean_post(text).sentences))
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
        judged: list[tuple[Post, _Unit]] = []
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
            title = thread.title if post.number == 1 else ""
            judged.append((post, self._unit(title, list(clean.sentences))))
        groups: dict[str, list[_Hit]] = {}
        pages: dict[str, DocPage | None] = {}
        for post, unit in judged:
            for hit in self._post_hits(unit, post.number)[0]:
                url = unit.nearest_docs_url(hit.sentence) or next(iter(thread_docs), None)
                page = self._page(url) if url else None
                key = page.key if page else "-"
                groups.setdefault(key, []).append(hit)
                pages[key] = page
        signals = []
        for key, hits in groups.items():
            is_gap, gap, score, rules = self._verdict(hits)
            if not is_gap or gap is None:
                continue
            numbers = [h.evidence.post_number or 0 for h in hits]
            signals.append(Signal(
                thread.id, thread.title, thread.url, gap, score, rules,
                tuple(h.evidence for h in hits), pages[key], min(numbers), tuple(existing),
            ))
        return ThreadVerdict(tuple(signals), tuple(existing), tuple(skipped))

    def _page(self, url: str) -> DocPage:
        return map_url(url, self.ruleset.docs_map)

    def post_features(self, title: str, text: str) -> dict[str, float]:
        """What the learned scorer sees of a text: its words and the rule hits and vetoes."""
        unit = self._unit(title, list(clean_post(text).sentences))
        per = _rule_features(unit, *self._hits(unit, None))
        return post_vector(unit.norms, set().union(*per))

    def model_view(self, title: str, text: str) -> tuple[float, bool, bool]:
        """(model probability, whether a canceller vetoes the model's sentence, whether the
        rules alone call it a gap): what training needs to choose a threshold."""
        unit = self._unit(title, list(clean_post(text).sentences))
        hits, cancelled = self._hits(unit, None)
        view = self._model_view(unit, hits, cancelled)
        rules_gap = self._verdict(hits)[0]
        return (view[0], view[2] is not None, rules_gap) if view else (0.0, False, rules_gap)

    def _model_view(
        self, unit: _Unit, hits: list[_Hit], cancelled: list[tuple[str, int]]
    ) -> tuple[float, int, str | None] | None:
        """(probability, the sentence that carried it, the canceller vetoing that sentence)."""
        model = self.model
        if model is None or not unit.norms:
            return None
        per = _rule_features(unit, hits, cancelled) if hits or cancelled else None
        p = model.probability(unit.norms, set().union(*per) if per else ())
        if hits:  # the rules already name the sentence that matters most
            return p, max(hits, key=lambda h: h.weight).sentence, None
        i = model.best_sentence(unit.norms, per or [set() for _ in unit.norms])
        # The rules' vetoes (praise, success, questions, negation) silence the model as well.
        end = len(unit.norms[i])
        for c in self._globals:
            if c.penalty is None and unit.cancels(c, self._search[id(c)], i, 0, end):
                return p, i, c.id
        return p, i, None

    def _post_hits(
        self, unit: _Unit, post_number: int | None
    ) -> tuple[list[_Hit], list[tuple[str, int]]]:
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
            post_vector(unit.norms, set().union(*_rule_features(unit, hits, cancelled)),
                        chars=False))
        words = ", ".join(model.top_words(unit.norms[i])) or "-"
        s = unit.sentences[i]
        ev = _evidence(MODEL_RULE, s, 0, len(s.text), post_number)
        ev = Evidence(MODEL_RULE, ev.text, f"p={p:.2f}: {words}", post_number)
        rule = self._model_rules[gap or GapType.MISSING]
        return [*hits, _Hit(rule, i, 0, len(s.text), rule.weight, ev)], cancelled

    def rule_fires(self, rule: Rule, text: str) -> bool:
        """Whether one rule (with its cancellers) fires on a text; runs rules' examples."""
        unit = _Unit(list(clean_post(text).sentences), self._refs)
        return bool(self._hits(unit, None, (rule,))[0])

    def has_docs_ref(self, text: str) -> bool:
        """Whether a text refers to the docs (the `docs_refs` vocabulary or a docs URL)."""
        return any(self._refs.search(s.norm) for s in clean_post(text).sentences)

    # --- scoring ------------------------------------------------------------------------------
    def _unit(self, title: str, body: list[Sentence]) -> _Unit:
        head = sentences_of(title) if title.strip() else []
        return _Unit([*head, *body], self._refs)

    def _hits(
        self, unit: _Unit, post_number: int | None, only: Sequence[Rule] | None = None
    ) -> tuple[list[_Hit], list[tuple[str, int]]]:
        """Surviving hits, and (canceller id, sentence) for each vetoed one."""
        hits: list[_Hit] = []
        cancelled: list[tuple[str, int]] = []
        search = self._search
        per_sentence = self._rules_each(unit, only)
        for i, (norm, rules) in enumerate(zip(unit.norms, per_sentence, strict=True)):
            for rule in rules:
                m = search.get(id(rule), rule.regex.search)(norm)
                if m is None or not _near_ok(rule, unit, i, m.start(), m.end()):
                    continue
                weight = rule.weight
                veto = None
                for c in (*rule.cancel, *self._globals):
                    if unit.cancels(c, search.get(id(c), c.regex.search), i, m.start(), m.end()):
                        if c.penalty is None:
                            veto = c.id
                            break
                        weight -= c.penalty
                if veto is not None:
                    cancelled.append((veto, i))
                elif weight > 0:
                    ev = _evidence(rule.id, unit.sentences[i], m.start(), m.end(), post_number)
                    hits.append(_Hit(rule, i, m.start(), m.end(), weight, ev))
        return hits, cancelled

    def _rules_each(self, unit: _Unit, only: Sequence[Rule] | None) -> list[Sequence[Rule]]:
        """Per sentence, the rules that can match it: `only`, or the rules whose literal gate
        the sentence passes (usually none or a few), in rule order."""
        if only:
            return [only] * len(unit.norms)
        rules = self.ruleset.rules
        return [[rules[n] for n in picked] for picked in self._gates.candidates_each(unit.norms)]

    def _verdict(
        self, hits: Sequence[_Hit]
    ) -> tuple[bool, GapType | None, float, tuple[str, ...]]:
        """Each rule counts once (its best hit); weights sum per gap type; the total decides."""
        best: dict[str, _Hit] = {}
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


def _rule_features(
    unit: _Unit, hits: Sequence[_Hit], cancelled: Sequence[tuple[str, int]]
) -> list[set[str]]:
    """Per sentence, the rule features the learned scorer sees (hits and vetoes)."""
    per: list[set[str]] = [set() for _ in unit.norms]
    for hit in hits:
        per[hit.sentence].update(rule_names(hit.rule.id, hit.rule.gap_type.value))
    for canceller, i in cancelled:
        per[i].add(veto_name(canceller))
    return per


def _near_ok(rule: Rule, unit: _Unit, i: int, start: int, end: int) -> bool:
    near = rule.near_docs
    if near is None:
        return True
    if near == "sentence":
        return unit.docs_in(i)
    if near == "adjacent":
        return unit.docs_in(i - 1) or unit.docs_in(i) or unit.docs_in(i + 1)
    if near == "post":
        return unit.any_docs()
    return isinstance(near, int) and unit.docs_within(i, start, end, near)


def _evidence(rule_id: str, s: Sentence, start: int, end: int, post: int | None) -> Evidence:
    lo, hi = 0, len(s.text)
    if hi > _EVIDENCE_CHARS:
        # Long sentences (tables, run-ons) are cut to a window around the match, at spaces.
        lo = max(0, s.text.rfind(" ", 0, max(0, start - _EVIDENCE_CHARS // 2)) + 1)
        found = s.text.find(" ", end + _EVIDENCE_CHARS // 2)
        hi = found if found != -1 else hi
    text = s.render(lo, hi)
    text = ("…" if lo else "") + text + ("…" if hi < len(s.text) else "")
    return Evidence(rule_id, text.strip(), s.render(start, end), post)


def _skip_reason(post: Post, ignored: set[str], ignore_staff: bool) -> str | None:
    name = post.username.lower()
    if name in ignored:
        return "ignored user"
    if name in _BOT_NAMES or _BOT_RE.search(name):
        return "bot"
    if ignore_staff and post.staff:
        return "staff"
    return None
