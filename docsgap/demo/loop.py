"""`docsgap demo`: the whole loop against the in-process loopback sandbox, through the real
clients over HTTP: dry run, apply, review, a draft MR, the docs team closing and merging, the
follow-ups, and a last pass that changes nothing. Leaves the report where the README says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from docsgap.act import planview
from docsgap.config import (
    Config,
    DedupConfig,
    DocsConfig,
    ForumConfig,
    GitLabConfig,
    PolicyConfig,
)
from docsgap.demo.docsfirst import run_docs_first
from docsgap.detect import rulecache
from docsgap.errors import ConfigError
from docsgap.loop.run import run_once
from docsgap.loop.services import build_services
from docsgap.models import Outcome, RunResult
from docsgap.sandbox import (
    SANDBOX_DISCOURSE_API_KEY,
    SANDBOX_DISCOURSE_API_USERNAME,
    SANDBOX_GITLAB_TOKEN,
    SANDBOX_PROJECT,
    Sandbox,
)

Echo = Callable[[str], None]

MR_TOPIC = 1035
"""The demo thread whose docs example an engineer fixes with a draft MR."""
MR_FILE = "doc/ci/yaml/_index.md"


def demo_config(sandbox: Sandbox, out: Path) -> Config:
    """A config pointing at the sandbox: issues, links, replies and follow-ups on `auto`, so the
    demo shows writes; matches in the review band still wait for a person."""
    return Config(
        forum=ForumConfig(
            url=sandbox.forum_url,
            api_username=SANDBOX_DISCOURSE_API_USERNAME,
            api_key=SANDBOX_DISCOURSE_API_KEY,
            initial_pages=10,
            max_requests=500,
            staff_usernames=("gitlab-team",),
        ),
        gitlab=GitLabConfig(url=sandbox.gitlab_url, project=SANDBOX_PROJECT,
                            token=SANDBOX_GITLAB_TOKEN, summary_issue=True),
        policy=PolicyConfig(open_issue="auto", link_existing="auto", reply="auto",
                            open_draft_mr="review", followup="auto"),
        # The seed's dates are fixed; keep its closed issues in reach as the calendar moves on.
        dedup=DedupConfig(closed_within_days=3650),
        # Docs-first replies to fresh questions (the demo cannot wait a day); spike alerts
        # mention a group once per spike.
        docs=DocsConfig(unanswered_hours=0.0, spike_mention="@docs-team"),
        state_path=out / "state.db",
        max_actions=100,
        source="demo",
    )


def _counts(outcomes: list[Outcome] | tuple[Outcome, ...]) -> str:
    c = Counter((o.action.kind.value, o.status) for o in outcomes)
    return ", ".join(f"{n} {kind} {status}" for (kind, status), n in sorted(c.items())) or "none"


def _applied(result: RunResult) -> int:
    return sum(1 for o in result.outcomes if o.status == "applied")


DEMO_FILES = frozenset({"state.db", "state.db.lock", "state.db-wal", "state.db-shm",
                        "state.db-journal", rulecache.cache_file(Path("state.db")).name,
                        "report.html", "report.md"})
"""What a demo leaves in its folder, and so all a rerun may delete there."""


def fresh_folder(out: Path) -> None:
    """Make `out` empty for a demo: an earlier demo's files go, anything else stays and the
    demo refuses (ConfigError) before any write: `--out .` must never delete someone's work."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: not a folder",
                          hint="pass a new or empty folder (default docsgap-demo)")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir()
                         if p.name not in DEMO_FILES or not p.is_file() or p.is_symlink())
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise ConfigError(
                f"--out {out} holds files a demo did not write ({shown}); the demo only "
                "replaces its own files", hint="pass a new or empty folder (default docsgap-demo)")
        for path in out.iterdir():
            path.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder: {exc.strerror or exc}",
                          hint="pass a folder you can write (default docsgap-demo)") from exc


def run_demo(out: Path, *, echo: Echo) -> Path:
    """Run the demo; returns the path of the HTML report it leaves behind."""
    fresh_folder(out)
    with Sandbox() as sandbox:
        cfg = demo_config(sandbox, out)
        echo(f"Sandbox up: forum {sandbox.forum_url}  GitLab {sandbox.gitlab_url}")

        echo("\n== 1. docsgap run (dry run: plans, writes nothing) ==")
        dry = run_once(cfg, apply=False).result
        echo(f"Scanned {dry.threads_scanned} threads; {len(dry.plan.signals)} docs-gap signals; "
             f"planned: {_counts(dry.outcomes)}")

        echo("\n== 2. docsgap run --apply ==")
        first = run_once(cfg, apply=True)
        echo(planview.render_text(first.result, applied=True, compact=True))
        echo(f"Pass result: {_counts(first.result.outcomes)}")

        echo("\n== 3. docsgap review (scripted: accept one, reject one) ==")
        _review(cfg, echo)
        accepted = run_once(cfg, apply=True).result
        echo(f"docsgap run --apply after review: {_counts(accepted.outcomes)}")

        echo(f"\n== 4. docsgap mr {MR_TOPIC} --file {MR_FILE} (an engineer's fix) ==")
        mr_url = _draft_mr(cfg, echo)

        echo("\n== 5. The docs team merges the MR, fixes one issue, declines another ==")
        _docs_team(sandbox, cfg, mr_url, echo)
        echo("docsgap followup --apply:")
        _followups(cfg, echo)

        echo("\n== 6. Everything again: docsgap run --apply && docsgap followup --apply ==")
        last = run_once(cfg, apply=True)
        new = _applied(last.result) + _followups(cfg, echo, quiet=True)
        echo(f"{new} new write(s): every write is idempotent (ledger + hidden markers).")
        state = sandbox.state()
        bot = [p for t in state["topics"] for p in t["posts"]
               if p["username"] == SANDBOX_DISCOURSE_API_USERNAME]
        echo(f"Sandbox now holds {len(state['issues'])} issues and "
             f"{len(state['merge_requests'])} MRs; docsgap-bot posted {len(bot)} forum posts; "
             f"summary issue: {last.summary_issue}")
        run_docs_first(sandbox, cfg, echo)
    return _reports(cfg, out, echo)


def _review(cfg: Config, echo: Echo) -> None:
    from docsgap import review

    services = build_services(cfg)
    try:
        plan = review.review_plan(cfg, services.forum, services.tracker, services.store,
                                  services.detector)
        items = review.pending(plan, services.store, cfg)
        echo(f"{len(items)} action(s) wait for review (matches in the review band).")
        if not items:
            return
        first = items[0]
        echo(f"- {first.action.kind.value} {first.action.key}\n    why: {first.action.reason}")
        echo("    text that would be posted:")
        echo("\n".join("      | " + line for line in first.preview.splitlines()[:8]))
        review.decide(services.store, first, "accept", note="demo reviewer")
        echo("    -> accepted")
        if len(items) > 1:
            second = items[1]
            review.decide(services.store, second, "reject", note="demo reviewer: different gap")
            echo(f"- {second.action.kind.value} {second.action.key}\n    -> rejected "
                 "(its signal never comes back)")
    finally:
        services.store.close()


def _draft_mr(cfg: Config, echo: Echo) -> str:
    from docsgap.act.mr import DraftMr, unified_diff

    services = build_services(cfg)
    try:
        dm = DraftMr(services.forum, services.tracker, services.store, cfg)
        target = dm.resolve(MR_TOPIC, MR_FILE)
        original = dm.original(target)
        fixed = original.replace(
            "Shows a link to the artifact in the merge request widget. Example:",
            "Shows a link to the artifact in the merge request widget. To expose a whole\n"
            "directory, end its path with `/`. Example:",
        )
        echo(unified_diff(original, fixed, MR_FILE).rstrip())
        draft = dm.draft(target, fixed, summary="Explain directories in artifacts:expose_as")
        item = dm.open(target, draft)
        echo(f"Draft MR: {item.web_url} ({item.title})")
        outcome = dm.reply(target, dm.reply_action(target, item.web_url), confirmed=True)
        echo(f"Reply in the thread: {outcome.status} {outcome.remote_url or ''}".rstrip())
        return item.web_url
    finally:
        services.store.close()


def _docs_team(sandbox: Sandbox, cfg: Config, mr_url: str, echo: Echo) -> None:
    from docsgap.state import StateStore

    store = StateStore(cfg.state_path)
    try:
        opened = sorted({r["item_url"] for r in store.links()
                         if r["reply_url"] and "/-/issues/" in r["item_url"]
                         and (item := store.item(r["item_url"])) and item.state == "opened"})
    finally:
        store.close()
    sandbox.merge_merge_request(int(mr_url.rsplit("/", 1)[1]))
    echo(f"merged {mr_url}")
    if opened:
        sandbox.close_issue(int(opened[0].rsplit("/", 1)[1]))
        echo(f"closed as done: {opened[0]}")
    if len(opened) > 1:
        sandbox.close_issue(int(opened[-1].rsplit("/", 1)[1]), labels=("won't do",))
        echo(f"closed as won't do: {opened[-1]}")


def _followups(cfg: Config, echo: Echo, *, quiet: bool = False) -> int:
    from docsgap.act.followup import FollowUps

    services = build_services(cfg)
    try:
        plan, outcomes = FollowUps(services.forum, services.tracker, services.store,
                                   cfg).run(apply=True)
    finally:
        services.store.close()
    if not quiet:
        for o in outcomes:
            echo(f"- follow-up {o.status}: {o.remote_url or o.action.target_url}")
        for s in plan.skips:
            if "won't do" in s.reason:
                echo(f"- no follow-up: {s.reason}")
    return sum(1 for o in outcomes if o.status == "applied")


def _reports(cfg: Config, out: Path, echo: Echo) -> Path:
    from docsgap.report import render, render_state, rows_from_state
    from docsgap.state import StateStore

    store = StateStore(cfg.state_path)
    try:
        rows = rows_from_state(store)
        echo("\n== docsgap report ==")
        echo(render(rows, "table"))
        html = out / "report.html"
        html.write_text(render_state(store, "html"), encoding="utf-8")
        (out / "report.md").write_text(render(rows, "markdown"), encoding="utf-8")
    finally:
        store.close()
    echo(f"\nReports written: {html} and {out / 'report.md'}; state: {cfg.state_path}")
    return html
