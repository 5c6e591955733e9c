"""Seeded fuzzing of `docsgap doctor`'s Discourse probes: the answers of `/about.json`,
`/latest.json` and `/u/{name}.json` with keys dropped or of other types must give well-typed
`SiteInfo`/`ForumUser`/topic ids or `PayloadError` (exit 6), never another exception (a
trust level of "2" reached doctor's `trust_level < 1`; a naive `suspended_till` was compared
with an aware time). Deterministic: fixed seeds and counts. The payloads are written here."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from docsgap.errors import PayloadError
from docsgap.forum.discourse_checks import DiscourseChecks, _user
from docsgap.forum.interface import ForumUser
from docsgap.jsonshape import INT64
from tests.unit.mutate import mutants, tally

CASES = 300
USER = {"user": {"id": 7, "username": "docsgap-bot", "trust_level": 1, "moderator": False,
                 "admin": False, "active": True, "suspended_till": "2020-01-01T00:00:00.000Z",
                 "silenced_till": None}}
ABOUT = {"about": {"title": "Forum", "version": "3.4.0", "stats": {"topic_count": 3}}}
LATEST = {"topic_list": {"more_topics_url": "/latest?page=1",
                         "topics": [{"id": 42, "title": "t", "slug": "t"}]}}


def _check_user(user: ForumUser | None) -> None:
    assert user is not None and isinstance(user.username, str) and user.username
    assert user.trust_level is None or (type(user.trust_level) is int
                                        and 0 <= user.trust_level <= 4)
    assert all(isinstance(f, bool) for f in (user.staff, user.suspended, user.silenced,
                                             user.active))
    assert isinstance(not user.staff and (user.trust_level or 0) < 1, bool)  # doctor/forum.py


def _probe(answer: Any) -> DiscourseChecks:
    probe = DiscourseChecks("https://forum.test", "docsgap-bot", "k3y")
    probe._dict = lambda _what, _call, *_args: answer  # type: ignore[method-assign]
    return probe


PROBES: dict[str, tuple[dict[str, Any], Callable[[Any], None]]] = {
    "user": (USER, lambda d: _check_user(_probe(d).user("docsgap-bot"))),
    "session": ({"current_user": USER["user"]}, lambda d: _check_user(_probe(d).session_user())),
    "about": (ABOUT, lambda d: _check_site(_probe(d).site())),
    "latest": (LATEST, lambda d: _check_topic(_probe(d).key_reads_topic())),
}


def _check_site(site: Any) -> None:
    assert site.title is None or isinstance(site.title, str)
    assert site.version is None or isinstance(site.version, str)


def _check_topic(topic_id: int) -> None:
    assert type(topic_id) is int and topic_id in INT64


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_mutated_probe_answer_is_usable_or_a_payload_error(kind: str) -> None:
    sample, check = PROBES[kind]
    check(sample)
    outcomes = tally(check, mutants(sample, random.Random(f"probe-{kind}"), CASES))
    assert outcomes["parsed"] > 0.15 * CASES, outcomes
    if kind != "about":  # /about.json is informational: anything odd in it is left out
        assert outcomes["rejected"] > 0.05 * CASES, outcomes


# --- escapes the fuzz found (each failed before its fix) ----------------------------------------


@pytest.mark.parametrize("level", ["2", 2.5, True, 99, [1]])
def test_trust_level_that_is_not_0_to_4_is_a_payload_error(level: Any) -> None:
    with pytest.raises(PayloadError, match="trust level"):
        _user({**USER["user"], "trust_level": level})


def test_suspension_time_without_an_offset_is_utc() -> None:
    user = _user({**USER["user"], "suspended_till": "2999-01-01T00:00:00"})
    assert user.suspended
    assert not _user({**USER["user"], "suspended_till": "2000-01-01T00:00:00"}).suspended


@pytest.mark.parametrize("answer", [{"about": ["x"]}, {"about": {"title": ["x"]}}])
def test_about_of_another_shape_leaves_title_and_version_out(answer: Any) -> None:
    assert _probe(answer).site().title is None


@pytest.mark.parametrize("answer", [{"topic_list": []}, {"topic_list": {"topics": [{"id": "x"}]}},
                                    {"topic_list": {"topics": [{"id": float("inf")}]}}])
def test_latest_without_a_usable_topic_is_a_payload_error(answer: Any) -> None:
    with pytest.raises(PayloadError):
        _probe(answer).key_reads_topic()
