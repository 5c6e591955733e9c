"""`docsgap eval dedup`'s output: the figures with their 95% intervals beside the baselines, as
JSON or a table, plus link decisions at other thresholds and the queries not ranked first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docsgap.dedupe.scoring import HEADLINE, Scores


def _with_intervals(s: Scores, by_group: bool) -> dict[str, Any]:
    figures = s.figures()
    spans = s.intervals(by_group=by_group)
    return {**figures, "ci95": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in spans.items()}}


def to_json(main: Scores, baselines: Sequence[Scores], *, threshold: float,
            sweep: Sequence[tuple[float, Scores]] = (), by_group: bool = False
            ) -> dict[str, Any]:
    """Figures as JSON: docsgap and each baseline (with intervals), link precision and share
    at other thresholds, misses."""
    return {
        "queries": main.queries, "labelled": main.labelled, "link_threshold": threshold,
        "intervals": "by repository" if by_group else "by query",
        "docsgap": _with_intervals(main, by_group),
        **{b.name: _with_intervals(b, by_group) for b in baselines},
        "thresholds": [{"link_threshold": t, **{k: v for k, v in s.figures().items()
                                                 if k.startswith("link")}} for t, s in sweep],
        "misses": main.misses,
    }


def render_text(main: Scores, baselines: Sequence[Scores], *, threshold: float,
                sweep: Sequence[tuple[float, Scores]] = (), by_group: bool = False) -> str:
    """A table for people: each figure with its 95% interval."""
    lines = [f"{main.queries} queries ({main.labelled} whose original existed when filed), "
             f"link threshold {threshold:g}%; 95% bootstrap intervals "
             f"({'repositories' if by_group else 'queries'} resampled)", "",
             f"{'':<16}" + "".join(f"{s.name:>24}" for s in (main, *baselines))]
    cells = [(s.figures(), s.intervals(by_group=by_group)) for s in (main, *baselines)]
    for key in HEADLINE:
        row = f"{key:<16}"
        for figures, spans in cells:
            lo, hi = spans[key]
            if key == "link_precision" and not figures["links"]:
                row += "- (no links)".rjust(24)  # undefined, not perfect
                continue
            row += f"{figures[key]:>9.3f} [{lo:.2f}, {hi:.2f}]".rjust(24)
        lines.append(row)
    lines.append(f"{'links':<16}" + "".join(f"{f['links']:>24}" for f, _ in cells))
    if sweep:
        lines += ["", "link decisions at other thresholds (docsgap):"]
        lines += [f"  {t:>5g}%: {s.links} links, precision "
                  f"{f'{s.link_precision:.3f}' if s.links else '-'}, "
                  f"linked share {s.link_recall:.3f}" for t, s in sweep]
    if main.misses:
        lines += ["", "not ranked first:"]
        lines += [f"  {m['id']}: expected {m['expected']} (rank {m['rank'] or '>10'}), "
                  f"got {m['got']}" for m in main.misses]
    return "\n".join(lines)


__all__ = ["render_text", "to_json"]
