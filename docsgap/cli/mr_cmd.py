"""`docsgap mr TOPIC --file doc/path.md`: edit a docs file (in $EDITOR, from a unified diff or
a whole new file), commit it to a new branch and open a Draft MR linking the thread and the
issue, then (per policy `reply`) reply in the thread with the MR link."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click
import typer

from docsgap import review
from docsgap.act import mr
from docsgap.act.items import parse_item_url
from docsgap.act.mr import DraftMr, MrRefused, MrTarget
from docsgap.cli import common
from docsgap.cli.run_cmd import (
    CONFIG_OPT,
    FORUM_URL_OPT,
    GITLAB_URL_OPT,
    PROJECT_OPT,
    STATE_OPT,
    load,
)
from docsgap.config import Config
from docsgap.doctor.preflight import Needs
from docsgap.errors import ExitCode, UsageError
from docsgap.loop.services import Services, build_services
from docsgap.models import TrackerItem
from docsgap.state.lock import state_lock
from docsgap.textfile import read_utf8


class _Out:
    """Where `mr` reports: text lines on the terminal, or one JSON object with `--json`."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.data: dict[str, Any] = {"messages": []}

    def say(self, text: str, *, err: bool = False, nl: bool = True) -> None:
        if self.as_json:
            self.data["messages"].append(text.strip())
        else:
            typer.echo(text, err=err, nl=nl)

    def done(self) -> None:
        if self.as_json:
            common.echo_json(self.data)


def _new_content(dm: DraftMr, target: MrTarget, original: str, patch: str | None,
                 content: str | None) -> tuple[str, bool]:
    """The edited file text, and whether it came from the editor."""
    if content is not None:
        return content, False
    if patch is not None:
        return mr.apply_patch(original, patch, path=target.path), False
    if not (os.environ.get("VISUAL") or os.environ.get("EDITOR")) and not _interactive():
        # click would fall back to vi, drawing into a pipe: say what to pass instead.
        raise UsageError("no editor to open: no terminal and no $EDITOR",
                         hint="pass the change with --patch FILE (a unified diff) or --content "
                         "FILE (the whole new file), or set $EDITOR")
    edited = click.edit(original, extension=Path(target.path).suffix or ".md",
                        require_save=True)
    return (original if edited is None else edited), True


def _interactive() -> bool:
    """Whether a person can answer a question (scripts and CI cannot)."""
    return sys.stdin.isatty()


def _save_draft(cfg: Config, target: MrTarget, text: str) -> Path:
    """Keep an editor session's work when nothing is written (a dry run)."""
    path = cfg.state_path.parent / "drafts" / f"{target.branch.replace('/', '-')}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _reply(out: _Out, dm: DraftMr, target: MrTarget, item: TrackerItem, *,
           reply: bool | None, apply: bool) -> bool:
    """Reply in the thread with the MR link when the policy allows; False if a post failed."""
    action = dm.reply_action(target, item.web_url)
    mode = dm.reply_mode(action)
    if mode in ("off", "rejected") or reply is False:
        why = "--no-reply" if reply is False else f"policy reply={mode}"
        out.say(f"No reply in the thread ({why}).")
        return True
    if not apply:
        out.say(f"Would reply in thread #{target.thread.id} with the MR link (policy "
                   f"reply={mode}{'' if mode != 'review' else ', asks first'}).")
        return True
    confirmed = reply is True
    if mode == "review" and not confirmed:
        if not _interactive():
            out.say("Reply not posted: policy reply=review; rerun with --reply to post it.")
            return True
        signals = {target.signal.key: target.signal} if target.signal else {}
        text = review.preview_text(action, signals, dm.config, dm.store)
        out.say("---- reply ----\n" + text.rstrip() + "\n----")
        if not click.confirm(f"Post this reply in thread #{target.thread.id}?", default=True):
            out.say("Reply not posted.")
            return True
        confirmed = True
    outcome = dm.reply(target, action, confirmed=confirmed)
    out.data["reply"] = {"status": outcome.status, "url": outcome.remote_url,
                         "error": outcome.error}
    if outcome.status == "applied":
        out.say(f"Replied in the thread: {outcome.remote_url}")
    elif outcome.status == "already_done":
        out.say(f"No new reply: {outcome.error or 'already posted'}"
                   + (f" ({outcome.remote_url})" if outcome.remote_url else ""))
    elif outcome.status == "failed":
        out.say(f"Reply FAILED: {outcome.error}; a rerun with the same arguments resumes",
                   err=True)
        return False
    else:
        out.say(f"Reply {outcome.status}: {outcome.error or ''}".rstrip(": "))
    return True


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `mr`."""

    @app.command("mr")
    @common.handle_errors
    def mr_command(
        topic: int = typer.Argument(..., help="Forum topic id the change answers."),
        file: str = typer.Option(
            ..., "--file", "-f", help="Docs file in the repository, e.g. doc/ci/yaml/_index.md."),
        patch: Path | None = typer.Option(
            None, "--patch", exists=True, dir_okay=False,
            help="Apply this unified diff (git diff) instead of opening $EDITOR."),
        content: Path | None = typer.Option(
            None, "--content", exists=True, dir_okay=False,
            help="Use this file as the whole new content instead of opening $EDITOR."),
        issue: str | None = typer.Option(
            None, "--issue", help="Issue URL the MR addresses [default: the issue docsgap "
            "linked to the thread]."),
        title: str | None = typer.Option(None, "--title", help="MR title ('Draft: ' is added)."),
        summary: str | None = typer.Option(
            None, "--summary", help="One paragraph for the MR description: what changes."),
        reply: bool | None = typer.Option(
            None, "--reply/--no-reply", help="Reply in the thread with the MR link [default: "
            "per policy reply: auto posts, review asks (scripts: pass --reply)]."),
        apply: bool = typer.Option(
            False, "--apply", help="Commit, open the Draft MR and reply. Default: show the "
            "diff and what would happen."),
        as_json: bool = typer.Option(
            False, "--json", help="Print one JSON object (diff, MR, reply, messages)."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
        forum_url: str | None = FORUM_URL_OPT,
        gitlab_url: str | None = GITLAB_URL_OPT,
        project: str | None = PROJECT_OPT,
    ) -> None:
        """Draft a docs fix as a GitLab Draft MR. Fetches the --file from the target branch, lets
        you edit it ($EDITOR, --patch or --content), shows the diff and, with --apply, commits it to
        branch docsgap/t<TOPIC>-<slug>, opens a Draft MR whose description links the thread and
        the issue, records the link for the report, and replies in the thread with the MR link
        (policy reply). Safe to rerun: an MR already open from that branch is reused, and the
        reply is posted once. Exit 2 if the patch does not apply or the file/topic is unknown,
        7 if the MR was opened but the reply failed (rerun to resume)."""
        if patch is not None and content is not None:
            raise common.fail(MrRefused("give --patch or --content, not both"))
        # Read and check the inputs before any request: a bad file is exit 2 whatever exists.
        patch_text = read_utf8(patch, error=UsageError) if patch is not None else None
        content_text = read_utf8(content, error=UsageError) if content is not None else None
        if patch_text is not None:
            mr.check_patch(patch_text, path=file.lstrip("/"))
        if issue is not None:
            try:  # the MR description says "Closes <issue>": a typo there closes nothing
                parse_item_url(issue)
            except ValueError:
                raise common.fail(UsageError(
                    f"--issue {issue!r} is not a GitLab issue or MR URL",
                    hint="give its web URL, e.g. https://gitlab.com/gitlab-org/gitlab/-/issues/123",
                )) from None
        cfg = load(config, state, forum_url=forum_url, gitlab_url=gitlab_url, project=project)
        out = _Out(as_json)
        out.data.update({"topic": topic, "file": file, "applied": apply})
        lock = (state_lock(cfg.state_path, "docsgap mr --apply") if apply
                else contextlib.nullcontext())
        with lock:
            services = build_services(cfg)
            try:
                dm = DraftMr(services.forum, services.tracker, services.store, cfg)
                target = dm.resolve(topic, file, issue_url=issue)
                out.data.update({"branch": target.branch, "issue": target.issue_url})
                item = target.existing
                if item is not None:
                    out.data["merge_request"] = {"url": item.web_url, "title": item.title,
                                                 "state": item.state, "new": False}
                    out.say(f"A merge request from {target.branch} already exists: "
                               f"{item.web_url} ({item.state}); nothing new is committed.")
                    if patch or content:
                        out.say(f"To change it further, push to {target.branch}.")
                    if apply:
                        _preflight(services, cfg, dm, target, mr_url=item.web_url, opens=False,
                                   reply=reply)
                        dm.record(target, item)
                else:
                    original = dm.original(target)
                    new, from_editor = _new_content(dm, target, original, patch_text, content_text)
                    if new == original:
                        out.say(f"{target.path} is unchanged: no merge request.")
                        out.done()
                        return
                    diff = mr.unified_diff(original, new, target.path)
                    out.data["diff"] = diff
                    out.say(diff, nl=False)
                    draft = dm.draft(target, new, title=title, summary=summary)
                    if target.rights is not None:
                        out.data["mr_mode"] = target.rights.mr_mode
                    if not apply:
                        out.say(
                            f"\nDry run: would commit to {dm.where(target, draft)} and open "
                            f"{draft.title!r} linking thread #{topic}"
                            + (f" and {target.issue_url}" if target.issue_url else "")
                            + ". Add --apply to do it.")
                        out.data["owner_labels"] = [{"name": lb.name, "why": lb.why}
                                                    for lb in draft.owner_labels]
                        for lb in draft.owner_labels:
                            out.say(f"  label {lb.name}: {lb.why} (added if the project or "
                                    "its groups have it)")
                        blocked = dm.blocked(target)
                        if blocked is not None:
                            out.say(f"--apply would stop: {blocked} (fix: {blocked.hint})",
                                    err=True)
                        if from_editor:
                            saved = _save_draft(cfg, target, new)
                            out.say(f"Your edit is saved in {saved}; rerun with --content "
                                    f"{saved} --apply.")
                        _reply(out, dm, target, _placeholder(draft.source_branch), reply=reply,
                               apply=False)
                        out.done()
                        return
                    _preflight(services, cfg, dm, target, mr_url="", opens=True, reply=reply)
                    item = dm.open(target, draft)
                    out.data["merge_request"] = {"url": item.web_url, "title": item.title,
                                                 "state": item.state, "new": True}
                    out.say(f"Opened draft merge request: {item.web_url}")
                if apply and not _reply(out, dm, target, item, reply=reply, apply=True):
                    out.done()
                    raise typer.Exit(int(ExitCode.PARTIAL))
                if not apply:
                    _reply(out, dm, target, item, reply=reply, apply=False)
                out.done()
            finally:
                services.store.close()


def _preflight(services: Services, cfg: Config, dm: DraftMr, target: MrTarget, *, mr_url: str,
               opens: bool, reply: bool | None) -> None:
    """Before the first write: the token must be able to open the MR, and the forum key to
    post the reply if one may be posted."""
    mode = dm.reply_mode(dm.reply_action(target, mr_url))
    posts = reply is not False and mode not in ("off", "rejected") and (
        mode != "review" or reply is True or _interactive())
    services.preflight.check(Needs(forum=("the reply with the MR link",) if posts else (),
                                   gitlab=("a draft MR",) if opens else ()), cfg)


def _placeholder(branch: str) -> TrackerItem:
    """Stands for the MR a dry run would open (only its URL is shown)."""
    return TrackerItem("merge_request", "", 0, "", "", "opened",
                       f"(the new merge request from {branch})")
