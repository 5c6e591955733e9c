"""The docs-first part of `docsgap demo`, against its sandbox: the docs index synced from the
repository archive (and again, unchanged, for one request), one new question judged on its own
with `run --topic`, its docs-first reply accepted in review and posted, and a spike of threads
about one page, which the summary issue announces once."""

from __future__ import annotations

from collections.abc import Callable

from pydiscourse import DiscourseClient

from docsgap import review
from docsgap.act import planview
from docsgap.config import Config
from docsgap.docs.service import sync_docs
from docsgap.loop.run import run_once
from docsgap.loop.services import build_services
from docsgap.models import ActionKind, RunResult
from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, Sandbox
from docsgap.state import StateStore

Echo = Callable[[str], None]

QUESTION = ("How do I run a job only in scheduled pipelines?",
            "We have a nightly job that should only run from the pipeline schedule, but it "
            "runs on every push too. How do I limit it to scheduled pipelines?")
SPIKE_PAGE = "https://docs.gitlab.com/ci/caching/"
SPIKE_THREADS = (
    ("lena_h", "Caching page: cache key examples are confusing",
     f"The cache key section on {SPIKE_PAGE} is really confusing: it never says which files "
     "the key is computed from."),
    ("kev-runner", "Confusing explanation of cache:policy on the caching page",
     f"The explanation of cache:policy on {SPIKE_PAGE} is confusing, I still do not know when "
     "to use pull-push."),
    ("jtorres", "Caching docs: fallback keys are unclear",
     f"The part about fallback keys on {SPIKE_PAGE} is unclear and confusing to me."),
)


def _ask(sandbox: Sandbox, user: str, title: str, raw: str, category: int = 7) -> int:
    """A forum user opens a topic (through the Discourse API, as the user)."""
    client = DiscourseClient(sandbox.forum_url, api_username=user,
                             api_key=SANDBOX_DISCOURSE_API_KEY)
    return int(client.create_post(raw, category_id=category, title=title)["topic_id"])


def _sync(cfg: Config, echo: Echo, sandbox: Sandbox) -> None:
    for attempt in ("docsgap docs sync", "docsgap docs sync (again)"):
        sandbox.clear_requests()
        store = StateStore(cfg.state_path)
        try:
            [result] = sync_docs(cfg, store)
        finally:
            store.close()
        calls = [r["path"].split("?")[0].rsplit("/", 1)[-1] for r in sandbox.requests_log()
                 if r["service"] == "gitlab"]
        state = "unchanged" if result.unchanged else f"{result.pages} pages indexed"
        echo(f"{attempt}: {result.project} at {result.commit[:12]}, {state}; "
             f"{len(calls)} request(s): {', '.join(calls)}")


def _docs_replies(result: RunResult, topic: int) -> list[str]:
    return [a.key for a in result.plan.actions
            if a.kind is ActionKind.DOCS_REPLY and a.thread_ids == (topic,)]


def _accept(cfg: Config, key: str, echo: Echo) -> None:
    """`docsgap review --accept KEY`, through the review queue as a person would see it."""
    services = build_services(cfg)
    try:
        plan = review.review_plan(cfg, services.forum, services.tracker, services.store,
                                  services.detector)
        item = review.find(review.pending(plan, services.store, cfg), key)
        echo(f"docsgap review --accept {key}; the text it posts:")
        echo("\n".join("  | " + line for line in item.preview.splitlines()[:3]))
        review.decide(services.store, item, "accept", note="demo reviewer: the page answers it")
    finally:
        services.store.close()


def _owner_labels(result: RunResult, sandbox: Sandbox, echo: Echo) -> None:
    """The labels of the issue opened for the spike, as GitLab holds them, and why: now that the
    docs index knows each page's owners (front matter), the issue is routed to them."""
    opened = [o for o in result.outcomes
              if o.action.kind is ActionKind.OPEN_ISSUE and o.status == "applied"]
    issues = {i["iid"]: i for i in sandbox.state()["issues"]}
    for outcome in opened:
        iid = int((outcome.remote_url or "0").rsplit("/", 1)[-1])
        held = issues.get(iid, {}).get("labels", [])
        echo(f"opened {outcome.remote_url} with labels: {', '.join(held)}")
        for label in outcome.action.labels:
            if label.owner and label.name in held:
                echo(f"  {label.name}: {label.why}")


def run_docs_first(sandbox: Sandbox, cfg: Config, echo: Echo) -> None:
    """Steps 7-9 of the demo."""
    echo("\n== 7. docsgap docs sync (the local docs index, from the repository archive) ==")
    _sync(cfg, echo, sandbox)

    echo("\n== 8. A new question, judged on its own: docsgap run --topic URL ==")
    topic = _ask(sandbox, "emily.qa", *QUESTION)
    url = f"{sandbox.forum_url}/t/{topic}"
    echo(f"emily.qa asks {QUESTION[0]!r} ({url})")
    dry = run_once(cfg, apply=False, topic=topic).result
    echo(planview.render_text(dry, applied=False))
    [key] = _docs_replies(dry, topic)
    _accept(cfg, key, echo)
    applied = run_once(cfg, apply=True, topic=topic).result
    posted = [o for o in applied.outcomes if o.action.key == key]
    echo(f"docsgap run --topic {url} --apply: "
         + ", ".join(f"{o.status} {o.remote_url or ''}".strip() for o in posted))

    echo("\n== 9. A spike: three new threads about one page in a day ==")
    for user, title, raw in SPIKE_THREADS:
        tid = _ask(sandbox, user, title, raw)
        echo(f"{user}: {title!r} (topic {tid})")
    first = run_once(cfg, apply=True)
    _owner_labels(first.result, sandbox, echo)
    report = run_once(cfg, apply=True)
    state = sandbox.state()
    iid = int((report.summary_issue or "0").rsplit("/", 1)[-1])
    issue = next(i for i in state["issues"] if i["iid"] == iid)
    top = issue["description"].split("### ", 2)[1].split("\n")
    echo(f"summary issue {report.summary_issue} now opens with:")
    echo("\n".join("  | " + line for line in ["### " + top[0], *top[1:4]] if line.strip()))
    comments = [n for n in state["notes"] if n["noteable_iid"] == iid
                and n["noteable_type"] == "Issue" and n["body"].startswith("@")]
    echo(f"comments on it mentioning {cfg.docs.spike_mention}: {len(comments)} after two runs "
         "(one per spike, never repeated)")
