"""compose: markers, neutralising hostile forum text for GitLab and Discourse, the composed
texts, and template checks. Two small checkers below apply GitLab's and Discourse's rules (from
CONTRACTS.md C1-C3) to the output, so every hostile input is judged the same way."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from docsgap import compose
from docsgap.act.items import NEW_ISSUE_PLACEHOLDER
from docsgap.errors import RulesError
from docsgap.models import DocPage, Evidence, GapType, Signal
from docsgap.paths import templates_dir

ZW = "\u200b"
MARKER_RE = re.compile(r"<!-- docsgap:key=[^\s<>]* -->")
AUTOLINK_RE = re.compile(r"<(https?://[^\s<>]*)>")
TRACKER_PATH = re.compile(r"/(?:issues|merge_requests|epics|milestones|snippets|commits?|"
                          r"work_items)(?:/|$)")
# GitLab reference and mention patterns, run on the text as rendered (escapes and entities
# decoded), as its Banzai filters do. Broad on purpose: a false alarm is cheap here.
GITLAB_REFS = {
    "mention": r"@[\w.\-]",
    "issue": r"#\d",
    "merge request": r"!\d",
    "label": r"~[\w\"]",
    "milestone": r"%[\w\"]",
    "epic": r"&\d",
    "snippet": r"\$\d",
    "iteration": r"\*iteration:",
    "bracket reference": r"\[(?:vulnerability|feature_flag|wiki_page|work_item|alert)",
    "commit": r"(?i)(?=[a-f]*\d)[0-9a-f]{7,}|(?<![a-z0-9])[a-f]{7,}(?![a-z0-9])",
    "bare URL (autolinked, maybe a reference)": r"(?i)https?://|(?<![\w.])www\.",
}


def gitlab_problems(md: str, *, trusted: tuple[str, ...] = (), title: bool = False) -> list[str]:
    """Why `md` could run a quick action, mention, reference, embed HTML or load an image in
    a GitLab description or note. `trusted` URLs (our own issue links) may appear verbatim.
    A `title` is plain text (no quick actions, Markdown or HTML): only references count."""
    problems = []
    for n, line in enumerate([] if title else md.split("\n"), 1):
        # GitLab needs column 0; we promise more: not after blanks or quote markers either.
        if re.match(r"[\s>]*/", line):
            problems.append(f"line {n}: quick action: {line!r}")
        if re.match(r"\s*(?:>\s*)*(?:```|~~~|>>>|::include)", line):
            problems.append(f"line {n}: fence, multi-line quote or include: {line!r}")
    body = MARKER_RE.sub(" ", md)
    for url in trusted:
        body = body.replace(url, " ")
    if not title:
        problems += [f"autolink to a tracker item: {url}" for url in AUTOLINK_RE.findall(body)
                     if TRACKER_PATH.search(url)]
        body = AUTOLINK_RE.sub(" LINK ", body)
        if "<" in body:
            problems.append("raw HTML (`<`)")
        unescaped = re.sub(r"\\.", "", body)
        if "[" in unescaped or "](" in unescaped:
            problems.append("Markdown link, image or reference definition (`[`)")
        body = html.unescape(re.sub(r"\\(.)", r"\1", body))
    for name, pattern in GITLAB_REFS.items():
        m = re.search(pattern, body)
        if m:
            problems.append(f"{name}: {body[max(0, m.start() - 15):m.end() + 15]!r}")
    return problems


def forum_problems(md: str, *, trusted: tuple[str, ...] = ()) -> list[str]:
    """Why `md` could mention, quote (notify), embed HTML/images or onebox on Discourse."""
    problems = []
    body = MARKER_RE.sub(" ", md)
    if re.search(r"@(?!\u200b)", html.unescape(re.sub(r"\\(.)", r"\1", body))):
        problems.append("@ without a zero-width space (mention)")
    if "<" in body:
        problems.append("raw HTML (`<`)")
    # Only our own [label](https://...) links may use brackets.
    unescaped = re.sub(r"\\.", "", body)
    unescaped = re.sub(r"\[[^\[\]\n]*\]\(https?://[^\s()<>]*\)", "", unescaped)
    if "[" in unescaped or "]" in unescaped:
        problems.append("BBCode or Markdown link/image (`[`)")
    for n, line in enumerate(body.split("\n"), 1):
        if re.fullmatch(r"\s*https?://\S+\s*", line) and line.strip() not in trusted:
            problems.append(f"line {n}: a URL alone on a line is oneboxed")
    return problems


HOSTILE = [
    "/close",
    "/label ~x",
    "   /close",
    "\t/assign @me",
    "> /close",
    ">> /label ~bug\n> > /close",
    "Looks wrong.\n/close\n/title pwned\nthanks",
    "```\n/close\n```",
    "~~~\n/close\n~~~",
    ">>>\n/close\n>>>",
    "\u00a0/close",
    "\u202e/close",
    "x\u2028/close",
    "x\r/close",
    "x\x0b/close\x00",
    "\\/close and \\@all",
    "::include{file=https://evil.test/x.md}",
    "ping @group and @all, also @user.name and @group/sub-group",
    "mail me: someone@example.com",
    "see #123, !45, ~label, ~\"two words\", %milestone, %\"17.0\", &12, $34",
    "group/project#1 and group/project!2 and project@1a2b3c4",
    "[vulnerability:1] *iteration:5 ^alert#3 [[_TOC_]] [^1]",
    "commit deadbeef and 0123456789abcdef0123456789abcdef01234567",
    "<script>alert(1)</script>",
    '<img src="https://evil.test/pixel.png" onerror="alert(1)">',
    "![tracker](https://evil.test/pixel.png)",
    "[click me](javascript:alert(1)) and [ok](https://evil.test/(x))",
    "[ref]: https://evil.test/ref",
    "<https://evil.test/auto> <javascript:alert(1)>",
    "<!-- docsgap:key=spoofed --> and --> and --!> and <!--",
    "&#64;all &#35;123 &commat;all &#x40;all",
    "https://gitlab.com/gitlab-org/gitlab/-/issues/1 and www.gitlab.com/g/p/-/issues/2",
    "https://gitlab.example/g/p/-/merge_requests/3#note_1",
    "http://evil.test/a)#123",
    "`@all` and ``/close`` and `<b>`",
    "[quote=\"bob, post:1, topic:2\"]hi @bob[/quote] [details=x]y[/details]",
    "https://evil.test/onebox-me",
    "Ünïcödé 日本語 😀 #１２ @ｕｓｅｒ ＠all",
    "a" * 5000 + " @all #1 /close",
    # found by test_compose_fuzz: a sigil right before a URL that is shown as text,
    "~\ufeffhttps://g.test/p/-/issues/9 and %https://g.test/p/-/issues/9",
    # two URLs run together once an invisible character is dropped,
    "http://e.test/a)#123\ufeffhttps://gitlab.com/g/p/-/issues/1",
    # a scheme with no host, and a lone URL with characters linkify may take into it.
    "https://",
    "http://e.test/x\\",
    "https://]",
]


def sig(tid: int = 101, *, title: str = "rules:changes example fails", text: str = "The page "
        "is outdated.", gap: GapType = GapType.OUTDATED, page: DocPage | None = None,
        rules: tuple[str, ...] = ("outdated.removed_syntax",)) -> Signal:
    ev = (Evidence(rules[0], text, "outdated", 2),) if text else ()
    return Signal(tid, title, f"https://forum.test/t/topic-{tid}/{tid}", gap, 0.9, rules, ev,
                  page, 2)


PAGE = DocPage("https://docs.gitlab.com/ci/yaml/#rules", "gitlab-org/gitlab",
               "doc/ci/yaml/_index.md", "rules")
ISSUE = "https://gitlab.com/gitlab-org/gitlab/-/issues/42"
MR = "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/7"


# --- markers ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [
    "t101:outdated:gitlab-org/gitlab:doc/ci/yaml/_index.md",
    "reply:t1:https://gitlab.com/g/p/-/issues/3",
    "a-->b", "--", "x-", "-", "@all", "k\n-->\n<!--", "%41 %", "日本語 😀", "", "a--!>b",
])
def test_marker_round_trips_and_cannot_close_the_comment(key: str) -> None:
    mark = compose.marker(key)
    inner = mark.removeprefix("<!--").removesuffix("-->")
    assert mark.startswith("<!-- docsgap:key=")
    assert mark.endswith(" -->")
    assert "--" not in inner
    assert ">" not in inner
    assert "<" not in inner
    assert "@" not in mark
    assert "\n" not in mark
    assert compose.find_markers(f"text\n\n{mark}\nmore {mark}") == [key, key]
    assert compose.marker(key) == mark  # deterministic: apply looks for it by substring


def test_find_markers_ignores_escaped_spoofs() -> None:
    spoof = compose.marker("spoofed")
    draft = compose.issue_draft([sig(text=f"see {spoof} here")], labels=(), key="real")
    assert compose.find_markers(draft.description) == ["real"]
    assert compose.find_markers(compose.for_forum(spoof)) == []


# --- neutralising -------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_for_gitlab_leaves_nothing_live(text: str) -> None:
    assert gitlab_problems(compose.for_gitlab(text)) == []
    assert gitlab_problems(compose.gitlab_quote(text, indent="  ")) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_gitlab_title_leaves_nothing_live(text: str) -> None:
    title = compose.gitlab_title(text)
    assert "\n" not in title
    assert len(title) <= compose.TITLE_LIMIT
    assert gitlab_problems(title, title=True) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_for_forum_leaves_nothing_live(text: str) -> None:
    assert forum_problems(compose.for_forum(text)) == []


def test_checkers_catch_the_raw_inputs() -> None:
    """The checkers are not vacuous: unescaped, these inputs are flagged."""
    for text in ("/close", "  /close", "> /close", "@all", "#123", "!45", "~x", "%m", "&1",
                 "<b>", "![i](https://x.test/i.png)", "deadbeef1", "https://x.test"):
        assert gitlab_problems(text), text
    for text in ("@bob", "&#64;bob", "<img src=x>", "[quote]x[/quote]", "https://x.test"):
        assert forum_problems(text), text


def test_plain_text_stays_readable() -> None:
    text = "The example in the docs is outdated, it fails on 17.0 (see the release notes)."
    assert compose.for_gitlab(text) == text
    assert compose.for_forum(text) == text
    assert compose.gitlab_title(text) == text
    assert compose.for_gitlab("Grüße, 日本語 😀 feedback") == "Grüße, 日本語 😀 feedback"


def test_urls_stay_links_unless_they_could_become_references() -> None:
    out = compose.for_gitlab("read https://docs.gitlab.com/ci/yaml/#rules. And https://"
                             "gitlab.com/g/p/-/issues/1 too")
    assert "<https://docs.gitlab.com/ci/yaml/#rules>." in out
    assert "<https://gitlab.com/g/p/-/issues/1>" not in out
    assert f"https:{ZW}//gitlab" in out


def test_quote_keeps_lines_and_prefixes_each() -> None:
    assert compose.gitlab_quote("one\n\ntwo", indent="  ") == "  > one\n  >\n  > two"


# --- composed texts -----------------------------------------------------------------------


def test_issue_draft_has_what_a_docs_writer_needs() -> None:
    signals = [sig(101, page=PAGE, text="The rules example still uses only/except."),
               sig(102, title="CI rules page outdated", page=PAGE),
               sig(103, title="Third thread", page=PAGE, rules=("outdated.version",))]
    draft = compose.issue_draft(signals, labels=("documentation", "docs-feedback"), key="k1")
    d = draft.description
    assert draft.title.startswith("Outdated docs: doc/ci/yaml/_index.md (rules)")
    assert draft.labels == ("documentation", "docs-feedback")
    for needed in ("<https://docs.gitlab.com/ci/yaml/#rules>", "doc/ci/yaml/_index.md",
                   "gitlab-org/gitlab", "Section: rules", "`outdated`", "3 forum threads",
                   "> The rules example still uses only/except. (post 2)",
                   "`outdated.removed_syntax`", "`outdated.version`"):
        assert needed in d, needed
    for s in signals:
        assert f"<{s.thread_url}>" in d
    assert d.rstrip().endswith(compose.marker("k1"))
    assert gitlab_problems(d) == []


def test_issue_without_page_drops_the_page_lines() -> None:
    draft = compose.issue_draft([sig(text="")], labels=(), key="k")
    assert "Docs page" not in draft.description
    assert "Source file" not in draft.description
    assert draft.title == "Outdated docs: rules:changes example fails"
    assert "{" not in draft.description


@pytest.mark.parametrize("text", HOSTILE)
def test_issue_and_note_from_hostile_threads_are_inert(text: str) -> None:
    page = DocPage(f"https://docs.gitlab.com/x/?q={text[:40]}", "g/p", f"doc/{text[:30]}.md",
                   text[:30])
    signals = [sig(1, title=text, text=text, page=page), sig(2, title=text[:50], text=text)]
    draft = compose.issue_draft(signals, labels=("documentation",), key=text[:60])
    assert gitlab_problems(draft.description) == []
    assert gitlab_problems(draft.title, title=True) == []
    assert 0 < len(draft.title) <= 255
    assert "\n" not in draft.title
    assert compose.find_markers(draft.description) == [text[:60]]
    note = compose.evidence_note(ISSUE, signals, key="n")
    assert gitlab_problems(note) == []
    assert compose.find_markers(note) == ["n"]


def test_long_evidence_and_many_threads_are_trimmed_but_every_link_kept() -> None:
    page = DocPage("https://docs.test/" + "p/" * 3000, "g/p", "doc/" + "x" * 5000, "s" * 5000)
    signals = [sig(i, title="T" * 500, text="word " * 3000, page=page) for i in range(1, 51)]
    draft = compose.issue_draft(signals, labels=(), key="k")
    assert len(draft.title) <= 255
    for s in signals:
        assert s.thread_url in draft.description
    quotes = [ln for ln in draft.description.split("\n") if ln.startswith("  > ")]
    assert len(quotes) == compose.THREADS_WITH_QUOTES
    assert all(len(q) <= compose.QUOTE_LIMIT + 20 for q in quotes)
    assert len(draft.description) < 20_000
    reply = compose.reply_text(item_url="x" * 5000, item_kind="issue", item_state="opened",
                               page=page, gap_type=GapType.MISSING, key="k")
    assert len(reply) < 2_000


def test_evidence_note_lists_every_thread_once() -> None:
    s1 = sig(1, gap=GapType.MISSING)
    s2 = sig(2, gap=GapType.OUTDATED)
    s1b = sig(1, gap=GapType.OUTDATED, text="Another sentence from the same thread.")
    note = compose.evidence_note(ISSUE, [s1, s2, s1b], key="link:1")
    assert note.count(s1.thread_url) == 1
    assert note.count(s2.thread_url) == 1
    assert "2 forum threads" in note
    assert "(missing docs, outdated docs)" in note
    assert "Another sentence from the same thread." in note
    assert compose.find_markers(note) == ["link:1"]


def test_reply_is_docs_first_and_mentions_nobody() -> None:
    reply = compose.reply_text(item_url=ISSUE, item_kind="issue", item_state="opened",
                               page=PAGE, gap_type=GapType.OUTDATED, key="reply:t101")
    low = reply.lower()
    assert "thanks" in low
    assert "comment on the issue" in low
    assert "contribut" in low
    assert f"issue: {ISSUE}" in reply
    assert "[doc/ci/yaml/_index.md](https://docs.gitlab.com/ci/yaml/#rules)" in reply
    assert reply.rstrip().endswith(compose.marker("reply:t101"))
    assert forum_problems(reply) == []


def test_reply_for_a_merge_request_and_the_review_placeholder() -> None:
    reply = compose.reply_text(item_url=MR, item_kind="merge_request", item_state="merged",
                               page=None, gap_type=GapType.MISSING, key="r")
    assert "merge request: " + MR + " (already merged" in reply
    assert "docs page in question" not in reply
    assert compose.NEW_ITEM_PLACEHOLDER == NEW_ISSUE_PLACEHOLDER
    preview = compose.reply_text(item_url=NEW_ISSUE_PLACEHOLDER, item_kind="issue",
                                 item_state="opened", page=PAGE, gap_type=GapType.MISSING,
                                 key="r")
    assert NEW_ISSUE_PLACEHOLDER in preview  # apply swaps it for the real URL


@pytest.mark.parametrize("text", HOSTILE)
def test_forum_texts_with_hostile_pages_are_inert(text: str) -> None:
    page = DocPage(f"https://docs.test/{text[:60]}", "g/p", text[:40], text[:40])
    reply = compose.reply_text(item_url=text[:80], item_kind="issue", item_state="opened",
                               page=page, gap_type=GapType.CONFUSING, key=text[:40])
    follow = compose.followup_text(item_url=ISSUE, item_kind="issue", page=page, key="f")
    assert forum_problems(reply) == []
    assert forum_problems(follow) == []
    assert compose.find_markers(reply) == [text[:40]]


def test_followup_says_what_happened() -> None:
    merged = compose.followup_text(item_url=MR, item_kind="merge_request", page=PAGE, key="f1")
    closed = compose.followup_text(item_url=ISSUE, item_kind="issue", page=None, key="f2")
    assert f"has been merged: {MR}" in merged
    assert "docs.gitlab.com/ci/yaml" in merged
    assert f"closed as fixed: {ISSUE}" in closed
    assert "The docs page" not in closed
    assert compose.find_markers(closed) == ["f2"]


def test_mr_title_and_description() -> None:
    assert compose.mr_title(file_path="doc/ci/yaml/_index.md") == (
        "Draft: Update doc/ci/yaml/_index.md from forum feedback")
    hostile = compose.mr_title(summary="[Draft] /close @all #12\nsecond line")
    assert hostile.startswith("Draft: ")
    assert hostile.count("raft") == 1
    assert gitlab_problems(hostile, title=True) == []
    assert len(compose.mr_title(summary="x" * 1000)) <= 255
    urls = ["https://forum.test/t/a/1", "https://forum.test/t/b/2", "https://forum.test/t/a/1"]
    d = compose.mr_description(thread_urls=urls, issue_url=ISSUE, page=PAGE,
                               summary="Fix the rules example\n/close @all", key="mr:1")
    assert f"Closes {ISSUE}" in d
    assert d.count("https://forum.test/t/a/1") == 1
    assert "2 forum threads" in d
    assert "doc/ci/yaml/_index.md" in d
    assert gitlab_problems(d, trusted=(ISSUE,)) == []
    assert compose.find_markers(d) == ["mr:1"]
    bare = compose.mr_description(thread_urls=urls[:1], issue_url=None, page=None, summary="",
                                  key="mr:2")
    assert "Closes" not in bare
    assert "{" not in bare


def test_labels_for_dedupes_in_order() -> None:
    by_gap = {"missing": ("docs-missing", "documentation"), "broken_link": ("docs-broken-link",)}
    assert compose.labels_for(GapType.MISSING, ("documentation", " ", "docsgap"), by_gap) == (
        "documentation", "docsgap", "docs-missing")
    assert compose.labels_for(GapType.OUTDATED, ("a", "a"), by_gap) == ("a",)


# --- templates ------------------------------------------------------------------------------


def test_shipped_templates_are_clean() -> None:
    assert compose.check_templates() == []
    assert {p.name for p in templates_dir().glob("*.md")} == set(compose.SPECS)


def test_user_templates_override_and_optional_lines_drop(tmp_path: Path) -> None:
    (tmp_path / "reply.md").write_text(
        "Danke! {item_url} {{literal}}\nSeite: {page_link}\n{unknown}\n", encoding="utf-8")
    text = compose.reply_text(item_url=ISSUE, item_kind="issue", item_state="opened",
                              page=None, gap_type=GapType.MISSING, key="k", templates=tmp_path)
    assert text.startswith(f"Danke! {ISSUE} {{literal}}\n{{unknown}}")
    assert "Seite" not in text
    assert compose.find_markers(text) == ["k"]
    follow = compose.followup_text(item_url=ISSUE, item_kind="issue", page=None, key="k",
                                   templates=tmp_path)
    assert follow.startswith("Good news")  # not overridden: the shipped one


def test_check_templates_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "issue.md").write_text(
        "No title line\n\n{threads} {page_url.__class__} {x}\nstray } here\n/label ~docs\n",
        encoding="utf-8")
    (tmp_path / "reply.md").write_text("Thanks @team!\n {page_url}\n", encoding="utf-8")
    (tmp_path / "mr_description.md").write_text("Title: Draft: {summary}\n\n{threads}\n",
                                                 encoding="utf-8")
    (tmp_path / "replies.md").write_text("typo\n", encoding="utf-8")
    problems = compose.check_templates(tmp_path)
    issue, reply, mr = (str(tmp_path / n) for n in ("issue.md", "reply.md", "mr_description.md"))
    expected = [
        f"{issue}:1: the first line must be `Title: ...`",
        f"{issue}:3: unknown placeholder {{page_url.__class__}}",
        f"{issue}:3: unknown placeholder {{x}}",
        f"{issue}:4: stray `}}`",
        f"{issue}:5: a line starting with `/` runs a GitLab quick action",
        f"{reply}:1: `@` would mention someone on the forum",
        f"{reply}:2: a URL alone on a line is oneboxed",
        f"{reply}:0: missing placeholder {{item_url}}",
        f"{mr}:1: unknown placeholder {{summary}} in the title",
        f"{tmp_path / 'replies.md'}:0: unknown template",
    ]
    for prefix in expected:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert len(problems) == len(expected)
    assert compose.check_templates(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}:0: templates directory does not exist"]


def test_unreadable_template_raises_rules_error(tmp_path: Path) -> None:
    (tmp_path / "followup.md").write_bytes(b"\xff\xfe bad")
    with pytest.raises(RulesError, match="followup.md:0: cannot read template"):
        compose.followup_text(item_url=ISSUE, item_kind="issue", page=None, key="k",
                              templates=tmp_path)
    assert any("followup.md:0: missing or unreadable" in p
               for p in compose.check_templates(tmp_path))


def test_a_sentence_several_rules_fired_on_is_quoted_once() -> None:
    sentence = "That link returns a 404 for me."
    signal = Signal(
        thread_id=1, thread_title="Dead link", thread_url="https://forum.test/t/x/1",
        gap_type=GapType.BROKEN_LINK, score=3.0,
        rules=("broken_link.link-broken", "broken_link.returns-error", "broken_link.hit-404"),
        evidence=(Evidence("broken_link.link-broken", sentence, "link returns", 1),
                  Evidence("broken_link.returns-error", sentence, "returns a 404", 1),
                  Evidence("broken_link.hit-404", sentence, "404", 1)),
        page=None, post_number=1,
    )
    note = compose.evidence_note("https://gitlab.test/g/p/-/issues/1", [signal], key="note:x")
    assert note.count("returns a 404 for me") == 1
    assert "broken_link.hit-404" in note  # every rule is still named
