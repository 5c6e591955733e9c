"""The sandbox GitLab refuses what gitlab.com refuses (sandbox/gitlab/guards.py): the `search`
rate limit, field lengths, archived projects, disabled issues, locked discussions,
confidential issues and the spam check, each with GitLab's status and body."""

from __future__ import annotations

from typing import Any

import requests

from docsgap.sandbox import SANDBOX_GITLAB_READONLY_TOKEN, SANDBOX_GITLAB_TOKEN, Sandbox
from docsgap.sandbox.gitlab.state import GitLabState

BOT = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}
READER = {"PRIVATE-TOKEN": SANDBOX_GITLAB_READONLY_TOKEN}  # not a member of the project
SPAM = "Your issue has been recognized as spam. Please, change the content to proceed."


def api(sandbox: Sandbox, rest: str = "") -> str:
    return f"{sandbox.gitlab_url}/api/v4/projects/gitlab-org%2Fgitlab{rest}"


def gl(sandbox: Sandbox) -> GitLabState:
    return sandbox.gitlab


def first_issue(sandbox: Sandbox) -> dict[str, Any]:
    project = gl(sandbox).project("gitlab-org/gitlab")
    return next(i for k, i in sorted(gl(sandbox).issues.items()) if k[0] == project["id"])


def test_search_is_rate_limited_per_user_in_one_minute_windows(sandbox: Sandbox) -> None:
    gl(sandbox).search_rate_limit = 3
    got = [requests.get(api(sandbox, "/issues"), params={"search": "runner"}, headers=BOT,
                        timeout=5) for _ in range(4)]
    assert [r.status_code for r in got] == [200, 200, 200, 429]
    assert got[3].json() == {"message": {"error": "This endpoint has been requested too many "
                                                  "times. Try again later."}}
    assert got[3].headers["Retry-After"] == "60"
    # Merge request searches share the count; lists without `search` (or a blank one) do not.
    assert requests.get(api(sandbox, "/merge_requests"), params={"search": "x"}, headers=BOT,
                        timeout=5).status_code == 429
    assert requests.get(api(sandbox, "/issues"), params={"search": " "}, headers=BOT,
                        timeout=5).status_code == 200
    assert requests.get(api(sandbox, "/issues"), headers=BOT, timeout=5).status_code == 200
    # Another user has a count of their own.
    assert requests.get(api(sandbox, "/issues"), params={"search": "runner"}, headers=READER,
                        timeout=5).status_code == 200


def test_search_limit_default_is_gitlabs_and_zero_turns_it_off(sandbox: Sandbox) -> None:
    assert gl(sandbox).search_rate_limit == 30
    assert gl(sandbox).search_rate_limit_unauthenticated == 10
    statuses = [requests.get(api(sandbox, "/issues"), params={"search": "a"}, timeout=5)
                .status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    gl(sandbox).search_rate_limit = 0
    assert all(requests.get(api(sandbox, "/issues"), params={"search": "a"}, headers=BOT,
                            timeout=5).status_code == 200 for _ in range(35))


def test_long_title_description_and_note_are_refused_with_gitlabs_messages(
    sandbox: Sandbox,
) -> None:
    r = requests.post(api(sandbox, "/issues"), headers=BOT, timeout=5,
                      json={"title": "t" * 256, "description": "d" * 1_048_577})
    assert r.status_code == 400
    assert r.json() == {"message": {
        "title": ["is too long (maximum is 255 characters)"],
        "description": ["is too long (maximum is 1048576 characters)"]}}
    assert requests.post(api(sandbox, "/issues"), headers=BOT, timeout=5, json={
        "title": " " + "t" * 255 + " ", "description": "d" * 1_048_576}).status_code == 201
    iid = first_issue(sandbox)["iid"]
    # An existing issue's description is not held to the limit (GitLab checks it on create).
    assert requests.put(api(sandbox, f"/issues/{iid}"), headers=BOT, timeout=5,
                        json={"description": "d" * 1_048_577}).status_code == 200
    r = requests.post(api(sandbox, f"/issues/{iid}/notes"), headers=BOT, timeout=5,
                      json={"body": "n" * 1_000_001})
    assert r.status_code == 400
    assert r.json() == {"message": '400 Bad request - Note {:note=>["is too long (maximum is '
                                   '1000000 characters)"]}'}


def test_archived_project_refuses_every_write_but_reads(sandbox: Sandbox) -> None:
    gl(sandbox).project("gitlab-org/gitlab")["archived"] = True
    iid = first_issue(sandbox)["iid"]
    writes = [
        requests.post(api(sandbox, "/issues"), headers=BOT, json={"title": "x"}, timeout=5),
        requests.put(api(sandbox, f"/issues/{iid}"), headers=BOT, json={"title": "y"}, timeout=5),
        requests.post(api(sandbox, f"/issues/{iid}/notes"), headers=BOT, json={"body": "z"},
                      timeout=5),
    ]
    assert [(r.status_code, r.json()) for r in writes] == [
        (403, {"message": "403 Forbidden"})] * 3
    project = requests.get(api(sandbox), headers=BOT, timeout=5).json()
    assert project["archived"] is True
    assert requests.get(api(sandbox, f"/issues/{iid}"), headers=BOT, timeout=5).ok


def test_disabled_issues_are_invisible_and_cannot_be_opened(sandbox: Sandbox) -> None:
    gl(sandbox).project("gitlab-org/gitlab")["issues_enabled"] = False
    iid = first_issue(sandbox)["iid"]
    assert requests.get(api(sandbox), headers=BOT, timeout=5).json()["issues_enabled"] is False
    assert requests.get(api(sandbox, "/issues"), headers=BOT, timeout=5).json() == []
    assert requests.get(api(sandbox, f"/issues/{iid}"), headers=BOT, timeout=5).status_code == 404
    assert requests.get(api(sandbox, f"/issues/{iid}/notes"), headers=BOT,
                        timeout=5).status_code == 404
    assert requests.post(api(sandbox, "/issues"), headers=BOT, json={"title": "x"},
                         timeout=5).status_code == 403


def test_locked_discussion_takes_notes_from_members_only(sandbox: Sandbox) -> None:
    issue = first_issue(sandbox)
    issue["discussion_locked"] = True
    url = api(sandbox, f"/issues/{issue['iid']}/notes")
    project = gl(sandbox).project("gitlab-org/gitlab")
    assert requests.post(url, headers=BOT, json={"body": "member"}, timeout=5).status_code == 201
    own = requests.post(url, headers=BOT, json={"body": "mine"}, timeout=5).json()["id"]
    gl(sandbox).set_access(project, "docsgap-bot", 0)
    r = requests.post(url, headers=BOT, json={"body": "outsider"}, timeout=5)
    assert (r.status_code, r.json()) == (403, {"message": "403 Forbidden"})
    # Nor may a non-member edit a note of their own there (`NotePolicy`).
    assert requests.put(f"{url}/{own}", headers=BOT, json={"body": "edited"},
                        timeout=5).status_code == 403


def test_confidential_issue_is_hidden_from_non_members(sandbox: Sandbox) -> None:
    issue = first_issue(sandbox)
    issue["confidential"] = True
    iid = issue["iid"]
    assert requests.get(api(sandbox, f"/issues/{iid}"), headers=BOT, timeout=5).ok  # Developer
    r = requests.get(api(sandbox, f"/issues/{iid}"), headers=READER, timeout=5)
    assert (r.status_code, r.json()) == (404, {"message": "404 Issue Not Found"})
    listed = requests.get(api(sandbox, "/issues"), params={"per_page": 100}, headers=READER,
                          timeout=5).json()
    assert iid not in {i["iid"] for i in listed}
    assert requests.get(api(sandbox, f"/issues/{iid}/notes"), headers=READER,
                        timeout=5).status_code == 404


def test_spam_check_refuses_issues_400_or_409_and_notes_400_saving_nothing(
    sandbox: Sandbox,
) -> None:
    state = gl(sandbox)
    state.spam_rules = [{"on": "issue", "pattern": "casino", "verdict": "disallow"},
                        {"on": "issue", "pattern": "lottery", "verdict": "captcha", "count": None},
                        {"on": "note", "pattern": "casino", "verdict": "captcha"}]
    before = (len(state.issues), len(state.notes))
    r = requests.post(api(sandbox, "/issues"), headers=BOT, timeout=5,
                      json={"title": "Docs", "description": "best casino"})
    assert (r.status_code, r.json()) == (400, {"message": {"base": [SPAM]}})
    r = requests.post(api(sandbox, "/issues"), headers=BOT, timeout=5,
                      json={"title": "lottery docs"})
    assert r.status_code == 409
    assert r.json()["needs_captcha_response"] is True
    assert r.json()["message"] == {"error": "Your issue has been recognized as spam. Please, "
                                            "change the content or solve the reCAPTCHA to "
                                            "proceed."}
    iid = first_issue(sandbox)["iid"]
    r = requests.post(api(sandbox, f"/issues/{iid}/notes"), headers=BOT, timeout=5,
                      json={"body": "casino"})
    assert (r.status_code, r.json()) == (400, {"message": (
        '400 Bad request - Note {:base=>["Your comment has been recognized as spam. Please, '
        'change the content to proceed."]}')})
    assert (len(state.issues), len(state.notes)) == before
    # `count` 1 rules are used up: the same text passes the next time.
    assert requests.post(api(sandbox, "/issues"), headers=BOT, timeout=5,
                         json={"title": "Docs", "description": "best casino"}).status_code == 201


def test_note_and_issue_creation_limits_are_gitlab_coms(sandbox: Sandbox) -> None:
    state = gl(sandbox)
    assert (state.issues_create_limit, state.notes_create_limit) == (200, 60)
    state.issues_create_limit, state.notes_create_limit = 2, 3
    made = [requests.post(api(sandbox, "/issues"), headers=BOT, json={"title": f"t{n}"},
                          timeout=5) for n in range(3)]
    assert [r.status_code for r in made] == [201, 201, 429]
    assert made[2].json() == {"message": {"error": "This endpoint has been requested too many "
                                                   "times. Try again later."}}
    assert made[2].headers["Retry-After"] == "60"
    iid = made[0].json()["iid"]
    # Notes count per user before the issue is even looked up: a 404 uses one up too.
    assert requests.post(api(sandbox, "/issues/999999/notes"), headers=BOT, json={"body": "x"},
                         timeout=5).status_code == 404
    notes = [requests.post(api(sandbox, f"/issues/{iid}/notes"), headers=BOT,
                           json={"body": "x"}, timeout=5).status_code for _ in range(3)]
    assert notes == [201, 201, 429]
