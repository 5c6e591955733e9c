"""Where the configuration comes from: defaults < docsgap.toml < DOCSGAP_* environment <
flags. The only module that reads config files or environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from docsgap.config.schema import SECRET_KEYS, TARGET_KEYS, Config, ForumConfig, GitLabConfig
from docsgap.config.validate import apply_mapping, check_merged
from docsgap.errors import ConfigError
from docsgap.textfile import read_utf8

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


_UNEXPANDED = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
"""A value that is only a variable reference (`$BOT_TOKEN`, `${BOT_TOKEN}`)."""


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
    origins: dict[str, str] = {}
    from_var = path is None and bool(env.get("DOCSGAP_CONFIG"))
    path = path or (Path(env["DOCSGAP_CONFIG"]).expanduser() if from_var else None)
    if path is None and Path("docsgap.toml").is_file():
        path = Path("docsgap.toml")
    if path is not None:
        origin = " (named by DOCSGAP_CONFIG)" if from_var else ""
        if not path.exists():
            raise ConfigError(
                f"{path}: config file not found{origin}",
                hint=f"a relative path is read from the current folder ({Path.cwd()})"
                if not path.is_absolute() else None)
        if path.is_dir():
            raise ConfigError(f"{path}: a folder, not a config file{origin}",
                              hint=f"name the file, e.g. {path / 'docsgap.toml'}")
        try:
            data = tomllib.loads(read_utf8(path))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        cfg = apply_mapping(cfg, data, str(path))
        cfg = replace(cfg, source=str(path))
        origins.update(_origins(data, str(path)))
        named.append(data)
        if cfg.state_path and not cfg.state_path.is_absolute():
            cfg = replace(cfg, state_path=path.parent / cfg.state_path)
        # The file's other paths are relative to it too, so DOCSGAP_CONFIG works from anywhere.
        if "rules_dirs" in data:
            cfg = replace(cfg, rules_dirs=tuple(path.parent / d for d in cfg.rules_dirs))
        if data.get("templates_dir") and cfg.templates_dir is not None:
            cfg = replace(cfg, templates_dir=path.parent / cfg.templates_dir)
    from_env: dict[str, dict[str, Any]] = {}
    for var, (section, key) in ENV_VARS.items():
        # A pasted value often keeps its newline or spaces (a CI variable, `read < file`):
        # in a token that became "unexpected GitLab payload: Invalid header value" (exit 6).
        value = (env.get(var) or "").strip()
        if not value:
            continue
        if _UNEXPANDED.fullmatch(value):
            # GitLab keeps `$NAME` as written when NAME is not defined for the pipeline.
            raise ConfigError(
                f"{var} is {value!r}: a reference to a variable this pipeline does not have, "
                "left unexpanded",
                hint=f"define {value.strip('${}')} for this pipeline (a protected variable "
                "reaches protected branches only), or set the value itself")
        if any(ord(c) < 32 or c.isspace() for c in value) and key in SECRET_KEYS:
            raise ConfigError(f"{var}: the value holds spaces or control characters inside; "
                              "a token or key is one word",
                              hint=f"set {var} again from the token itself (not printed here)")
        if key in SECRET_KEYS and value.startswith("/") and Path(value).is_file():
            # GitLab CI gives a variable of type File as the path of a file holding the value.
            raise ConfigError(f"{var} holds the path of a file ({value}), not the secret: a "
                              "GitLab CI/CD variable of type File",
                              hint="set the variable's type to Variable (Settings > CI/CD > "
                              f"Variables), or export {var}=\"$(cat {value})\" first")
        where = f"environment {var}"
        cfg = apply_mapping(cfg, {key: value} if not section else {section: {key: value}},
                            where)
        origins[f"{section}.{key}" if section else key] = where
        from_env.setdefault(section, {})[key] = value
    # In a GitLab CI job the instance URL is known; a file or DOCSGAP_GITLAB_URL still wins.
    ci_url = (env.get("CI_SERVER_URL") or "").strip()
    if ci_url and "url" not in from_env.get("gitlab", {}) and (
        cfg.gitlab.url == GitLabConfig.url
    ):
        from_env.setdefault("gitlab", {})["url"] = ci_url
        cfg = apply_mapping(cfg, {"gitlab": {"url": ci_url}}, "environment CI_SERVER_URL")
        origins["gitlab.url"] = "environment CI_SERVER_URL"
    named.append(from_env)
    if overrides:
        cleaned = _drop_none(overrides)
        if cleaned:
            cfg = apply_mapping(cfg, cleaned, "command line")
            named.append(cleaned)
            origins.update(_origins(cleaned, "command line"))
    check_merged(cfg)
    unnamed = tuple(f"{section}.{key}" for section, key in TARGET_KEYS
                    if not any(key in (m.get(section) or {}) for m in named))
    return replace(cfg, unnamed=unnamed, origins=tuple(sorted(origins.items())))


def _origins(data: Mapping[str, Any], where: str) -> dict[str, str]:
    """`section.key` -> `where` for each key a layer (file, flags) sets."""
    return {f"{name}.{key}" if isinstance(value, Mapping) else name: where
            for name, value in data.items()
            for key in (value if isinstance(value, Mapping) else (None,))}


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


def python_gitlab_config_file() -> Path | None:
    """python-gitlab's config file, if there is one (PYTHON_GITLAB_CFG, ~/.python-gitlab.cfg)."""
    named = os.environ.get("PYTHON_GITLAB_CFG")
    for candidate in ([Path(named)] if named else [Path.home() / ".python-gitlab.cfg"]):
        if candidate.is_file():
            return candidate
    return None
