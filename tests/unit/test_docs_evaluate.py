"""`docsgap eval suggest` on the sandbox's own docs tree and a handful of questions written for
the tests (they check the arithmetic and the plumbing; they are no evidence of quality)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.docs import evaluate

REPO = Path(__file__).resolve().parents[2]
TREE = REPO / "docsgap" / "sandbox" / "demo_docs"
DATASET = REPO / "tests" / "assets" / "suggest_smoke.jsonl"


def test_rank_follows_redirects_and_leaves_out_missing_gold() -> None:
    index = evaluate.build_index([("gitlab-org/gitlab", TREE)])
    ranked, missing = evaluate.rank(index, evaluate.read_labelled(DATASET))
    assert [m.id for m in missing] == ["own-5"]
    by_id = {r.item.id: r for r in ranked}
    # A gold URL of a moved page counts as the page it moved to.
    assert by_id["own-3"].gold == "gitlab-org/gitlab:doc/ci/triggers/_index.md"
    assert by_id["own-1"].pages[0] == "gitlab-org/gitlab:doc/ci/pipelines/schedules.md"
    data = evaluate.report(ranked, missing, 0.0)
    suggest = data["suggest"]
    assert isinstance(suggest, dict)
    assert suggest["answered"] == 4
    assert suggest["precision_at_1"] == suggest["right"] / 4
    assert suggest["ci_low"] <= suggest["precision_at_1"] <= suggest["ci_high"]


@pytest.mark.parametrize(("hits", "n", "low", "high"), [
    (8, 10, 0.490, 0.943), (0, 0, 0.0, 1.0), (20, 20, 0.839, 1.0)])
def test_wilson(hits: int, n: int, low: float, high: float) -> None:
    got = evaluate.wilson(hits, n)
    assert got == pytest.approx((low, high), abs=0.001)


def test_cli_reports_and_gates(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["eval", "suggest", "-d", str(DATASET), "--docs", f"gitlab-org/gitlab={TREE}",
            "--threshold", "0.2"]
    out = runner.invoke(app, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "5 questions (1 whose gold page is not in the index" in out.output
    assert "baseline (title words only" in out.output
    strict = runner.invoke(app, [*args, "--min-precision", "1.01"], catch_exceptions=False)
    assert strict.exit_code == 8
