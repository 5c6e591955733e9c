"""Labels as GitLab applies them to an issue or MR from the API's `labels` names
(`Labels::AvailableLabelsService#find_or_create_by_titles`, `Labels::FindOrCreateService`):

- the names are split at commas and stripped;
- each is looked up by its exact title (PostgreSQL `=`: case counts) among the project's
  labels and its ancestor groups' labels (`include_ancestor_groups: true`);
- a name with no such label is created as a project label when the user may (`create_label`:
  Planner, Reporter and above), else left out without a word; a name differing only in case
  from an existing label is such a name, so GitLab creates a second label;
- scoped labels (`scope::value`) are mutually exclusive: of several with the same scope the
  last one stays (a Premium feature; gitlab-org has it).

Group labels come from the seed's `group_labels` (the labels of the project's ancestor
groups, e.g. gitlab-org's `devops::` and `group::` labels)."""

from __future__ import annotations

from docsgap.sandbox.wire import JSON

GROUP_LABEL_IDS = 100_000
"""Group labels' ids start above this (project labels count from 1)."""


def available(project: JSON) -> list[JSON]:
    """The labels an issue of `project` may carry: its own, then its groups'."""
    return [*project["labels"], *project.get("group_labels", ())]


def find(project: JSON, name: str) -> JSON | None:
    """The label titled exactly `name` (`available_labels.find_by(title: title)`)."""
    return next((lb for lb in available(project) if lb["name"] == name), None)


def find_or_create(project: JSON, names: list[str], may_create: bool) -> list[str]:
    """The titles GitLab applies for `names`, creating missing project labels when
    `may_create`; scoped labels left mutually exclusive."""
    result: list[str] = []
    for name in names:
        label = find(project, name)
        if label is None and may_create and len(name) <= 255:
            label = {"id": max((lb["id"] for lb in project["labels"]), default=0) + 1,
                     "name": name, "color": "#6699cc", "description": None}
            project["labels"].append(label)
        if label is not None and label["name"] not in result:
            result.append(label["name"])
    return exclusive(result)


def scope(name: str) -> str | None:
    """A scoped label's scope (`workflow::in dev` -> `workflow`; `a::b::c` -> `a::b`)."""
    head, sep, _ = name.rpartition("::")
    return head if sep and head else None


def exclusive(names: list[str]) -> list[str]:
    """`names` with, per scope, only the last scoped label kept (GitLab drops the others)."""
    last = {scope(n): n for n in names if scope(n)}
    return [n for n in names if scope(n) is None or last[scope(n)] == n]
