"""`docsgap eval suggest` on the sandbox's own docs tree and a handful of questions written for
the tests (they check the arithmetic and the plumbing; they are no evidence of quality)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.docpages.pages import load_docs_map
from docsgap.docs import evaluate
from docsgap.docs.gate import load_gate
from docsgap.errors import ConfigError

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
    assert set(by_id["own-1"].features) == {"top_score", "margin", "ratio", "title_cover",
                                            "body_cover", "section_hit", "query_words",
                                            "cosine_agrees"}
    data = evaluate.report(ranked, missing, 0.0, load_gate())
    suggest = data["suggest"]
    assert isinstance(suggest, dict)
    assert suggest["answered"] == 4
    assert suggest["precision_at_1"] == suggest["right"] / 4
    assert suggest["ci_low"] <= suggest["precision_at_1"] <= suggest["ci_high"]
    assert suggest["recall_at_1_ci"][0] <= suggest["recall_at_1"] <= suggest["recall_at_1_ci"][1]
    # The rule the gate replaced is reported beside it.
    old = data["score_rule"]
    assert isinstance(old, dict)
    assert old["threshold"] == evaluate.SCORE_RULE


@pytest.mark.parametrize(("hits", "n", "low", "high"), [
    (8, 10, 0.490, 0.943), (0, 0, 0.0, 1.0), (20, 20, 0.839, 1.0)])
def test_wilson(hits: int, n: int, low: float, high: float) -> None:
    got = evaluate.wilson(hits, n)
    assert got == pytest.approx((low, high), abs=0.001)


def test_cli_reports_and_gates(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["eval", "suggest", "-d", str(DATASET), "--docs", f"gitlab-org/gitlab={TREE}",
            "--threshold", "0.0"]
    out = runner.invoke(app, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "5 questions (1 whose gold page is not in the index" in out.output
    assert "baseline (title words only" in out.output
    assert "suggest, gate at probability 0" in out.output
    assert "before the gate (score >= 0.25)" in out.output
    strict = runner.invoke(app, [*args, "--min-precision", "1.01"], catch_exceptions=False)
    assert strict.exit_code == 8
    # Nothing answered: no precision exists, so none is printed as if it were 0.
    none = runner.invoke(app, [*args[:-1], "1.0"], catch_exceptions=False)
    assert "precision@1 n/a on 0 answered" in none.output
    empty = evaluate.render_text(evaluate.report([], [], 0.45, load_gate()))
    assert "  0.60:    0  n/a" in empty
    assert "precision@1 n/a on 0" in empty


def _other_site(tmp_path: Path) -> tuple[Path, Path]:
    """A docs tree that is not GitLab's (a static site with directory URLs) and a rules dir
    whose docs map places it: written for the test."""
    root = tmp_path / "tool"
    (root / "docs" / "guide").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# Tool\n\nA formatter.\n")
    (root / "docs" / "guide" / "index.md").write_text(
        "---\ntitle: Guide\n---\nInstall the tool and run it on your files.\n")
    (root / "docs" / "guide" / "config.md").write_text(
        "---\ntitle: Configuration file\n---\n## Overrides\n\nUse overrides to give some files "
        "other options, by glob pattern.\n")
    rules = tmp_path / "rules"
    rules.mkdir()
    shipped = (REPO / "rules" / "docs-map.yml").read_text()
    (rules / "docs-map.yml").write_text(
        shipped.replace("  redirects: []", "  redirects:\n    - {from: tool.example.org/docs/"
                        "old-config, to: tool.example.org/docs/en/guide/config}")
        + "\nother_sites:\n  - {project: example/tool, dir: docs, urls: "
        "[https://tool.example.org/docs/en/, tool.example.org/docs], source_urls: "
        "[github.com/example/tool/blob/main/docs]}\n")
    return root, rules


def test_other_site_pages_are_found_by_any_of_their_urls(tmp_path: Path) -> None:
    root, rules = _other_site(tmp_path)
    index = evaluate.build_index([("example/tool", root)], load_docs_map([rules]))
    config = "example/tool:docs/guide/config.md"
    assert index.by_key[config].url == "https://tool.example.org/docs/en/guide/config/"
    for url in ("https://tool.example.org/docs/en/guide/config.html#overrides",
                "http://www.tool.example.org/docs/guide/config/?h=x",
                "https://github.com/example/tool/blob/main/docs/guide/config.md"):
        found = index.find(url)
        assert found is not None and found.key == config, url
    section = index.find("https://tool.example.org/docs/guide/")
    assert section is not None and section.key == "example/tool:docs/guide/index.md"
    assert index.find("https://tool.example.org/docs/en/missing/") is None
    # A page the project moved is found at its new address (any_site.redirects).
    moved = index.find("https://tool.example.org/docs/old-config/#overrides")
    assert moved is not None and moved.key == config
    # Without the entry the project has no docs folder to index.
    with pytest.raises(ConfigError):
        evaluate.build_index([("example/tool", root)])


def test_cli_indexes_other_sites_with_rules(tmp_path: Path) -> None:
    root, rules = _other_site(tmp_path)
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({
        "id": "t1", "title": "How do I give some files other options?", "text": "",
        "gold_url": "https://tool.example.org/docs/en/guide/config.html#overrides"}) + "\n")
    out = CliRunner().invoke(app, ["eval", "suggest", "-d", str(data), "--docs",
                                   f"example/tool={root}", "--rules", str(rules), "--json",
                                   "--threshold", "0.01"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["gold_not_in_index"] == 0
    assert report["suggest"]["right"] == 1


def test_train_suggest_writes_the_same_gate_twice_and_eval_reads_it(tmp_path: Path) -> None:
    runner = CliRunner()
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        done = runner.invoke(app, ["train", "suggest", "-d", str(DATASET), "--docs",
                                   f"gitlab-org/gitlab={TREE}", "-o", str(out)],
                             catch_exceptions=False)
        assert done.exit_code == 0, done.output
        # One project cannot be held out: its figures are in-sample and say so (they were
        # printed as "cross-validated by project" and "the features add signal").
        assert "in-sample (one project: nothing to hold out) at threshold" in done.output
        assert "no out-of-project figure" in done.output
    assert outs[0].read_bytes() == outs[1].read_bytes()  # deterministic
    fitted = json.loads(outs[0].read_text())
    assert fitted["meta"]["examples"] == 4
    assert fitted["meta"]["projects"] == ["gitlab-org/gitlab"]
    assert fitted["meta"]["informative"] is False
    shown = runner.invoke(app, ["eval", "suggest", "-d", str(DATASET), "--docs",
                                f"gitlab-org/gitlab={TREE}", "--gate", str(outs[0])],
                          catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert f"gate at probability {fitted['threshold']:g}:" in shown.output  # its own threshold
    assert "gate: fitted on 4 questions of 1 projects; in-sample at" in shown.output
    assert "gitlab-org/gitlab: 4," in shown.output  # the per-project line


def test_train_suggest_to_a_path_it_cannot_write_is_a_clear_error(tmp_path: Path) -> None:
    # It ended in a FileNotFoundError traceback (exit 1).
    done = CliRunner().invoke(app, ["train", "suggest", "-d", str(DATASET), "--docs",
                                    f"gitlab-org/gitlab={TREE}", "-o", str(tmp_path)])
    assert done.exit_code == 3, done.output
    assert f"cannot write {tmp_path}" in done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
