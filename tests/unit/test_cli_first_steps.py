"""What a new user types first, with the exit codes the README documents: a usage mistake is 2
(not 3, which is for configuration), and a read-only look at an empty folder creates nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from docsgap.cli import app
from docsgap.errors import ExitCode


@pytest.mark.parametrize("argv", [
    ["eval", "detect"],
    ["eval", "detect", "--split", "test", "--dataset", "x.jsonl"],
    ["eval", "detect", "--split", "holdout"],
])
def test_eval_detect_without_one_data_source_is_a_usage_error(argv: list[str]) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--dataset FILE or --split" in result.output or "--split must be" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("argv", "said"), [
    (["docs", "status"], "the docs index is empty"),
    (["docs", "search", "how do I cache node_modules"], "the docs index is empty"),
])
def test_docs_status_and_search_create_no_state(tmp_path: Path, argv: list[str],
                                                said: str) -> None:
    state = tmp_path / "nested" / "state.db"
    result = CliRunner().invoke(app, [*argv, "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert said in result.output
    assert not state.exists()
    assert not state.parent.exists()


def nothing_named(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """An empty folder, no target in the environment (nor a CI pipeline), and a token that
    would go to gitlab.com if anything used the defaults."""
    monkeypatch.chdir(where)  # no docsgap.toml here
    for name in ("DOCSGAP_CONFIG", "DOCSGAP_GITLAB_URL", "DOCSGAP_GITLAB_PROJECT",
                 "DOCSGAP_FORUM_URL", "CI_SERVER_URL", "CI_PROJECT_ID", "CI_PROJECT_PATH",
                 "CI_JOB_TOKEN", "DOCSGAP_STATE_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCSGAP_GITLAB_TOKEN", "glpat-would-go-to-gitlab-com")


@pytest.mark.parametrize("command", ["pull", "push"])
def test_state_outside_ci_without_a_project_refuses_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    from docsgap.tracker.gitlab_packages import GitLabPackages

    nothing_named(monkeypatch, tmp_path)

    def no_request(*_args: object, **_kwargs: object) -> GitLabPackages:
        raise AssertionError("contacted a registry nobody named")

    monkeypatch.setattr(GitLabPackages, "for_target", no_request)
    result = CliRunner().invoke(app, ["state", command, "--state", str(tmp_path / "s.db")])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "no project for the state" in result.output
    assert "glpat-would" not in result.output


@pytest.mark.parametrize("command", ["pull", "push"])
def test_state_outside_ci_is_never_the_docs_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    """Outside CI, `state pull`/`push` used gitlab.project's registry, the docs project's: a
    pull said 'no saved state' (it is in the pipeline's project), a push uploaded a package
    into the docs project. They need --project (DOCSGAP_STATE_PROJECT) there."""
    from docsgap.tracker.gitlab_packages import GitLabPackages

    nothing_named(monkeypatch, tmp_path)
    monkeypatch.setenv("DOCSGAP_GITLAB_URL", "https://gitlab.example.com")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "docs-group/docs")
    asked: list[str] = []

    def target_of(target: object, **_kwargs: object) -> GitLabPackages:
        asked.append(str(getattr(target, "project", "")))
        raise AssertionError("contacted a registry")

    monkeypatch.setattr(GitLabPackages, "for_target", target_of)
    state = tmp_path / "s.db"
    result = CliRunner().invoke(app, ["state", command, "--state", str(state)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "--project GROUP/PROJECT" in result.output
    assert asked == []
    monkeypatch.setenv("DOCSGAP_STATE_PROJECT", "support/docsgap")
    CliRunner().invoke(app, ["state", command, "--state", str(state)])
    assert asked == ["support/docsgap"]


@pytest.mark.parametrize("argv", [["run"], ["run", "--apply"], ["run", "--topic", "5"]])
def test_run_without_a_target_leaves_no_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no docsgap.toml here
    for name in ("DOCSGAP_CONFIG", "DOCSGAP_FORUM_URL", "DOCSGAP_GITLAB_PROJECT", "DOCSGAP_STATE"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "no target configured" in result.output
    assert list(tmp_path.iterdir()) == []  # not even .docsgap/state.db.lock


def test_demo_never_deletes_a_folder_it_did_not_write(tmp_path: Path) -> None:
    """`docsgap demo --out .` once emptied the whole current folder (shutil.rmtree)."""
    work = tmp_path / "project"
    (work / "src").mkdir(parents=True)
    (work / "notes.md").write_text("mine", encoding="utf-8")
    (work / "report.md").write_text("a demo's name, but beside my files", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--out", str(work)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "holds files a demo did not write (notes.md, src)" in result.output
    assert sorted(p.name for p in work.iterdir()) == ["notes.md", "report.md", "src"]
    assert (work / "report.md").read_text(encoding="utf-8").startswith("a demo's name")


@pytest.mark.parametrize("where", ["a-file", "a-file/below"])
def test_demo_out_that_cannot_be_a_folder_is_a_clear_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / where)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "--out" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_demo_folder_is_emptied_of_its_own_files_only(tmp_path: Path) -> None:
    from docsgap.demo.loop import DEMO_FILES, fresh_folder

    out = tmp_path / "docsgap-demo"
    out.mkdir()
    for name in ("state.db", "state.db.lock", "report.html", "report.md"):
        assert name in DEMO_FILES
        (out / name).write_text("old", encoding="utf-8")
    fresh_folder(out)
    assert list(out.iterdir()) == []
    fresh_folder(tmp_path / "new" / "demo")
    assert (tmp_path / "new" / "demo").is_dir()


@pytest.mark.parametrize("command", ["detect", "match"])
def test_an_output_path_that_cannot_be_written_is_a_clear_error(tmp_path: Path,
                                                                command: str) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text('{"id": "1", "title": "Docs", "text": "The docs page is wrong.", '
                       '"query": {"title": "Docs page wrong", "body": "", "docs_url": null}}\n',
                       encoding="utf-8")
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"url": "https://gitlab.example/g/p/-/issues/1", "title": "Docs wrong", '
                    '"body": "", "state": "opened", "docs_url": null}\n', encoding="utf-8")
    argv = [command, "-i", str(records), "-o", str(tmp_path)]  # -o names a folder
    if command == "match":
        argv += ["-p", str(pool)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"cannot write {tmp_path}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("port", ["65536", "99999", "-1"])
def test_sandbox_port_out_of_range_is_a_usage_error(port: str) -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--port", port])
    assert result.exit_code == ExitCode.USAGE, result.output  # was an OverflowError, exit 1
    assert "--port" in result.output


def test_negative_counts_are_usage_errors() -> None:
    result = CliRunner().invoke(app, ["docs", "search", "cache", "--limit", "-1"])
    assert result.exit_code == ExitCode.USAGE, result.output


@pytest.mark.parametrize(("flag", "key"), [("--max-requests", "forum.max_requests"),
                                           ("--max-actions", "max_actions")])
def test_negative_run_caps_are_config_errors_alike(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flag: str, key: str
) -> None:
    """Both caps override a docsgap.toml key, so both are checked as configuration (exit 3,
    naming the flag); --max-requests -1 was typer's exit 2 while --max-actions -1 was 3."""
    from docsgap.cli import run_cmd

    _target_env(monkeypatch, tmp_path)
    monkeypatch.setattr(run_cmd, "run_once", lambda *_a, **_k: pytest.fail("ran"))
    result = CliRunner().invoke(app, ["run", flag, "-1"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"{flag} -1: expected 0 or more ({key}; 0 " in result.output
    assert list(tmp_path.iterdir()) == []  # refused before the state was made


def _target_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCSGAP_CONFIG", raising=False)
    monkeypatch.setenv("DOCSGAP_FORUM_URL", "http://127.0.0.1:9/forum")
    monkeypatch.setenv("DOCSGAP_GITLAB_URL", "http://127.0.0.1:9/gitlab")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "group/docs")
    monkeypatch.setenv("DOCSGAP_STATE", str(tmp_path / "state.db"))


def test_summary_json_naming_a_folder_stops_before_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from docsgap.cli import run_cmd

    _target_env(monkeypatch, tmp_path)

    def no_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("ran although its summary could not be written")

    monkeypatch.setattr(run_cmd, "run_once", no_run)
    result = CliRunner().invoke(app, ["run", "--summary-json", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "--summary-json" in result.output and "is a folder" in result.output
    result = CliRunner().invoke(app, ["run", "--summary-json", "-"])  # wrote a file "-"
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "--summary-json -: name a file" in result.output and "run --json" in result.output


def test_summary_json_that_fails_after_the_run_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from docsgap.cli import run_cmd
    from docsgap.loop.run import RunReport
    from docsgap.models import Plan, RunResult

    _target_env(monkeypatch, tmp_path)
    done = RunReport(RunResult(Plan()), None, {"forum": 1, "gitlab": 1}, None, ExitCode.OK)
    monkeypatch.setattr(run_cmd, "run_once", lambda *_a, **_k: done)
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--summary-json", str(tmp_path / "a-file" / "s.json")])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "cannot write --summary-json" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_docs_sync_without_a_gitlab_named_refuses_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from docsgap.docs import service

    nothing_named(monkeypatch, tmp_path)

    def no_request(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("downloaded docs from a GitLab nobody named")

    monkeypatch.setattr(service, "archive_source", no_request)
    result = CliRunner().invoke(app, ["docs", "sync"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "no GitLab named for the docs" in result.output
    assert list(tmp_path.iterdir()) == []  # no state created either


@pytest.mark.parametrize("argv", [["train", "detect", "-o", "m.json.gz"],
                                  ["train", "detect-effect", "new.jsonl"]])
def test_training_without_the_train_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str]
) -> None:
    """Without scikit-learn/scipy, `train detect` once ended in a ModuleNotFoundError traceback
    (exit 1) from deep inside fitting."""
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)  # as if not installed: import raises
    monkeypatch.setitem(sys.modules, "sklearn", None)
    result = CliRunner().invoke(app, [*argv, "--shared", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "pip install 'docsgap[train]'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", ["detect", "dedup"])
def test_training_never_writes_into_the_installed_package_unasked(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """Without -o, `train detect` and `train dedup` overwrote the model files inside the
    installed package: a team retraining on its verdicts silently changed site-packages for
    every user of that install. Now -o is required and nothing is read or fitted without it."""
    from docsgap.dedupe import train as dedupe_train
    from docsgap.dedupe.ranker import RANKER_FILE
    from docsgap.detect import train as detect_train
    from docsgap.detect.model import SHIPPED

    def no_fit(*_a: object, **_k: object) -> None:
        raise AssertionError("fitted without being told where to write")

    monkeypatch.setattr(detect_train, "train", no_fit)
    monkeypatch.setattr(dedupe_train, "train", no_fit)
    before = {path: path.stat().st_mtime_ns for path in (SHIPPED, RANKER_FILE)}
    result = CliRunner().invoke(app, ["train", command])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Missing option '--output'" in result.output
    assert {path: path.stat().st_mtime_ns for path in before} == before


def test_train_dedup_and_verdicts_to_paths_they_cannot_write_are_clear_errors(
    tmp_path: Path,
) -> None:
    """Both ended in a traceback (exit 1) on an unwritable --output."""
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "a", "repo": "g/p", "query": {"url": "https://f/t/1", '
                       '"title": "Runner example wrong", "body": "fails"}, '
                       '"duplicate_of": "https://gitlab.example/g/p/-/issues/1"}\n',
                       encoding="utf-8")
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"url": "https://gitlab.example/g/p/-/issues/1", "repo": "g/p", '
                    '"title": "Runner example is wrong", "body": "", "state": "opened"}\n',
                    encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for argv in (["train", "dedup", "-q", str(queries), "-p", str(pool), "-o", str(tmp_path)],
                 ["train", "verdicts", "--state", str(tmp_path / "s.db"), "-o", str(a_file)]):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == ExitCode.CONFIG, (argv, result.output)
        assert "cannot write" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", ["detect", "dedup"])
def test_eval_on_a_file_with_no_records_says_so(tmp_path: Path, command: str) -> None:
    """A blank file printed an empty table of figures ('0 records ()') and exit 0."""
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    argv = (["eval", "detect", "-d", str(blank)] if command == "detect"
            else ["eval", "dedup", "-q", str(blank), "-p", str(blank)])
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "no labelled" in result.output
    assert str(blank) in result.output


def test_docs_status_prints_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README says `--json` is on every command that prints results; docs status had none."""
    import json

    nothing_named(monkeypatch, tmp_path)
    state = str(tmp_path / "s.db")
    empty = CliRunner().invoke(app, ["docs", "status", "--json", "--state", state])
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.output) == {"sources": []}
    tree = Path(__file__).resolve().parents[2] / "docsgap" / "sandbox" / "demo_docs"
    synced = CliRunner().invoke(app, ["docs", "sync", "--path", str(tree), "--state", state])
    assert synced.exit_code == 0, synced.output
    shown = CliRunner().invoke(app, ["docs", "status", "--json", "--state", state])
    (source,) = json.loads(shown.output)["sources"]
    assert (source["project"], source["origin"]) == ("gitlab-org/gitlab", "path")
    assert source["pages"] > 20


def test_no_option_shows_a_python_type_as_metavar() -> None:
    """`train detect --help` showed `--extra <list[Path]>`. (typer still adds the type after a
    list argument's name, e.g. `NEW.jsonl... <list[Path]>`: not checked here.)"""
    import typer

    def walk(cmd: Any, path: list[str]) -> list[list[str]]:
        found = [path]
        for name, sub in getattr(cmd, "commands", {}).items():  # typer's own click copy
            found += walk(sub, [*path, name])
        return found

    commands = walk(typer.main.get_command(app), [])
    assert ["train", "detect-effect"] in commands
    for argv in commands:
        shown = CliRunner().invoke(app, [*argv, "--help"])
        assert shown.exit_code == 0, argv
        options = [line for line in shown.output.splitlines() if line.lstrip().startswith("-")]
        assert not [line for line in options if "list[" in line], argv


def test_docs_search_with_nothing_to_find_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An empty question, or one no page shares a word with, printed nothing and exit 0."""
    nothing_named(monkeypatch, tmp_path)
    state = str(tmp_path / "s.db")
    tree = Path(__file__).resolve().parents[2] / "docsgap" / "sandbox" / "demo_docs"
    synced = CliRunner().invoke(app, ["docs", "sync", "--path", str(tree), "--state", state])
    assert synced.exit_code == 0, synced.output
    empty = CliRunner().invoke(app, ["docs", "search", "  ", "--state", state])
    assert empty.exit_code == ExitCode.USAGE, empty.output
    assert "give a question" in empty.output
    none = CliRunner().invoke(app, ["docs", "search", "zzqxv wqyxz", "--state", state])
    assert none.exit_code == 0, none.output
    assert "no docs page shares a word with the question" in none.output


def test_eval_help_names_each_of_its_commands() -> None:
    """`docsgap --help` said eval scores "detection or deduplication" after `eval suggest`."""
    shown = CliRunner().invoke(app, ["--help"])
    line = next(x for x in shown.output.splitlines() if x.strip().startswith("eval "))
    assert "docs-first" in line or "suggest" in line, line


def _without_a_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str],
                     state: Path) -> Result:
    """Run `argv` with a target named but no state file at `state` (nothing ran here)."""
    nothing_named(monkeypatch, tmp_path)
    monkeypatch.setenv("DOCSGAP_FORUM_URL", "https://forum.example")
    monkeypatch.setenv("DOCSGAP_GITLAB_PROJECT", "g/p")
    return CliRunner().invoke(app, [*argv, "--state", str(state)])


@pytest.mark.parametrize("argv", [["review", "--list", "--json"], ["review", "--list"], ["review"],
                                  ["review", "--accept-all"], ["review", "--accept", "x"]])
def test_review_without_a_state_creates_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             argv: list[str]) -> None:
    """`review --list` in a folder nothing ran in created a 150 kB state file."""
    import json

    state = tmp_path / "nested" / "s.db"
    result = _without_a_state(monkeypatch, tmp_path, argv, state)
    if argv[-1] == "x":
        assert result.exit_code == ExitCode.USAGE, result.output
        assert f"no state at {state}" in result.output
    elif "--json" in argv:
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"count": 0, "pending": []}
    else:
        assert result.exit_code == 0, result.output
        assert f"no state at {state}" in result.output.replace("There is no", "no")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["followup"], ["followup", "--json"], ["followup", "--apply"]])
def test_followup_without_a_state_creates_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               argv: list[str]) -> None:
    """A follow-up in a folder nothing ran in created a state file (and read the forum)."""
    import json

    state = tmp_path / "nested" / "s.db"
    result = _without_a_state(monkeypatch, tmp_path, argv, state)
    assert result.exit_code == 0, result.output
    if "--json" in argv:
        assert json.loads(result.output)["actions"] == []
    else:
        assert f"no state at {state}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_in_a_run_says_what_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """^C mid-run printed a bare "interrupted": a new user could not tell whether the scan so
    far was lost or whether to start over."""
    from docsgap.cli import run_cmd

    _target_env(monkeypatch, tmp_path)

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd, "run_once", interrupted)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == ExitCode.INTERRUPTED, result.output
    assert "interrupted: what was done and recorded so far is kept" in result.output
    assert "run the same command again" in result.output


def test_json_is_accepted_where_the_readme_promises_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """README: "--json is on every command that prints results"; `rules check --json` and
    `detect --json` were "No such option" (exit 2)."""
    import json

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOCSGAP_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["rules", "check", "--json"])
    assert result.exit_code == 0, result.output
    checked = json.loads(result.stdout)
    assert checked["ok"] is True and checked["rules"] > 0 and checked["failing_examples"] == []
    records = tmp_path / "in.jsonl"
    records.write_text('{"id": "1", "title": "Docs", "text": "The docs page is wrong."}\n',
                       encoding="utf-8")
    result = CliRunner().invoke(app, ["detect", "-i", str(records), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["id"] == "1"


def test_a_topic_as_the_plan_prints_it_is_its_id(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """The plan and review print "thread #1035"; `run --topic '#1035'` was "neither a topic id
    nor a topic URL" (exit 3)."""
    from docsgap.cli import run_cmd

    _target_env(monkeypatch, tmp_path)
    asked: list[object] = []

    def record(*_a: object, **k: object) -> None:
        asked.append(k.get("topic"))
        raise KeyboardInterrupt  # stop there: only the id matters

    monkeypatch.setattr(run_cmd, "run_once", record)
    result = CliRunner().invoke(app, ["run", "--topic", "#1035"])
    assert asked == [1035], result.output


def test_docs_sync_from_a_missing_checkout_says_so_and_creates_no_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`docs sync --path ../gitlab` from the wrong folder blamed a missing doc/ folder "in this
    checkout", after making the state file."""
    nothing_named(monkeypatch, tmp_path)
    result = CliRunner().invoke(app, ["docs", "sync", "--path", "../no-such-checkout"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "--path ../no-such-checkout: no such folder" in result.output
    assert list(tmp_path.iterdir()) == []


def test_state_push_with_no_state_makes_nothing(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """`state push` before any run (exit 9, as its help says) left an empty .docsgap/ behind."""
    from docsgap.tracker.gitlab_packages import GitLabPackages

    _target_env(monkeypatch, tmp_path)
    monkeypatch.delenv("DOCSGAP_STATE")
    monkeypatch.setenv("DOCSGAP_STATE_PROJECT", "support/docsgap")

    def no_upload(*_a: object, **_k: object) -> None:
        raise AssertionError("uploaded without a state")

    monkeypatch.setattr(GitLabPackages, "upload", no_upload)
    result = CliRunner().invoke(app, ["state", "push"])
    assert result.exit_code == ExitCode.STATE, result.output
    assert "no state to save at .docsgap/state.db" in result.output
    assert list(tmp_path.iterdir()) == []


def test_eval_suggest_from_a_missing_checkout_names_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--docs gitlab-org/gitlab=../gitlab` from the wrong folder blamed "no docs folder doc/
    ... in this checkout" for a checkout that is not there at all."""
    monkeypatch.chdir(tmp_path)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "1", "title": "How?", "text": "How do I?", "gold_url": '
                         '"https://docs.gitlab.com/ci/", "source_url": "https://x/1"}\n',
                         encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "suggest", "-d", str(questions),
                                      "--docs", "gitlab-org/gitlab=../no-such-checkout"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "../no-such-checkout: no such folder (a checkout of gitlab-org/gitlab" in result.output
    assert str(tmp_path) in result.output


@pytest.mark.parametrize(("verbose", "line"), [
    (0, "warning: first scan: up to 10 requests\n"),
    (1, "warning docsgap.loop.pipeline: first scan: up to 10 requests\n"),
])
def test_a_warning_is_worded_as_errors_are(
    verbose: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Warnings read 'WARNING docsgap.loop.pipeline: ...' beside docsgap's own 'error: ...'
    lines: a module path a user has no use for (the demo's first lines showed it). -v keeps
    the module's name."""
    import logging

    from docsgap.cli.common import setup_logging

    setup_logging(verbose)
    try:
        logging.getLogger("docsgap.loop.pipeline").warning("first scan: up to %d requests", 10)
        assert capsys.readouterr().err == line
    finally:
        setup_logging(0)
