"""The sandbox applies `labels` on issue create/update as GitLab does
(`Labels::FindOrCreateService` through `Labels::AvailableLabelsService`): exact titles, the
ancestor groups' labels reused, a missing or differently cased name created as a project label
for a Reporter, dropped for a Guest; scoped labels mutually exclusive. And the tracker's
lookup (`label_titles`) that keeps docsgap from creating such labels."""

from __future__ import annotations

from typing import Any

import requests

from docsgap.sandbox import SANDBOX_GITLAB_TOKEN, SANDBOX_PROJECT, Sandbox
from docsgap.tracker.gitlab import GitLabTracker
from tests.sandbox.conftest import paths

TOKEN = {"PRIVATE-TOKEN": SANDBOX_GITLAB_TOKEN}


def api(sandbox: Sandbox, rest: str = "") -> str:
    return f"{sandbox.gitlab_url}/api/v4/projects/gitlab-org%2Fgitlab{rest}"


def labels(sandbox: Sandbox, **params: Any) -> list[dict[str, Any]]:
    got = requests.get(api(sandbox, "/labels"), params={"per_page": 100, **params}, timeout=5)
    assert got.status_code == 200
    return list(got.json())


def create(sandbox: Sandbox, names: str) -> dict[str, Any]:
    made = requests.post(api(sandbox, "/issues"), headers=TOKEN, timeout=5,
                         json={"title": "Docs gap", "labels": names})
    assert made.status_code == 201
    return dict(made.json())


def test_group_labels_are_reused_and_listed_as_not_the_projects(sandbox: Sandbox) -> None:
    before = {lb["name"]: lb for lb in labels(sandbox)}
    assert before["group::pipeline authoring"]["is_project_label"] is False
    assert before["documentation"]["is_project_label"] is True
    own = {lb["name"] for lb in labels(sandbox, include_ancestor_groups="false")}
    assert "group::pipeline authoring" not in own and "documentation" in own

    issue = create(sandbox, "documentation, group::pipeline authoring ,devops::verify")

    assert issue["labels"] == ["documentation", "group::pipeline authoring", "devops::verify"]
    assert len(labels(sandbox)) == len(before)  # nothing created


def test_a_name_in_another_case_or_misspelt_becomes_a_new_project_label(
        sandbox: Sandbox) -> None:
    issue = create(sandbox, "group::Pipeline Authoring,group::pipline authoring")

    # Exact titles only: GitLab made two junk labels beside the group's own.
    assert issue["labels"] == ["group::pipline authoring"]  # scoped: the last one stays
    made = {lb["name"]: lb["is_project_label"] for lb in labels(sandbox, search="group::")}
    assert made["group::Pipeline Authoring"] is True
    assert made["group::pipline authoring"] is True
    assert made["group::pipeline authoring"] is False


def test_a_guest_sets_existing_labels_on_its_new_issue_only(sandbox: Sandbox) -> None:
    sandbox.gitlab.set_access(sandbox.gitlab.project(SANDBOX_PROJECT), "docsgap-bot", 10)
    count = len(labels(sandbox))

    issue = create(sandbox, "documentation,group::made up,group::runner")

    # IssuePolicy lets a Guest member set metadata on a new issue; creating a label takes
    # Planner or above, so the made-up one is left out without a word.
    assert issue["labels"] == ["documentation", "group::runner"]
    assert len(labels(sandbox)) == count
    later = requests.put(api(sandbox, f"/issues/{issue['iid']}"), headers=TOKEN, timeout=5,
                         json={"add_labels": "docsgap"}).json()
    assert later["labels"] == ["documentation", "group::runner"]
    sandbox.gitlab.guest_new_issue_labels = False  # GitLab before gitlab-org/gitlab#300100
    assert create(sandbox, "documentation")["labels"] == []


def test_scoped_labels_exclude_each_other_on_update(sandbox: Sandbox) -> None:
    issue = create(sandbox, "documentation,group::runner")

    updated = requests.put(api(sandbox, f"/issues/{issue['iid']}"), headers=TOKEN, timeout=5,
                           json={"add_labels": "group::pipeline execution"}).json()

    assert updated["labels"] == ["documentation", "group::pipeline execution"]
    removed = requests.put(api(sandbox, f"/issues/{issue['iid']}"), headers=TOKEN, timeout=5,
                           json={"remove_labels": "Documentation"}).json()
    assert "documentation" in removed["labels"]  # remove_labels matches exact titles too


def test_search_matches_every_word_in_name_or_description(sandbox: Sandbox) -> None:
    found = {lb["name"] for lb in labels(sandbox, search="pipeline AUTHORING")}
    assert found == {"group::pipeline authoring"}


def test_label_titles_answers_exact_titles_and_the_projects_spelling(
        sandbox: Sandbox, tracker: GitLabTracker) -> None:
    sandbox.clear_requests()

    found = tracker.label_titles(["group::pipeline authoring", "DEVOPS::Verify",
                                  "group::no such group"])
    again = tracker.label_titles(["group::pipeline authoring"])

    assert found == {"group::pipeline authoring": "group::pipeline authoring",
                     "DEVOPS::Verify": "devops::verify", "group::no such group": None}
    assert again == {"group::pipeline authoring": "group::pipeline authoring"}
    lookups = [p for p in paths(sandbox, "gitlab") if "/labels?" in p]
    assert len(lookups) == 3  # one per name, asked once per tracker
