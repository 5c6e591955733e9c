"""The answerability gate of docs-first replies: its features, the logistic model and its
explanation, and the deterministic, project-held-out training (synthetic pages and numbers
written for the tests; no evidence of quality)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docsgap.act.answers import suggest
from docsgap.config import DocsConfig
from docsgap.docs import gatetrain
from docsgap.docs.gate import AnswerGate, load_gate, save_gate
from docsgap.docs.gatefeatures import FEATURES, judge
from docsgap.docs.gatetrain import Example
from docsgap.docs.index import DocsIndex
from docsgap.docs.store import DocsStore
from docsgap.docs.sync import index_files
from docsgap.errors import ConfigError
from docsgap.state import StateStore

PAGES = [
    ("doc/ci/pipelines/schedules.md",
     b"---\ntitle: Scheduled pipelines\n---\n\nRun pipelines at regular intervals.\n\n"
     b"## Run a job only in scheduled pipelines\n\nUse rules with the pipeline source "
     b"variable set to schedule.\n"),
    ("doc/ci/caching/index.md",
     b"---\ntitle: Caching in pipelines\n---\n\nA cache keeps dependencies between jobs.\n\n"
     b"## Clear the cache\n\nClear the runner cache from the pipelines page.\n"),
    ("doc/user/profile/index.md",
     b"---\ntitle: User profile\n---\n\nChange your avatar and your status.\n"),
]


@pytest.fixture
def index() -> DocsIndex:
    store = StateStore(":memory:")
    docs = DocsStore(store.db)
    index_files(docs, "gitlab-org/gitlab", PAGES, commit="c", ref="master", origin="archive")
    return DocsIndex(docs.pages())


def gate(**weights: float) -> AnswerGate:
    n = len(FEATURES)
    return AnswerGate(FEATURES, (0.0,) * n, (1.0,) * n,
                      tuple(weights.get(f, 0.0) for f in FEATURES), 0.0, 0.5)


def test_features_of_a_question_its_page_is_named_for(index: DocsIndex) -> None:
    judged = judge(index, "Scheduled pipelines: run a job only in scheduled pipelines",
                   "How do I run one job only when the schedule runs?")
    f = judged.features
    assert set(f) == set(FEATURES)
    assert judged.hits[0].page.path == "doc/ci/pipelines/schedules.md"
    assert f["title_cover"] == 1.0  # every title word is in the page title or the heading
    assert f["section_hit"] == 1.0
    assert f["margin"] == pytest.approx(judged.hits[0].score - judged.hits[1].score)
    assert 0 < f["ratio"] < 1
    assert f["cosine_agrees"] == 1.0
    # A question whose words name no page well covers less of its title.
    vague = judge(index, "Pipelines are slow today", "").features
    assert vague["title_cover"] < f["title_cover"]
    assert judge(index, "zzz qqq", "").features == {}


def test_probability_and_explanation() -> None:
    g = gate(title_cover=2.0, ratio=-1.0)
    low = g.probability({"title_cover": 0.0, "ratio": 1.0})
    high = g.probability({"title_cover": 1.0, "ratio": 0.2})
    assert 0 < low < 0.5 < high < 1
    assert g.probability({}) == 0.0  # nothing matched: never answered
    why = g.explain({"title_cover": 1.0, "ratio": 0.2}, top=2)
    assert why == "title_cover +2.0, ratio -0.2"


def test_gate_file_round_trip_and_errors(tmp_path: Path) -> None:
    g = gate(margin=1.5)
    path = tmp_path / "gate.json"
    save_gate(g, path)
    assert load_gate(path) == g
    data = json.loads(path.read_text())
    data["weights"] = data["weights"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="differ in length"):
        load_gate(path)
    data = g.to_dict() | {"features": [*FEATURES[:-1], "shoe_size"]}
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="unknown features"):
        load_gate(path)
    with pytest.raises(ConfigError):
        load_gate(tmp_path / "absent.json")


def test_shipped_gate_matches_the_default_threshold() -> None:
    shipped = load_gate()
    assert shipped.features == FEATURES
    assert DocsConfig().answer_threshold == shipped.threshold
    assert shipped.meta["cv"] == "leave one project out"


def test_suggest_returns_the_hit_and_why(index: DocsIndex) -> None:
    g = gate(title_cover=3.0)
    found = suggest(index, "Run a job only in scheduled pipelines", "", 0.5, g)
    assert found is not None
    assert found.hit.page.path == "doc/ci/pipelines/schedules.md"
    assert found.probability > 0.9
    assert found.why.startswith("title_cover +3.0")
    assert suggest(index, "Run a job only in scheduled pipelines", "", 0.99999, g) is None


def _examples() -> list[Example]:
    """Two informative features across four projects: right answers have a high title cover."""
    out = []
    for p in range(4):
        for i in range(10):
            right = (i + p) % 3 == 0
            cover = (0.7 if right else 0.2) + 0.03 * (i % 4)
            out.append(Example(f"p{p}-{i}", f"proj{p}",
                               {"title_cover": cover, "top_score": 0.1 + 0.01 * i}, right))
    return out


def test_training_is_deterministic_and_learns_the_signal() -> None:
    first = gatetrain.train(_examples())
    second = gatetrain.train(_examples())
    assert first.to_dict() == second.to_dict()
    weights = dict(zip(first.features, first.weights, strict=True))
    assert weights["title_cover"] > 0.5
    assert first.meta["met"] is True
    assert first.meta["informative"] is True
    assert first.meta["projects"] == ["proj0", "proj1", "proj2", "proj3"]
    right = sum(e.right for e in _examples())
    assert first.meta["right_at_rank_1"] == right


def test_a_feature_whose_meaning_flips_between_projects_is_no_signal() -> None:
    # Half the questions right in every project; a high title cover means right in projects 0
    # and 2 but wrong in 1 and 3, so what three projects teach misleads on the fourth and the
    # base rate alone predicts better out of project.
    flipped = []
    for p in range(4):
        for i in range(10):
            right = i % 2 == 0
            high = right if p % 2 == 0 else not right
            flipped.append(Example(f"p{p}-{i}", f"proj{p}",
                                   {"title_cover": (0.7 if high else 0.2) + 0.01 * i}, right))
    fitted = gatetrain.train(flipped)
    assert fitted.meta["informative"] is False
    assert float(str(fitted.meta["cv_log_loss"])) > float(
        str(fitted.meta["cv_log_loss_base_rate"])) == pytest.approx(0.6931, abs=1e-3)
    assert [p for p, _ in gatetrain.base_rate_cv(flipped)] == [0.5] * 40


def test_cross_validation_never_scores_a_project_with_its_own_labels() -> None:
    examples = _examples()
    flipped = [Example(e.id, e.group, e.values, not e.right) if e.group == "proj0" else e
               for e in examples]
    a = gatetrain.cross_validate(examples, 1.0)
    b = gatetrain.cross_validate(flipped, 1.0)
    for e, (pa, _), (pb, _) in zip(examples, a, b, strict=True):
        if e.group == "proj0":
            assert pa == pytest.approx(pb)  # fitted on the other projects only


@pytest.mark.parametrize(("pairs", "expected"), [
    # 0.80 reached from 0.6 up on 5 answers: the lowest such threshold answers the most.
    ([(0.9, True), (0.8, True), (0.7, True), (0.65, True), (0.6, False), (0.3, False),
      (0.2, True)], (0.6, True)),
    # Never 0.80 on 3 or more: the best precision, and not met.
    ([(0.9, True), (0.8, False), (0.7, True), (0.5, False), (0.4, False)], (0.7, False)),
])
def test_choose_threshold(pairs: list[tuple[float, bool]], expected: tuple[float, bool]) -> None:
    assert gatetrain.choose_threshold(pairs) == expected
