"""A realistic demo state for the report tests and `scripts/render_report.py`, written through the
StateStore's public methods (the clock is frozen per write so every date is deterministic)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from docsgap.models import DocPage, Evidence, GapType, Signal, TrackerItem
from docsgap.state import StateStore
from docsgap.state import times as state_mod

DEMO_NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
FORUM = "https://forum.gitlab.com/t"
GITLAB = "https://gitlab.com/gitlab-org/gitlab/-"
HOSTILE_TITLE = '<script>alert("x")</script></script><!-- @all #12 ~bug | =HYPERLINK("x") &amp;'

PAGES: dict[str, DocPage] = {
    "yaml": DocPage("https://docs.gitlab.com/ci/yaml/", "gitlab-org/gitlab",
                    "doc/ci/yaml/_index.md"),
    "vars": DocPage("https://docs.gitlab.com/ci/variables/", "gitlab-org/gitlab",
                    "doc/ci/variables/_index.md"),
    "protected": DocPage("https://docs.gitlab.com/user/project/repository/branches/protected/",
                         "gitlab-org/gitlab", "doc/user/project/repository/branches/protected.md"),
    "backup": DocPage("https://docs.gitlab.com/administration/backup_restore/backup_gitlab/",
                      "gitlab-org/gitlab", "doc/administration/backup_restore/backup_gitlab.md"),
    "runner": DocPage("https://docs.gitlab.com/runner/install/linux-repository/",
                      "gitlab-org/gitlab-runner", "docs/install/linux-repository.md"),
    "registry": DocPage("https://docs.gitlab.com/user/packages/container_registry/",
                        "gitlab-org/gitlab", "doc/user/packages/container_registry/_index.md"),
    "pages": DocPage("https://docs.gitlab.com/user/project/pages/", "gitlab-org/gitlab",
                     "doc/user/project/pages/_index.md"),
    "docker": DocPage("https://docs.gitlab.com/install/docker/installation/", "gitlab-org/gitlab",
                      "doc/install/docker/installation.md"),
}

# iid -> (kind, title, state, days ago created, days ago closed or None)
ITEMS: dict[int, tuple[str, str, str, int, int | None]] = {
    501101: ("issue", "CI YAML reference: rules:changes example uses removed syntax", "closed",
             80, 61),
    501102: ("issue", "Document workflow:auto_cancel", "closed", 76, 30),
    501103: ("issue", "Masked variable length requirement is wrong in CI/CD variables docs",
             "opened", 70, None),
    501104: ("issue", "Protected branches page: screenshots and steps outdated", "closed", 66, 12),
    501105: ("issue", "Backup docs: clarify when to copy gitlab-secrets.json", "opened", 60, None),
    501106: ("issue", "Broken link to Docker install from runner Linux install page", "closed",
             55, 50),
    501107: ("issue", "Container registry cleanup policies: explain the regex syntax", "opened", 50,
             None),
    501108: ("issue", "needs vs dependencies: rewrite the comparison", "opened", 44, None),
    501109: ("issue", "Pages custom domains: update for the new settings page", "closed", 40, 9),
    501110: ("issue", "Docker install references a removed image tag", "closed", 33, 3),
    501111: ("issue", "Variables precedence: add inherited group variables", "opened", 28, None),
    501112: ("issue", "Runner docs: registration vs authentication tokens", "opened", 20, None),
    501113: ("issue", "spec:inputs: list the supported input types", "opened", 9, None),
    188201: ("merge_request", "Fix broken anchors on backup page", "merged", 45, 41),
    188202: ("merge_request", "Docs: correct include:component inputs example", "merged", 35, 18),
}

# thread id -> (title, gap, page, days ago, item iid or None, source, reply?, follow-up?)
THREADS: list[tuple[int, str, GapType, str, int, int | None, str, bool, bool]] = [
    (110201, "rules:changes example in the CI YAML reference no longer works", GapType.INCORRECT,
     "yaml", 81, 501101, "docsgap", True, True),
    (110244, "Where is workflow:auto_cancel documented?", GapType.MISSING, "yaml", 77, 501102,
     "docsgap", True, False),
    (110290, "Variables page says masked values need 8 characters, the UI disagrees",
     GapType.INCORRECT, "vars", 71, 501103, "docsgap", True, False),
    (110315, "Protected branches docs still show the old settings layout", GapType.OUTDATED,
     "protected", 67, 501104, "docsgap", True, True),
    (110362, "Backup docs: confusing order of steps for the secrets file", GapType.CONFUSING,
     "backup", 61, 501105, "docsgap", True, False),
    (110377, "Link to the Docker install guide from the runner page is a 404", GapType.BROKEN_LINK,
     "runner", 56, 501106, "thread", False, False),
    (110410, "Cleanup policy docs don't mention which regex flavour is used", GapType.MISSING,
     "registry", 51, 501107, "docsgap", True, False),
    (110431, "Broken anchor links on the backup and restore page", GapType.BROKEN_LINK, "backup",
     46, 188201, "docsgap", True, True),
    (110455, "needs: vs dependencies: the explanation is confusing", GapType.CONFUSING, "yaml", 45,
     501108, "docsgap", True, False),
    (110502, "Pages custom domain docs outdated after the UI change", GapType.OUTDATED, "pages",
     41, 501109, "docsgap", True, False),
    (110533, "include:component inputs example fails validation", GapType.INCORRECT, "yaml", 36,
     188202, "thread", True, False),
    (110560, "Docker install page refers to an image tag that is gone", GapType.OUTDATED, "docker",
     34, 501110, "docsgap", True, False),
    (110588, "Variable precedence table misses inherited group variables", GapType.MISSING, "vars",
     29, 501111, "docsgap", True, False),
    (110612, "Cleanup policies page: is the regex anchored or not?", GapType.CONFUSING,
     "registry", 25, 501107, "docsgap", True, False),
    (110640, "Registration token vs authentication token, which one do the docs mean?",
     GapType.CONFUSING, "runner", 21, 501112, "docsgap", True, False),
    (110671, "Masked and hidden variables: two pages contradict each other", GapType.INCORRECT,
     "vars", 17, 501103, "docsgap", False, False),
    (110702, "rules:exists docs unclear about paths in subdirectories", GapType.CONFUSING, "yaml",
     12, 501108, "docsgap", True, False),
    (110718, "Pages access control describes a setting I cannot find", GapType.OUTDATED, "pages",
     11, 501109, "docsgap", False, False),
    (110733, "spec:inputs types are not listed anywhere", GapType.MISSING, "yaml", 9, 501113,
     "docsgap", True, False),
    (110760, "Example with when: never in rules is wrong", GapType.INCORRECT, "yaml", 5, 501101,
     "docsgap", True, False),
    (110781, "Container registry login steps outdated for 2FA users", GapType.OUTDATED, "registry",
     4, None, "", False, False),
    (110795, "Is there any doc on default: interruptible?", GapType.MISSING, "yaml", 2, None, "",
     False, False),
]


@contextmanager
def frozen_clock(when: datetime) -> Iterator[None]:
    """Make the state's `utcnow` return `when` for the writes inside the block."""
    original = state_mod.utcnow
    state_mod.utcnow = lambda: when
    try:
        yield
    finally:
        state_mod.utcnow = original


def _slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())[:60]


def build_demo_state(store: StateStore, *, now: datetime = DEMO_NOW, hostile: bool = False) -> None:
    """Fill `store` with 22 threads over 12 weeks, 15 issues/MRs, links, replies, follow-ups and
    a review queue. `hostile` adds a thread whose title and URLs attack every format."""
    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    items = []
    for iid, (kind, title, st, created, closed) in ITEMS.items():
        part = "issues" if kind == "issue" else "merge_requests"
        project = "gitlab-org/gitlab"
        items.append(TrackerItem(
            kind="issue" if kind == "issue" else "merge_request", project=project, iid=iid,
            title=title, description="", state=st, web_url=f"{GITLAB}/{part}/{iid}",
            labels=("documentation", "docs-feedback"), created_at=ago(created),
            updated_at=ago(closed if closed is not None else 1),
            closed_at=ago(closed) if closed is not None else None,
        ))
    with frozen_clock(now):
        store.upsert_items(items)
    by_iid = {i.iid: i for i in items}
    threads = list(THREADS)
    if hostile:
        threads.append((110999, HOSTILE_TITLE, GapType.BROKEN_LINK, "docker", 1, 501110,
                        "docsgap", True, False))
    for tid, title, gap, page_name, days, iid, source, replied, followed in threads:
        url = f"{FORUM}/{_slug(title)}/{tid}"
        if tid == 110999:
            url = "javascript:alert(1)"
        page = PAGES[page_name]
        with frozen_clock(ago(days)):
            store.record_thread({
                "id": tid, "slug": _slug(title), "title": title, "url": url, "category_id": 5,
                "tags": "[]", "closed": 0, "archived": 0, "posts_count": 4,
                "created_at": ago(days).isoformat(), "last_posted_at": ago(days - 0.5).isoformat(),
            })
        signal = Signal(
            thread_id=tid, thread_title=title, thread_url=url, gap_type=gap, score=2.5,
            rules=(f"{gap.value}-phrase",),
            evidence=(Evidence(f"{gap.value}-phrase", title, title),),
            page=page, post_number=1,
        )
        with frozen_clock(ago(days - 0.2)):
            store.record_signal(signal)
        if iid is None:
            continue
        item_url = by_iid[iid].web_url
        with frozen_clock(ago(days - 0.9)):
            store.record_link(tid, item_url, source=source, signal_key=signal.key,
                              gap_type=gap.value, page_url=page.url)
        if replied:
            store.set_link_field(tid, item_url, reply_url=f"{url}/5")
        if followed:
            store.set_link_field(tid, item_url, followup_url=f"{url}/7")
    _review_queue(store, ago)


def _review_queue(store: StateStore, ago: Callable[[float], datetime]) -> None:
    entries = [
        ("open_issue:t110781", "open_issue", [110781], "no matching issue (best 41/100); policy "
         "open_issue=review", 3.8),
        ("link_existing:t110795", "link_existing", [110795], "close match 72/100 with "
         "gitlab-org/gitlab#501113; below link threshold 80", 1.7),
        ("reply:t110671", "reply", [110671], "reply with the link; policy reply=review", 16.5),
        ("open_issue:t110718", "open_issue", [110718], "page has an open issue; reviewer asked",
         10.0),
    ]
    for key, kind, tids, reason, days in entries:
        with frozen_clock(ago(days)):
            store.ledger_start(key, kind, tids, reason)
            store.ledger_finish(key, "pending_review")
    with frozen_clock(ago(1)):
        store.ledger_start("open_issue:t110201", "open_issue", [110201], "auto")
        store.ledger_finish("open_issue:t110201", "applied", remote_url=f"{GITLAB}/issues/501101")
        store.set_verdict("open_issue:t110718", "accept", note="go ahead")
