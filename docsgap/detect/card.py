"""The model card: what the learned scorer was fitted on, how its settings were chosen, and the
cross-validation figures, as the JSON kept in the model file and as Markdown beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docsgap.detect.cv import FOLDS, RESAMPLES
from docsgap.detect.evaluate import Record
from docsgap.detect.model import Model

MODEL = ("logistic regression (L2, L-BFGS) over word uni/bigrams, in-word character 3-5-grams, "
         "rule hits and, for replies, their thread title's words; a multinomial one over words "
         "and rule hits for the gap type")
SPLIT = "by site, docsgap.detect.split (salt 13): train 60%, dev 20%, test 20%"


def counts(records: Sequence[Record]) -> dict[str, Any]:
    """Messages, docs gaps and sites per source."""
    out: dict[str, Any] = {}
    for source in ("forum", "tracker"):
        mine = [r for r in records if r.source == source]
        out[source] = {"messages": len(mine), "gaps": sum(bool(r.is_gap) for r in mine),
                       "sites": len({r.site for r in mine})}
    return out


def cv_card(*, version: str, today: dt.date, data: dict[str, Any], settings: dict[str, Any],
            cv: dict[str, Any]) -> dict[str, Any]:
    """The card's JSON."""
    return {"version": version, "date": today.isoformat(), "model": MODEL, "split": SPLIT,
            "data": data, "settings": settings, "cv": cv}


def _cell(fig: dict[str, float]) -> str:
    return f"{fig['value']:.2f} [{fig['low']:.2f}-{fig['high']:.2f}]"


def render_card(model: Model) -> str:
    """The model card as Markdown (data, date, split, settings, cross-validation figures)."""
    card = model.card
    data, settings, cv = card["data"], card["settings"], card["cv"]
    out = [f"# Model card: {card['version']} ({card['date']})", "",
           f"**Model.** {card['model']}. Shipped as `detect-model.json.gz` (gzipped JSON: "
           "feature -> weight), read with the standard library only.", "",
           f"**Split.** {card['split']}. The model is fitted on train + dev (+ extra, + "
           "verdicts); every setting is chosen by cross-validation grouped by site on those. "
           "Training never uses the test split's messages (only its sites, to keep `extra` "
           "off them): `docsgap eval detect --split test` reports it once, after the choices "
           "are made.", "",
           "**Data** (messages / docs gaps / sites):", "",
           "| split | forum | tracker |", "|---|---|---|"]
    extra = data.get("extra") or {}
    for name in ("train", "dev", "extra"):
        if name == "extra" and not extra.get("file"):
            continue
        cells = [f"{data[name][s]['messages']} / {data[name][s]['gaps']} / "
                 f"{data[name][s]['sites']}" for s in ("forum", "tracker")]
        out.append(f"| {name} | {cells[0]} | {cells[1]} |")
    if extra.get("file"):
        out += ["", f"`extra` is {extra['file']}: public messages the docsgap team harvested "
                "and labelled itself by the corpus guideline (kept outside the repository, e.g. "
                "`../shared-local/`, with a README saying how they were searched and counting "
                f"the labels). Messages from a test site are left out ({extra['dropped']} here)."]
    v = data["verdicts"]
    out += ["", f"Review verdicts folded in: {v['messages']} ({v['gaps']} gaps, weight "
            f"{v['weight']:g} each){' from ' + v['file'] if v['file'] else ''}.", "",
            "**Settings.** " + ", ".join(f"{k} {v}" for k, v in settings.items()) + ".", "",
            f"**Cross-validation** ({cv.get('folds', FOLDS)} folds, whole sites per fold; "
            f"{cv['settings_tried']} settings tried; thresholds chosen out of fold; F1 with "
            f"95% intervals from {RESAMPLES} site-bootstrap resamples). Best setting: "
            f"{cv['best']} (F1 {cv['best_f1']:.3f}); the settings before it ({cv['current']}): F1 "
            f"{cv['current_f1']:.3f}; difference {_cell(cv['delta'])}, so the "
            f"{cv['shipped']} settings were fitted. Out-of-fold figures of the fitted "
            "settings (chosen on these same data, so slightly optimistic):", "",
            "| slice | messages | gaps | P | R | F1 |", "|---|---|---|---|---|---|"]
    for name in ("overall", "forum", "tracker"):
        fig = cv["figures"][name]
        out.append(f"| {name} | {fig['messages']} | {fig['gaps']} | {fig['precision']:.2f} | "
                   f"{fig['recall']:.2f} | {_cell(fig)} |")
    return "\n".join(out) + "\n"


def write_card(model: Model, path: Path, appendix: str = "") -> str:
    """Write the model card beside the model (plus `appendix`); return its text."""
    text = render_card(model) + appendix
    path.write_text(text, encoding="utf-8")
    return text
