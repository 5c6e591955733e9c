"""`docsgap review --link KEY ISSUE` and `--undo KEY`: correct a decision before docsgap
writes it (and say what to do by hand once it has)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import typer

from docsgap import review
from docsgap.config import Config
from docsgap.errors import ExitCode
from docsgap.loop.handlinks import PREFIX as HAND_PREFIX
from docsgap.loop.services import Services
from docsgap.models import ActionKind
from docsgap.review import ReviewItem, corrections
from docsgap.scan.topics import topic_id


def fix(services: Services, cfg: Config, items: list[ReviewItem], *,
        link: tuple[str, str] | None, undo: Sequence[str], note: str | None) -> None:
    """Carry out `--link` and `--undo`; a key or issue that does not fit is exit 2."""
    try:
        for key in undo:
            done = corrections.undo(services.store, key)
            hand = [k for k in done.also if k.startswith(HAND_PREFIX)]
            if hand:
                typer.echo(f"undone: the hand link {done.key}; docsgap's own match for "
                           f"{len(hand)} report(s) is planned again and waits for review")
            elif done.verdict == "reject":
                typer.echo(f"undone: reject on {done.key}; it and the {len(done.also)} "
                           "report(s) rejected with it are back in the queue")
            else:
                typer.echo(f"undone: {done.verdict} on {done.key}; it waits for review again")
        if link:
            key, target = link
            thread = _thread(key, cfg)
            pending = [i for i in items if thread in i.action.thread_ids
                       and i.action.kind in corrections.LINKABLE] if thread else []
            if thread is not None and not pending:
                lines = relink_thread(services, cfg, thread, target, note)
            else:
                item = _only(pending[0], thread) if pending and thread is not None \
                    else review.find(items, key, services.store.verdicts())
                lines = link_instead(services, cfg, item, target, note)
            for line in lines:
                typer.echo(line)
    except (KeyError, ValueError) as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(int(ExitCode.USAGE)) from None


def _thread(text: str, cfg: Config) -> int | None:
    """The topic id `--link` names instead of an action key (`#123`, `123`, a topic URL)."""
    if not re.fullmatch(r"#?\d+", text.strip()) and "/t/" not in text:
        return None
    return topic_id(text.strip().removeprefix("#"), cfg.forum.url)


def _only(item: ReviewItem, thread: int) -> ReviewItem:
    """`item` narrowed to the signals of `thread` (an issue or link planned for several threads
    moves only the one named)."""
    mine = tuple(s for s in item.signals if s.thread_id == thread)
    if not mine or len(mine) == len(item.action.signal_keys):
        return item
    action = replace(item.action, signal_keys=tuple(s.key for s in mine), thread_ids=(thread,))
    return replace(item, action=action, signals=mine)


def relink_thread(services: Services, cfg: Config, thread: int, target_text: str,
                  note: str | None) -> list[str]:
    """`--link #THREAD ISSUE` for a thread `--apply` already linked: move it, and say what
    was written that a person corrects by hand."""
    store = services.store
    target = corrections.resolve_item(store, target_text, cfg.gitlab.project)
    moved = corrections.relink_written(store, thread, target, note)
    if not moved:
        raise KeyError(f"thread #{thread} has nothing docsgap linked or plans to link "
                       "(see `docsgap review --list` and `docsgap report`)")
    plan = review.review_plan(cfg, services.forum, services.tracker, store, services.detector)
    now = review.pending(plan, store, cfg)
    chosen = corrections.hand_link_action(now, [m.signal_key for m in moved], target.web_url)
    if chosen is not None:
        review.decide(store, chosen, "accept", note=note)
    lines = [f"thread #{thread} -> {target.web_url} ({target.state}) by hand: " + (
        f"accepted as {chosen.action.key}; `docsgap run --apply` links it there and replies "
        "again (the reply after review)" if chosen else
        "nothing is planned while the thread itself still shows the old link (docsgap's "
        f"posts below); once they are gone, `docsgap run --topic {thread}` plans the link "
        "and `docsgap review` asks you to accept it")]
    for m in moved:
        lines.append(f"  was linked to {m.item_url}: edit its evidence note by hand (docsgap "
                     "leaves written notes alone)")
        lines.extend(f"  delete or edit {post}: while it names the old issue (and its hidden "
                     "marker is there), docsgap posts no new reply"
                     for post in (m.reply_url, m.followup_url) if post)
    return lines


def link_instead(services: Services, cfg: Config, item: ReviewItem, target_text: str,
                 note: str | None) -> list[str]:
    """Link `item`'s report to `target_text` by hand and accept that link; what it means, as
    lines to print."""
    store = services.store
    target = corrections.resolve_item(store, target_text, cfg.gitlab.project)
    keys = corrections.link_by_hand(store, item, target, note)
    plan = review.review_plan(cfg, services.forum, services.tracker, store, services.detector)
    now = review.pending(plan, store, cfg)
    chosen = corrections.hand_link_action(now, keys, target.web_url)
    threads = ", ".join(f"#{t}" for t in item.action.thread_ids)
    if chosen is None:  # nothing left to plan (already linked meanwhile)
        return [f"thread {threads}: linked by hand to {target.web_url}, but nothing is "
                "planned for it now"]
    review.decide(store, chosen, "accept", note=note)
    lines = [f"thread {threads} -> {target.web_url} ({target.state}) by hand: accepted as "
             f"{chosen.action.key}; `docsgap run --apply` "
             + ("adds the evidence note" if target.state == "opened"
                else f"records the link (no note on a {target.state} item)")]
    for reply in now:
        if reply.action.kind is ActionKind.REPLY and set(reply.action.signal_keys) & set(keys):
            state = "accepted" if store.verdicts().get(reply.action.key) == "accept" \
                else "waits for review"
            lines.append(f"  its reply now links {target.web_url} and {state}: "
                         f"{reply.action.key}")
            if reply.edited and item.action.target_url and \
                    item.action.target_url in reply.preview:
                lines.append(f"  warning: its edited text still names {item.action.target_url}")
    warning = review.confidential_warning(chosen)
    if warning:
        lines.append(f"  CONFIDENTIAL: {warning}")
    return lines
