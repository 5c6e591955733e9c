"""The frozen split by site and the evaluation's bootstrap intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.detect.evalreport import Bootstrap, slices
from docsgap.detect.evaluate import Outcome, Prediction, Record, evaluate, split_records
from docsgap.detect.split import CORPUS_FILES, SPLITS, site_key, split_of
from docsgap.models import GapType


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://github.com/Hashicorp/terraform/issues/1", "github.com/hashicorp"),
        ("https://github.com/hashicorp/vault/pull/2#issuecomment-3", "github.com/hashicorp"),
        ("https://community.st.com/t5/stm32/td-p/1", "st.com"),
        ("https://qa-community.st.com/t5/x", "st.com"),
        ("https://www.picbasic.co.uk/forum/showthread.php?t=1", "picbasic.co.uk"),
        ("https://imathworks.com/matlab/matlab-floor", "mathworks.com"),
        ("https://ch.mathworks.com/matlabcentral/answers/1", "mathworks.com"),
    ],
)
def test_site_key_groups_a_site_and_its_mirrors(url: str, site: str) -> None:
    assert site_key(url) == site


def test_split_is_stable_and_covers_every_split() -> None:
    sites = [f"github.com/owner{n}" for n in range(400)]
    first = [split_of(s) for s in sites]
    assert first == [split_of(s) for s in sites]  # a hash, not the process's salted hash()
    shares = {s: first.count(s) / len(first) for s in SPLITS}
    assert 0.5 < shares["train"] < 0.7
    assert 0.12 < shares["dev"] < 0.28
    assert 0.12 < shares["test"] < 0.28
    # Frozen: these assignments never change (a change would leak test sites into training).
    frozen = ("st.com", "apple.com", "github.com/golang", "nvidia.com")
    assert [split_of(s) for s in frozen] == ["dev", "test", "train", "train"]


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _row(n: int, owner: str, gap: bool) -> dict[str, object]:
    return {"id": f"x{n}", "source_url": f"https://github.com/{owner}/repo/issues/{n}",
            "kind": "issue", "title": "Docs", "text": "The docs are wrong about the flag."
            if gap else "It crashes on start.", "label": "docs_gap" if gap else "not_docs_gap",
            "gap_type": "incorrect" if gap else None}


def test_split_records_keep_every_site_in_one_split(tmp_path: Path) -> None:
    rows = [_row(n, f"owner{n % 37}", n % 3 == 0) for n in range(200)]
    _write(tmp_path / CORPUS_FILES[0], rows[:100])
    _write(tmp_path / CORPUS_FILES[1], rows[100:])
    parts = {s: split_records(tmp_path, s) for s in SPLITS}
    assert sum(map(len, parts.values())) == 200
    sites = {s: {r.site for r in recs} for s, recs in parts.items()}
    assert not sites["train"] & sites["dev"]
    assert not sites["train"] & sites["test"]
    assert not sites["dev"] & sites["test"]


def test_eval_detect_split_prints_intervals_per_source(tmp_path: Path) -> None:
    rows = [_row(n, f"owner{n % 37}", n % 3 == 0) for n in range(200)]
    _write(tmp_path / CORPUS_FILES[1], rows)
    res = CliRunner().invoke(app, ["eval", "detect", "--split", "train", "--shared",
                                   str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    ci = data["docsgap"]["intervals"]
    assert ci["overall"]["f1_ci"]["low"] <= ci["overall"]["f1_ci"]["value"]
    assert ci["overall"]["f1_ci"]["value"] <= ci["overall"]["f1_ci"]["high"]
    assert "tracker" in ci
    assert "forum" not in ci
    text = CliRunner().invoke(app, ["eval", "detect", "--split", "dev", "--shared",
                                    str(tmp_path)]).output
    assert "95% intervals" in text
    assert "tracker" in text


def test_eval_detect_split_without_the_data_says_how_to_point_at_it(tmp_path: Path) -> None:
    # Found walking the README from a fresh clone elsewhere: only "no labelled detection files".
    res = CliRunner().invoke(app, ["eval", "detect", "--split", "test", "--shared",
                                   str(tmp_path / "none")])
    assert res.exit_code == 3
    assert "pass --shared DIR" in res.output


def test_eval_detect_needs_exactly_one_source(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["eval", "detect"])
    assert res.exit_code == 2  # a usage mistake, like any missing option
    assert "--dataset" in res.output


def test_bootstrap_interval_brackets_the_figure_and_narrows_with_data() -> None:
    rng = np.random.default_rng(1)

    def width(n: int) -> float:
        gold = rng.random(n) < 0.4
        pred = gold ^ (rng.random(n) < 0.2)
        fig = Bootstrap(n).figures(gold, pred)
        assert fig.f1.low <= fig.f1.value <= fig.f1.high
        return fig.f1.high - fig.f1.low

    assert width(2000) < width(60)


def test_slices_count_a_type_only_when_the_type_is_right() -> None:
    records = [Record("a", "", "x", "forum", True, GapType.MISSING),
               Record("b", "", "y", "issue", True, GapType.OUTDATED)]
    preds = {"a": Prediction(True, GapType.MISSING), "b": Prediction(True, GapType.MISSING)}
    result = evaluate(records, lambda r: preds[r.id], "t")
    assert result.outcomes[0] == Outcome(True, True, "missing", "missing", "forum")
    figs = slices(result)
    assert figs["overall"].scores.tp == 2
    assert (figs["missing"].scores.tp, figs["missing"].scores.fp) == (1, 1)
    assert figs["outdated"].scores.fn == 1
    assert figs["forum"].n == 1
    assert figs["tracker"].n == 1
