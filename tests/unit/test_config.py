"""Config precedence (defaults < file < env < flags) and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsgap.config import Config, load_config, mask
from docsgap.errors import ConfigError, ExitCode


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "docsgap.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_safe() -> None:
    cfg = load_config(env={})
    assert cfg.policy.open_issue == "review"
    assert cfg.policy.reply == "review"
    assert cfg.gitlab.docs_label == "documentation"


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[forum]\nurl = "https://forum.example.org"\n[gitlab]\nproject = "a/b"\n'
        '[dedup]\nlink_threshold = 90\n',
    )
    env = {"DOCSGAP_GITLAB_PROJECT": "c/d", "DOCSGAP_GITLAB_TOKEN": "glpat-secret"}
    flags = {"dedup": {"link_threshold": 95, "review_threshold": None}}
    cfg = load_config(path, env=env, overrides=flags)
    assert cfg.forum.url == "https://forum.example.org"
    assert cfg.gitlab.project == "c/d"
    assert cfg.gitlab.token == "glpat-secret"
    assert cfg.dedup.link_threshold == 95
    assert "glpat-secret" not in repr(cfg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[forum]\nurll = 'x'\n", "[forum]: unknown key 'urll'"),
        ("[policy]\nreply = 'yes'\n", "reply = 'yes': expected one of off, review, auto"),
        ("[gitlab]\ntoken = 'x'\n", "'token' must not be stored in the file"),
        ("[dedup]\nlink_threshold = 'high'\n", "expected a number"),
        ("colour = 1\n", "unknown key 'colour'"),
        ("[forum\n", "docsgap.toml"),
    ],
)
def test_bad_config_names_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert message in str(info.value)
    assert info.value.exit_code == ExitCode.CONFIG


def test_bad_env_value_is_reported() -> None:
    with pytest.raises(ConfigError, match="environment"):
        load_config(env={"DOCSGAP_MAX_ACTIONS": "many"})


def test_mask_never_shows_the_secret() -> None:
    assert "abcdef" not in mask("glpat-abcdef123456")
    assert mask(None) == "(not set)"


def test_example_config_is_valid() -> None:
    from tests.conftest import REPO

    cfg = load_config(REPO / "docsgap.toml.example", env={})
    assert cfg.gitlab.labels_by_gap["missing"] == ("docs-missing",)
    assert cfg.forum.ignore_tags == ("docsgap-ignore",)


def test_example_config_shows_the_defaults() -> None:
    """Every setting the example writes out is the default (a user copying it changes nothing
    by accident); only the targets and label maps are examples of their own."""
    import tomllib
    from pathlib import PurePath

    from tests.conftest import REPO

    example = tomllib.loads((REPO / "docsgap.toml.example").read_text(encoding="utf-8"))
    differ: list[str] = []

    def walk(table: dict[str, object], defaults: object, where: str) -> None:
        for key, value in table.items():
            default = getattr(defaults, key)
            if isinstance(value, dict) and not isinstance(default, dict):
                walk(value, default, f"{where}{key}.")
                continue
            if isinstance(default, PurePath):
                default = str(default)
            if isinstance(default, tuple):
                default = list(default)
            if isinstance(default, dict):
                default = {k: list(v) if isinstance(v, tuple) else v for k, v in default.items()}
                value = {**default, **value}  # type: ignore[dict-item]
            if value != default:
                differ.append(f"{where}{key} = {value!r} (default {default!r})")

    walk(example, Config(), "")
    assert differ == []


@pytest.mark.parametrize("text", ["[dedup]\nlink_threshold = 500\n",
                                  "[dedup]\nreview_threshold = 101\nlink_threshold = 80\n"])
def test_thresholds_outside_the_score_range_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="expected a score from 0 to 100"):
        load_config(write(tmp_path, text), env={})


@pytest.mark.parametrize(("text", "meant"), [
    ("[dedup]\nlink_threshold = 0.7\nreview_threshold = 0.1\n", "70"),
    ("[dedup]\nlink_threshold = 0.9\n", "90"),
])
def test_a_threshold_written_as_a_fraction_is_refused(tmp_path: Path, text: str,
                                                      meant: str) -> None:
    # Found walking the README: 0.7 and 0.1 (as docs.answer_threshold is written) loaded as
    # 0.7% and 0.1%, so nearly every match would link without a person.
    with pytest.raises(ConfigError, match="a percentage from 0 to 100, not a fraction") as info:
        load_config(write(tmp_path, text), env={})
    assert info.value.hint == f"did you mean {meant}?"


def test_category_ids_are_numbers_and_timeouts_above_zero(tmp_path: Path) -> None:
    # Found walking the README: ignore_categories = "7" loaded as ("7",), which no category
    # id (a number) equals, so nothing was ignored; ["Announcements"] the same; timeout = 0
    # ended a run in a traceback (exit 1) or as "unexpected GitLab payload" (exit 6).
    cfg = load_config(write(tmp_path, '[forum]\nignore_categories = "7, 12"\n'), env={})
    assert cfg.forum.ignore_categories == (7, 12)
    with pytest.raises(ConfigError, match="ignore_categories: expected a list of ids"):
        load_config(write(tmp_path, '[forum]\nignore_categories = ["Announcements"]\n'),
                    env={})
    for section in ("forum", "gitlab"):
        with pytest.raises(ConfigError, match=f"{section}.timeout = 0: expected seconds above 0"):
            load_config(write(tmp_path, f"[{section}]\ntimeout = 0\n"), env={})


def test_paths_in_the_file_are_relative_to_it(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Found walking the README: with DOCSGAP_CONFIG=team/docsgap.toml run from elsewhere, the
    # state was found beside the file but rules_dirs = ["my-rules"] was looked for in the
    # current folder ("rules directory does not exist", exit 4).
    team = tmp_path / "team"
    team.mkdir()
    config = team / "docsgap.toml"
    config.write_text('rules_dirs = ["my-rules", "/abs/rules"]\ntemplates_dir = "tpl"\n',
                      encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(None, env={"DOCSGAP_CONFIG": str(config)})
    assert cfg.rules_dirs == (team / "my-rules", Path("/abs/rules"))
    assert cfg.templates_dir == team / "tpl"
    assert cfg.state_path == team / ".docsgap/state.db"


@pytest.mark.parametrize(("project", "meant"), [
    ("https://gitlab.example.com/gitlab-org/gitlab", "gitlab-org/gitlab"),
    ("https://gitlab.example.com/sub/gitlab-org/gitlab/", "gitlab-org/gitlab"),
    ("https://other.example/g/p", "g/p"),
    ("gitlab-org/gitlab.git", "gitlab-org/gitlab"),
])
def test_a_project_url_is_refused_with_its_path(tmp_path: Path, project: str,
                                                meant: str) -> None:
    # Found walking the README: the project's URL loaded, and the run stopped with exit 6,
    # "GitLab: not found while listing doc issues (404 Project Not Found)".
    text = f"[gitlab]\nurl = 'https://gitlab.example.com/sub'\nproject = {project!r}\n"
    if "/sub/" not in project:
        text = text.replace("/sub'", "'")
    with pytest.raises(ConfigError, match="expected the project's path") as info:
        load_config(write(tmp_path, text), env={})
    assert info.value.hint == f"use {meant!r}"


def test_labels_by_gap_names_gap_types(tmp_path: Path) -> None:
    # Found walking the README: { missng = [...] } loaded, and those labels were never added.
    with pytest.raises(ConfigError, match="labels_by_gap: unknown gap type 'missng'"):
        load_config(write(tmp_path, '[gitlab]\nlabels_by_gap = { missng = ["x"] }\n'), env={})
    cfg = load_config(write(tmp_path, '[gitlab]\nlabels_by_gap = { outdated = ["y"] }\n'),
                      env={})
    assert cfg.gitlab.labels_by_gap["outdated"] == ("y",)


@pytest.mark.parametrize("mention", ["docs-team", "@docs team", "@docs-team and @tw"])
def test_a_spike_mention_that_is_not_only_at_names_is_refused(tmp_path: Path,
                                                              mention: str) -> None:
    # Found walking the README: "docs-team" loaded, and the alert then mentioned nobody.
    with pytest.raises(ConfigError, match="spike_mention .*expected @name words"):
        load_config(write(tmp_path, f"[docs]\nspike_mention = {mention!r}\n"), env={})
    good = load_config(write(tmp_path, "[docs]\nspike_mention = '@docs-team, @gitlab-org/tw'\n"),
                       env={})
    assert good.docs.spike_mention == "@docs-team, @gitlab-org/tw"


@pytest.mark.parametrize("text", ["[docs]\nanswer_threshold = 2\n",
                                  "[docs]\ncover_threshold = 1.5\n"])
def test_docs_probabilities_outside_0_1_are_refused(tmp_path: Path, text: str) -> None:
    # Found walking the README: answer_threshold = 2 was accepted and silenced every reply.
    with pytest.raises(ConfigError, match="expected a number from 0 to 1"):
        load_config(write(tmp_path, text), env={})


def test_gitlab_api_url_is_refused_with_the_instance_url(tmp_path: Path) -> None:
    # The README asks for the instance URL; the /api/v4 one failed later as "project not found".
    path = write(tmp_path, "[gitlab]\nurl = 'https://gitlab.example.com/api/v4/'\n")
    with pytest.raises(ConfigError, match="without /api/v4") as info:
        load_config(path, env={})
    assert info.value.hint == "use 'https://gitlab.example.com'"


def test_non_utf8_config_names_the_file_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "docsgap.toml"
    path.write_bytes(b'[forum]\nurl = "https://forum.example.org"  # caf\xe9\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value) == f"{path}: not UTF-8 text: byte 0xe9 at offset 48 (line 2)"
    assert caught.value.exit_code == ExitCode.CONFIG


def test_a_home_path_is_expanded_not_made_a_folder_named_tilde(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found walking the README: state_path = "~/docsgap/state.db" (or a CI variable, which no
    # shell expands) became <config folder>/~/docsgap/state.db.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = tmp_path / "home"
    path = write(tmp_path, 'state_path = "~/dg/state.db"\nrules_dirs = ["~/my-rules"]\n'
                           'templates_dir = "~/tpl"\n')
    cfg = load_config(path, env={})
    assert cfg.state_path == home / "dg/state.db"
    assert cfg.rules_dirs == (home / "my-rules",)
    assert cfg.templates_dir == home / "tpl"
    assert load_config(env={"DOCSGAP_STATE": "~/s.db"}).state_path == home / "s.db"


@pytest.mark.parametrize("text", ['[docs]\ntoken = "glpat-x"\n', 'api_key = "k"\n',
                                  '[gitlab]\npassword = "p"\n'])
def test_a_secret_under_the_wrong_heading_says_where_secrets_go(tmp_path: Path,
                                                                 text: str) -> None:
    # Found walking the README: `token = ...` appended at the end of docsgap.toml lands in
    # [docs], and the hint listed [docs]' keys instead of saying secrets go in the environment.
    with pytest.raises(ConfigError, match="unknown key") as info:
        load_config(write(tmp_path, text), env={})
    assert "DOCSGAP_GITLAB_TOKEN" in (info.value.hint or "")
    assert "glpat-x" not in str(info.value) + (info.value.hint or "")


def test_a_config_path_that_is_wrong_says_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found walking the README: DOCSGAP_CONFIG=team/docsgap.toml exported, then run from another
    # folder, said only "config file not found"; --config naming its folder said "cannot read".
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="named by DOCSGAP_CONFIG") as info:
        load_config(env={"DOCSGAP_CONFIG": "team/docsgap.toml"})
    assert str(tmp_path) in (info.value.hint or "")
    with pytest.raises(ConfigError, match="a folder, not a config file") as info:
        load_config(tmp_path, env={})
    assert info.value.hint == f"name the file, e.g. {tmp_path / 'docsgap.toml'}"


def test_environment_values_are_trimmed_and_named_by_their_variable() -> None:
    # Found walking the README: a token pasted with its newline ended in "unexpected GitLab
    # payload ... Invalid header value" (exit 6), a key in "Discourse ... unreachable"; and a
    # bad value said only "environment: max_actions".
    cfg = load_config(env={"DOCSGAP_GITLAB_TOKEN": "glpat-abc\n",
                           "DOCSGAP_DISCOURSE_API_KEY": " key1 \r\n",
                           "DOCSGAP_FORUM_URL": "https://forum.example\n"})
    assert (cfg.gitlab.token, cfg.forum.api_key) == ("glpat-abc", "key1")
    assert cfg.forum.url == "https://forum.example"
    with pytest.raises(ConfigError, match="DOCSGAP_GITLAB_TOKEN: the value holds spaces") as info:
        load_config(env={"DOCSGAP_GITLAB_TOKEN": "glpat-abc\nglpat-def"})
    assert "glpat" not in str(info.value) + (info.value.hint or "")
    with pytest.raises(ConfigError, match="environment DOCSGAP_MAX_ACTIONS: max_actions"):
        load_config(env={"DOCSGAP_MAX_ACTIONS": "-1"})
    ci = load_config(env={"CI_SERVER_URL": "https://gitlab.example\n"})
    assert ci.gitlab.url == "https://gitlab.example"


def test_a_quoted_boolean_says_to_drop_the_quotes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="summary_issue: expected true or false") as info:
        load_config(write(tmp_path, '[gitlab]\nsummary_issue = "True"\n'), env={})
    assert info.value.hint == "TOML's true and false take no quotes: summary_issue = true"
