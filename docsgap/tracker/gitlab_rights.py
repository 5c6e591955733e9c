"""What the token may write in the docs project, read before the first write: GitLab drops labels
silently for users below Planner/Reporter (`IssuableBaseService#filter_params`) and skips
labels that do not exist unless the user may create them (`Labels::FindOrCreateService`), and
only Developers push branches. `docsgap run --apply` refuses up front instead of filing
unlabelled issues; `doctor` and the draft-MR code read the same facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from docsgap.errors import AuthError, DocsgapError, PayloadError
from docsgap.jsonshape import integer

PLANNER = 15
DEVELOPER = 30
ROLES = {0: "not a member", 10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer",
         40: "Maintainer", 50: "Owner"}


@dataclass(frozen=True)
class WriteRights:
    """The token user's rights in the project, from `GET /projects/:id` and its labels."""

    user: str
    access_level: int
    """Highest of the project and group access levels (0: not a member)."""
    missing_labels: tuple[str, ...] = ()
    fork: str | None = None
    """A fork of the project the user owns (draft MRs go from there when it cannot push)."""

    @property
    def role(self) -> str:
        """The access level's name."""
        return ROLES.get(self.access_level, str(self.access_level))

    @property
    def can_set_labels(self) -> bool:
        """`set_issue_metadata`: Planner, Reporter or above."""
        return self.access_level >= PLANNER

    @property
    def can_create_labels(self) -> bool:
        """`admin_label`: Planner, Reporter or above."""
        return self.access_level >= PLANNER

    @property
    def can_push(self) -> bool:
        """Pushing a new branch: Developer or above."""
        return self.access_level >= DEVELOPER

    @property
    def mr_mode(self) -> str:
        """How draft MRs are opened: `branch` (in the project), `fork`, or `none`."""
        return "branch" if self.can_push else "fork" if self.fork else "none"

    def mr_reason(self, project: str) -> str:
        """Why `mr_mode` is what it is, in one line (for `doctor` and `docsgap mr`)."""
        if self.can_push:
            return f"{self.user} is {self.role} in {project}: branches in the project itself"
        if self.fork:
            return (f"{self.user} is {self.role} in {project} and cannot push there: branches "
                    f"in its fork {self.fork}, MRs from there into {project}")
        return self.mr_problem(project) or ""

    def mr_problem(self, project: str) -> str | None:
        """Why no draft MR can be opened (`mr_mode` none), or None."""
        if self.mr_mode != "none":
            return None
        return (f"{self.user} cannot push to {project} ({self.role}; pushing needs Developer) "
                "and owns no fork of it, so a draft MR has no branch to come from")

    def mr_fix(self, project: str) -> str:
        """How to give draft MRs a place to come from."""
        return (f"fork {project} as {self.user} (the Fork button while signed in as "
                f"{self.user}, or `POST /projects/:id/fork` with its token), or make "
                f"{self.user} a Developer of {project}")

    def label_problem(self, project: str) -> str | None:
        """Why labelled writes would go wrong, or None when they would not."""
        if not self.can_set_labels:
            return (f"GitLab would silently drop docsgap's labels: {self.user} is "
                    f"{self.role} in {project}; setting labels needs Planner or Reporter")
        if self.missing_labels and not self.can_create_labels:
            return (f"labels {', '.join(self.missing_labels)} do not exist in {project} and "
                    f"{self.user} ({self.role}) cannot create them")
        return None

    def require_labels(self, project: str) -> None:
        """Raise `AuthError` (exit 5) when `label_problem` has something to say."""
        problem = self.label_problem(project)
        if problem:
            raise AuthError(
                problem,
                hint=f"make {self.user} a Reporter (or Planner) of {project}, or create the "
                "labels and use a token whose user may set them",
            )


def access_level(project: dict[str, Any]) -> int:
    """The user's level from a project's `permissions` (0 when not a member)."""
    permissions = project.get("permissions")
    if not isinstance(permissions, dict):
        return 0
    try:
        levels = [integer(a["access_level"]) for a in (permissions.get("project_access"),
                                                       permissions.get("group_access"))
                  if isinstance(a, dict) and a.get("access_level") is not None]
    except (TypeError, ValueError, OverflowError) as exc:
        raise PayloadError(f"GitLab sent a project access level that is not a number: {exc}"
                           ) from exc
    return max(levels, default=0)


def needed_labels(issue_labels: Sequence[str], marker_label: str,
                  by_gap: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Every label docsgap may put on an issue, once each."""
    names = [*issue_labels, marker_label, *(n for group in by_gap for n in group)]
    return tuple(dict.fromkeys(n for n in names if n))


# --- what `docsgap doctor` says about them -------------------------------------------------

Verdict = tuple[Literal["ok", "warn", "FAIL", "skip"], str, str | None]
"""A doctor check's status, detail and fix."""


class ForkLookup(Protocol):
    """Anything that can name the token user's own fork (`TrackerProbe`, `GitLabTracker`)."""

    def owned_fork(self) -> str | None: ...


def label_verdict(project: str, wanted: Sequence[str], missing: Sequence[str], docs_label: str,
                  rights: WriteRights | None, read_only: bool) -> Verdict:
    """The labels as GitLab will apply them: dropped below Planner/Reporter, missing ones
    created only for those (`run --apply` refuses both). The docs label must exist: dedup
    reads the doc issues by it. `rights` None: the role is unknown (no token)."""
    fix = ("create them in the project or its group, or change the label settings in "
           "docsgap.toml ([gitlab] docs_label, marker_label, issue_labels, labels_by_gap)")
    if rights is not None and not read_only and not rights.can_set_labels:
        return ("FAIL", rights.label_problem(project) or "",
                f"make {rights.user} a Reporter (or Planner) of {project}")
    if docs_label in missing:
        return ("FAIL", f"the docs label {docs_label!r} does not exist in {project}: docsgap "
                "finds the doc issues and MRs to match threads against by it", fix)
    if not missing:
        return "ok", f"all {len(wanted)} exist: {', '.join(wanted)}", None
    if rights is not None and rights.can_create_labels:
        return ("ok", f"missing in {project}: {', '.join(missing)}; GitLab creates them on "
                f"first use ({rights.user} is {rights.role})", None)
    return "warn" if read_only else "FAIL", f"missing in {project}: {', '.join(missing)}", fix


def mr_verdict(project: str, rights: WriteRights | None, forks: ForkLookup) -> Verdict:
    """Where `docsgap mr` commits: `branch` (Developer or above), `fork` (the user's own, asked
    only below Developer), or `none` (a warning: issues and replies still work)."""
    if rights is None:
        return "skip", "no token: draft MRs need one", None
    if not rights.can_push:
        try:
            rights = WriteRights(rights.user, rights.access_level, fork=forks.owned_fork())
        except DocsgapError as exc:  # must not stop a run that opens no MR (preflight)
            return "warn", f"cannot tell: listing the forks failed ({exc})", exc.hint
    detail = f"{rights.mr_mode}: {rights.mr_reason(project)}"
    if rights.mr_mode == "none":
        return "warn", detail, rights.mr_fix(project)
    return "ok", detail, None
