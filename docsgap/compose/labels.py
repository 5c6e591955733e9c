"""The labels of an issue docsgap opens, each with why it is there: the configured ones
(`gitlab.issue_labels`, `marker_label`, `labels_by_gap`) and the owners of the reported docs
page, from its front matter (`gitlab.owner_labels`: `stage: Verify` -> `devops::verify`,
`group: Pipeline Authoring` -> `group::pipeline authoring`, as gitlab-org names its stage and
group labels). Pure: the page's owner comes in, labels and reasons go out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docsgap.config.schema import GitLabConfig
from docsgap.models import GapType, IssueLabel

LABEL_LIMIT = 255
"""GitLab's longest label title (`Label` validates `title` length)."""
NO_OWNER = frozenset({"", "none", "unassigned", "n/a", "na", "tbd", "-", "null"})
"""Front matter values that name no owner: GitLab's docs write `stage: none` and
`group: unassigned` for pages no product group owns."""
_FIELD = re.compile(r"\{(stage|group|Stage|Group)\}")


@dataclass(frozen=True, slots=True)
class PageOwner:
    """Who owns a docs page, as its front matter says."""

    path: str
    """The source file whose front matter says it, e.g. `doc/ci/yaml/_index.md`."""
    stage: str = ""
    group: str = ""


def owner_labels(templates: Sequence[str], owner: PageOwner) -> tuple[IssueLabel, ...]:
    """`templates` filled from `owner`; a template whose field the page leaves empty (or
    `none`, `unassigned`) gives no label."""
    raw = {"stage": owner.stage, "group": owner.group}
    out: list[IssueLabel] = []
    for template in templates:
        used = [m.lower() for m in _FIELD.findall(template)]
        if not used or any(raw[f].strip().lower() in NO_OWNER for f in used):
            continue
        name = " ".join(_FIELD.sub(lambda m: _value(raw, m.group(1)), template).split())
        if not name or "," in name or len(name) > LABEL_LIMIT:
            continue  # GitLab splits `labels` at commas and refuses such a title
        said = ", ".join(f"{f}: {raw[f]}" for f in dict.fromkeys(used))
        out.append(IssueLabel(name, f"front matter of {owner.path} ({said})", owner=True))
    return tuple(out)


def _value(raw: dict[str, str], field: str) -> str:
    """`{stage}` as GitLab's stage and group labels write it (lower case), `{Stage}` as the
    front matter does."""
    value = " ".join(raw[field.lower()].split())
    return value if field[0].isupper() else value.lower()


def issue_labels(gap_type: GapType, gitlab: GitLabConfig, owner: PageOwner | None
                 ) -> tuple[IssueLabel, ...]:
    """Every label of an issue about a `gap_type` gap on `owner`'s page (None: unknown), in
    order, each name once (GitLab matches names exactly, so case counts)."""
    labels = [IssueLabel(n, "gitlab.issue_labels") for n in gitlab.issue_labels]
    labels.append(IssueLabel(gitlab.marker_label, "gitlab.marker_label"))
    labels += [IssueLabel(n, f"gitlab.labels_by_gap.{gap_type.value}")
               for n in gitlab.labels_by_gap.get(gap_type.value, ())]
    if owner is not None:
        labels += owner_labels(gitlab.owner_labels, owner)
    seen: set[str] = set()
    out: list[IssueLabel] = []
    for label in labels:
        name = label.name.strip()
        if name and name not in seen:
            seen.add(name)
            out.append(IssueLabel(name, label.why, label.owner))
    return tuple(out)


def no_owner_reason(owner: PageOwner) -> str:
    """Why a page known to the index gives no owner labels."""
    return (f"{owner.path} names no owner in its front matter (stage: {owner.stage or '-'}, "
            f"group: {owner.group or '-'})")
