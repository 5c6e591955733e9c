"""The sandbox's GitLab (served under `/gitlab`, REST at `/gitlab/api/v4`): `routes` (token auth,
issues, notes, merge requests, files, branches) over `ctx`, with `listing` (filters, order,
pagination) and `search` (how `search=` matches); `state` (users, projects, issues, notes,
labels), `mrs`, `repo` (commits, branches, merges), `tree` (commit lists, archives), `forks`,
`packages` (the generic registry), `views` (the JSON shapes) and `people` (the docs team's
moves, for the control API)."""

from __future__ import annotations

from docsgap.sandbox.gitlab.routes import handle
from docsgap.sandbox.gitlab.state import GitLabState

__all__ = ["GitLabState", "handle"]
