"""Checking values against the schema: laying a docsgap.toml-shaped mapping over a `Config`
(unknown keys and wrong types refused, each error naming where the value came from) and the
checks across keys once everything is merged."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from docsgap.config.schema import (
    POLICY_MODES,
    SCORE_RANGE,
    SECRET_KEYS,
    Config,
    DedupConfig,
    DocsConfig,
    ForumConfig,
    GitLabConfig,
    PolicyConfig,
)
from docsgap.errors import ConfigError
from docsgap.models import GapType

_SECTIONS: dict[str, type] = {
    "forum": ForumConfig,
    "gitlab": GitLabConfig,
    "dedup": DedupConfig,
    "policy": PolicyConfig,
    "docs": DocsConfig,
}
_SECRETS_HINT = ("secrets are never read from the file: set DOCSGAP_GITLAB_TOKEN and "
                 "DOCSGAP_DISCOURSE_API_KEY in the environment")
_TOP_KEYS = {"state_path", "rules_dirs", "templates_dir", "max_actions"}
_OWNER_FIELD = re.compile(r"\{([^{}]*)\}")
OWNER_FIELDS = ("stage", "group", "Stage", "Group")
"""What a `gitlab.owner_labels` template may hold between braces."""
_MENTION = re.compile(r"@[A-Za-z0-9_][\w.\-/]*")
"""A mention as docs/spikes.py writes it into the spike alert."""


def _coerce(where: str, name: str, value: Any, default: Any, annotation: str) -> Any:
    """Check and convert one value against the type of its default."""
    if name in SECRET_KEYS and not where.startswith(("environment", "command line")):
        raise ConfigError(
            f"{where}: '{name}' must not be stored in the file",
            hint=_SECRETS_HINT,
        )
    if "PolicyMode" in annotation:
        if value not in POLICY_MODES:
            modes = ", ".join(POLICY_MODES)
            raise ConfigError(f"{where}: {name} = {value!r}: expected one of {modes}")
        return value
    if isinstance(default, bool):
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            raise ConfigError(f"{where}: {name}: expected true or false, got {value!r}",
                              hint=f"TOML's true and false take no quotes: {name} = "
                              f"{value.strip().lower()}")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        # TOML has inf and nan; a whole-number key must not silently drop a fraction.
        fraction = isinstance(default, int) and isinstance(value, float) and not value.is_integer()
        try:
            number = None if isinstance(value, bool) or fraction else type(default)(value)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None or not math.isfinite(number):
            kind = "whole" if isinstance(default, int) else "finite"
            raise ConfigError(f"{where}: {name}: expected a number ({kind}), got {value!r}"
                              ) from None
        if number < 0:
            raise ConfigError(f"{where}: {name}: must not be negative, got {value!r}")
        return number
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {name}: expected a list, got {value!r}")
        if "tuple[int" in annotation:  # ids compared with the forum's numbers: "7" never is 7
            if not all((isinstance(v, int) and not isinstance(v, bool))
                       or (isinstance(v, str) and v.strip().isdigit()) for v in value):
                raise ConfigError(f"{where}: {name}: expected a list of ids (numbers), "
                                  f"got {value!r}")
            return tuple(int(v) for v in value)
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {name}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {name}: expected a table, got {value!r}")
        lists = {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        bad = next((k for k, v in lists.items() if not all(isinstance(x, str) for x in v)), None)
        if bad is not None:
            raise ConfigError(f"{where}: {name}.{bad}: expected a string or a list of strings, "
                              f"got {value[bad]!r}")
        return {k: tuple(v) for k, v in lists.items()}
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {name}: expected a string, got {value!r}")
    if "Literal" in annotation and value is not None:
        allowed = [a.strip(" '\"") for a in annotation.split("[", 1)[1].rstrip("]").split(",")]
        if value not in allowed:
            raise ConfigError(f"{where}: {name} = {value!r}: expected one of {', '.join(allowed)}")
    return value


def _apply_section(obj: Any, values: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            secret = key in SECRET_KEYS or key == "password"
            raise ConfigError(
                f"{where}: unknown key '{key}'",
                hint=_SECRETS_HINT if secret else f"known keys: {', '.join(sorted(known))}")
        f = known[key]
        changes[key] = _coerce(f"{where}", key, value, getattr(obj, key), str(f.type))
    return replace(obj, **changes)


def apply_mapping(cfg: Config, data: Mapping[str, Any], where: str) -> Config:
    """Lay a nested mapping (as in docsgap.toml) over `cfg`, rejecting unknown keys."""
    top: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            section = _apply_section(getattr(cfg, key), value, f"{where}: [{key}]")
            cfg = replace(cfg, **{key: section})
        elif key in _TOP_KEYS:
            top[key] = value
        else:
            known = sorted([*_SECTIONS, *_TOP_KEYS])
            secret = key in SECRET_KEYS or key == "password"
            raise ConfigError(f"{where}: unknown key '{key}'",
                              hint=_SECRETS_HINT if secret else f"known: {', '.join(known)}")
    if "state_path" in top:
        if not isinstance(top["state_path"], str) or not top["state_path"]:
            raise ConfigError(f"{where}: state_path: expected a path")
        # "~/..." in a file or a CI variable reaches docsgap unexpanded (no shell did it).
        cfg = replace(cfg, state_path=Path(top["state_path"]).expanduser())
    if "rules_dirs" in top:
        dirs = top["rules_dirs"]
        if isinstance(dirs, str):
            dirs = [dirs]
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise ConfigError(f"{where}: rules_dirs: expected a list of paths")
        cfg = replace(cfg, rules_dirs=tuple(Path(d).expanduser() for d in dirs))
    if "templates_dir" in top:
        if not isinstance(top["templates_dir"], str):
            raise ConfigError(f"{where}: templates_dir: expected a path")
        cfg = replace(cfg, templates_dir=Path(top["templates_dir"]).expanduser())
    if "max_actions" in top:
        cfg = replace(
            cfg, max_actions=_coerce(where, "max_actions", top["max_actions"], 0, "int")
        )
    return cfg


def check_merged(cfg: Config) -> None:
    """The checks across keys, once every source is merged."""
    low, high = SCORE_RANGE
    for name in ("link_threshold", "review_threshold"):
        value = getattr(cfg.dedup, name)
        if not low <= value <= high:
            raise ConfigError(
                f"dedup.{name} = {value:g}: expected a score from {low:g} to {high:g}"
            )
        if 0 < value < 1:
            # A probability written as a fraction (as docs.answer_threshold is) would link
            # nearly every match: 0.7 here is 0.7%, not 70%.
            raise ConfigError(
                f"dedup.{name} = {value:g}: a percentage from {low:g} to {high:g}, not a "
                "fraction", hint=f"did you mean {value * 100:g}?",
            )
    for name in ("answer_threshold", "cover_threshold"):
        value = getattr(cfg.docs, name)
        if not 0 <= value <= 1:
            raise ConfigError(f"docs.{name} = {value:g}: expected a number from 0 to 1")
    if cfg.gitlab.url.rstrip("/").endswith("/api/v4"):
        # python-gitlab adds /api/v4 itself: this URL would 404 as "project not found".
        raise ConfigError(
            f"gitlab.url = {cfg.gitlab.url!r}: expected the instance's URL, without /api/v4",
            hint=f"use {cfg.gitlab.url.rstrip('/').removesuffix('/api/v4')!r}",
        )
    for name, url in (("forum.url", cfg.forum.url), ("gitlab.url", cfg.gitlab.url),
                      ("docs.url", cfg.docs.url or "https://")):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} = {url!r}: expected an http(s) URL")
    for name, seconds in (("forum.timeout", cfg.forum.timeout),
                          ("gitlab.timeout", cfg.gitlab.timeout)):
        if seconds <= 0:  # requests refuses 0 deep inside a run (a traceback, exit 1)
            raise ConfigError(f"{name} = {seconds:g}: expected seconds above 0")
    unknown = sorted(set(cfg.gitlab.labels_by_gap) - {g.value for g in GapType})
    if unknown:  # a misspelt gap type would silently never add its labels
        raise ConfigError(f"gitlab.labels_by_gap: unknown gap type {unknown[0]!r}: expected "
                          f"one of {', '.join(g.value for g in GapType)}")
    for template in cfg.gitlab.owner_labels:
        _check_owner_template(template)
    _check_scopes(cfg)
    mention = cfg.docs.spike_mention
    words = re.split(r"[\s,]+", (mention or "").strip())
    if mention and not all(_MENTION.fullmatch(w) for w in words):
        # The alert keeps only @name words: "docs-team" would mention nobody, "@docs team"
        # only @docs, and the comment would still be posted.
        raise ConfigError(
            f"docs.spike_mention = {mention!r}: expected @name words (a user or group)",
            hint="e.g. spike_mention = \"@docs-team\" or \"@gitlab-org/tw\"",
        )
    if cfg.dedup.review_threshold > cfg.dedup.link_threshold:
        raise ConfigError(
            "dedup.review_threshold must not exceed dedup.link_threshold "
            f"({cfg.dedup.review_threshold} > {cfg.dedup.link_threshold})"
        )
    project = cfg.gitlab.project
    if "/" not in project and not project.isdigit():
        raise ConfigError(f"gitlab.project = {project!r}: expected group/project or an id")
    if "://" in project or project.endswith(".git"):
        # The project's web or clone URL: GitLab answers 404 "Project Not Found" for it.
        path = project.removesuffix(".git")
        if "://" in path:
            base = cfg.gitlab.url.rstrip("/") + "/"
            path = path.removeprefix(base) if path.startswith(base) else path.split("/", 3)[-1]
        raise ConfigError(f"gitlab.project = {project!r}: expected the project's path "
                          "(group/project), not its URL", hint=f"use {path.strip('/')!r}")



def _scope(name: str) -> str | None:
    """A scoped label's scope (`group::gitaly` -> `group`, `a::b::c` -> `a::b`), as GitLab reads
    it; None for a label without one."""
    head, sep, _ = name.rpartition("::")
    return head if sep and head.strip() else None


def _check_scopes(cfg: Config) -> None:
    """No two labels an issue can get share a scope: GitLab keeps one label per scope
    (`scope::value`, Premium and up), so the plan would list a label the issue never gets."""
    g = cfg.gitlab
    owners = {s: (t, "owner_labels") for t in g.owner_labels if (s := _scope(t))}
    fixed = [(n, "issue_labels") for n in g.issue_labels] + [(g.marker_label, "marker_label")]
    for gap, extra in [("", ()), *g.labels_by_gap.items()]:
        seen = dict(owners)
        for name, key in [*fixed, *((n, f"labels_by_gap.{gap}") for n in extra)]:
            scope = _scope(name)
            if scope is None:
                continue
            other, other_key = seen.setdefault(scope, (name, key))
            if other != name:
                raise ConfigError(
                    f"gitlab.{other_key} {other!r} and gitlab.{key} {name!r} share the scope "
                    f"{scope!r}: GitLab keeps one label per scope, so an issue would not "
                    "carry both",
                    hint="keep one label of each scope (owner_labels = [] turns the owner "
                    "labels off)")


def _check_owner_template(template: str) -> None:
    """A `gitlab.owner_labels` template: `{stage}`/`{group}` fields (a typo would file every
    issue with the same literal label) and nothing GitLab would split or refuse."""
    where = f"gitlab.owner_labels: {template!r}"
    names = _OWNER_FIELD.findall(template)
    bad = next((n for n in names if n not in OWNER_FIELDS), None)
    if bad is not None or template.count("{") != len(names) or template.count("}") != len(names):
        raise ConfigError(f"{where}: expected {{stage}} or {{group}} fields"
                          + (f", not {{{bad}}}" if bad is not None else ""),
                          hint='e.g. owner_labels = ["devops::{stage}", "group::{group}"]')
    if not names:
        raise ConfigError(f"{where}: names no owner ({{stage}} or {{group}}): every issue "
                          "would get the same label", hint="add it to issue_labels instead")
    if "," in template:  # GitLab splits `labels` at commas and refuses them in a title
        raise ConfigError(f"{where}: a label name cannot hold a comma")
