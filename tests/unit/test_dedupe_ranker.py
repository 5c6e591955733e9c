"""The fitted ranker: probabilities with a "none of them" option, what carried a decision, the
fit (deterministic, learns what separates originals), review verdicts folded into training, and
the frozen split by owner. Text here is our own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.dedupe import splits
from docsgap.dedupe import train as dedupe_train
from docsgap.dedupe.features import FEATURES
from docsgap.dedupe.ranker import (
    RANKER_FILE,
    from_json,
    load_ranker,
    probabilities,
    without_priors,
)
from docsgap.errors import ConfigError

runner = CliRunner()
WORDS = FEATURES.index("words")


def test_probabilities_leave_room_for_none_and_share_between_equals() -> None:
    assert probabilities([]) == []
    (alone,) = probabilities([2.0])
    assert alone == pytest.approx(1 / (1 + np.exp(-2.0)))
    a, b = probabilities([2.0, 2.0])
    assert a == b < alone and a + b < 1
    assert sum(probabilities([800.0, -800.0])) == pytest.approx(1.0)  # no overflow


def test_without_priors_takes_their_lift_off_the_odds() -> None:
    assert without_priors(0.5, (("words", 3.0),)) == pytest.approx(0.5)
    assert without_priors(0.5, (("open", np.log(3.0)),)) == pytest.approx(0.25)


def test_contributions_explain_the_logit() -> None:
    ranker = load_ranker()
    x = tuple(1.0 if f in ("words", "page") else 0.0 for f in FEATURES)
    parts = dict(ranker.contributions(x))
    assert set(parts) == {"bias", "words", "page"}
    assert sum(parts.values()) == pytest.approx(ranker.logit(x), abs=0.02)


def test_a_broken_weights_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no weight for"):
        from_json({"weights": {"words": 1.0}, "bias": 0.0}, "w.json")
    with pytest.raises(ConfigError, match="not a ranker weights file"):
        from_json({"weights": dict.fromkeys(FEATURES, "x"), "bias": 0.0}, "w.json")


def _groups(seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    for n in range(40):
        rows = rng.uniform(0, 0.3, size=(5, len(FEATURES)))
        rows[0, WORDS] = rng.uniform(0.4, 0.9)  # originals share more words
        out.append(dedupe_train.Group(rows, 0, f"owner{n % 4}"))
        out.append(dedupe_train.Group(rows[1:], None, f"owner{n % 4}"))
    return out  # type: ignore[return-value]


def test_fit_learns_what_separates_originals_and_is_deterministic() -> None:
    groups = dedupe_train.balance(_groups(1))  # type: ignore[arg-type]
    w1, b1 = dedupe_train.fit(groups, 0.01)
    w2, b2 = dedupe_train.fit(groups, 0.01)
    assert np.array_equal(w1, w2) and b1 == b2
    assert w1[WORDS] > 5 and abs(w1[FEATURES.index("title")]) < w1[WORDS] / 3
    # Stronger regularisation shrinks the weights.
    w3, _ = dedupe_train.fit(groups, 1.0)
    assert abs(w3[WORDS]) < abs(w1[WORDS])
    threshold, table = dedupe_train.choose_threshold(groups, w1, b1)
    chosen = next(row for row in table if row["threshold"] == threshold)
    assert chosen["precision"] >= dedupe_train.TARGET_PRECISION and chosen["links"] > 0


def test_balance_caps_the_weight_of_a_crowded_owner() -> None:
    groups = [dedupe_train.Group(np.zeros((1, len(FEATURES))), None, "hub") for _ in range(9)]
    groups.append(dedupe_train.Group(np.zeros((1, len(FEATURES))), None, "lone"))
    weighed = dedupe_train.balance(groups)
    hub = sum(g.weight for g in weighed if g.owner == "hub")
    assert hub == pytest.approx(3 * weighed[-1].weight)  # sqrt(9) lone reports' worth
    assert sum(g.weight for g in weighed) == pytest.approx(len(groups))


def _record(n: int, title: str, body: str, **extra: object) -> dict[str, object]:
    return {"url": f"https://tracker.example/acme/docs/issues/{n}", "title": title, "body": body,
            **extra}


VERDICTS = [
    {"id": "v1", "repo": "acme/docs", "same": True, "evidence": "closed as duplicate",
     "query": _record(20, "Install guide proxy step fails", "The proxy setting in the install "
                      "guide is wrong", docs_url="https://docs.example.org/guide/install.html"),
     "candidate": _record(3, "Proxy settings wrong in install guide", "Install guide proxy "
                          "variable name is wrong", state="open")},
    {"id": "v2", "repo": "acme/docs", "same": False, "evidence": "another page",
     "query": _record(21, "Upgrade page proxy missing", "The upgrade page skips the proxy"),
     "candidate": _record(4, "Proxy settings wrong in install guide", "Install guide proxy "
                          "variable name is wrong", state="closed")},
]


def test_review_verdicts_become_training_groups(tmp_path: Path) -> None:
    path = tmp_path / "dedup-verdicts.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in VERDICTS), encoding="utf-8")
    groups = dedupe_train.verdict_groups(path)
    assert [g.positive for g in groups] == [0, None]
    assert all(g.rows.shape == (1, len(FEATURES)) and g.owner == "acme" for g in groups)
    assert groups[0].rows[0, WORDS] > groups[1].rows[0, WORDS]
    path.write_text('{"id": "bad", "query": {}}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dedup-verdicts.jsonl:1: expected query"):
        dedupe_train.verdict_groups(path)


def test_train_dedup_folds_verdicts_in_and_writes_the_same_file_twice(tmp_path: Path) -> None:
    # Owners from the frozen split: `python` is a train owner, `github` a dev owner.
    pool, queries = [], []
    for owner, split in (("python", "train"), ("github", "dev")):
        assert splits.split_of(f"{owner}/site") == split
        for n, (title, body) in enumerate([
                ("Dark mode for the docs", "Please add a dark theme to the documentation"),
                ("Search misses functions", "Searching the docs does not find functions"),
                ("Broken link on install page", "The install page links to a 404"),
                ("Typo in tutorial", "The tutorial has a typo in step two")], 1):
            pool.append({"url": f"https://tracker.example/{owner}/site/issues/{n}",
                         "repo": f"{owner}/site", "title": title, "body": body,
                         "state": "closed"})
        for n, (title, body, orig) in enumerate([
                ("Dark theme please", "A dark mode for the documentation site", 1),
                ("Docs search cannot find functions", "Functions are not found by search", 2),
                ("404 on the install page", "Link on install page gives 404", 3)], 10):
            queries.append({"id": f"{owner}-{n}", "repo": f"{owner}/site",
                            "query": {"url": f"https://tracker.example/{owner}/site/issues/{n}",
                                      "title": title, "body": body},
                            "duplicate_of": f"https://tracker.example/{owner}/site/issues/{orig}"})
    files = {name: tmp_path / f"{name}.jsonl" for name in ("pool", "queries", "verdicts")}
    for name, rows in (("pool", pool), ("queries", queries), ("verdicts", VERDICTS)):
        files[name].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = ["train", "dedup", "-q", str(files["queries"]), "-p", str(files["pool"]),
            "--verdicts", str(files["verdicts"]), "--date", "2026-01-01"]
    first = runner.invoke(app, [*args, "-o", str(tmp_path / "a.json")])
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "b.json")]).exit_code == 0
    a = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert a == (tmp_path / "b.json").read_text(encoding="utf-8")
    data = json.loads(a)
    assert data["train"]["queries"] == 3 and data["train"]["verdicts"] == 2
    assert data["dev"]["queries"] == 3 and data["date"] == "2026-01-01"
    assert from_json(data, "a.json").weights[WORDS] > 0
    # Extra data kept outside the repository joins the train split.
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({**queries[0], "id": "x1", "repo": "someone-new/site"}) + "\n",
                     encoding="utf-8")
    more = runner.invoke(app, [*args, "--extra-queries", str(extra), "--extra-pool",
                               str(files["pool"]), "-o", str(tmp_path / "c.json")])
    assert more.exit_code == 0, more.output
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert data["train"]["queries"] == 4 and data["train"]["extra_owners"] == ["someone-new"]


def test_the_split_is_by_owner_and_frozen() -> None:
    frozen = splits.frozen()
    assert {frozen["golang"], frozen["dart-lang"], frozen["angular"]} == {"train", "dev", "test"}
    assert splits.split_of("golang/go") == splits.split_of("golang/tour") == "train"
    # An owner the file does not know goes where the hash of its name puts it, every time.
    assert splits.split_of("someone-new/docs") == splits.split_of("Someone-New/other")


def test_extra_training_data_is_train_only_and_frozen_owners_stay(tmp_path: Path) -> None:
    # An owner whose hash says dev or test still trains when it comes as extra data; a frozen
    # owner keeps its split.
    hashed = {o: splits.split_of(f"{o}/docs") for o in ("acme", "globex", "initech", "umbrella",
                                                       "hooli", "vandelay")}
    elsewhere = next(o for o, s in hashed.items() if s != "train")
    rows = [{"id": f"x{n}", "repo": repo, "query": {"title": "Broken link", "body": "404"},
             "duplicate_of": f"https://tracker.example/{repo}/issues/1"}
            for n, repo in enumerate((f"{elsewhere}/docs", "angular/site"))]
    path = tmp_path / "extra.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = splits.load([], [], [path], [])
    assert data.extra == {elsewhere, "angular"}
    assert [q.id for q in splits.select(data, "train").queries] == ["x0"]
    assert [q.id for q in splits.select(data, "test").queries] == ["x1"]  # angular is frozen
    assert splits.split_of(f"{elsewhere}/docs") == hashed[elsewhere]  # without the extra data


def test_out_of_fold_links_are_shown_beside_dev_and_do_not_choose() -> None:
    groups = dedupe_train.balance(_groups(1))  # type: ignore[arg-type]
    w, b = dedupe_train.fit(groups, 0.01)
    oof = dedupe_train.out_of_fold_tops(groups, 0.01)
    assert len(oof) == sum(1 for g in groups if len(g.rows))
    assert all(0 <= p <= 1 for p, _ in oof)
    alone, table = dedupe_train.choose_threshold(groups, w, b)
    checked, both = dedupe_train.choose_threshold(groups, w, b, also=[(0.99, False)] * 5)
    assert checked == alone
    assert all(row["check_links"] == 5 and row["check_right"] == 0 for row in both)
    assert [{k: v for k, v in row.items() if not k.startswith("check")} for row in both] == table


def test_without_dev_links_the_most_careful_threshold_is_kept() -> None:
    """No dev match reaching a threshold is no evidence that it is precise: with no dev data the
    lowest threshold used to win (every row 'precise' with no links)."""
    groups = dedupe_train.balance(_groups(1))  # type: ignore[arg-type]
    w, b = dedupe_train.fit(groups, 0.01)
    threshold, table = dedupe_train.choose_threshold([], w, b)
    assert threshold == dedupe_train.THRESHOLDS[-1]
    assert all(row["links"] == 0 for row in table)


@pytest.mark.shared
def test_train_dedup_reproduces_the_shipped_weights(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ranker.json"
    result = runner.invoke(app, [
        "train", "dedup", "--date", "2026-12-07", "-o", str(out),
        "-q", str(shared_dir / "corpus" / "dedup-train.jsonl"),
        "-q", str(shared_dir / "eval" / "dedup-dev.jsonl"),
        "-p", str(shared_dir / "corpus" / "dedup-train-pool.jsonl"),
        "-p", str(shared_dir / "eval" / "dedup-dev-pool.jsonl")])
    assert result.exit_code == 0, result.output
    made, shipped = (json.loads(f.read_text(encoding="utf-8")) for f in (out, RANKER_FILE))
    sizes = [(d[s]["queries"], d[s]["pool"]) for d in (made, shipped) for s in ("train", "dev")]
    if sizes[:2] != sizes[2:]:
        pytest.skip("the shared corpus changed since the shipped weights were fitted: retrain")
    assert out.read_bytes() == RANKER_FILE.read_bytes()


def test_match_with_a_config_uses_the_ranker_in_its_rules_dirs(tmp_path: Path) -> None:
    """`train dedup -o my-rules/ranker.json` + `rules_dirs = ["my-rules"]`: `match -c` and
    `eval dedup -c` judge with those weights, as `run` does, so a team can compare them."""
    assets = Path(__file__).resolve().parent.parent / "assets"
    args = ["match", "-p", str(assets / "dedup_hard_pool.jsonl"),
            "-i", str(assets / "dedup_hard_queries.jsonl")]
    shipped = runner.invoke(app, args)
    assert shipped.exit_code == 0, shipped.output
    assert any(json.loads(line)["decision"] == "link" for line in shipped.stdout.splitlines())
    mine = tmp_path / "my-rules"
    mine.mkdir()
    weights = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
    weights["bias"] = -50.0
    (mine / "ranker.json").write_text(json.dumps(weights), encoding="utf-8")
    (tmp_path / "docsgap.toml").write_text('rules_dirs = ["my-rules"]\n', encoding="utf-8")
    retrained = runner.invoke(app, [*args, "-c", str(tmp_path / "docsgap.toml")])
    assert retrained.exit_code == 0, retrained.output
    assert {json.loads(line)["decision"] for line in retrained.stdout.splitlines()} == {"new"}
