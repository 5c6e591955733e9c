"""Detection: typed signals with evidence and pages, quiet on mere mentions, whole threads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from docsgap.cli import common, detect_cmd
from docsgap.detect.detector import Detector
from docsgap.detect.evaluate import baseline_predict, detector_predict, evaluate, read_records
from docsgap.detect.rules import load_rules
from docsgap.errors import ExitCode
from docsgap.models import GapType, Post, Thread

ASSETS = Path(__file__).resolve().parents[1] / "assets"
FORUM = ASSETS / "forum_posts.jsonl"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_rules(), None)  # the rules alone; the model: test_detect_model.py


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("The retention example in the docs is wrong: the key is expire_in.", GapType.INCORRECT),
        ("This page is out of date, the menu it describes was removed.", GapType.OUTDATED),
        ("Honestly the explanation of protected variables is really confusing.",
         GapType.CONFUSING),
        ("The upgrade guide doesn't mention that Sidekiq must be stopped.", GapType.MISSING),
        ("The link to the Helm values page is broken.", GapType.BROKEN_LINK),
        ("That looks like a documentation error in the limits table.", GapType.INCORRECT),
        ("I didn't see anything in the docs about the proxy setting.", GapType.MISSING),
    ],
)
def test_each_gap_type_is_detected(detector: Detector, text: str, gap: GapType) -> None:
    d = detector.detect_text("", text)
    assert d.is_gap
    assert d.gap_type is gap
    assert d.score >= 1.0
    assert d.evidence[0].text == text
    assert d.evidence[0].rule_id in d.rules


@pytest.mark.parametrize(
    "text",
    [
        "The docs are not confusing at all, you just need the right token.",  # negation
        "Thanks for the great documentation, it was really helpful!",  # praise
        "I followed the install guide and everything worked.",  # success
        "Is there any documentation about custom executors?",  # asks for docs
        "According to the docs this should create a tag, but nothing happens.",  # docs as authority
        "Is the documentation wrong, or am I doing something wrong?",  # self-doubt
        "My README links are broken after moving the repo.",  # own docs
        "The API returns a 404 for my project.",  # product error, no docs
        "See https://docs.gitlab.com/ci/yaml/ for the rules keyword.",  # merely links docs
        "Your GitHub link is dead, could you upload it again?",  # someone's own link
        "Failed to fetch http://packages.example.org/pool/x.deb 404 Not Found",  # a tool's fetch
        "Thanks, the broken link in the install guide has been fixed now.",  # fix confirmed
    ],
)
def test_cancellers_and_mere_mentions_stay_quiet(detector: Detector, text: str) -> None:
    assert not detector.detect_text("", text).is_gap


def test_quoted_docs_are_not_the_author_complaining(detector: Detector) -> None:
    quoted = "> The docs are wrong about this.\n\nThanks, that fixed it for me."
    assert not detector.detect_text("", quoted).is_gap


def test_evidence_keeps_urls_and_pages_map_to_sources(detector: Detector) -> None:
    text = ('<p>The example on <a href="https://docs.gitlab.com/ee/ci/yaml/index.html#cache">'
            "the YAML page</a> is wrong.</p>")
    d = detector.detect_text("", text)
    assert d.is_gap
    assert "https://docs.gitlab.com/ee/ci/yaml/index.html#cache" in d.evidence[0].text
    page = d.pages[0]
    assert (page.project, page.path, page.section) == (
        "gitlab-org/gitlab", "doc/ci/yaml/_index.md", "cache")


def test_title_counts_like_a_sentence(detector: Detector) -> None:
    d = detector.detect_text("Runner docs outdated", "Hi, see above.")
    assert d.is_gap
    assert d.gap_type is GapType.OUTDATED
    assert d.evidence[0].text == "Runner docs outdated"


def _forum_records() -> list[dict[str, object]]:
    return [json.loads(line) for line in FORUM.read_text(encoding="utf-8").splitlines() if line]


def test_forum_fixtures_are_judged_right(detector: Detector) -> None:
    records = list(read_records(FORUM, labelled=True))
    assert len(records) >= 60
    assert sum(r.is_gap is True for r in records) >= 30
    wrong = []
    for record in records:
        d = detector.detect_text(record.own_title, record.text)
        if d.is_gap != record.is_gap or (d.is_gap and d.gap_type is not record.gap_type):
            wrong.append((record.id, d.gap_type, d.rules))
    assert wrong == []


def test_forum_fixtures_beat_the_baseline(detector: Detector) -> None:
    records = list(read_records(FORUM, labelled=True))
    ours = evaluate(records, detector_predict(detector), "docsgap")
    base = evaluate(records, baseline_predict, "baseline")
    assert ours.overall.f1 > base.overall.f1 + 0.3
    assert ours.type_accuracy == 1.0


def test_dev_set_meets_the_target(detector: Detector, shared_dir: Path) -> None:
    dataset = shared_dir / "eval" / "detect-dev.jsonl"
    if not dataset.is_file():
        pytest.skip("detect-dev.jsonl is absent")
    result = evaluate(read_records(dataset, labelled=True), detector_predict(detector), "docsgap")
    assert result.overall.precision >= 0.9
    assert result.overall.f1 >= 0.9


# --- threads ----------------------------------------------------------------------------------

def _post(number: int, cooked: str, username: str = "alice", **kw: object) -> Post:
    when = datetime(2025, 1, 1, tzinfo=UTC)
    return Post(id=100 + number, topic_id=7, number=number, username=username, created_at=when,
                cooked=cooked, **kw)  # type: ignore[arg-type]


def _thread(*posts: Post, title: str = "Runner question") -> Thread:
    return Thread(id=7, slug="runner-question", title=title,
                  url="https://forum.example/t/runner-question/7", posts=posts)


def test_thread_signal_per_page_with_evidence_and_existing_links(detector: Detector) -> None:
    thread = _thread(
        _post(1, '<p>I followed <a href="https://docs.gitlab.com/runner/install/linux-repository/">'
                 "the install page</a>.</p><p>The GPG key step on that page is outdated.</p>"),
        _post(2, "<p>Same here. Also the link to the FAQ on "
                 '<a href="https://docs.gitlab.com/runner/register/">the register page</a> is '
                 "broken.</p>"),
        _post(3, '<p>Already reported: <a href="https://gitlab.com/gitlab-org/gitlab-runner/-/'
                 'issues/123">issue</a></p>'),
    )
    verdict = detector.detect_thread(thread)
    by_type = {s.gap_type: s for s in verdict.signals}
    assert set(by_type) == {GapType.OUTDATED, GapType.BROKEN_LINK}
    outdated = by_type[GapType.OUTDATED]
    assert outdated.post_number == 1
    assert outdated.page is not None
    assert outdated.page.path == "docs/install/linux-repository.md"
    assert outdated.evidence[0].post_number == 1
    broken = by_type[GapType.BROKEN_LINK]
    assert broken.post_number == 2
    assert broken.page is not None
    assert broken.page.path == "docs/register/_index.md"
    links = ("https://gitlab.com/gitlab-org/gitlab-runner/-/issues/123",)
    assert verdict.existing_links == links
    assert all(s.existing_links == links for s in verdict.signals)


def test_staff_bots_and_docsgap_never_create_signals(detector: Detector) -> None:
    complaint = "<p>The backup guide is wrong about the archive path.</p>"
    thread = _thread(
        _post(1, "<p>How do I restore?</p>"),
        _post(2, complaint, username="moderator", staff=True),
        _post(3, complaint, username="docsgap"),
        _post(4, complaint, username="helper-bot"),
        _post(5, complaint, username="system", post_type=3),
    )
    verdict = detector.detect_thread(thread, ignore_usernames=["DocsGap"])
    assert verdict.signals == ()
    assert dict(verdict.skipped_posts) == {
        2: "staff", 3: "ignored user", 4: "bot", 5: "not a regular post"}


def test_quote_only_reply_is_skipped(detector: Detector) -> None:
    thread = _thread(
        _post(1, "<p>Hi.</p>"),
        _post(2, '<aside class="quote"><blockquote><p>The guide is wrong.</p></blockquote>'
                 "</aside>"),
    )
    verdict = detector.detect_thread(thread)
    assert verdict.signals == ()
    assert (2, "quote-only") in verdict.skipped_posts


def test_title_only_counts_for_the_opening_post(detector: Detector) -> None:
    thread = _thread(_post(1, "<p>See subject.</p>"), title="The runner docs are wrong")
    (signal,) = detector.detect_thread(thread).signals
    assert signal.gap_type is GapType.INCORRECT
    assert signal.page is None
    assert signal.key == "t7:incorrect:-"


# --- CLI --------------------------------------------------------------------------------------

def _app() -> typer.Typer:
    app = typer.Typer()
    detect_cmd.register(app, common.add_groups(app))
    return app


def test_cli_detect_writes_one_line_per_record(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "title": "", "text":
                    "The link https://docs.gitlab.com/ee/user/ssh.html is dead."}) + "\n"
        + json.dumps({"id": "b", "title": "Hello", "text": "My job is slow."}) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(_app(), ["detect", "--input", str(source)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["id"] == "a"
    assert first["is_gap"] is True
    assert first["gap_type"] == "broken_link"
    assert first["docs_urls"] == ["https://docs.gitlab.com/ee/user/ssh.html"]
    assert first["doc_paths"] == ["doc/user/ssh.md"]
    assert first["evidence"][0]["rule_id"] in first["rules"]
    assert set(first) == {"id", "is_gap", "gap_type", "score", "rules", "evidence", "docs_urls",
                          "doc_paths"}
    assert second == {"id": "b", "is_gap": False, "gap_type": None, "score": 0.0, "rules": [],
                      "evidence": [], "docs_urls": [], "doc_paths": []}


def test_cli_eval_detect_prints_both_and_honours_min_f1() -> None:
    result = CliRunner().invoke(_app(), ["eval", "detect", "--dataset", str(FORUM), "--no-model"])
    assert result.exit_code == 0, result.output
    assert "docsgap" in result.output
    assert "baseline" in result.output
    assert "gap-type confusion" in result.output
    assert "false positives (0)" in result.output
    failing = CliRunner().invoke(
        _app(), ["eval", "detect", "--dataset", str(FORUM), "--min-f1", "1.01"])
    assert failing.exit_code == int(ExitCode.CHECK_FAILED)


def test_cli_eval_lists_errors_with_evidence(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": "fp", "title": "", "text": "The guide is wrong about ports.", "label":
         "not_docs_gap", "gap_type": None},
        {"id": "fn", "title": "", "text": "Please help.", "label": "docs_gap",
         "gap_type": "missing"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(_app(), ["eval", "detect", "--dataset", str(data), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["docsgap"]["false_positives"] == ["fp"]
    assert figures["docsgap"]["false_negatives"] == ["fn"]
    text = CliRunner().invoke(_app(), ["eval", "detect", "--dataset", str(data)]).output
    assert "[incorrect.docs-are-wrong] The guide is wrong about ports." in text


def test_eval_says_precision_is_undefined_where_nothing_was_predicted(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [{"id": "a", "title": "", "text": "The guide is wrong about ports.",
             "label": "docs_gap", "gap_type": "incorrect"},
            {"id": "b", "title": "", "text": "How do I change the port?",
             "label": "not_docs_gap", "gap_type": None}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    text = CliRunner().invoke(_app(), ["eval", "detect", "--dataset", str(data),
                                       "--no-model"]).output
    broken = next(line for line in text.splitlines() if line.startswith("broken_link "))
    assert "- (none predicted)" in broken
    incorrect = next(line for line in text.splitlines() if line.startswith("incorrect "))
    assert "1.00 [" in incorrect


def test_cli_detect_reports_bad_input_with_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "ok"}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(_app(), ["detect", "--input", str(source)])
    assert result.exit_code != 0
    assert f"{source}:2: not valid JSON" in result.output


def test_a_post_wide_canceller_weakens_every_hit_of_a_long_post(detector: Detector) -> None:
    complaint = "The docs are wrong about the default path. This page is out of date."
    alone = detector.detect_text("", complaint)
    repeated = detector.detect_text("", " ".join([complaint] * 5))
    resolved = detector.detect_text("", " ".join([complaint] * 5) + " Never mind, I misread it.")
    assert alone.is_gap and repeated.score == alone.score
    assert resolved.score == pytest.approx(alone.score - 2 * 0.6)
    assert len(resolved.evidence) == len(repeated.evidence) == 10


def test_non_ascii_text_is_judged_like_its_ascii_twin(detector: Detector) -> None:
    # ASCII sentences use a case-sensitive copy of each pattern; others keep IGNORECASE.
    ascii_text = "The docs are wrong about the default path, it is not the one shown."
    variants = [ascii_text.replace("path", "p\u00e2th"), ascii_text.upper(), ascii_text + " \u2713"]
    for text in variants:
        found = detector.detect_text("", text)
        assert found.is_gap and found.gap_type is GapType.INCORRECT
        assert found.rules == detector.detect_text("", ascii_text).rules


# --- thread-level judgement -------------------------------------------------------------------

COMPLAINT = "<p>The runner docs are wrong about the cache path.</p>"


def test_the_authors_later_retraction_cancels_the_signal(detector: Detector) -> None:
    thread = _thread(_post(1, COMPLAINT), _post(2, "<p>Which version?</p>", username="bob"),
                     _post(3, "<p>Never mind, found it: the page has a note I skipped.</p>"))
    verdict = detector.detect_thread(thread)
    assert verdict.signals == ()
    assert [why for _, why in verdict.cancelled] == ["author-retracts (post 3)"]
    # Someone else saying "never mind" does not retract the author's report.
    other = _thread(_post(1, COMPLAINT), _post(2, "<p>Never mind, found it.</p>", username="bob"))
    assert len(detector.detect_thread(other).signals) == 1


def test_a_staff_reply_showing_the_docs_cover_it_cancels(detector: Detector) -> None:
    thread = _thread(_post(1, COMPLAINT), _post(
        2, "<p>This is already documented here, see the note under Requirements.</p>",
        username="maintainer", staff=True))
    verdict = detector.detect_thread(thread)
    assert verdict.signals == ()
    assert verdict.cancelled[0][1].startswith("staff-shows-covered")


def test_a_staff_confirmation_strengthens_a_weak_signal(detector: Detector) -> None:
    weak = _thread(_post(1, "<p>Please improve the runner docs.</p>"))
    assert detector.detect_thread(weak).signals == ()  # 0.6: below the threshold alone
    confirmed = _thread(_post(1, "<p>Please improve the runner docs.</p>"),
                        _post(2, "<p>Good catch, we'll fix the page.</p>", username="maintainer",
                              staff=True))
    (signal,) = detector.detect_thread(confirmed).signals
    assert signal.gap_type is GapType.CONFUSING
    assert "staff-confirms" in signal.rules
    assert signal.post_number == 1
    assert signal.evidence[-1].post_number == 2
    # A non-staff "good catch" confirms nothing.
    peer = _thread(_post(1, "<p>Please improve the runner docs.</p>"),
                   _post(2, "<p>Good catch.</p>", username="bob"))
    assert detector.detect_thread(peer).signals == ()
