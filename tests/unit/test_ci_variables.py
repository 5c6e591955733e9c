"""Secrets as a GitLab CI job hands them over: a CI/CD variable of type File arrives as the path
of a file holding the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsgap.config import load_config
from docsgap.errors import ConfigError


@pytest.mark.parametrize("var", ["DOCSGAP_GITLAB_TOKEN", "DOCSGAP_DISCOURSE_API_KEY"])
def test_a_file_type_variable_is_named_not_sent_as_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, var: str
) -> None:
    """The path went to GitLab as the token: '401 ... refused the credentials' (exit 5), with
    a hint about scopes and expiry, never about the variable's type."""
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / var
    secret.write_text("glpat-the-real-token\n", encoding="utf-8")
    env = {"DOCSGAP_FORUM_URL": "https://forum.example.com", "DOCSGAP_GITLAB_PROJECT": "g/p",
           var: str(secret)}
    with pytest.raises(ConfigError, match="holds the path of a file") as caught:
        load_config(env=env)
    assert "type to Variable" in (caught.value.hint or "")
    assert "glpat-the-real-token" not in str(caught.value) + (caught.value.hint or "")
    cfg = load_config(env={**env, var: "glpat-the-real-token"})  # the value itself loads
    assert "glpat-the-real-token" in (cfg.gitlab.token, cfg.forum.api_key)


@pytest.mark.parametrize("value", ["$BOT_TOKEN", "${BOT_TOKEN}"])
def test_a_reference_gitlab_left_unexpanded_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """`variables: DOCSGAP_GITLAB_TOKEN: $BOT_TOKEN` with BOT_TOKEN protected and the pipeline
    on an unprotected branch: GitLab passes '$BOT_TOKEN' as written, and it went to GitLab as
    the token (401, exit 5) or to Discourse as the key (403)."""
    monkeypatch.chdir(tmp_path)
    env = {"DOCSGAP_FORUM_URL": "https://forum.example.com", "DOCSGAP_GITLAB_PROJECT": "g/p",
           "DOCSGAP_GITLAB_TOKEN": value}
    with pytest.raises(ConfigError, match="left unexpanded") as caught:
        load_config(env=env)
    assert "define BOT_TOKEN" in (caught.value.hint or "")
    assert load_config(env={**env, "DOCSGAP_GITLAB_TOKEN": "glpat-$x1"}).gitlab.token
