"""Deduplication: normalisation, page-first ranking, decisions with their reasons, grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docsgap.config import DedupConfig
from docsgap.dedupe.decision import candidate_json
from docsgap.dedupe.evaluate import read_pool, read_queries
from docsgap.dedupe.features import FEATURES, RECENT_NUMBERS
from docsgap.dedupe.matcher import Matcher, decide, group_signals, page_tails
from docsgap.dedupe.ranker import load_ranker
from docsgap.docpages.pages import map_url
from docsgap.models import Candidate, Evidence, GapType, Signal, TrackerItem
from docsgap.text.textnorm import Boilerplate, stem, strip_markup, words

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NOW = datetime(2026, 1, 5, tzinfo=UTC)
VARS = "https://docs.gitlab.com/ci/variables/"
Fixture = tuple[Matcher, dict[str, Any]]


def item(iid: int, title: str, body: str = "", *, state: str = "opened", kind: str = "issue",
         labels: tuple[str, ...] = (), closed_days_ago: int | None = None) -> TrackerItem:
    sign = "issues" if kind == "issue" else "merge_requests"
    closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return TrackerItem(kind, "docs/site", iid, title, body, state,  # type: ignore[arg-type]
                       f"https://gitlab.example/docs/site/-/{sign}/{iid}", labels,
                       closed_at=closed)


DEFAULTS = DedupConfig()


def matcher(items: list[TrackerItem], **kw: float) -> Matcher:
    return Matcher(items, link_threshold=kw.get("link", DEFAULTS.link_threshold),
                   review_threshold=kw.get("review", DEFAULTS.review_threshold),
                   closed_within_days=365, now=NOW)


@pytest.fixture(scope="module")
def fixture_matcher() -> tuple[Matcher, dict[str, object]]:
    pool = read_pool(ASSETS / "dedup_pool.jsonl")
    m = Matcher(pool, link_threshold=DEFAULTS.link_threshold,
                review_threshold=DEFAULTS.review_threshold, closed_within_days=365)
    queries = {q.id: q for q in read_queries(ASSETS / "dedup_queries.jsonl")}
    return m, queries  # type: ignore[return-value]


# --- text normalisation -------------------------------------------------------------------------


def test_stem_joins_word_forms() -> None:
    assert stem("editable") == stem("editor") == stem("edited") == stem("edit")
    assert stem("running") == stem("run")
    assert stem("variables") == stem("variable")


def test_strip_markup_drops_markers_code_and_urls_but_keeps_link_text() -> None:
    text = ("<!-- docsgap:issue:t1:missing:x -->See [the guide](https://x.test/a) and\n"
            "```\nsecret_code_here()\n```\nhttps://docs.gitlab.com/ci/yaml/ `rules:changes`")
    out = strip_markup(text)
    assert "docsgap" not in out
    assert "secret_code_here" not in out
    assert "the guide" in out
    assert "docs.gitlab.com" in out  # the site stays as one word; the path goes
    assert "/ci/yaml" not in out
    assert "rules:changes" in out


@pytest.mark.parametrize(("title", "expected"), [
    ("Docs feedback: cache key example", "cache key example"),
    ("[docs] [BUG] Broken link on the runner page", "Broken link on the runner page"),
    ("**docs(ci):** wrong default", "wrong default"),
    ("Masked variables: minimum length is wrong", "Masked variables: minimum length is wrong"),
    ("tour: [REPLACE WITH SHORT DESCRIPTION]", ""),
])
def test_templated_title_prefixes_are_stripped(title: str, expected: str) -> None:
    assert Boilerplate().title(title) == expected


def test_learned_boilerplate_removes_template_lines_and_prefixes() -> None:
    template = "### Problem\n{}\n\n### Further details\n_Add anything else here._"
    pairs = [(f"Site notes: thing {n}", template.format(f"unique words {n}")) for n in range(5)]
    bp = Boilerplate.learn(pairs)
    assert "site notes" in bp.prefixes
    assert bp.title("Site notes: thing 9") == "thing 9"
    body = bp.body(template.format("the real complaint"))
    assert "real complaint" in body
    assert "anything else" not in body.lower()


def test_concepts_connect_different_words_for_the_same_problem() -> None:
    assert "~outage" in words("the docs site is down") and "~outage" in words("page not loading")
    assert "~darkmode" in words("please add a dark theme")
    assert "~language" in words("Spanish version missing")


def test_page_tails_match_the_same_page_on_another_host() -> None:
    assert page_tails("", ["https://old.example.org/tour/moretypes/18"]) == page_tails(
        "see https://new.example.com/moretypes/18#top")


# --- matching ------------------------------------------------------------------------------------


def test_same_page_different_problem_ranks_the_right_issue_first(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["same-page-other-problem"]
    ranked = m.rank(q.title, q.body, map_url(q.docs_url))
    # The issue, or the MR that references it (the same gap), comes first.
    assert ranked[0].url.endswith(("/issues/102", "/merge_requests/201"))
    assert {c.url[-4:] for c in ranked[:2]} == {"/102", "/201"}
    masked = next(c for c in ranked if c.url.endswith("/issues/101"))
    assert masked.page_match  # same page, different problem: ranked, but well behind
    assert ranked[0].score - masked.score > 20


def test_same_page_new_problem_is_not_linked(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["same-page-new-problem"]
    result = m.match(q.title, q.body, map_url(q.docs_url))
    assert result.decision != "link"
    assert all(c.score < DEFAULTS.link_threshold for c in result.candidates)


def test_same_problem_in_other_words_is_found_with_its_reasons(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["different-words"]
    result = m.match(q.title, q.body, map_url(q.docs_url))
    assert result.best is not None and result.best.url.endswith("/issues/106")
    assert result.decision in ("review", "link")
    assert result.best.page_match
    assert "compare_to" in result.best.shared_words
    assert {"words", "title", "page"} <= dict(result.best.fields).keys()
    assert "runner-up" in result.reason and "same docs page" in result.reason


def test_templated_titles_do_not_match_each_other(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["templated-title-new"]
    result = m.match(q.title, q.body, map_url(q.docs_url))
    assert result.decision == "new"
    assert all(c.score < DEFAULTS.review_threshold for c in result.candidates)
    dup = queries["templated-title-dup"]
    found = m.match(dup.title, dup.body, map_url(dup.docs_url))
    assert found.best is not None and found.best.url.endswith("/issues/104")


def test_declined_issue_is_reported_as_declined(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["declined"]
    result = m.match(q.title, q.body, None)
    assert result.best is not None and result.best.url.endswith("/issues/107")
    assert result.best.state == "declined"
    assert "declined" in result.reason


def test_mr_closing_the_issue_does_not_make_the_link_ambiguous(fixture_matcher: Fixture) -> None:
    m, queries = fixture_matcher
    q = queries["same-page-other-problem"]
    result = m.match(q.title, q.body, map_url(q.docs_url))
    assert result.candidates[1].url.endswith("/merge_requests/201")
    assert m.related(result.candidates[0].url, result.candidates[1].url)
    assert "with the items that reference it" in result.reason
    # The MR's probability counts for the issue's gap rather than against it.
    issue = Candidate("i", "I", "opened", 60.0, (("words", 3.0),))
    mr = Candidate("m", "M", "opened", 30.0, (("words", 2.0),))
    linked = decide([issue, mr], link_threshold=75, review_threshold=20,
                    related=lambda a, b: {a, b} == {"i", "m"})
    assert linked.decision == "link" and linked.best == issue
    assert decide([issue, mr], link_threshold=75, review_threshold=20).decision == "review"


def test_candidates_are_open_or_recent_issues_and_open_mrs() -> None:
    items = [
        item(1, "Masked variable length wrong", state="closed", closed_days_ago=500),
        item(2, "Masked variable length wrong again", state="closed", closed_days_ago=10),
        item(3, "Masked variable length fix", kind="merge_request", state="closed"),
        item(4, "Masked variable length docs fix", kind="merge_request"),
    ]
    urls = {c.url for c in matcher(items).rank("masked variable length wrong", "")}
    assert urls == {items[1].web_url, items[3].web_url}


def test_clear_duplicate_links_and_unrelated_text_is_new() -> None:
    m = matcher([
        item(1, "Masked variables: docs state the wrong minimum length",
             f"The page {VARS} says masked variables need 8 characters; the minimum is wrong."),
        item(2, "Runner autoscaling docs lack an example", "No example config for autoscaling."),
    ])
    dup = m.match("Docs are wrong about masked variable minimum length",
                  "The masked variables section states a wrong minimum length of 8 characters.",
                  map_url(VARS))
    assert dup.decision == "link"
    assert dup.best is not None and dup.best.url.endswith("/issues/1")
    assert m.match("How do I cache node_modules?", "Thanks!", None).decision == "new"


def test_two_equally_likely_originals_share_the_probability_and_need_a_person() -> None:
    text = ("Masked variables: docs state the wrong minimum length",
            f"The page {VARS} says masked variables need 8 characters; the minimum is wrong.")
    one = matcher([item(1, *text), item(9, "Runner autoscaling", "No example config.")])
    two = matcher([item(1, *text), item(2, *text), item(9, "Runner autoscaling", "No example.")])
    report = ("Docs are wrong about masked variable minimum length",
              "The masked variables section states a wrong minimum length of 8 characters.")
    alone, both = one.match(*report, map_url(VARS)), two.match(*report, map_url(VARS))
    assert alone.decision == "link"
    assert both.decision != "link"
    assert both.candidates[0].score == both.candidates[1].score <= 50


def test_a_confidential_original_waits_for_a_person() -> None:
    text = ("Masked variables: docs state the wrong minimum length",
            f"The page {VARS} says masked variables need 8 characters; the minimum is wrong.")
    report = ("Docs are wrong about masked variable minimum length",
              "The masked variables section states a wrong minimum length of 8 characters.")
    public = matcher([item(1, *text)]).match(*report, map_url(VARS))
    secret = item(1, *text)
    secret = TrackerItem(secret.kind, secret.project, secret.iid, secret.title,
                         secret.description, secret.state, secret.web_url, confidential=True)
    hidden = matcher([secret]).match(*report, map_url(VARS))
    assert public.decision == "link"
    assert hidden.decision == "review" and hidden.best is not None
    assert hidden.best.confidential and hidden.best.score == public.best.score  # type: ignore
    assert "confidential issue: forum readers cannot open it" in hidden.reason
    assert candidate_json(hidden.best)["confidential"] is True
    assert "confidential" not in candidate_json(public.best)  # type: ignore[arg-type]


def test_priors_alone_never_link() -> None:
    # Contributions to the logit: without the priors' +1.0 the odds fall by e, to 66%.
    lifted = [Candidate("a", "A", "opened", 84.0, (("words", 2.0), ("open", 0.6),
                                                    ("recent", 0.4)))]
    assert decide(lifted, link_threshold=70, review_threshold=10).decision == "review"
    assert decide(lifted, link_threshold=60, review_threshold=10).decision == "link"
    # Nor do they lift a candidate into the review band.
    assert decide(lifted, link_threshold=90, review_threshold=70).decision == "new"


def test_empty_cache_means_new() -> None:
    result = matcher([]).match("anything", "at all", None)
    assert result.decision == "new" and result.best is None


def test_docsgap_markers_do_not_make_issues_alike() -> None:
    marker = "<!-- docsgap:issue:t1:missing:gitlab-org/gitlab:doc/ci/yaml/_index.md -->"
    m = matcher([item(1, "Cache docs unclear", f"{marker}\nCaching page unclear."),
                 item(2, "Pages domains", f"{marker}\nCustom domain steps skipped.")])
    result = m.match("Pages custom domains", "The custom domain steps are skipped.", None)
    assert result.best is not None and result.best.url.endswith("/issues/2")
    assert "docsgap" not in result.best.shared_words


# --- grouping ------------------------------------------------------------------------------------


def signal(tid: int, title: str, gap: GapType, url: str | None) -> Signal:
    return Signal(tid, title, f"https://forum.test/t/{tid}", gap, 1.0, ("r",),
                  (Evidence("r", title, title),), map_url(url) if url else None, 1)


def test_group_signals_by_page_and_gap_or_by_alike_titles() -> None:
    a = signal(1, "Masked variable docs wrong", GapType.INCORRECT, VARS)
    b = signal(2, "Minimum length of masked vars", GapType.INCORRECT,
               "https://docs.gitlab.com/ee/ci/variables/index.html#mask")
    c = signal(3, "Variables page is missing file examples", GapType.MISSING, VARS)
    d = signal(4, "Broken link to the Helm chart docs", GapType.BROKEN_LINK, None)
    e = signal(5, "broken link to the helm chart docs!", GapType.BROKEN_LINK, None)
    f = signal(6, "Something else entirely", GapType.BROKEN_LINK, None)
    groups = group_signals([a, b, c, d, e, f])
    assert [[s.thread_id for s in g] for g in groups] == [[1, 2], [3], [4, 5], [6]]


def test_quoted_lines_are_kept_as_evidence_and_hosts_give_their_labels() -> None:
    # Issues quote error output (and docsgap quotes the forum evidence): that text is the report.
    body = Boilerplate().body("> Unexpected token in widget loader\nsee https://es.mirror.example.org/x")
    assert "Unexpected token in widget loader" in body
    assert ">" not in body
    assert {stem("mirror"), stem("example")} <= set(words(body))


def test_an_error_quoted_in_the_issue_matches_the_same_error_in_a_report() -> None:
    m = matcher([
        item(1, "Playground samples are broken", "> Error: cannot resolve module quuxlib\n"),
        item(2, "Sidebar sample not working in docs", "The sidebar demo shows nothing."),
    ])
    ranked = m.rank("Dialog sample not working in the playground",
                    "It throws: Error: cannot resolve module quuxlib")
    assert ranked[0].url.endswith("/issues/1")


# --- duplicates lead to their original ----------------------------------------------------------

_ORIGINAL = item(50, "Tracking: docs site reorganisation broke old links",
                 "Old /ee/ URLs redirect nowhere since the move; collecting reports here.")
_FILLER = [item(60 + n, f"{topic} page needs an update", f"The {topic} page is stale.")
           for n, topic in enumerate(("Runner", "Pages", "Backup", "Registry"))]


def _dup(iid: int, body: str = "", **over: Any) -> TrackerItem:
    base = item(iid, "Masked variables page returns 404",
                body or "https://docs.gitlab.com/ee/ci/variables/ gives page not found",
                state="closed", closed_days_ago=3)
    return TrackerItem(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **over})


@pytest.mark.parametrize("how", ["api", "description"])
def test_a_match_on_a_duplicate_goes_to_its_original(how: str) -> None:
    dup = (_dup(51, duplicate_of=_ORIGINAL.web_url) if how == "api" else
           _dup(51, "https://docs.gitlab.com/ee/ci/variables/ gives page not found\n\n"
                    "Duplicate of #50"))
    m = matcher([_ORIGINAL, dup, *_FILLER])
    result = m.match("The masked variables page is a 404", "page not found for variables")
    assert result.best is not None and result.best.url == _ORIGINAL.web_url
    assert result.best.via == dup.web_url
    assert dup.web_url not in {c.url for c in result.candidates}  # stands for it, not beside
    assert result.best.shared_words  # the words the duplicate shared
    assert f"matched through {dup.web_url}, closed as a duplicate of it" in result.reason
    # The original keeps its own priors (open here), the duplicate's text evidence.
    assert dict(result.best.fields)["open"] > 0


def test_duplicate_chains_end_at_the_last_original_and_cycles_do_not_hang() -> None:
    middle = _dup(52, duplicate_of=_ORIGINAL.web_url, title="Old URL redirect broken")
    dup = _dup(51, duplicate_of=middle.web_url)
    m = matcher([_ORIGINAL, middle, dup, *_FILLER])
    best = m.match("masked variables page is a 404", "page not found").best
    assert best is not None and best.url == _ORIGINAL.web_url
    a = _dup(51, duplicate_of="https://gitlab.example/docs/site/-/issues/52")
    b = _dup(52, duplicate_of=a.web_url, title="Old URL redirect broken")
    looped = matcher([a, b, *_FILLER]).match("masked variables page is a 404", "page not found")
    assert looped.best is not None  # ranked, without hanging on the loop


def test_an_original_filed_after_the_report_is_not_followed_when_replaying() -> None:
    later = item(90, "Docs site move: all old links", "Collecting the 404 reports.")
    dup = _dup(51, duplicate_of=later.web_url)
    m = matcher([later, dup, *_FILLER])
    replayed = m.rank("masked variables page is a 404", "page not found", as_of=55)
    assert replayed[0].url == dup.web_url and not replayed[0].via
    whole = m.rank("masked variables page is a 404", "page not found", as_of=55, replay=False)
    assert whole[0].url == later.web_url and whole[0].via == dup.web_url
    # Its recency still counts from the report (number 55), not from the newest item.
    weight = load_ranker().weights[FEATURES.index("recent")]
    assert dict(whole[0].fields)["recent"] <= round(weight * 0.5 ** (35 / RECENT_NUMBERS), 2)
    assert dict(whole[0].fields)["recent"] > 0


def test_a_placeholder_title_is_no_evidence_against_an_item() -> None:
    # Many feedback issues keep the template's title; their words must carry them alone.
    placeholders = [item(70 + n, "Docs feedback: Write your title", body) for n, body in
                    enumerate(("The screenshot of the protected branch form is from an old "
                               "release and lacks the code owner approval toggle.",
                               "Runner install steps skip the registration token.",
                               "The backup page never says where the archive goes."))]
    # Titled alike, a different problem: it used to win on the title alone.
    titled = item(80, "Protected branches screenshot examples unclear",
                  "The protected branch wildcard examples do not say what matches.")
    m = matcher([*placeholders, titled, *_FILLER])
    ranked = m.rank("Protected branches screenshot is old",
                    "The image of the protected branch settings lacks the code owner toggle.")
    assert ranked[0].url == placeholders[0].web_url
    # The words stand in for the missing title.
    weights = dict(zip(FEATURES, load_ranker().weights, strict=True))
    fields = dict(ranked[0].fields)
    assert fields["title"] / weights["title"] == pytest.approx(fields["words"] / weights["words"],
                                                                abs=0.01)


# --- an open regression continues the closed fix it references ---------------------------------

_FIXED = item(40, "Copy button on code blocks copies the shell prompt too",
              "Clicking copy on a shell example puts the leading $ prompt in the clipboard, so "
              "pasting into a terminal fails with command not found.",
              state="closed", closed_days_ago=200)


def _regression(body: str = "The copy button includes the shell prompt again on the new docs "
                            "site (fixed before in #40).") -> TrackerItem:
    return item(48, "New docs site: copying a shell example includes the prompt again", body)


def test_a_match_on_a_fixed_issue_goes_to_the_open_regression_that_references_it() -> None:
    m = matcher([_FIXED, _regression(), *_FILLER])
    report = ("Copy button copies the $ prompt",
              "Clicking copy on a shell example and pasting into the terminal gives "
              "command not found: the $ prompt comes along.")
    result = m.match(*report)
    assert result.best is not None
    assert result.best.url.endswith("/issues/48")
    assert result.best.continues == _FIXED.web_url
    assert _FIXED.web_url in {c.url for c in result.candidates}  # still listed, below it
    assert "a closed issue it references" in result.reason
    assert result.decision != "link"  # a continuation is a heuristic: a person confirms
    # Without the reference, the closed fix stays first.
    alone = matcher([_FIXED, _regression("The copy button includes the prompt again."),
                     *_FILLER]).match(*report)
    assert alone.best is not None and alone.best.url == _FIXED.web_url


def test_declined_issues_and_unlike_referrers_are_not_continued() -> None:
    declined = TrackerItem(**{**{f: getattr(_FIXED, f) for f in _FIXED.__dataclass_fields__},
                              "labels": ("won't do",)})
    report = ("Copy button copies the $ prompt", "pasting gives command not found")
    best = matcher([declined, _regression(), *_FILLER]).match(*report).best
    assert best is not None and not best.continues
    unrelated = item(48, "Runner page needs an update", "Unrelated, see #40 for history.")
    best = matcher([_FIXED, unrelated, *_FILLER]).match(*report).best
    assert best is not None and best.url == _FIXED.web_url and not best.continues


# --- items the report names ---------------------------------------------------------------------


def test_an_item_the_report_names_is_ranked_and_said_so_but_never_linked_on_that_alone() -> None:
    named = item(30, "Masked variables: the value rules are unclear",
                 "Which characters a masked value may hold is not listed.")
    alike = item(31, "Masked variables: minimum length unclear",
                 "The masked value length rule is not listed.")
    unrelated = item(32, "Kubernetes agent: token rotation", "Rotating the agent token.")
    m = matcher([named, alike, unrelated, *_FILLER])
    report = ("Masked variable rules unclear", "The masked value rules are not listed")
    plain = m.rank(*report)
    assert plain[0].url == named.web_url or plain[1].url == named.web_url
    by_url = m.match(report[0], f"{report[1]}; see {unrelated.web_url}/#note_1 maybe.")
    hit = next(c for c in by_url.candidates if c.url == unrelated.web_url)  # no shared words
    assert dict(hit.fields)["ref"] == round(load_ranker().weights[FEATURES.index("ref")], 2)
    assert by_url.decision != "link" or by_url.best != hit
    # Between two alike items, the one the report names comes first.
    other = alike if plain[0].url == named.web_url else named
    ranked = m.rank(report[0], f"{report[1]} (like {other.web_url})")
    assert ranked[0].url == other.web_url
    assert "the report names this item" in m.match(
        report[0], f"{report[1]} (like {other.web_url})").reason
    # `#31` names an issue only when the report's project is known (not in a forum post).
    ref = f"{report[1]} (like #{other.iid})"
    assert all("ref" not in dict(c.fields) for c in m.rank(report[0], ref))
    assert m.rank(report[0], ref, project="docs/site")[0].url == other.web_url
    # Replayed, an item filed after the report cannot have been named by it.
    later = m.rank(report[0], ref, project="docs/site", as_of=other.iid)
    assert all("ref" not in dict(c.fields) for c in later)
