"""Configuration: defaults < docsgap.toml < DOCSGAP_* environment < flags, parsed once into a
frozen `Config`. The only module that reads config files or environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from docsgap.errors import ConfigError
from docsgap.models import ActionKind
from docsgap.textfile import read_utf8

PolicyMode = Literal["off", "review", "auto"]
POLICY_MODES: tuple[str, ...] = get_args(PolicyMode)


@dataclass(frozen=True)
class ForumConfig:
    """[forum]: the Discourse site."""

    url: str = "https://forum.gitlab.com"
    api_username: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """Secret: from DOCSGAP_DISCOURSE_API_KEY only, never from the file."""
    initial_pages: int = 4
    """First run: how many pages of 50 latest posts to read."""
    max_requests: int = 50
    """Requests per run; Discourse admin keys share 60/min site-wide."""
    rate_limit_per_minute: int = 60
    """The site's request rate for the key (Discourse's admin-key default: 60), for the cost
    a first scan announces and the time left the progress shows."""
    max_post_chars: int = 200_000
    """Longer posts are judged on their first this many characters (said in the evidence)."""
    timeout: float = 30.0
    bot_usernames: tuple[str, ...] = ("docsgap-bot",)
    staff_usernames: tuple[str, ...] = ()
    ignore_categories: tuple[int, ...] = ()
    ignore_tags: tuple[str, ...] = ("docsgap-ignore",)


@dataclass(frozen=True)
class GitLabConfig:
    """[gitlab]: the project where doc issues live."""

    url: str = "https://gitlab.com"
    project: str = "gitlab-org/gitlab"
    token: str | None = field(default=None, repr=False)
    """Secret: from DOCSGAP_GITLAB_TOKEN (or python-gitlab's config / CI_JOB_TOKEN)."""
    token_kind: Literal["private", "job", "oauth"] = "private"
    docs_label: str = "documentation"
    """Only issues/MRs with this label are cached and matched."""
    marker_label: str = "docsgap"
    issue_labels: tuple[str, ...] = ("documentation", "docs-feedback")
    labels_by_gap: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"missing": ("docs-missing",), "broken_link": ("docs-broken-link",)}
    )
    target_branch: str = "master"
    wontdo_labels: tuple[str, ...] = (
        "won't do", "wontfix", "declined", "duplicate", "workflow::won't do",
    )
    """A closed issue with one of these labels was declined: no follow-up in the thread."""
    max_requests: int = 1000
    timeout: float = 30.0
    python_gitlab_id: str | None = None
    """Section of python-gitlab's config file to read url and token from."""
    summary_issue: bool = False
    """Keep one summary issue in the project, rewritten in place by each `run --apply`."""
    summary_title: str = "docsgap summary: forum docs gaps"


SCORE_RANGE = (0.0, 100.0)
"""The range of match scores, so of `link_threshold` and `review_threshold` (the one place to
change if the matcher's scale changes)."""


@dataclass(frozen=True)
class DedupConfig:
    """[dedup]: match thresholds (within `SCORE_RANGE`): the probability in percent that the
    best candidate is the report's original (the fitted ranker's, `docsgap/dedupe/RANKER.md`)."""

    link_threshold: float = 70.0
    """Link automatically at and above this (chosen on dev for link precision >= 0.97)."""
    review_threshold: float = 10.0
    """A person decides between this and `link_threshold`; below it the gap is new (chosen on dev:
    90% of right best candidates are above it)."""
    closed_within_days: int = 365


@dataclass(frozen=True)
class DocsConfig:
    """[docs]: the local index of the docs pages (`docsgap docs sync`) and what is suggested
    from it."""

    projects: tuple[str, ...] = ("gitlab-org/gitlab",)
    """Docs projects to index; their docs folders come from the docs map."""
    ref: str = "master"
    url: str | None = None
    """GitLab holding the docs projects (default: gitlab.url)."""
    path: str | None = None
    """A local checkout to index instead of downloading (one project)."""
    answer_threshold: float = 0.33
    """Docs-first replies: the answerability gate's probability (0-1) that the best section is
    the answer; the shipped gate's cross-validated threshold (`docsgap/docs/answer_gate.json`,
    README)."""
    unanswered_hours: float = 24.0
    """Docs-first replies: only to questions this old without an accepted or staff answer."""
    cover_threshold: float = 0.75
    """A "missing" gap is downgraded to "confusing" when a section covers it this well (0-1,
    cosine similarity: `DocsIndex.similar`)."""
    spike_days: int = 7
    """Spike alert: the recent window, in days."""
    spike_baseline_days: int = 56
    """Spike alert: the period before the window whose rate is the page's usual rate."""
    spike_factor: float = 3.0
    """Spike alert: recent threads must exceed this many times the usual rate."""
    spike_min_threads: int = 3
    """Spike alert: and be at least this many."""
    spike_mention: str | None = None
    """Spike alert: a group to @mention in one comment on the summary issue per spike."""


@dataclass(frozen=True)
class PolicyConfig:
    """[policy]: off | review | auto for each kind of write."""

    open_issue: PolicyMode = "review"
    link_existing: PolicyMode = "review"
    reply: PolicyMode = "review"
    open_draft_mr: PolicyMode = "review"
    followup: PolicyMode = "review"
    docs_reply: PolicyMode = "review"
    """A docs-first reply linking the docs section that answers an unanswered question."""
    docs_check: PolicyMode = "review"
    """Check "missing" gaps against the docs index (evidence; a covered one becomes confusing)."""
    docs_moved: PolicyMode = "review"
    """Check reported pages against the docs index (gone or moved: `broken_link`)."""

    def mode(self, kind: ActionKind) -> PolicyMode:
        """The mode for an action kind."""
        mode: PolicyMode = getattr(self, kind.value)
        return mode


@dataclass(frozen=True)
class Config:
    """Everything a run needs; library users build it directly or with `load_config`."""

    forum: ForumConfig = field(default_factory=ForumConfig)
    gitlab: GitLabConfig = field(default_factory=GitLabConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    docs: DocsConfig = field(default_factory=DocsConfig)
    state_path: Path = Path(".docsgap/state.db")
    rules_dirs: tuple[Path, ...] = ()
    """Extra rules directories; their files add to or override the shipped ones by name."""
    templates_dir: Path | None = None
    """Outbound-text templates; a file here replaces the shipped one of the same name."""
    max_actions: int = 20
    source: str = "defaults"
    unnamed: tuple[str, ...] = ()
    """Which of `TARGET_KEYS` no file, variable or flag named (`load_config` fills it): they hold
    the built-in defaults, and `require_target` refuses to contact anything until they are
    named. A Config built directly names everything it was given."""


TARGET_KEYS = (("forum", "url"), ("gitlab", "project"))
"""What a run talks to and must be told: never GitLab.com and its forum by default."""


_SECTIONS: dict[str, type] = {
    "forum": ForumConfig,
    "gitlab": GitLabConfig,
    "dedup": DedupConfig,
    "policy": PolicyConfig,
    "docs": DocsConfig,
}
_TOP_KEYS = {"state_path", "rules_dirs", "templates_dir", "max_actions"}
_SECRET_KEYS = {"api_key", "token"}

# env var -> (section, key); secrets only come from here.
ENV_VARS: dict[str, tuple[str, str]] = {
    "DOCSGAP_FORUM_URL": ("forum", "url"),
    "DOCSGAP_DISCOURSE_API_USERNAME": ("forum", "api_username"),
    "DOCSGAP_DISCOURSE_API_KEY": ("forum", "api_key"),
    "DOCSGAP_GITLAB_URL": ("gitlab", "url"),
    "DOCSGAP_GITLAB_PROJECT": ("gitlab", "project"),
    "DOCSGAP_GITLAB_TOKEN": ("gitlab", "token"),
    "DOCSGAP_PYTHON_GITLAB_ID": ("gitlab", "python_gitlab_id"),
    "DOCSGAP_STATE": ("", "state_path"),
    "DOCSGAP_MAX_ACTIONS": ("", "max_actions"),
}


def _coerce(where: str, name: str, value: Any, default: Any, annotation: str) -> Any:
    """Check and convert one value against the type of its default."""
    if name in _SECRET_KEYS and not where.startswith(("environment", "command line")):
        raise ConfigError(
            f"{where}: '{name}' must not be stored in the file",
            hint="set it in the environment (DOCSGAP_GITLAB_TOKEN / DOCSGAP_DISCOURSE_API_KEY)",
        )
    if "PolicyMode" in annotation:
        if value not in POLICY_MODES:
            modes = ", ".join(POLICY_MODES)
            raise ConfigError(f"{where}: {name} = {value!r}: expected one of {modes}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {name}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int | float) and not isinstance(default, bool):
        try:
            number = type(default)(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {name}: expected a number, got {value!r}") from None
        if number < 0:
            raise ConfigError(f"{where}: {name}: must not be negative, got {value!r}")
        return number
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {name}: expected a list, got {value!r}")
        return tuple(value)
    if isinstance(default, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {name}: expected a table, got {value!r}")
        return {str(k): tuple(v) if isinstance(v, list) else (str(v),) for k, v in value.items()}
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
            raise ConfigError(
                f"{where}: unknown key '{key}'", hint=f"known keys: {', '.join(sorted(known))}"
            )
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
            raise ConfigError(f"{where}: unknown key '{key}'", hint=f"known: {', '.join(known)}")
    if "state_path" in top:
        cfg = replace(cfg, state_path=Path(str(top["state_path"])))
    if "rules_dirs" in top:
        dirs = top["rules_dirs"]
        if isinstance(dirs, str):
            dirs = [dirs]
        if not isinstance(dirs, list):
            raise ConfigError(f"{where}: rules_dirs: expected a list of paths")
        cfg = replace(cfg, rules_dirs=tuple(Path(str(d)) for d in dirs))
    if "templates_dir" in top:
        if not isinstance(top["templates_dir"], str):
            raise ConfigError(f"{where}: templates_dir: expected a path")
        cfg = replace(cfg, templates_dir=Path(top["templates_dir"]))
    if "max_actions" in top:
        cfg = replace(
            cfg, max_actions=_coerce(where, "max_actions", top["max_actions"], 0, "int")
        )
    return cfg


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the Config: defaults, then the TOML file (explicit `path`, else `DOCSGAP_CONFIG`,
    else `./docsgap.toml` if present), then environment variables, then flag `overrides`
    (a nested mapping like the file's; `None` values mean "flag not given")."""
    env = os.environ if env is None else env
    cfg = Config()
    named: list[Mapping[str, Any]] = []
    path = path or (Path(env["DOCSGAP_CONFIG"]) if env.get("DOCSGAP_CONFIG") else None)
    if path is None and Path("docsgap.toml").is_file():
        path = Path("docsgap.toml")
    if path is not None:
        if not path.exists():
            raise ConfigError(f"{path}: config file not found")
        try:
            data = tomllib.loads(read_utf8(path))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        cfg = apply_mapping(cfg, data, str(path))
        cfg = replace(cfg, source=str(path))
        named.append(data)
        if cfg.state_path and not cfg.state_path.is_absolute():
            cfg = replace(cfg, state_path=path.parent / cfg.state_path)
    from_env: dict[str, dict[str, Any]] = {}
    for var, (section, key) in ENV_VARS.items():
        if env.get(var):
            from_env.setdefault(section, {})[key] = env[var]
    # In a GitLab CI job the instance URL is known; a file or DOCSGAP_GITLAB_URL still wins.
    if env.get("CI_SERVER_URL") and "url" not in from_env.get("gitlab", {}) and (
        cfg.gitlab.url == GitLabConfig.url
    ):
        from_env.setdefault("gitlab", {})["url"] = env["CI_SERVER_URL"]
    for section, values in from_env.items():
        cfg = apply_mapping(cfg, values if not section else {section: values}, "environment")
    named.append(from_env)
    if overrides:
        cleaned = _drop_none(overrides)
        if cleaned:
            cfg = apply_mapping(cfg, cleaned, "command line")
            named.append(cleaned)
    _check(cfg)
    unnamed = tuple(f"{section}.{key}" for section, key in TARGET_KEYS
                    if not any(key in (m.get(section) or {}) for m in named))
    return replace(cfg, unnamed=unnamed)


def require_target(cfg: Config) -> None:
    """Refuse to contact anything when the forum or the GitLab project was never named: a new
    user's first `docsgap run` must not quietly read forum.gitlab.com and gitlab-org/gitlab
    (with whatever token the environment holds)."""
    if not cfg.unnamed:
        return
    defaults = {"forum.url": ForumConfig.url, "gitlab.project": GitLabConfig.project}
    shown = " and ".join(f"{key} (default {defaults.get(key)})" for key in cfg.unnamed)
    where = "no docsgap.toml" if cfg.source == "defaults" else cfg.source
    raise ConfigError(
        f"no target configured: {shown} not set ({where}, no variable or flag names it); "
        "docsgap does not talk to the defaults unasked",
        hint="cp docsgap.toml.example docsgap.toml and set [forum] url and [gitlab] url and "
        "project (or --config FILE / DOCSGAP_CONFIG), or pass --forum-url, --gitlab-url and "
        "--project (DOCSGAP_FORUM_URL, DOCSGAP_GITLAB_URL, DOCSGAP_GITLAB_PROJECT)",
    )


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            inner = _drop_none(v)
            if inner:
                out[k] = inner
        elif v is not None:
            out[k] = v
    return out


def _check(cfg: Config) -> None:
    low, high = SCORE_RANGE
    for name in ("link_threshold", "review_threshold"):
        value = getattr(cfg.dedup, name)
        if not low <= value <= high:
            raise ConfigError(
                f"dedup.{name} = {value:g}: expected a score from {low:g} to {high:g}"
            )
    for name, url in (("forum.url", cfg.forum.url), ("gitlab.url", cfg.gitlab.url),
                      ("docs.url", cfg.docs.url or "https://")):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} = {url!r}: expected an http(s) URL")
    if cfg.dedup.review_threshold > cfg.dedup.link_threshold:
        raise ConfigError(
            "dedup.review_threshold must not exceed dedup.link_threshold "
            f"({cfg.dedup.review_threshold} > {cfg.dedup.link_threshold})"
        )
    if "/" not in cfg.gitlab.project and not cfg.gitlab.project.isdigit():
        raise ConfigError(
            f"gitlab.project = {cfg.gitlab.project!r}: expected group/project or an id"
        )


def mask(secret: str | None) -> str:
    """How a secret appears in any output: never its value."""
    return "(not set)" if not secret else "****"


def python_gitlab_config_file() -> Path | None:
    """python-gitlab's config file, if there is one (PYTHON_GITLAB_CFG, ~/.python-gitlab.cfg)."""
    named = os.environ.get("PYTHON_GITLAB_CFG")
    for candidate in ([Path(named)] if named else [Path.home() / ".python-gitlab.cfg"]):
        if candidate.is_file():
            return candidate
    return None
