"""The fast paths of textnorm (word runs, URL window, cached hosts, cheap pre-checks before a
regex) give exactly what the plain paths give: each is compared here with the plain code on
tricky text and on generated text, cold (empty caches) and warm, and with tiny cache bounds."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from docsgap.text import textnorm
from docsgap.text import words as textwords
from docsgap.text.textnorm import (
    _B64_BYTES,
    _B64_RUN,
    _BASE64_RE,
    _BRACKETS_RE,
    _COMMENT_RE,
    _ENTITY_RE,
    _FENCE_RE,
    _IMAGE_RE,
    _MD_LINK_RE,
    _PLACEHOLDER_RE,
    _PRE_RE,
    _PREFIX_RE,
    _QUOTE_RE,
    _TAG_RE,
    _TEMPLATE_LINE_RE,
    _UNCHECKED_RE,
    _URL_RE,
    Boilerplate,
    _host,
    _host_of,
    _may_hold_template_line,
    _sub_urls,
    line_key,
    prefix_of,
    strip_markup,
    words,
)
from docsgap.text.words import _raw_words, _word_of, _words

_CACHES = ("_RUNS", "_RUN_INFO", "_TOKENS", "_PLAIN", "_STEMS", "_HOSTS", "_LINE_KEYS")


def _owner(name: str) -> ModuleType:
    """The module a cache lives in (words in textwords, markup in textnorm)."""
    return textwords if hasattr(textwords, name) else textnorm

TRICKY = [
    "", " ", "\n", "a", "I", "-", "...", "'", "_a_", "+a+", "-x-", "a'b", "c++ and c#", "node.js.",
    "v1.2.3-rc.1+build", "don't", "doesn\u2019t work", "It DOESN'T load", "l'été", "Ünïcode Straße",
    "\u0130stanbul \u212a \u017fcreenshots", "日本語のページ", "emoji 🎉 here",
    "tab\tsep\x0bvt\x1cfs",
    "nbsp\u00a0sep\u2028line", "fails to load", "page is missing", "the page was missing",
    "not - loading", "not -- working", "Dark Mode", "dark/mode", "out of date", "timed out",
    "no longer", "old version", "removed in", "local machine", "mac os x", "big sur",
    "type into", "duplicate words", "404 redirects", "blank screen", "dead links", "ERROR: 503",
    "isn't opening", "can't open", "refused to respond", "edited the typo", "running stopped",
    "translations into Español", "1234567 12345678", "word_with_underscores", "__init__.py",
    "https://www.Example.com/Path?q=1#frag", "see http://a.b/c), then www.d-e.org.",
    "HTTPS://DOCS.EXAMPLE.COM/X", "hhttp://x.y wwww.z.com Www.Q.io wW.no", "http:// gap",
    "https://", "www.", "x://y", "docs.example.com/a", "url at the end https://e.com/a",
    "<!-- docsgap:marker --> text", "<!-- unterminated", "```py\ncode()\n```\nafter",
    "~~~\nfence\n", "`inline` code", "<code>x()</code> and <pre>y</pre>", "<b>bold</b> <br/>",
    "a < b > c", "[link text](https://x.y/z) ![alt](i.png)", "&amp; &#12; & ; &nbsp;",
    "QUJD" * 12, "x" * 45, "a" * 70 + " " + "b" * 10,
]


def _plain_strip(text: str) -> str:
    """strip_markup with every pass run unconditionally (what the pre-checks skip)."""
    if not text:
        return ""
    text = _COMMENT_RE.sub(" ", text)
    text = _FENCE_RE.sub(" ", text)
    text = _PRE_RE.sub(" ", text)
    text = _MD_LINK_RE.sub(r" \1 ", _IMAGE_RE.sub(" ", text))
    text = _TAG_RE.sub(" ", text)
    text = _URL_RE.sub(lambda m: _host_of(m.group(0)), text)
    text = _ENTITY_RE.sub(" ", text)
    return _BASE64_RE.sub(" ", text)


def _plain_prefix(title: str) -> str | None:
    title = title.replace("*", "").replace("_", " ")
    m = _PREFIX_RE.match(title)
    return re.sub(r"\(.*\)$", "", m.group(1)).lower() if m else None


def _plain_title(bp: Boilerplate, title: str) -> str:
    text = _plain_strip(title).replace("*", " ").replace("`", " ").strip()
    for _ in range(3):
        before = text
        text = _BRACKETS_RE.sub("", text)
        p = _plain_prefix(text)
        if p and p in bp.prefixes:
            text = _PREFIX_RE.sub("", text.replace("*", ""), count=1)
        if text == before:
            break
    key = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    if key in bp.titles or (_PLACEHOLDER_RE.search(text) and len(text.split()) <= 6):
        return ""
    return text.strip()


def _plain_body(bp: Boilerplate, body: str) -> str:
    text = _plain_strip(body)
    text = _QUOTE_RE.sub(" ", _UNCHECKED_RE.sub(" ", text))
    text = _TEMPLATE_LINE_RE.sub(" ", text)
    if bp.lines:
        text = "\n".join(ln for ln in text.splitlines() if line_key(ln) not in bp.lines)
    return text


def _generated(seed: int, n: int) -> list[str]:
    """Texts glued together from the tricky pieces, words and separators."""
    rng = random.Random(seed)
    pieces = [*TRICKY, "Steps to reproduce", "Expected Behavior", "Which page?", "bug / other",
              "- [ ] not done", "> quoted", "[docs]", "(bug)", "docs:", "feat(ci):", "**x**",
              "replace this title", "is", "to", "not", "page", "work", "load", "found"]
    seps = ["", " ", " ", "\n", ", ", ". ", "\n\n"]
    return ["".join(rng.choice(pieces) + rng.choice(seps) for _ in range(rng.randint(0, 20)))
            for _ in range(n)]


@pytest.fixture
def cold() -> Iterator[None]:
    """Empty textnorm caches, so the first call of each run takes the slow branch."""
    for name in _CACHES:
        getattr(_owner(name), name).clear()
    yield
    for name in _CACHES:
        getattr(_owner(name), name).clear()


def _plain_words(text: str) -> list[str]:
    return _words(_raw_words(text))


@pytest.mark.usefixtures("cold")
def test_words_fast_path_equals_the_regex_path_cold_and_warm() -> None:
    texts = TRICKY + [t.upper() for t in TRICKY] + _generated(1, 400)
    for _ in range(2):  # cold, then every run cached
        for text in texts:
            assert words(text) == _plain_words(text), text
    assert words("The page is missing") == ["~notfound", "pag", "miss"]
    assert words("not - loading")[0] == "~outage"  # a run without a word breaks no phrase
    assert "~outage" not in words("not here loading")


def test_word_runs_hold_the_words_the_regex_finds() -> None:
    for text in [t for t in TRICKY + _generated(2, 300) if t.isascii()]:
        runs = text.translate(textwords._RUN_TABLE).split()
        assert [w for w in map(_word_of, runs) if w] == _raw_words(text), text
    assert _word_of("-._") == ""
    assert _word_of("'c++.") == "c++"
    assert _word_of("-node.js.") == "node.js"


def test_words_with_tiny_cache_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textwords, "_RUNS_MAX", 3)
    monkeypatch.setattr(textwords, "_RUN_KEY_MAX", 4)
    monkeypatch.setattr(textwords, "_TOKENS_MAX", 3)
    for name in _CACHES:
        monkeypatch.setattr(_owner(name), name, {})
    for text in _generated(3, 200):
        assert words(text) == _plain_words(text), text
    assert len(textwords._RUNS) <= 3
    assert len(textwords._RUN_INFO) <= 3
    assert all(len(run) <= 4 for run in [*textwords._RUNS, *textwords._RUN_INFO])


def test_url_window_equals_the_whole_text_pass() -> None:
    texts = TRICKY + _generated(4, 300) + [
        "x" * 500 + " https://a.example/b " + "y" * 500, "www.a.io" + " z" * 300,
        "é https://ü.example/ä www.x.org WWW.Y.ORG wWw.z.net", "http://a.b" * 3]
    for text in texts:
        assert _sub_urls(text) == _URL_RE.sub(_host, text), text
    assert _sub_urls("see https://docs.example.com/a/b.") == \
        "see  docs.example.com docs example "


@pytest.mark.usefixtures("cold")
def test_cached_host_equals_uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textnorm, "_HOSTS_MAX", 2)
    urls = ["https://docs.example.com/a", "HTTP://WWW.Go-Tour-ES.appspot.com?x", "www.a.b#c",
            "https://docs.example.com/a", "http://x"]
    for url in urls * 2:
        m = _URL_RE.search(url)
        assert m is not None
        assert _host(m) == _host_of(m.group(0))
    assert len(textnorm._HOSTS) == 2


def test_strip_markup_checks_skip_only_passes_that_find_nothing() -> None:
    for text in TRICKY + _generated(5, 400):
        assert strip_markup(text) == _plain_strip(text), text
        b64 = _B64_RUN in text.encode("utf-8", "surrogatepass").translate(_B64_BYTES)
        assert b64 == (_BASE64_RE.search(text) is not None)


def test_template_line_check_never_hides_a_match() -> None:
    texts = TRICKY + _generated(6, 400) + [
        "STEPS TO REPRODUCE", "## Describe the bug\nx", "What is the expected result?",
        "which browser\nare you using?", "Bug, or / not", "\u017fcreenshots", "\u212anown"]
    for text in texts:
        if not _may_hold_template_line(text):
            assert _TEMPLATE_LINE_RE.search(text) is None, text
    for line in ["Describe the problem", "Steps to reproduce", "Current behaviour",
                 "Expected results", "ACTUAL BEHAVIOR", "Additional context", "Screenshots",
                 "Environment", "Please provide a link", "Change the title above, please",
                 "Which page?",
                 "what version do you use?", "Bug or feature", "Feature request / idea",
                 "Proposal, or not"]:
        assert _TEMPLATE_LINE_RE.search(f"x\n## {line}\ny") is not None, line
        assert _may_hold_template_line(f"x\n## {line}\ny"), line
    # Why texts that are not ASCII always run the regex: re.I folds more than str.lower.
    assert _TEMPLATE_LINE_RE.search("\u017fcreenshots") is not None
    assert not _may_hold_template_line("plain prose, nothing to see")


@pytest.mark.parametrize("lines", [frozenset(), frozenset({"problem to solve"})])
def test_title_and_body_equal_the_plain_passes(lines: frozenset[str]) -> None:
    bp = Boilerplate(lines=lines, titles=frozenset({"docs feedback"}))
    texts = TRICKY + _generated(7, 300) + [
        "[docs] [BUG] tour: Something", "(bug)  docs: fix: thing", "  【x】 title",
        "\x1c[docs] x", "\u00a0[docs] y", "**Docs feedback**", "Docs: Docs feedback",
        "Replace this with a short description", "feat(ci)!: scope (sub): x"]
    for text in texts:
        assert prefix_of(text) == _plain_prefix(text), text
        assert bp.title(text) == _plain_title(bp, text), text
        assert bp.body(text) == _plain_body(bp, text), text
