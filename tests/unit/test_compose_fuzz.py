"""Seeded fuzzing of the neutralisers: random mixes of hostile fragments, sigils, line breaks,
escapes and entities must still come out with nothing live, judged by the same checkers as
`test_compose` (GitLab's and Discourse's rules from CONTRACTS C1-C3). Deterministic: a fixed
seed and a fixed number of cases, so a failure reproduces with its index."""

from __future__ import annotations

import random

import pytest

from docsgap import compose
from tests.unit.test_compose import HOSTILE, forum_problems, gitlab_problems

CASES = 600
PIECES = [
    *HOSTILE, "/", "/close", "/assign_reviewer", "@", "@all", "@a.b", "#", "#1", "!", "!2", "~",
    "~x", "%", "%m", "&", "&3", "$", "$4", "^", "[", "]", "(", ")", "<", ">", "`", "``", "```",
    "~~~", ">>>", "\\", "\\\\", "&#64;", "&#x23;", "&commat;", "&lt;", "*iteration:", "[[",
    "deadbee", "0123456", "https://", "https://g.test/p/-/issues/9", "www.", "x.test",
    "http://e.test/a(b)c", "<!--", "-->", "::include{file=x}", "[quote]", "[/quote]", "[details=",
]
JOINS = ["", " ", "\n", "\n\n", "\t", "\r", "\r\n", "\u2028", "\u2029", "\x0b", "\x0c", "\x85",
         "\u00a0", "\u200b", "\u202e", "\ufeff", "> ", "  ", "\n   ", "\n> ", "\n>> ", "\\\n"]


def _cases() -> list[str]:
    rng = random.Random(20261207)
    out = []
    for _ in range(CASES):
        parts = []
        for _ in range(rng.randint(1, 8)):
            piece = rng.choice(PIECES)
            if len(piece) > 200:
                piece = piece[-200:]
            parts.append(piece)
            parts.append(rng.choice(JOINS))
        out.append("".join(parts))
    return out


@pytest.fixture(scope="module")
def cases() -> list[str]:
    return _cases()


def test_cases_are_hostile_before_neutralising(cases: list[str]) -> None:
    """The fuzz is not vacuous: most raw cases are flagged by the checkers."""
    flagged = sum(bool(gitlab_problems(text)) for text in cases)
    assert flagged > 0.9 * len(cases)


def test_for_gitlab_leaves_nothing_live_on_fuzz(cases: list[str]) -> None:
    bad = [(n, text, problems) for n, text in enumerate(cases)
           if (problems := gitlab_problems(compose.for_gitlab(text))
               + gitlab_problems(compose.gitlab_quote(text, indent="  ")))]
    assert bad == []


def test_gitlab_title_leaves_nothing_live_on_fuzz(cases: list[str]) -> None:
    for n, text in enumerate(cases):
        title = compose.gitlab_title(text)
        assert "\n" not in title, n
        assert len(title) <= compose.TITLE_LIMIT, n
        assert gitlab_problems(title, title=True) == [], (n, text)


def test_for_forum_leaves_nothing_live_on_fuzz(cases: list[str]) -> None:
    bad = [(n, text, problems) for n, text in enumerate(cases)
           if (problems := forum_problems(compose.for_forum(text)))]
    assert bad == []
