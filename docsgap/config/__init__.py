"""Configuration: defaults < docsgap.toml < DOCSGAP_* environment < flags, parsed once into a
frozen `Config`. `schema` holds the dataclasses and their defaults, `validate` checks values
against them, `load` is the only reader of config files and environment variables.

The public face is what the stages and the CLI import: `Config` and its sections, `load_config`,
`require_target`, `mask`.
"""

from docsgap.config.load import ENV_VARS, load_config, python_gitlab_config_file, require_target
from docsgap.config.schema import (
    POLICY_MODES,
    SCORE_RANGE,
    TARGET_KEYS,
    Config,
    DedupConfig,
    DocsConfig,
    ForumConfig,
    GitLabConfig,
    PolicyConfig,
    PolicyMode,
    mask,
)
from docsgap.config.validate import apply_mapping

__all__ = [
    "ENV_VARS",
    "POLICY_MODES",
    "SCORE_RANGE",
    "TARGET_KEYS",
    "Config",
    "DedupConfig",
    "DocsConfig",
    "ForumConfig",
    "GitLabConfig",
    "PolicyConfig",
    "PolicyMode",
    "apply_mapping",
    "load_config",
    "mask",
    "python_gitlab_config_file",
    "require_target",
]
