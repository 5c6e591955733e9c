"""`docsgap eval suggest`: how often the docs page a docs-first reply would link is the page that
really answered the question, on labelled questions (title, first lines, the docs page the
accepted answer linked), against a docs tree checked out outside the repository.

Reported: precision of the rank-1 page among the questions the answerability gate
(`docsgap.docs.gate`) answers at the threshold (with a Wilson 95% interval: the sets are small),
how many are answered, recall@1 and @5 over all, beside a baseline that ranks pages by the words
their titles share with the question's title, and the rule the gate replaced (answer when the
normalised BM25F score reaches `SCORE_RULE`).

A question asked in a project whose docs are in the index is searched among that project's pages
only, as a forum whose index holds its own docs would (`by_project=False` searches them all).
The project is the row's `project`, else the GitHub repository of its `source_url`; never the
gold page's."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docsgap.docpages.pages import DocsMap, load_docs_map
from docsgap.docs.gate import AnswerGate
from docsgap.docs.gatefeatures import judge
from docsgap.docs.gatetrain import Example
from docsgap.docs.index import DocsIndex
from docsgap.docs.model import DocsPage
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import sync_path
from docsgap.errors import ConfigError
from docsgap.jsonl import read_jsonl
from docsgap.state import StateStore
from docsgap.text.textnorm import strip_markup, words

SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Gate probabilities the sweep reports."""
SCORE_RULE = 0.25
"""The rule before the gate: answer when the best normalised BM25F score reaches this."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled question."""

    id: str
    title: str
    text: str
    gold_url: str
    source_url: str = ""
    project: str = ""
    """Where the question was asked: the row's `project`, else `owner/name` of a GitHub
    `source_url` ("" when neither says)."""


@dataclass(frozen=True, slots=True)
class Ranked:
    """A question's ranking by the suggester and by the baseline."""

    item: Labelled
    gold: str
    """The gold page's key in the index."""
    pages: tuple[str, ...]
    top_score: float
    baseline: tuple[str, ...]
    baseline_score: float
    features: dict[str, float]
    """The answerability gate's features of the best hit (`docsgap.docs.gatefeatures`)."""

    @property
    def right(self) -> bool:
        return self.pages[:1] == (self.gold,)

    def example(self) -> Example:
        """As a training example of the gate, grouped by the gold page's project."""
        return Example(self.item.id, self.gold.split(":", 1)[0], self.features, self.right)


def read_labelled(path: Path) -> list[Labelled]:
    """`{"id", "title", "text", "gold_url", "source_url"}` per line."""
    out = []
    for n, row in read_jsonl(path):
        try:
            source = str(row.get("source_url") or "")
            out.append(Labelled(str(row["id"]), str(row["title"]), str(row.get("text") or ""),
                                str(row["gold_url"]), source,
                                str(row.get("project") or _repository(source))))
        except KeyError as exc:
            raise ConfigError(f"{path}:{n}: missing field {exc}") from exc
    return out


_GITHUB_RE = re.compile(r"^https?://(?:www\.)?github\.com/([\w.-]+/[\w.-]+)")


def _repository(url: str) -> str:
    m = _GITHUB_RE.match(url)
    return m.group(1) if m else ""


def build_index(docs: Sequence[tuple[str, Path]], docs_map: DocsMap | None = None) -> DocsIndex:
    """An in-memory index of (project, checkout root) docs trees; `docs_map` places projects
    that are not GitLab's (`other_sites`)."""
    m = docs_map or load_docs_map()
    store = StateStore(":memory:")
    pages = DocsStore(store.db)
    for project, root in docs:
        sync_path(pages, root, project, commit="eval", docs_map=m)
    return DocsIndex(pages.pages(), m)


def _resolve(index: DocsIndex, url: str) -> DocsPage | None:
    """The page a gold URL names today, following a moved page's `redirect_to` stub."""
    page = index.find(url)
    for _ in range(3):
        if page is None or not page.redirect_to or "://" in page.redirect_to:
            break
        page = index.by_key.get(f"{page.project}:{page.redirect_to}", page)
        if page.redirect_to is None:
            break
    return page


def _title_words(text: str) -> set[str]:
    return {w for w in words(strip_markup(text)) if not w.startswith("~")}


def _baseline(index: DocsIndex, title: str, project: str | None = None
              ) -> tuple[tuple[str, ...], float]:
    """Pages (of `project` when given) by the words their titles share with the question's
    title (cosine of sets)."""
    q = _title_words(title)
    scored = []
    for page in index.pages:
        if page.redirect_to or (project is not None and page.project != project):
            continue
        t = _title_words(page.title)
        if q and t:
            shared = len(q & t)
            if shared:
                scored.append((shared / math.sqrt(len(q) * len(t)), page.key))
    scored.sort(key=lambda st: (-st[0], st[1]))
    return tuple(k for _, k in scored[:5]), (scored[0][0] if scored else 0.0)


def rank(index: DocsIndex, items: Sequence[Labelled], *, by_project: bool = True
         ) -> tuple[list[Ranked], list[Labelled]]:
    """Each question ranked by the suggester and the baseline; and the questions whose gold
    page is not in the index (left out of every figure, and counted). With `by_project`, a
    question asked in an indexed project is searched among that project's pages."""
    ranked, missing = [], []
    for item in items:
        gold = _resolve(index, item.gold_url)
        if gold is None:
            missing.append(item)
            continue
        own = item.project if by_project and index.knows(item.project) else None
        judged = judge(index, item.title, item.text, limit=5, projects=(own,) if own else None)
        hits = judged.hits
        base, base_score = _baseline(index, item.title, own)
        ranked.append(Ranked(item, gold.key, tuple(h.page.key for h in hits),
                             hits[0].score if hits else 0.0, base, base_score, judged.features))
    return ranked, missing


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0, 1 when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _precision(chosen: Sequence[bool], threshold: float) -> dict[str, float | int]:
    right = sum(chosen)
    low, high = wilson(right, len(chosen))
    return {"threshold": threshold, "answered": len(chosen), "right": right,
            "precision_at_1": right / len(chosen) if chosen else 0.0,
            "ci_low": low, "ci_high": high}


def at_threshold(ranked: Sequence[Ranked], threshold: float, *, baseline: bool = False
                 ) -> dict[str, float | int]:
    """Precision@1 among the questions answered by the raw score (>= threshold), with its
    interval: the rule before the gate, and the baseline's."""
    return _precision([(r.baseline if baseline else r.pages)[0] == r.gold for r in ranked
                       if (r.baseline_score if baseline else r.top_score) >= threshold
                       and (r.baseline if baseline else r.pages)], threshold)


def gated(ranked: Sequence[Ranked], gate: AnswerGate, threshold: float
          ) -> dict[str, float | int]:
    """Precision@1 among the questions the gate answers (probability >= threshold)."""
    return _precision([r.right for r in ranked
                       if r.pages and gate.probability(r.features) >= threshold], threshold)


def recall(ranked: Sequence[Ranked], k: int, *, baseline: bool = False) -> float:
    """Share of questions whose gold page is in the first `k`."""
    if not ranked:
        return 0.0
    return _found(ranked, k, baseline) / len(ranked)


def _found(ranked: Sequence[Ranked], k: int, baseline: bool) -> int:
    return sum(1 for r in ranked if r.gold in (r.baseline if baseline else r.pages)[:k])


def _recalls(ranked: Sequence[Ranked], *, baseline: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (1, 5):
        low, high = wilson(_found(ranked, k, baseline), len(ranked))
        out |= {f"recall_at_{k}": recall(ranked, k, baseline=baseline),
                f"recall_at_{k}_ci": [low, high]}  # type: ignore[dict-item]
    return out


def report(ranked: Sequence[Ranked], missing: Sequence[Labelled], threshold: float,
           gate: AnswerGate) -> dict[str, object]:
    """Every figure `eval suggest` prints, as JSON-ready data; `threshold` is the gate's."""
    return {
        "questions": len(ranked) + len(missing), "gold_not_in_index": len(missing),
        "scored": len(ranked),
        "suggest": {**gated(ranked, gate, threshold), **_recalls(ranked),
                    "sweep": [gated(ranked, gate, t) for t in SWEEP]},
        "score_rule": at_threshold(ranked, SCORE_RULE),
        "baseline_title_words": {**at_threshold(ranked, 1e-9, baseline=True),
                                 **_recalls(ranked, baseline=True)},
        "by_project": _by_project(ranked, gate, threshold),
        "gate": {"threshold": gate.threshold, **gate.meta},
        "misses": [{"id": r.item.id, "gold": r.gold, "first": r.pages[0] if r.pages else None,
                    "probability": round(gate.probability(r.features), 3),
                    "why": gate.explain(r.features)}
                   for r in ranked if gate.probability(r.features) >= threshold and not r.right],
    }


def _by_project(ranked: Sequence[Ranked], gate: AnswerGate, threshold: float
                ) -> dict[str, dict[str, int]]:
    """Per gold page's project: scored, right at rank 1, in the first 5, answered, right."""
    out: dict[str, dict[str, int]] = {}
    for r in ranked:
        row = out.setdefault(r.gold.split(":", 1)[0], dict.fromkeys(
            ("scored", "right_at_1", "in_first_5", "answered", "answered_right"), 0))
        answered = bool(r.pages) and gate.probability(r.features) >= threshold
        row["scored"] += 1
        row["right_at_1"] += r.right
        row["in_first_5"] += r.gold in r.pages[:5]
        row["answered"] += answered
        row["answered_right"] += answered and r.right
    return dict(sorted(out.items()))


def render_text(data: dict[str, object]) -> str:
    """The report for people."""
    s, b, old = data["suggest"], data["baseline_title_words"], data["score_rule"]
    assert isinstance(s, dict)
    assert isinstance(b, dict)
    assert isinstance(old, dict)
    lines = [
        f"{data['questions']} questions ({data['gold_not_in_index']} whose gold page is not in "
        f"the index are left out); {data['scored']} scored.",
        f"suggest, gate at probability {s['threshold']:g}: precision@1 {_share(s)} on "
        f"{s['answered']} answered ({s['right']} right); recall@1 {_recall(s, 1)}, "
        f"recall@5 {_recall(s, 5)}",
        f"before the gate (score >= {old['threshold']:g}): precision@1 {_share(old)} on "
        f"{old['answered']} answered",
        f"baseline (title words only, every question it can rank): precision@1 {_share(b)} on "
        f"{b['answered']}; recall@1 {_recall(b, 1)}, recall@5 {_recall(b, 5)}",
        "gate sweep (probability: answered, precision@1):",
    ]
    sweep = s["sweep"]
    assert isinstance(sweep, list)
    lines += [f"  {row['threshold']:.2f}: {row['answered']:>4}  "
              f"{row['precision_at_1']:.3f}" if row["answered"] else
              f"  {row['threshold']:.2f}: {row['answered']:>4}  n/a" for row in sweep]
    projects = data["by_project"]
    assert isinstance(projects, dict)
    lines.append("by project (scored, right at rank 1, in the first 5, answered, right):")
    lines += [f"  {name}: {row['scored']}, {row['right_at_1']}, {row['in_first_5']}, "
              f"{row['answered']}, {row['answered_right']}" for name, row in projects.items()]
    lines.append(_gate_line(data["gate"]))
    misses = data["misses"]
    assert isinstance(misses, list)
    if misses:
        lines.append("answered wrongly:")
        lines += [f"  {m['id']}: gold {m['gold']}, suggested {m['first']} "
                  f"(p {m['probability']}; {m['why']})" for m in misses]
    return "\n".join(lines)


def _gate_line(meta: object) -> str:
    """What the gate's own training measured (its file's `meta`)."""
    assert isinstance(meta, dict)
    if "cv_answered" not in meta:
        return f"gate: default threshold {meta['threshold']:g} (no training record)"
    answered, right = int(meta["cv_answered"]), int(meta["cv_right"])
    low, high = wilson(right, answered)
    return (f"gate: fitted on {meta['examples']} questions of {len(meta['projects'])} projects; "
            f"{'in-sample' if len(meta['projects']) < 2 else 'cross-validated by project'} "
            f"at {meta['threshold']:g}: {answered} answered, {right} "
            f"right ({low:.2f}-{high:.2f}); target {meta['target_precision']} "
            f"{'met' if meta['met'] else 'not met'}"
            + ("; its features beat the base rate out of project" if meta.get("informative")
               else "; no signal beyond the base rate out of project"
               if meta.get("informative") is False else ""))


def _recall(row: dict[str, object], k: int) -> str:
    ci = row[f"recall_at_{k}_ci"]
    assert isinstance(ci, list)
    return f"{row[f'recall_at_{k}']:.3f} ({ci[0]:.2f}-{ci[1]:.2f})"


def _share(row: dict[str, object]) -> str:
    """Precision with its interval, or "n/a" when nothing was answered (no precision exists)."""
    if not row["answered"]:
        return "n/a"
    return (f"{row['precision_at_1']:.3f} (95% CI {row['ci_low']:.2f}-{row['ci_high']:.2f})")


def to_json(data: dict[str, object]) -> str:
    """The report as one JSON document."""
    return json.dumps(data, indent=2)
