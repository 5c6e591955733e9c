"""Cross-validation grouped by site, the model inputs training computes once, and a reply's
thread-title context."""

from __future__ import annotations

import numpy as np
import pytest

from docsgap.detect import cv
from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import Record
from docsgap.detect.features import context_features, post_vector
from docsgap.detect.model import Model
from docsgap.detect.rules import load_rules


@pytest.fixture(scope="module")
def ruleset():  # type: ignore[no-untyped-def]
    return load_rules()


def test_folds_keep_each_site_whole_and_spread_the_forum_gaps() -> None:
    sites, sources, gaps = [], [], []
    for n in range(6):  # six forum sites, each with 10 posts and 2-4 gaps
        for m in range(10):
            sites.append(f"forum{n}.example")
            sources.append("forum")
            gaps.append(m < 2 + n % 3)
    for n in range(40):  # forty small trackers
        sites += [f"github.com/o{n}"] * 3
        sources += ["tracker"] * 3
        gaps += [True, False, n % 2 == 0]
    folds = cv.site_folds(sites, sources, gaps, k=3)
    by_site: dict[str, set[int]] = {}
    for site, fold in zip(sites, folds.tolist(), strict=True):
        by_site.setdefault(site, set()).add(fold)
    assert all(len(f) == 1 for f in by_site.values())
    forum_gaps = [sum(g for g, s, f in zip(gaps, sources, folds.tolist(), strict=True)
                      if s == "forum" and f == k) for k in range(3)]
    assert max(forum_gaps) - min(forum_gaps) <= 2
    assert np.array_equal(folds, cv.site_folds(sites, sources, gaps, k=3))  # deterministic


def test_choose_respects_the_precision_floor() -> None:
    gold = np.array([True, True, True, False, False, False])
    prob = np.array([0.9, 0.6, 0.3, 0.5, 0.2, 0.1])
    oof = cv.OutOfFold(prob, np.zeros(6, dtype=bool))
    none = np.zeros(6, dtype=bool)
    loose = cv.choose(oof, gold, none, precision_floor=0.5)
    assert loose.f1 == pytest.approx(6 / 7)  # flags 0.9, 0.6, 0.5, 0.3: 3 right, 1 wrong
    strict = cv.choose(oof, gold, none, precision_floor=1.0)
    assert strict.precision == 1.0 and 0.5 < strict.threshold <= 0.6
    vetoed = cv.OutOfFold(prob, np.array([True, False, False, False, False, False]))
    assert not vetoed.predict(none, 0.5, "model")[0]
    assert vetoed.predict(np.ones(6, dtype=bool), 0.5, "or").all()


def test_site_bootstrap_resamples_whole_sites() -> None:
    sites = [f"s{n // 4}" for n in range(40)]
    gold = np.array([n % 2 == 0 for n in range(40)])
    boot = cv.SiteBootstrap(sites, resamples=200)
    same = boot.delta(gold, gold, gold)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    perfect = boot.f1(gold, gold)
    assert (perfect.value, perfect.low, perfect.high) == (1.0, 1.0, 1.0)
    half = gold & (np.arange(40) < 20)
    better = boot.delta(gold, gold, half)
    assert better.value == pytest.approx(1.0 - 2 / 3) and better.low > 0
    assert boot.times.sum(axis=1).tolist() == [10] * 200  # ten sites drawn per resample
    first = np.arange(40) < 20
    summary = boot.summary(gold, half, first)
    assert (summary["messages"], summary["gaps"], summary["precision"], summary["recall"]) == (
        20, 10, 1.0, 1.0)
    assert boot.summary(gold, half)["recall"] == 0.5


def _toy() -> Model:
    return Model({"w:tutorial": 6.0, "b:as written": 6.0, "w:crash": -6.0,
                  "t:install guide": 3.0}, -2.0, 0.5)


@pytest.mark.parametrize("text", [
    "Step three of the tutorial does not work as written.",
    "Great tutorial, thanks!",  # praise vetoes the model's sentence
    "The docs are wrong about the crash handler.",  # a rule fires, the model says no
    "The app crashes on start.",
])
@pytest.mark.parametrize("combine", ["model", "or"])
def test_model_inputs_decide_as_the_detector_does(ruleset, text: str, combine: str) -> None:  # type: ignore[no-untyped-def]
    model = _toy()
    model.combine = combine
    detector = Detector(ruleset, model)
    inputs = Detector(ruleset, None).model_inputs("", text)
    assert inputs.decide(model) == detector.detect_text("", text).is_gap
    assert inputs.vector(0.6) == post_vector(inputs.norms, inputs.rule_features)


def test_a_reply_is_scored_with_its_thread_title_apart(ruleset) -> None:  # type: ignore[no-untyped-def]
    detector = Detector(ruleset, _toy())
    reply = "Whoops, it moved last week."
    plain = detector.model_inputs("", reply)
    threaded = detector.model_inputs("", reply, "Broken link in the INSTALL guide")
    assert plain.norms == threaded.norms  # the title is not a sentence of the reply
    assert "t:install guide" in threaded.context and not plain.context
    assert threaded.vector()["t:install guide"] == pytest.approx(len(threaded.context) ** -0.5)
    assert "t:install guide" not in threaded.vector(context=False)
    model = _toy()
    assert model.probability(threaded.norms, (), threaded.context) > model.probability(
        plain.norms, ())
    assert context_features("broken link") == ["t:broken", "t:link", "t:broken link"]
    model.threshold = 0.2  # p = 0.12 alone, 0.25 under this title
    title = "Broken link in the install guide"
    assert Detector(ruleset, model).detect_text("", reply, context=title).is_gap
    assert not Detector(ruleset, model).detect_text("", reply).is_gap
    model.weights.pop("t:install guide")
    assert not Detector(ruleset, Model(model.weights, -2.0, 0.2)).detect_text(
        "", reply, context=title).is_gap  # no title weights: the title changes nothing


def test_records_give_replies_their_thread_title_as_context() -> None:
    reply = Record("1", "Docs page 404", "Fixed now.", kind="comment")
    opener = Record("2", "Docs page 404", "The page is gone.", kind="issue")
    stub = Record("3", "[title not in stored copy]", "The page is gone.", kind="forum")
    assert (reply.own_title, reply.context) == ("", "Docs page 404")
    assert (opener.own_title, opener.context) == ("Docs page 404", "")
    assert (stub.own_title, stub.context) == ("", "")
