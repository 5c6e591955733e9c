"""Reading posts the way a person does: own words only, link targets kept."""

from __future__ import annotations

from docsgap.detect.doclinks import is_docs_url, tracker_links
from docsgap.detect.posttext import (
    DOCS_TOKEN,
    LINK_TOKEN,
    clean_post,
    extract_docs_urls,
    sentences_of,
)


def _texts(text: str) -> list[str]:
    return [s.text for s in clean_post(text).sentences]


def test_cooked_html_drops_quotes_code_and_oneboxes_but_keeps_their_links() -> None:
    cooked = (
        '<aside class="quote no-group" data-username="bob"><blockquote><p>The guide is wrong.'
        "</p></blockquote></aside>\n"
        "<p>I agree with that.</p>\n"
        '<pre><code class="lang-yaml">script: the docs are outdated\n</code></pre>\n'
        '<aside class="onebox allowlistedgeneric" data-onebox-src="https://docs.gitlab.com/ci/yaml/">'
        "<article><h3>CI/CD YAML syntax reference</h3><p>This page is confusing</p></article>"
        "</aside>\n"
        '<p>Also see <a href="https://docs.gitlab.com/runner/register/">the register page</a>.</p>'
    )
    post = clean_post(cooked)
    joined = " ".join(s.text for s in post.sentences)
    assert post.had_quote
    assert "wrong" not in joined
    assert "outdated" not in joined
    assert "confusing" not in joined
    assert "I agree with that." in joined
    assert f"the register page {DOCS_TOKEN}" in joined
    assert post.docs_urls() == ["https://docs.gitlab.com/ci/yaml/",
                                "https://docs.gitlab.com/runner/register/"]


def test_markdown_drops_fences_quotes_logs_and_keeps_link_targets() -> None:
    raw = (
        "> the docs say it is broken\n\n"
        "[quote=\"amy, post:2, topic:9\"]\nthis page is misleading\n[/quote]\n\n"
        "Hello, my job fails:\n\n"
        "```\nERROR: the manual is wrong\n```\n\n"
        "2024-01-02T10:00:00Z ERROR something broken in the guide\n\n"
        "I read [the cache docs](https://docs.gitlab.com/ci/caching/) and "
        "https://example.com/blog/post twice."
    )
    texts = _texts(raw)
    assert texts == ["Hello, my job fails:",
                     f"I read the cache docs {DOCS_TOKEN} and {LINK_TOKEN} twice."]
    assert clean_post(raw).had_quote


def test_inline_code_keeps_short_names_and_hides_long_code() -> None:
    texts = _texts("Set `CI_DEBUG_TRACE` and run `gitlab-runner register --non-interactive` now.")
    assert texts == ["Set CI_DEBUG_TRACE and run […] now."]


def test_sentences_split_on_punctuation_but_not_abbreviations() -> None:
    texts = _texts("The guide, e.g. the first part, is long. It skips a step! Does it?")
    assert texts == ["The guide, e.g. the first part, is long.", "It skips a step!", "Does it?"]


def test_list_items_and_headings_are_their_own_sentences() -> None:
    texts = _texts("## Steps\n- install the package\n- register the runner\n\nThat is all")
    assert texts == ["Steps", "install the package", "register the runner", "That is all"]


def test_evidence_render_puts_urls_back() -> None:
    sentence = clean_post("The link https://docs.gitlab.com/ee/foo.html is dead.").sentences[0]
    assert sentence.text == f"The link {DOCS_TOKEN} is dead."
    assert sentence.render() == "The link https://docs.gitlab.com/ee/foo.html is dead."


def test_docs_url_recognition() -> None:
    assert is_docs_url("https://docs.gitlab.com/ci/yaml/")
    assert is_docs_url("https://gitlab.example.com/help/user/permissions")
    assert is_docs_url("https://github.com/org/tool/blob/main/README.md")
    assert is_docs_url("https://tool.readthedocs.io/en/latest/")
    assert not is_docs_url("https://gitlab.com/gitlab-org/gitlab/-/issues/12")
    assert not is_docs_url("https://example.com/screenshot.png")
    assert not is_docs_url("https://example.com/shop")


def test_extract_docs_urls_ignores_code_blocks() -> None:
    text = "See https://docs.gitlab.com/ci/ for more.\n\n```\nhttps://docs.gitlab.com/ci/yaml/\n```"
    assert extract_docs_urls(text) == ["https://docs.gitlab.com/ci/"]


def test_tracker_links_find_issues_and_merge_requests() -> None:
    text = ("Reported at https://gitlab.com/gitlab-org/gitlab/-/issues/4242#note_1 and fixed by "
            "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/99.")
    assert tracker_links(text) == ["https://gitlab.com/gitlab-org/gitlab/-/issues/4242",
                                   "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/99"]


def test_titles_take_a_fast_path_with_the_same_result() -> None:
    assert [s.text for s in sentences_of("Docs wrong. Help")] == ["Docs wrong.", "Help"]
    assert [s.text for s in sentences_of("See [docs](https://docs.gitlab.com/ci/)")] == [
        f"See docs {DOCS_TOKEN}"
    ]


def test_simple_cooked_html_takes_the_fast_path_with_the_same_lines() -> None:
    from docsgap.detect.markup import Links, _simple_html, _walk_html

    simple = [
        "<p>Hello,\nthe runner hangs.</p>\n<p>Any idea?</p>",
        "<P>Upper case</P><br/>next<br />line<ul><li>one</li><li>two &amp; three</li></ul>",
        "<h2>Setup</h2><p><strong>Ubuntu</strong> <em>22.04</em>, a < b</p><div>x</div>",
        "no tags at all\nsecond line",
    ]
    for text in simple:
        assert _simple_html(text) == _walk_html(text, Links())[0]
    for text in [
        '<p>See <a href="https://docs.gitlab.com/ee/ci/">the docs</a></p>',
        "<aside class=\"quote\"><blockquote><p>quoted</p></blockquote></aside>",
        "<p>run <code>make</code></p>",
        '<div class="lightbox-wrapper">img</div>',
    ]:
        assert _simple_html(text) is None


def test_markdown_steps_still_apply_when_their_marker_is_present() -> None:
    raw = (
        "The **guide** is \\*wrong\\*, see [the page](https://docs.gitlab.com/ee/a/) and `b`.\n\n"
        "[ref]: https://docs.gitlab.com/ee/b/\n\n"
        "```\ncode line\n```\n\n"
        "    indented code\n\n"
        "> quoted words\n\n"
        "Plain text &amp; more."
    )
    post = clean_post(raw)
    texts = [s.text for s in post.sentences]
    assert texts[0] == f"The guide is *wrong*, see the page {DOCS_TOKEN} and b."
    assert not any("code" in t or "quoted" in t for t in texts)
    assert texts[-1] == "Plain text & more."
    assert post.had_quote
    assert post.docs_urls() == ["https://docs.gitlab.com/ee/a/", "https://docs.gitlab.com/ee/b/"]
