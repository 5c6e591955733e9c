"""`docsgap review`: walk a person through the actions waiting for review (interactive), or
list and decide them from a script (`--list`, `--accept KEY`, `--reject KEY`, `--accept-all`)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click
import typer

from docsgap import review
from docsgap.act.planview import label_lines, refs
from docsgap.cli import common, review_fix
from docsgap.cli.run_cmd import (
    CONFIG_OPT,
    FORUM_URL_OPT,
    GITLAB_URL_OPT,
    PROJECT_OPT,
    STATE_OPT,
    load,
)
from docsgap.config import Config, require_target
from docsgap.errors import ExitCode, RemoteError, UsageError
from docsgap.loop.services import Services, build_services
from docsgap.models import ActionKind, Thread
from docsgap.review import ReviewItem
from docsgap.textfile import read_utf8

_WHERE = {
    ActionKind.OPEN_ISSUE: "as a new GitLab issue",
    ActionKind.LINK_EXISTING: "as a note on {target}",
    ActionKind.REPLY: "as a reply in forum thread #{thread}",
    ActionKind.FOLLOWUP: "as a follow-up in forum thread #{thread}",
    ActionKind.OPEN_DRAFT_MR: "as a draft MR",
    ActionKind.DOCS_REPLY: "as a docs-first reply in forum thread #{thread}",
}
_CHOICES = {"a": "accept", "e": "edit", "s": "skip", "r": "reject", "l": "link", "q": "quit"}


def _usage(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(int(ExitCode.USAGE))


class _Threads:
    """Fetch each thread once, for excerpts; a failure shows as a note, never aborts review."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.cache: dict[int, Thread | str] = {}

    def excerpt(self, thread_id: int, post_number: int) -> str:
        if thread_id not in self.cache:
            try:
                self.cache[thread_id] = self.services.forum.thread(thread_id)
            except RemoteError as exc:
                self.cache[thread_id] = f"(thread not fetched: {exc})"
        got = self.cache[thread_id]
        if isinstance(got, str):
            return got
        post = next((p for p in got.posts if p.number == post_number), None)
        who = f"post #{post_number}" + (f" by {post.username}" if post else "")
        return f"{who}: {review.excerpt(got, post_number)}"


def render_item(item: ReviewItem, n: int, total: int, threads: _Threads | None) -> str:
    """Everything a reviewer needs on one screen: thread, evidence, match, why, the text."""
    a = item.action
    flags = " (edited)" * item.edited + " (skipped before)" * item.skipped
    lines = [f"[{n}/{total}] {a.kind.value.upper()}  {a.key}{flags}"]
    for s in item.signals:
        lines.append(f"  thread #{s.thread_id} {s.thread_title!r}  {s.thread_url}")
        if threads is not None:
            lines.append(f"    {threads.excerpt(s.thread_id, s.post_number)}")
        page = (s.page.path or s.page.url) if s.page else "no docs page identified"
        lines.append(f"    gap: {s.gap_type.value}; page: {page}")
        # Several rules often fire on one sentence: show the sentence once.
        by_text: dict[str, list[tuple[str, str]]] = {}
        for e in s.evidence:
            by_text.setdefault(e.text, []).append((e.rule_id, e.matched))
        for text, hits in list(by_text.items())[:3]:
            rules = ", ".join(dict.fromkeys(r for r, _ in hits))
            lines.append(f"    evidence [{rules}]: \"{text[:200]}\"")
            lines.append("      matched: " + " | ".join(dict.fromkeys(repr(m) for _, m in hits)))
    if a.target_url:
        lines.append(f"  target: {a.target_url}")
    warning = review.confidential_warning(item)
    if warning:
        lines.append(f"  CONFIDENTIAL: {warning}")
    match = item.match
    if match is not None and match.reason and match.reason in a.reason:
        match = replace(match, reason="")  # already in the "why" line below
    lines.extend(f"  match: {line}" for line in review.match_lines(match))
    lines.append(f"  why: {refs(a.reason, a.target_url)}")
    lines.extend(label_lines(a, "  "))
    where = _WHERE[a.kind].format(target=a.target_url, thread=a.thread_ids[0]
                                  if a.thread_ids else "?")
    lines.append(f"  ---- would be posted {where} ----")
    lines.extend(f"  | {line}" for line in item.preview.rstrip("\n").split("\n"))
    lines.append("  ----")
    return "\n".join(lines)


def _interactive() -> bool:
    """Whether a person can answer the prompts (scripts, CI and pipes cannot)."""
    return sys.stdin.isatty()


def interactive(services: Services, cfg: Config, items: list[ReviewItem]
                ) -> tuple[dict[str, int], bool]:
    """The terminal walk-through: how many of each verdict were given, and whether the person
    left with Ctrl-C or Ctrl-D (each verdict is stored the moment it is given, so none is
    lost either way)."""
    counts = {"accept": 0, "reject": 0, "skip": 0}
    threads = _Threads(services)
    dropped: set[str] = set()
    queue = list(items)
    try:
        for n, item in enumerate(queue, 1):
            if item.action.key in dropped:
                continue
            typer.echo("\n" + render_item(item, n, len(queue), threads))
            if not _one(services, cfg, queue, item, counts, dropped):
                return counts, False
    except click.exceptions.Abort:  # Ctrl-C or end of input at a prompt
        return counts, True
    return counts, False


def _one(services: Services, cfg: Config, queue: list[ReviewItem], item: ReviewItem,
         counts: dict[str, int], dropped: set[str]) -> bool:
    """Ask about one item until it has a verdict; False when the person quits."""
    text, edited = item.preview, False
    while True:
        choice = _CHOICES[click.prompt(
            "[a]ccept  [e]dit  [s]kip  [r]eject  [l]ink another issue  [q]uit", default="s",
            type=click.Choice(list(_CHOICES)), show_choices=False)]
        if choice == "quit":
            return False
        if choice == "link":
            target = click.prompt("  issue or MR to link instead (URL, #123 or !45)",
                                  default="", show_default=False)
            if not target.strip():
                continue
            try:
                said = review_fix.link_instead(services, cfg, item, target, None)
            except (KeyError, ValueError) as exc:
                typer.echo(f"  ({exc.args[0]})")
                continue
            typer.echo("\n".join(f"  {line}" for line in said))
            counts["accept"] += 1
            dropped.update(i.action.key for i in queue if i is not item and
                           set(i.action.signal_keys) & set(item.action.signal_keys))
            return True
        if choice == "edit":
            try:
                new = click.edit(text, extension=".md", require_save=True)
            except click.ClickException as exc:  # no editor, or it failed
                typer.echo(f"  (editor failed: {exc.format_message()}; set $EDITOR)")
                continue
            if new is None or new.strip() == text.strip():
                typer.echo("  (unchanged)")
                continue
            for problem in review.edit_warnings(item, new):
                typer.echo(f"  warning: {problem}")
            text, edited = new, True
            typer.echo("  ---- edited text ----")
            typer.echo("\n".join(f"  | {line}" for line in text.rstrip("\n").split("\n")))
            continue
        body = text if edited else None
        review.decide(services.store, item, choice, body=body if choice != "reject" else None)
        counts[choice] += 1
        if choice == "reject":
            later = review.dropped_with(queue, item)
            dropped.update(d.action.key for d in later)
            if later:
                typer.echo(f"  ({len(later)} action(s) that depend on it dropped too)")
        return True


def register(app: typer.Typer, groups: common.Groups) -> None:
    """Add `review`."""

    @app.command("review")
    @common.handle_errors
    def review_command(
        list_only: bool = typer.Option(False, "--list", help="List pending actions and exit."),
        as_json: bool = typer.Option(
            False, "--json", help="Print the queue as JSON (alone, it implies --list)."),
        accept: list[str] = typer.Option(
            [], "--accept", metavar="KEY", help="Accept this action (repeatable; a unique key "
            "prefix is enough)."),
        reject: list[str] = typer.Option(
            [], "--reject", metavar="KEY", help="Reject this action for good (repeatable)."),
        skip: list[str] = typer.Option(
            [], "--skip", metavar="KEY", help="Defer this action (it stays queued)."),
        accept_all: bool = typer.Option(False, "--accept-all", help="Accept every pending action."),
        body_file: Path | None = typer.Option(
            None, "--body-file", exists=True, dir_okay=False,
            help="With one --accept/--skip: the text to post instead of the composed one."),
        link: tuple[str, str] | None = typer.Option(
            None, "--link", metavar="KEY ISSUE",
            help="Link this pending issue, link or reply's report to another issue or MR "
                 "instead (its URL, #123 or !45); the link is accepted, the reply then "
                 "points there. KEY may be a thread (#1035), also one --apply already "
                 "linked to the wrong issue."),
        undo: list[str] = typer.Option(
            [], "--undo", metavar="KEY", help="Take back a verdict not carried out yet (the "
            "action waits for review again; a rejected report comes back; a hand link goes)."),
        note: str | None = typer.Option(None, "--note", help="Why (kept with the verdict)."),
        refresh: bool = typer.Option(
            False, "--refresh", help="Sync GitLab and scan the forum first (read-only)."),
        config: Path | None = CONFIG_OPT,
        state: Path | None = STATE_OPT,
        forum_url: str | None = FORUM_URL_OPT,
        gitlab_url: str | None = GITLAB_URL_OPT,
        project: str | None = PROJECT_OPT,
    ) -> None:
        """Review the actions waiting for a person: for each, the thread excerpt, the evidence,
        the match explanation and the exact text that would be posted; accept, edit ($EDITOR),
        skip or reject. Verdicts are kept in the state: accepted actions are carried out by the
        next `docsgap run --apply` (follow-ups: `docsgap followup --apply`); a rejected report
        never comes back. Plans from the state the last `docsgap run` left (no scan unless
        --refresh); writes nothing to GitLab or the forum."""
        decisions = [("accept", k) for k in accept] + [("reject", k) for k in reject] + [
            ("skip", k) for k in skip]
        if body_file and (len(decisions) != 1 or decisions[0][0] == "reject"):
            raise _usage("--body-file goes with exactly one --accept or --skip")
        if accept_all and (decisions or body_file):
            raise _usage("--accept-all cannot be combined with --accept/--reject/--skip")
        fixes = bool(link) + bool(undo)
        if fixes and (decisions or accept_all or body_file):
            raise _usage("--link and --undo go alone, not with --accept/--reject/--skip")
        cfg = load(config, state, forum_url=forum_url, gitlab_url=gitlab_url, project=project)
        if not refresh and not cfg.state_path.exists():
            require_target(cfg)  # as build_services would: no target named is exit 3
            # Nothing was run with this state (or the wrong folder): say so, create nothing.
            if list_only or (as_json and not decisions and not accept_all):
                _list([], as_json=as_json)
                if not as_json:  # the wrong folder or --state looks like an empty queue
                    typer.echo(f"(There is no state at {cfg.state_path} yet: `docsgap run` "
                               "plans the actions.)", err=True)
                return
            if decisions or fixes:
                raise _usage(f"nothing to decide: no state at {cfg.state_path} (run "
                             "`docsgap run` first)")
            typer.echo(f"Nothing waits for review. (There is no state at {cfg.state_path} "
                       "yet: `docsgap run` plans the actions.)")
            return
        services = build_services(cfg)
        try:
            plan = review.review_plan(cfg, services.forum, services.tracker, services.store,
                                      services.detector, refresh=refresh)
            items = review.pending(plan, services.store, cfg)
            if fixes:
                review_fix.fix(services, cfg, items, link=link, undo=undo, note=note)
            elif list_only or (as_json and not decisions and not accept_all):
                _list(items, as_json=as_json)
            elif accept_all:
                for item in items:
                    review.decide(services.store, item, "accept", note=note)
                typer.echo(f"accepted {len(items)} action(s); `docsgap run --apply` carries "
                           "them out (follow-ups: `docsgap followup --apply`)")
            elif decisions:
                _decide(services, items, decisions, body_file, note)
            elif not items:
                typer.echo("Nothing waits for review.")
            elif not _interactive():
                raise _usage(
                    f"{len(items)} action(s) wait for review, and review needs a terminal to "
                    "ask; from a script use --list [--json], --accept KEY, --reject KEY, "
                    "--skip KEY or --accept-all")
            else:
                counts, interrupted = interactive(services, cfg, items)
                said = (f"{counts['accept']} accepted, {counts['reject']} rejected, "
                        f"{counts['skip']} skipped")
                if interrupted:
                    typer.echo(f"\ninterrupted: {said}; those verdicts are kept.", err=True)
                    raise typer.Exit(int(ExitCode.INTERRUPTED))
                typer.echo(f"\n{said}. Accepted actions run with "
                           "`docsgap run --apply` (follow-ups: `docsgap followup --apply`).")
        finally:
            services.store.close()


def _list(items: list[ReviewItem], *, as_json: bool) -> None:
    if as_json:
        common.echo_json({"count": len(items), "pending": [review.item_json(i) for i in items]})
        return
    if not items:
        typer.echo("Nothing waits for review.")
        return
    for item in items:
        a = item.action
        flags = " [edited]" * item.edited + " [skipped]" * item.skipped
        threads = ",".join(f"#{t}" for t in a.thread_ids)
        typer.echo(f"{a.key}\n    {a.kind.value} thread {threads} -> "
                   f"{a.target_url or '(new issue)'}{flags}\n    why: "
                   f"{refs(a.reason, a.target_url)}")
        warning = review.confidential_warning(item)
        if warning:
            typer.echo(f"    CONFIDENTIAL: {warning}")
    typer.echo(f"{len(items)} action(s) wait for review.")


def _decide(services: Services, items: list[ReviewItem], decisions: list[tuple[str, str]],
            body_file: Path | None, note: str | None) -> None:
    body = read_utf8(body_file, error=UsageError) if body_file else None
    decided = services.store.verdicts()
    try:
        chosen = [(verdict, review.find(items, key, decided)) for verdict, key in decisions]
    except KeyError as exc:
        raise _usage(str(exc.args[0])) from None
    decided = {item.action.key: verdict for verdict, item in chosen}
    for verdict, item in chosen:
        if body is not None:
            for problem in review.edit_warnings(item, body):
                typer.echo(f"warning: {problem}", err=True)
        review.decide(services.store, item, verdict, body=body, note=note)
        dep = item.action.depends_on
        if verdict == "accept" and dep and decided.get(dep) != "accept" and any(
            i.action.key == dep for i in items
        ):
            typer.echo(f"warning: {item.action.key} waits for {dep}, which is not accepted",
                       err=True)
        typer.echo(f"{verdict}: {item.action.key}")
        if verdict == "reject":
            for gone in review.dropped_with(items, item):
                typer.echo(f"  dropped with it: {gone.action.key}")
