"""Seeded fuzzing of the GitLab payload readers: the shared samples (CONTRACTS §F) mutated (keys
dropped, values nulled or of another type, huge, negative or non-finite numbers, odd dates,
nested junk) must each come out as a well-typed `TrackerItem`/`Note` or as `PayloadError`
(exit 6), never as another exception, both from the pure readers and through the adapter and
python-gitlab (so a reader called outside `gitlab_errors` is covered too). Deterministic: fixed
seeds and case counts."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import responses

from docsgap.errors import ExitCode, PayloadError
from docsgap.jsonshape import INT64
from docsgap.models import Note, TrackerItem
from docsgap.tracker import gitlab_payload as gp
from docsgap.tracker.gitlab import GitLabTracker
from docsgap.tracker.gitlab_checks import GitLabChecks
from docsgap.tracker.gitlab_rights import access_level
from tests.conftest import SHARED
from tests.unit.mutate import GARBAGE, mutants, tally

SAMPLES = SHARED / "api" / "samples"
pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared is absent")]
CASES = 400
ADAPTER_CASES = 60
GITLAB = "http://gitlab.test"
API = f"{GITLAB}/api/v4/projects/g%2Fp"


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / f"gitlab-{name}.json").read_text(encoding="utf-8"))


def _check_item(found: TrackerItem) -> None:
    """A parsed item is what `models.TrackerItem` says, so the cache and matcher can use it."""
    assert type(found.iid) is int and found.iid in INT64, found
    for name in ("project", "title", "description", "state", "web_url"):
        assert isinstance(getattr(found, name), str), (name, found)
    assert all(isinstance(label, str) for label in found.labels), found
    for when in (found.updated_at, found.created_at, found.closed_at):
        assert when is None or when.tzinfo is not None, found


def _check_note(found: Note) -> None:
    assert type(found.id) is int and found.id in INT64, found
    assert isinstance(found.body, str) and isinstance(found.system, bool), found


READERS: dict[str, tuple[str, Callable[[Any], None]]] = {
    "issue": ("issue", lambda d: _check_item(gp.item("issue", d, "g/p"))),
    "merge_request": ("merge-request", lambda d: _check_item(gp.item("merge_request", d, "g/p"))),
    "note": ("note", lambda d: _check_note(gp.note(d))),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_mutated_payload_parses_or_is_a_payload_error(kind: str) -> None:
    name, check = READERS[kind]
    sample = _sample(name)
    check(sample)
    outcomes = tally(check, mutants(sample, random.Random(f"gitlab-{kind}-20261207"), CASES))
    # Not vacuous: the mutations reach the readers' checks, and many leave the item usable.
    assert outcomes["rejected"] > 0.05 * CASES, outcomes
    assert outcomes["parsed"] > 0.3 * CASES, outcomes


@pytest.mark.parametrize("kind", sorted(READERS))
def test_whole_body_of_the_wrong_shape_is_a_payload_error(kind: str) -> None:
    for body in GARBAGE:
        with pytest.raises(PayloadError):
            READERS[kind][1](body)


def test_mutated_permissions_give_a_level_or_a_payload_error() -> None:
    project = {"id": 1, "permissions": {"project_access": {"access_level": 30},
                                        "group_access": {"access_level": 40}}}
    assert access_level(project) == 40
    outcomes = tally(lambda d: access_level(d), mutants(project, random.Random("perm"), CASES))
    assert outcomes["rejected"] > 0.05 * CASES and outcomes["parsed"] > 0.3 * CASES, outcomes


# --- through the adapter and python-gitlab ------------------------------------------------------


def _tracker() -> GitLabTracker:
    return GitLabTracker(GITLAB, "g/p", token="glpat-tests")


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        # The token user owns fork 5, so `_ours` compares a row's source project with it.
        rsps.get(f"{API}/forks", json=[{"id": 5, "path_with_namespace": "me/p"}])
        yield rsps


def test_mutated_merge_request_list_through_the_adapter(mock: responses.RequestsMock) -> None:
    """`find_merge_request` used to read the rows (`_ours`: `int(source_project_id)`) after
    leaving `gitlab_errors`, so a malformed row escaped as ValueError."""
    mr = _sample("merge-request")
    mr["source_project_id"] = 5  # a fork's MR, so `_ours` looks at the id
    rng = random.Random("gitlab-mr-list")

    def find(rows: Any) -> None:
        mock.replace(responses.GET, f"{API}/merge_requests", json=rows)
        found = _tracker().find_merge_request("docs/fix")
        if found is not None:
            _check_item(found)

    mock.get(f"{API}/merge_requests", json=[])
    outcomes = tally(find, (([data], done) for data, done in mutants(mr, rng, ADAPTER_CASES)))
    assert outcomes["rejected"] > 0 and outcomes["parsed"] > 0, outcomes


def test_mutated_issue_through_the_adapter(mock: responses.RequestsMock) -> None:
    rng = random.Random("gitlab-issue-get")
    mock.get(f"{API}/issues/1", json={})

    def get(data: Any) -> None:
        mock.replace(responses.GET, f"{API}/issues/1", json=data)
        _check_item(_tracker().get_item("issue", 1))

    outcomes = tally(get, mutants(_sample("issue"), rng, ADAPTER_CASES))
    assert outcomes["rejected"] > 0 and outcomes["parsed"] > 0, outcomes


def test_truncated_issue_body_is_a_payload_error(mock: responses.RequestsMock) -> None:
    text = (SAMPLES / "gitlab-issue.json").read_text(encoding="utf-8")
    mock.get(f"{API}/issues/1", body="")
    for cut in random.Random("gitlab-cuts").sample(range(len(text) - 1), 12):
        mock.replace(responses.GET, f"{API}/issues/1", body=text[:cut],
                     content_type="application/json")
        with pytest.raises(PayloadError):
            _tracker().get_item("issue", 1)


# --- escapes the fuzz found (each failed before its fix) ----------------------------------------


def test_merge_request_from_a_fork_with_a_garbage_project_id(
    mock: responses.RequestsMock,
) -> None:
    mr = _sample("merge-request")
    mr["source_project_id"] = "x"
    mock.get(f"{API}/merge_requests", json=[mr])
    with pytest.raises(PayloadError):
        _tracker().find_merge_request("docs/fix")


@pytest.mark.parametrize("value", [float("inf"), 2**64, "0001-01-01T00:00:00+01:00"])
def test_note_id_that_is_not_a_storable_integer_is_a_payload_error(value: Any) -> None:
    """`int(inf)` raised OverflowError, which `gitlab_errors` let out; 2**64 parsed."""
    with pytest.raises(PayloadError):
        gp.note({**_sample("note"), "id": value})


def test_date_that_leaves_the_calendar_in_utc_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="OverflowError"):
        gp.item("issue", {**_sample("issue"), "updated_at": "0001-01-01T00:00:00+01:00"}, "g/p")


def test_access_level_that_is_not_a_number_is_a_payload_error() -> None:
    """`rights()` reads it outside `gitlab_errors`: ValueError escaped."""
    with pytest.raises(PayloadError):
        access_level({"permissions": {"project_access": {"access_level": "x"}}})


def test_payload_error_exits_with_the_upstream_code() -> None:
    assert PayloadError("x").exit_code is ExitCode.UPSTREAM


# --- docsgap doctor's GitLab checks (payloads written here) -------------------------------------


class _Answering:
    """A python-gitlab client stub answering every GET with one payload."""

    url = GITLAB

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.projects = SimpleNamespace(
            get=lambda _path, **_kw: SimpleNamespace(asdict=lambda: self.answer))

    def http_get(self, _path: str, **_kw: Any) -> Any:
        return self.answer


CHECKS: dict[str, tuple[dict[str, Any], Callable[[GitLabChecks], Any]]] = {
    "version": ({"version": "17.0.0", "revision": "abc"}, lambda c: c.answers()),
    "user": ({"id": 1, "username": "bot", "bot": False}, lambda c: c.current_user()),
    "token": ({"id": 1, "name": "t", "scopes": ["api", "read_user"], "active": True,
               "revoked": False, "expires_at": "2030-01-01"}, lambda c: c.token_info()),
    "project": ({"id": 5, "path_with_namespace": "g/p", "web_url": f"{GITLAB}/g/p",
                 "issues_enabled": True, "permissions": {"project_access": {"access_level": 30},
                                                         "group_access": None}},
                lambda c: c.project()),
}


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_mutated_doctor_answer_is_read_or_a_payload_error(kind: str) -> None:
    """`token_info` read `scopes: 5` outside `gitlab_errors`: TypeError (exit 1)."""
    sample, ask = CHECKS[kind]
    ask(GitLabChecks(_Answering(sample), "g/p"))  # type: ignore[arg-type]
    rng = random.Random(f"doctor-{kind}")
    tally(lambda d: ask(GitLabChecks(_Answering(d), "g/p")),  # type: ignore[arg-type]
         mutants(sample, rng, CASES))


def test_token_scopes_that_are_not_a_list_are_a_payload_error() -> None:
    answer = {**CHECKS["token"][0], "scopes": 5}
    with pytest.raises(PayloadError, match="scopes"):
        GitLabChecks(_Answering(answer), "g/p").token_info()  # type: ignore[arg-type]
