"""Forks and merge requests across projects in the sandbox, with what GitLab refuses: a fork is
made in the user's namespace once (409 after), a commit may start from the upstream branch
(`start_project`, same fork network only), and an MR opened from the fork into upstream
(`target_project_id`) belongs to upstream and is merged there."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from docsgap.sandbox import SANDBOX_GITLAB_TOKEN, SANDBOX_PROJECT, Sandbox

TOKEN = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}
FILE = "doc/ci/caching/_index.md"


def api(sandbox: Sandbox, project: str, rest: str = "") -> str:
    return f"{sandbox.gitlab_url}/api/v4/projects/{project.replace('/', '%2F')}{rest}"


def call(method: str, url: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, url, json=body, headers=TOKEN, timeout=5)


def as_reporter(sandbox: Sandbox) -> None:
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", 20)


def make_fork(sandbox: Sandbox) -> dict[str, Any]:
    made = call("POST", api(sandbox, SANDBOX_PROJECT, "/fork"))
    assert made.status_code == 201, made.text
    return dict(made.json())


def commit_in_fork(sandbox: Sandbox, fork: dict[str, Any], **extra: Any) -> requests.Response:
    upstream = sandbox.gitlab.project(SANDBOX_PROJECT)
    text = upstream_file(sandbox) + "\nCaches live on the runner.\n"
    return call("POST", api(sandbox, fork["path_with_namespace"], "/repository/commits"), {
        "branch": "docsgap/t1-cache", "start_branch": "master", "commit_message": "docs",
        "start_project": upstream["id"],
        "actions": [{"action": "update", "file_path": FILE, "content": text}], **extra})


def upstream_file(sandbox: Sandbox) -> str:
    return str(sandbox.state()["files"][f"{SANDBOX_PROJECT}@master"][FILE])


def test_a_reporter_forks_into_its_namespace_once(sandbox: Sandbox) -> None:
    as_reporter(sandbox)
    fork = make_fork(sandbox)
    assert fork["path_with_namespace"] == "docsgap-bot/gitlab"
    assert fork["forked_from_project"]["path_with_namespace"] == SANDBOX_PROJECT
    assert fork["permissions"]["project_access"]["access_level"] == 50
    owned = call("GET", api(sandbox, SANDBOX_PROJECT, "/forks"), None).json()
    assert [p["path_with_namespace"] for p in owned] == ["docsgap-bot/gitlab"]
    files = sandbox.state()["files"]
    assert files["docsgap-bot/gitlab@master"] == files[f"{SANDBOX_PROJECT}@master"]
    again = call("POST", api(sandbox, SANDBOX_PROJECT, "/fork"))
    assert again.status_code == 409
    assert again.json()["message"]["path"] == ["has already been taken"]
    elsewhere = call("POST", api(sandbox, SANDBOX_PROJECT, "/fork"),
                     {"namespace_path": "gitlab-org", "path": "gitlab-2"})
    assert elsewhere.status_code == 404
    assert requests.post(api(sandbox, SANDBOX_PROJECT, "/fork"), timeout=5).status_code == 401


def test_mr_from_the_fork_belongs_to_upstream_and_merges_there(sandbox: Sandbox) -> None:
    as_reporter(sandbox)
    fork = make_fork(sandbox)
    upstream = sandbox.gitlab.project(SANDBOX_PROJECT)
    assert commit_in_fork(sandbox, fork).status_code == 201
    opened = call("POST", api(sandbox, fork["path_with_namespace"], "/merge_requests"), {
        "source_branch": "docsgap/t1-cache", "target_branch": "master", "title": "Draft: docs",
        "target_project_id": upstream["id"], "labels": "documentation"})
    assert opened.status_code == 201, opened.text
    mr = opened.json()
    assert (mr["project_id"], mr["source_project_id"], mr["target_project_id"]) == (
        upstream["id"], fork["id"], upstream["id"])
    assert mr["web_url"].endswith(f"/{SANDBOX_PROJECT}/-/merge_requests/{mr['iid']}")
    assert mr["labels"] == ["documentation"]  # a Reporter of the target may set labels
    listed = call("GET", api(sandbox, SANDBOX_PROJECT, "/merge_requests"),
                  None).json()
    assert mr["iid"] in [m["iid"] for m in listed]
    in_fork = call("GET", api(sandbox, fork["path_with_namespace"], "/merge_requests")).json()
    assert in_fork == []
    again = call("POST", api(sandbox, fork["path_with_namespace"], "/merge_requests"), {
        "source_branch": "docsgap/t1-cache", "target_branch": "master", "title": "again",
        "target_project_id": upstream["id"]})
    assert again.status_code == 409
    merged = sandbox.merge_merge_request(mr["iid"])
    assert merged["changed_files"] == [FILE]
    assert merged["source_project"] == "docsgap-bot/gitlab"
    assert upstream_file(sandbox).endswith("Caches live on the runner.\n")


def test_what_gitlab_refuses_across_projects(sandbox: Sandbox) -> None:
    as_reporter(sandbox)
    # No push to upstream, so no MR from an upstream branch either.
    from_upstream = call("POST", api(sandbox, SANDBOX_PROJECT, "/merge_requests"), {
        "source_branch": "master", "target_branch": "master", "title": "x"})
    assert from_upstream.status_code == 403
    fork = make_fork(sandbox)
    # A project outside the fork network (the same files, another history).
    other = {**sandbox.gitlab.project(SANDBOX_PROJECT), "id": 999, "members": {},
             "path_with_namespace": "other/docs", "owner_id": 1}
    sandbox.gitlab.projects[999] = other
    refused = commit_in_fork(sandbox, fork, start_project=other["id"])
    assert refused.status_code == 403
    assert "not included in the fork network" in refused.json()["message"]
    assert commit_in_fork(sandbox, fork).status_code == 201
    wrong = call("POST", api(sandbox, fork["path_with_namespace"], "/merge_requests"), {
        "source_branch": "docsgap/t1-cache", "target_branch": "master", "title": "x",
        "target_project_id": other["id"]})
    assert (wrong.status_code, wrong.json()) == (
        422, {"message": ["Source project is not a fork of the target project"]})


@pytest.mark.parametrize("level", [0, 20])
def test_labels_on_an_mr_from_a_fork_follow_the_role_in_the_target(
        sandbox: Sandbox, level: int) -> None:
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", level)
    fork = make_fork(sandbox)
    assert commit_in_fork(sandbox, fork).status_code == 201
    mr = call("POST", api(sandbox, fork["path_with_namespace"], "/merge_requests"), {
        "source_branch": "docsgap/t1-cache", "target_branch": "master", "title": "x",
        "target_project_id": sandbox.gitlab.project(SANDBOX_PROJECT)["id"],
        "labels": "documentation"}).json()
    assert mr["labels"] == ([] if level == 0 else ["documentation"])
