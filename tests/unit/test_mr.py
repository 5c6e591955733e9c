"""`docsgap mr`: the patch applier, branch names, and the Draft MR flow over fakes: dry run,
apply, rerun (no second MR or reply), reply policy, crashes and refusals."""

from __future__ import annotations

import random
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from docsgap import compose
from docsgap.act import mr
from docsgap.act.mr import DraftMr, PatchError, apply_patch, branch_name, unified_diff
from docsgap.cli import app, mr_cmd
from docsgap.config import ENV_VARS, Config, PolicyConfig
from docsgap.errors import ExitCode, UnavailableError
from docsgap.loop.pipeline import Pipeline
from docsgap.state import StateStore
from tests.fakes import (
    Crash,
    FakeForum,
    FakeServices,
    FakeTracker,
    Faults,
    docs_thread,
    shared_detector,
)

# --- patches ----------------------------------------------------------------------------------

PAGE = "".join(f"line {n}\n" for n in range(1, 21))


def test_branch_name_and_key_are_stable_and_safe() -> None:
    assert branch_name(201, "doc/ci/yaml/_index.md") == "docsgap/t201-ci-yaml-index"
    assert branch_name(7, "/weird path/Ünïcode & stuff.md").startswith("docsgap/t7-weird-path")
    assert mr.mr_key(201, "doc/a.md") == "mr:t201:doc/a.md"
    assert len(mr.slug_of("doc/" + "x/" * 60 + "y.md")) <= 40


def test_unified_diff_round_trips_through_apply_patch() -> None:
    rnd = random.Random(7)
    words = ["alpha", "", "# Heading", "- item", "```yaml", "text with  spaces "]
    for _ in range(300):
        old = [rnd.choice(words) for _ in range(rnd.randint(0, 25))]
        new = list(old)
        for _ in range(rnd.randint(1, 4)):
            at = rnd.randint(0, len(new))
            if new and rnd.random() < 0.4:
                del new[min(at, len(new) - 1)]
            else:
                new.insert(at, f"added {rnd.random():.3f}")
        a = "\n".join(old) + ("\n" if old and rnd.random() < 0.8 else "")
        b = "\n".join(new) + ("\n" if new and rnd.random() < 0.8 else "")
        diff = unified_diff(a, b, "doc/x.md")
        assert (apply_patch(a, diff, path="doc/x.md") if diff else a) == b


def test_a_hunk_that_moved_still_applies() -> None:
    new = PAGE.replace("line 10\n", "line ten\n")
    patch = unified_diff(PAGE, new, "doc/x.md")
    moved = "intro\nmore intro\n" + PAGE
    assert apply_patch(moved, patch) == "intro\nmore intro\n" + new


def test_context_that_is_not_there_fails_with_the_hunk() -> None:
    patch = unified_diff(PAGE, PAGE.replace("line 10\n", "line ten\n"), "doc/x.md")
    with pytest.raises(PatchError, match=r"hunk 1 \(@@ -7,7 \+7,7 @@\) does not apply") as err:
        apply_patch(PAGE.replace("line 9\n", "line nine\n"), patch)
    assert err.value.exit_code == ExitCode.USAGE
    assert err.value.hint


def test_patch_with_several_files_uses_the_named_one() -> None:
    ours = unified_diff(PAGE, PAGE.replace("line 3\n", "line three\n"), "doc/x.md")
    other = unified_diff("a\n", "b\n", "doc/other.md")
    both = f"diff --git a/doc/other.md b/doc/other.md\nindex 1..2 100644\n{other}" \
           f"diff --git a/doc/x.md b/doc/x.md\n{ours}"
    assert apply_patch(PAGE, both, path="doc/x.md") == PAGE.replace("line 3\n", "line three\n")
    with pytest.raises(PatchError, match="several files"):
        apply_patch(PAGE, both, path="doc/nope.md")


def test_final_newline_changes_and_bare_hunks() -> None:
    assert apply_patch("a\nb", unified_diff("a\nb", "a\nb\n", "f")) == "a\nb\n"
    assert apply_patch("a\nb\n", unified_diff("a\nb\n", "a\nc", "f")) == "a\nc"
    bare = "@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    assert apply_patch("a\nb\n", bare) == "a\nc\n"
    # An editor stripped the space of an empty context line.
    assert apply_patch("a\n\nb\n", "@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n") == "a\n\nc\n"


@pytest.mark.parametrize(("patch", "message"), [
    ("just some text\n", "no hunks"),
    ("@@ -1,3 +1,3 @@\n a\n", "shorter than its header"),
    ("@@ -1,2 +1,2 @@\n a\n?b\n", "unexpected"),
    ("--- a/f\n+++ b/f\nnot a hunk\n", "expected a hunk header"),
])
def test_malformed_patches_are_refused(patch: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_patch("a\nb\n", patch)


# --- the Draft MR flow ------------------------------------------------------------------------

OUTDATED = ("The page https://docs.gitlab.com/ci/yaml/ is outdated: it still describes the old "
            "only keyword that was removed years ago.")
DOC = "doc/ci/yaml/_index.md"
ORIGINAL = "# CI/CD YAML\n\nUse `only` to pick branches.\n\n## rules\n\nSee below.\n"
FIXED = ORIGINAL.replace("Use `only` to pick branches.", "Use `rules` to pick branches.")
ISSUE = "https://gitlab.test/gitlab-org/gitlab/-/issues/1"
MR_URL = "https://gitlab.test/gitlab-org/gitlab/-/merge_requests/1"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Config, FakeForum, FakeTracker]:
    """Thread 201 reported a gap; docsgap opened issue #1 and replied with its link."""
    cfg = Config(policy=PolicyConfig(open_issue="auto", reply="auto"),
                 state_path=tmp_path / "state.db")
    forum = FakeForum([docs_thread(201, "only keyword page out of date", OUTDATED)])
    tracker = FakeTracker(files={DOC: ORIGINAL})
    store = StateStore(cfg.state_path)
    Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=True)
    store.close()
    assert [i.web_url for i in tracker.created] == [ISSUE]
    assert len(forum.replies) == 1
    return cfg, forum, tracker


def mrs(tracker: FakeTracker) -> list[str]:
    return [i.web_url for i in tracker.items.values() if i.kind == "merge_request"]


def mr_replies(forum: FakeForum) -> list[str]:
    return [raw for _, raw in forum.replies if MR_URL in raw]


@pytest.fixture
def invoke(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cfg, forum, tracker = world
    for var in [*ENV_VARS, "DOCSGAP_CONFIG", "CI_SERVER_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mr_cmd, "build_services", FakeServices(forum, tracker))
    (tmp_path / "fixed.md").write_text(FIXED, encoding="utf-8")

    def run(*args: str, policy: str = 'reply = "auto"', input: str | None = None):
        (tmp_path / "docsgap.toml").write_text(f"[policy]\n{policy}\n", encoding="utf-8")
        return CliRunner().invoke(app, ["mr", "201", "--file", DOC, *args,
                                        "--state", str(cfg.state_path)], input=input)

    return run


def test_dry_run_shows_the_diff_and_writes_nothing(world, invoke) -> None:
    _, forum, tracker = world
    out = invoke("--content", "fixed.md")
    assert out.exit_code == 0, out.output
    assert "-Use `only` to pick branches." in out.output
    assert "+Use `rules` to pick branches." in out.output
    assert "Dry run: would commit to a new branch docsgap/t201-ci-yaml-index" in out.output
    assert "Would reply in thread #201" in out.output
    assert mrs(tracker) == []
    assert len(forum.replies) == 1


def test_apply_opens_one_draft_mr_replies_once_and_reruns_do_nothing(world, invoke) -> None:
    cfg, forum, tracker = world
    out = invoke("--content", "fixed.md", "--apply")
    assert out.exit_code == 0, out.output
    assert mrs(tracker) == [MR_URL]
    item = tracker.items[("merge_request", 1)]
    assert item.title.startswith("Draft: ")
    assert "https://forum.test/t/t-201/201" in item.description
    assert f"Closes {ISSUE}" in item.description
    assert compose.find_markers(item.description) == ["mr:t201:" + DOC]
    assert tracker.files[f"docsgap/t201-ci-yaml-index:{DOC}"] == FIXED
    [reply] = mr_replies(forum)
    assert "@" not in reply.replace("@\u200b", "")
    store = StateStore(cfg.state_path)
    link = store.link(201, MR_URL)
    ledger = store.ledger_entry("mr:t201:" + DOC)
    store.close()
    assert link is not None
    assert link["source"] == "docsgap"
    assert link["reply_url"]
    assert ledger is not None
    assert ledger["status"] == "done"
    assert ledger["remote_url"] == MR_URL
    # The next scheduled run leaves the MR and its thread alone.
    store = StateStore(cfg.state_path)
    result = Pipeline(cfg, forum, tracker, store, shared_detector()).run(apply=True)
    store.close()
    assert [o for o in result.outcomes if o.status == "applied"] == []
    again = invoke("--content", "fixed.md", "--apply")
    assert again.exit_code == 0
    assert "already exists" in again.output
    assert mrs(tracker) == [MR_URL]
    assert len(mr_replies(forum)) == 1


def test_patch_is_applied_to_the_fetched_file(world, invoke, tmp_path: Path) -> None:
    _, _, tracker = world
    (tmp_path / "fix.diff").write_text(unified_diff(ORIGINAL, FIXED, DOC), encoding="utf-8")
    assert invoke("--patch", "fix.diff", "--apply").exit_code == 0
    assert tracker.files[f"docsgap/t201-ci-yaml-index:{DOC}"] == FIXED


def test_editor_dry_run_keeps_the_edit_for_a_later_apply(world, invoke, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, tracker = world
    monkeypatch.setenv("EDITOR", "true")  # an editor is configured; click.edit is faked
    monkeypatch.setattr(click, "edit", lambda text, **_: text.replace("`only`", "`rules`"))
    out = invoke()
    assert out.exit_code == 0, out.output
    saved = next((tmp_path / "drafts").glob("*.md"))
    assert saved.read_text(encoding="utf-8") == FIXED
    assert "--content" in out.output
    assert invoke("--content", str(saved), "--apply").exit_code == 0
    assert mrs(tracker) == [MR_URL]


def test_an_unchanged_file_opens_nothing(world, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, tracker = world
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.setattr(click, "edit", lambda text, **_: None)
    out = invoke("--apply")
    assert out.exit_code == 0
    assert "unchanged: no merge request" in out.output
    assert mrs(tracker) == []


def test_no_terminal_and_no_editor_asks_for_a_patch_instead(
        world, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, tracker = world
    for name in ("EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)

    def never(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("opened an editor without a terminal")

    monkeypatch.setattr(click, "edit", never)
    out = invoke("--apply")
    assert out.exit_code == 2, out.output
    assert "no editor to open" in out.output and "--patch FILE" in out.output
    assert mrs(tracker) == []


def test_reply_policy_review_waits_for_reply_flag(world, invoke) -> None:
    _, forum, tracker = world
    out = invoke("--content", "fixed.md", "--apply", policy='reply = "review"')
    assert out.exit_code == 0
    assert "rerun with --reply" in out.output
    assert mrs(tracker) == [MR_URL]
    assert mr_replies(forum) == []
    out = invoke("--apply", "--reply", policy='reply = "review"')
    assert out.exit_code == 0
    assert "Replied in the thread" in out.output
    out = invoke("--apply", "--reply", policy='reply = "review"')
    assert mrs(tracker) == [MR_URL]
    assert len(mr_replies(forum)) == 1


def test_reply_off_or_no_reply_posts_nothing(world, invoke) -> None:
    cfg, forum, tracker = world
    out = invoke("--content", "fixed.md", "--apply", policy='reply = "off"')
    assert "No reply in the thread (policy reply=off)" in out.output
    out = invoke("--apply", "--no-reply")
    assert "No reply in the thread (--no-reply)" in out.output
    assert mrs(tracker) == [MR_URL]
    assert mr_replies(forum) == []
    # The run planner does not take the unreplied MR link for a link-back reply it owes.
    store = StateStore(cfg.state_path)
    plan = Pipeline(cfg, forum, tracker, store, shared_detector()).plan()
    store.close()
    assert [a.key for a in plan.actions if a.target_url == MR_URL] == []


def test_failed_reply_exits_7_and_a_rerun_resumes(world, invoke) -> None:
    _, forum, tracker = world
    forum.faults = Faults(fail_write=1, mode="before")
    out = invoke("--content", "fixed.md", "--apply")
    assert out.exit_code == 7
    assert "Reply FAILED" in out.output
    forum.faults = Faults()
    assert invoke("--apply").exit_code == 0
    assert mrs(tracker) == [MR_URL]
    assert len(mr_replies(forum)) == 1


@pytest.mark.parametrize(("args", "policy", "message"), [
    (("--content", "fixed.md"), 'open_draft_mr = "off"', "policy open_draft_mr is off"),
    (("--content", "fixed.md", "--patch", "fixed.md"), "", "not both"),
])
def test_refusals_exit_2(invoke, args: tuple[str, ...], policy: str, message: str) -> None:
    out = invoke(*args, policy=policy)
    assert out.exit_code == 2
    assert message in out.output


def test_unknown_file_topic_or_bad_patch_exit_2(world, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, invoke) -> None:
    cfg, _, _ = world
    (tmp_path / "bad.diff").write_text("@@ -1,1 +1,1 @@\n-nothing like it\n+x\n",
                                       encoding="utf-8")
    out = invoke("--patch", "bad.diff")
    assert out.exit_code == 2
    assert "does not apply" in out.output
    runner = CliRunner()
    for argv in (["mr", "201", "--file", "doc/missing.md"], ["mr", "999", "--file", DOC]):
        out = runner.invoke(app, [*argv, "--content", "fixed.md", "--state",
                                  str(cfg.state_path)])
        assert out.exit_code == 2
        assert "not found" in out.output


def draft_mr(world) -> tuple[DraftMr, StateStore]:
    cfg, forum, tracker = world
    store = StateStore(cfg.state_path)
    return DraftMr(forum, tracker, store, cfg), store


@pytest.mark.parametrize("mode", ["after", "timeout_after", "crash_before", "before"])
def test_a_failed_or_crashed_open_then_rerun_opens_exactly_one(world, mode: str) -> None:
    _, _, tracker = world
    dm, store = draft_mr(world)
    target = dm.resolve(201, DOC)
    tracker.faults = Faults(fail_write=1, mode=mode)
    with pytest.raises((Crash, UnavailableError)):
        dm.open(target, dm.draft(target, FIXED))
    store.close()
    tracker.faults = Faults()
    dm, store = draft_mr(world)
    target = dm.resolve(201, DOC)
    item = dm.open(target, dm.draft(target, FIXED))
    entry = store.ledger_entry(target.key)
    store.close()
    assert mrs(tracker) == [item.web_url]
    assert entry is not None
    assert entry["status"] == "done"


def test_issue_flag_overrides_the_linked_issue(world) -> None:
    dm, store = draft_mr(world)
    other = "https://gitlab.test/gitlab-org/gitlab/-/issues/77"
    target = dm.resolve(201, DOC, issue_url=other)
    description = dm.draft(target, FIXED, summary="Replace only with rules.").description
    store.close()
    assert f"Closes {other}" in description
    assert "Replace only with rules." in description
    assert target.issue_url == other


def test_issue_flag_that_is_no_issue_url_is_a_usage_error(world, invoke) -> None:
    # `--issue notaurl` was put in the MR description ("Closes notaurl") without a word.
    _, _, tracker = world
    result = invoke("--content", "fixed.md", "--issue", "notaurl", "--apply")
    assert result.exit_code == 2, result.output
    assert "--issue 'notaurl' is not a GitLab issue or MR URL" in result.output
    assert mrs(tracker) == []


def test_reply_policy_review_asks_a_person(world, invoke, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    cfg, forum, tracker = world
    monkeypatch.setattr(mr_cmd, "_interactive", lambda: True)
    review = 'reply = "review"'
    declined = invoke("--content", "fixed.md", "--apply", policy=review, input="n\n")
    assert declined.exit_code == 0, declined.output
    assert "---- reply ----" in declined.output
    assert MR_URL in declined.output
    assert "Reply not posted." in declined.output
    assert mr_replies(forum) == []
    accepted = invoke("--apply", policy=review, input="y\n")
    assert "Replied in the thread" in accepted.output
    store = StateStore(cfg.state_path)
    verdict = store.verdict(f"reply:t201:{MR_URL}")
    store.close()
    assert verdict is not None
    assert verdict["verdict"] == "accept"
    assert invoke("--apply", policy=review).exit_code == 0  # accepted: no question, no post
    assert len(mr_replies(forum)) == 1
    assert mrs(tracker) == [MR_URL]


def test_json_output_for_scripts(world, invoke) -> None:
    import json

    out = invoke("--content", "fixed.md", "--apply", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["merge_request"] == {"url": MR_URL, "title": data["merge_request"]["title"],
                                     "state": "opened", "new": True}
    assert data["branch"] == "docsgap/t201-ci-yaml-index" and data["diff"].startswith("---")
    assert data["reply"]["status"] == "applied" and data["reply"]["url"]
    again = json.loads(invoke("--content", "fixed.md", "--apply", "--json").stdout)
    assert again["merge_request"]["new"] is False


def test_a_garbage_patch_exits_2_even_when_the_mr_exists(world, invoke, tmp_path: Path) -> None:
    _, _, tracker = world
    assert invoke("--content", "fixed.md", "--apply").exit_code == 0
    (tmp_path / "garbage.diff").write_text("this is not a diff\n", encoding="utf-8")
    out = invoke("--patch", "garbage.diff", "--apply")
    assert out.exit_code == 2, out.output
    assert "holds no hunks" in out.output
    assert mrs(tracker) == [MR_URL]


def test_non_utf8_content_names_the_file_and_byte(world, invoke, tmp_path: Path) -> None:
    _, _, tracker = world
    (tmp_path / "latin1.md").write_bytes(FIXED.encode("utf-8") + b"caf\xe9\n")
    out = invoke("--content", "latin1.md", "--apply")
    assert out.exit_code == 2, out.output
    assert f"latin1.md: not UTF-8 text: byte 0xe9 at offset {len(FIXED) + 3}" in out.output
    assert mrs(tracker) == []
