"""Draft merge requests for one docs file: the branch name, a unified diff and a small patch
applier (pure Python, so `--patch` needs no `patch` binary), and `DraftMr`, which opens the MR
exactly once and replies in the thread with its link (per the `reply` policy)."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, replace

from docsgap import compose
from docsgap.act.apply import Applier
from docsgap.act.labels import present_owner_labels
from docsgap.act.plan import mode_of, reply_key
from docsgap.compose.labels import PageOwner, owner_labels
from docsgap.config import Config
from docsgap.docs.store import DocsStore
from docsgap.errors import AuthError, DocsgapError, ExitCode, NotFoundError
from docsgap.forum.interface import Forum
from docsgap.models import (
    Action,
    ActionKind,
    MergeRequestDraft,
    Outcome,
    Plan,
    Signal,
    Thread,
    TrackerItem,
)
from docsgap.state import StateStore
from docsgap.tracker.gitlab_rights import WriteRights
from docsgap.tracker.interface import Tracker

log = logging.getLogger(__name__)


class PatchError(DocsgapError):
    """A `--patch` that is not a unified diff of the file, or whose context is not found."""

    exit_code = ExitCode.USAGE


# --- names and keys -------------------------------------------------------------------------


def slug_of(path: str, limit: int = 40) -> str:
    """`doc/ci/yaml/_index.md` -> `ci-yaml-index` (branch-name safe, short)."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", path.removeprefix("doc/"))
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug[:limit].rstrip("-") or "doc"


def branch_name(topic_id: int, path: str) -> str:
    """The MR's source branch: `docsgap/t<topic>-<slug>` (same inputs, same branch)."""
    return f"docsgap/t{topic_id}-{slug_of(path)}"


def mr_key(topic_id: int, path: str) -> str:
    """Idempotency key of the draft MR for a topic and a file."""
    return f"mr:t{topic_id}:{path}"


# --- diffs and patches ----------------------------------------------------------------------

_NO_EOL = "\\ No newline at end of file"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def unified_diff(old: str, new: str, path: str) -> str:
    """A `git diff`-style unified diff of one file (marks a missing final newline)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else f"{line}\n{_NO_EOL}\n" for line in lines)


@dataclass
class _Hunk:
    header: str
    old_start: int
    old: list[str]
    new: list[str]
    old_no_eol: bool = False
    new_no_eol: bool = False


def _file_sections(patch: str, path: str | None) -> list[str]:
    """The patch lines of the one file it changes (or of `path` if it changes several)."""
    sections: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in patch.splitlines():
        if line.startswith("+++ "):
            target = line[4:].split("\t")[0].strip()
            current = []
            sections.append((target.removeprefix("b/"), current))
        elif line.startswith("diff --git "):
            current = None
        elif current is not None:
            current.append(line)
        elif line.startswith("@@"):
            # A bare hunk list without file headers: one anonymous file.
            current = [line]
            sections.append(("", current))
    if not sections:
        raise PatchError("the patch holds no hunks (expected a unified diff, e.g. `git diff`)")
    if len(sections) == 1:
        return sections[0][1]
    wanted = [lines for target, lines in sections if path and target == path]
    if len(wanted) != 1:
        names = ", ".join(t or "?" for t, _ in sections)
        raise PatchError(f"the patch changes several files ({names}); expected only {path}")
    return wanted[0]


def _hunks(lines: list[str]) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    i = 0
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if not m:
            if lines[i].startswith("--- ") or not lines[i].strip():
                i += 1
                continue
            raise PatchError(f"patch line {i + 1}: expected a hunk header '@@ -a,b +c,d @@'")
        hunk = _Hunk(lines[i], int(m.group(1)), [], [])
        old_left = int(m.group(2)) if m.group(2) is not None else 1
        new_left = int(m.group(4)) if m.group(4) is not None else 1
        i += 1
        last = " "
        while i < len(lines) and (old_left > 0 or new_left > 0 or lines[i] == _NO_EOL):
            line = lines[i]
            if line == _NO_EOL:
                hunk.old_no_eol |= last in " -"
                hunk.new_no_eol |= last in " +"
                i += 1
                continue
            # Some editors strip the single space of an empty context line.
            tag, text = (line[0], line[1:]) if line else (" ", "")
            if tag == " ":
                hunk.old.append(text)
                hunk.new.append(text)
                old_left -= 1
                new_left -= 1
            elif tag == "-":
                hunk.old.append(text)
                old_left -= 1
            elif tag == "+":
                hunk.new.append(text)
                new_left -= 1
            else:
                raise PatchError(f"patch line {i + 1}: unexpected {line[:20]!r} inside a hunk")
            last = tag
            i += 1
        if old_left > 0 or new_left > 0:
            raise PatchError(f"hunk {hunk.header!r} is shorter than its header says")
        hunks.append(hunk)
    if not hunks:
        raise PatchError("the patch holds no hunks (expected a unified diff, e.g. `git diff`)")
    return hunks


def _find(lines: list[str], needle: list[str], expected: int, floor: int) -> int | None:
    """Where `needle` sits in `lines`: at `expected`, else the nearest offset not below `floor`."""
    if not needle:
        return min(max(expected, floor), len(lines))
    span = len(lines)
    for delta in range(span + 1):
        for at in (expected - delta, expected + delta) if delta else (expected,):
            if floor <= at <= len(lines) - len(needle) and lines[at:at + len(needle)] == needle:
                return at
    return None


def check_patch(patch: str, *, path: str | None = None) -> None:
    """Raise `PatchError` unless `patch` is a well-formed unified diff of one file (`path`).
    Whether its context matches needs the file: `apply_patch` checks that."""
    _hunks(_file_sections(patch, path))


def apply_patch(original: str, patch: str, *, path: str | None = None) -> str:
    """Apply a unified diff of one file to `original`. Hunks may have moved (they are looked
    for nearby, as `patch` does), but their context must match exactly; no fuzz."""
    lines = original.split("\n") if original else []
    eol = original.endswith("\n")
    if eol:
        lines.pop()
    offset = 0
    floor = 0
    for n, hunk in enumerate(_hunks(_file_sections(patch, path)), 1):
        # A pure insertion's start names the line *after which* it goes.
        expected = (hunk.old_start - 1 if hunk.old else hunk.old_start) + offset
        at = _find(lines, hunk.old, expected, floor)
        if at is None:
            raise PatchError(
                f"hunk {n} ({hunk.header}) does not apply: its context is not in the file",
                hint="the file changed since the patch was made; rebuild it, or use --content",
            )
        touches_end = at + len(hunk.old) == len(lines)
        lines[at:at + len(hunk.old)] = hunk.new
        offset += len(hunk.new) - len(hunk.old)
        floor = at + len(hunk.new)
        if touches_end:
            eol = not hunk.new_no_eol
    text = "\n".join(lines)
    return text + "\n" if eol and lines else text


# --- opening the MR -------------------------------------------------------------------------


class MrRefused(DocsgapError):
    """`docsgap mr` cannot go ahead (policy off, unknown topic or file, nothing changed)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class MrTarget:
    """What a draft MR is about, resolved from the forum, the state and the tracker."""

    thread: Thread
    path: str
    branch: str
    key: str
    issue_url: str | None
    """The issue the MR addresses (`--issue`, else the one docsgap linked to the thread)."""
    signal: Signal | None
    existing: TrackerItem | None
    """The MR already opened from `branch`, if any: then nothing is committed again."""
    rights: WriteRights | None = None
    """Where the token may commit (`mr_mode`): asked only when there is no MR yet."""

    @property
    def fork(self) -> str | None:
        """The fork the branch and the MR come from (`mr_mode` fork), else None."""
        rights = self.rights
        return rights.fork if rights is not None and rights.mr_mode == "fork" else None


@dataclass
class DraftMr:
    """Opens the Draft MR for one forum topic and one docs file, exactly once, and replies in
    the thread with its link when the `reply` policy allows."""

    forum: Forum
    tracker: Tracker
    store: StateStore
    config: Config

    def resolve(self, topic_id: int, path: str, *, issue_url: str | None = None) -> MrTarget:
        """Look everything up (reads only): the thread, its signal and issue, an existing MR."""
        if self.config.policy.open_draft_mr == "off":
            raise MrRefused("policy open_draft_mr is off",
                            hint='set [policy] open_draft_mr = "review" in docsgap.toml')
        path = path.lstrip("/")
        try:
            thread = self.forum.thread(topic_id)
        except NotFoundError as exc:
            raise MrRefused(f"forum topic {topic_id} not found ({exc})") from exc
        signals = [s for s in self.store.signals() if s.thread_id == topic_id]
        signal = next((s for s in signals if s.page and s.page.path == path),
                      signals[0] if signals else None)
        if issue_url is None:
            linked = sorted(r["item_url"] for r in self.store.links()
                            if r["thread_id"] == topic_id and "/-/issues/" in r["item_url"])
            issue_url = linked[0] if linked else None
        branch, key = branch_name(topic_id, path), mr_key(topic_id, path)
        existing = self._existing(branch, key)
        rights = None if existing is not None else self.tracker.rights()
        return MrTarget(thread, path, branch, key, issue_url, signal, existing, rights)

    def _existing(self, branch: str, key: str) -> TrackerItem | None:
        """Ledger first (no request), then the tracker: a crash or a lost database between
        opening the MR and recording it must not open a second one."""
        row = self.store.ledger_entry(key)
        if row and row["status"] == "done" and row["remote_url"]:
            cached = self.store.item(row["remote_url"])
            if cached is not None:
                return cached
        return self.tracker.find_merge_request(branch)

    def original(self, target: MrTarget) -> str:
        """The file's current text on the target branch."""
        try:
            return self.tracker.read_file(target.path, self.config.gitlab.target_branch)
        except NotFoundError as exc:
            raise MrRefused(
                f"{target.path} not found on {self.config.gitlab.target_branch} ({exc})",
                hint="give the path inside the repository, e.g. doc/ci/yaml/_index.md",
            ) from exc

    def draft(self, target: MrTarget, content: str, *, title: str | None = None,
              summary: str | None = None) -> MergeRequestDraft:
        """The Draft MR docsgap would open: safe title, description linking thread and issue."""
        page = target.signal.page if target.signal else None
        if page is not None and page.path not in (None, target.path):
            page = None  # the thread's page is another file: do not mislabel the MR
        # compose makes both texts inert in GitLab (no mention, reference or quick action).
        mr_title = compose.mr_title(summary=(title or summary or "").strip(), page=page,
                                    file_path=target.path, templates=self.config.templates_dir)
        description = compose.mr_description(
            thread_urls=(target.thread.url,), issue_url=target.issue_url, page=page,
            summary=summary or "", key=target.key, file_path=target.path,
            templates=self.config.templates_dir,
        )
        labels = tuple(dict.fromkeys((self.config.gitlab.docs_label,
                                      self.config.gitlab.marker_label)))
        owned = DocsStore(self.store.db).owner_of(self.tracker.project, target.path)
        owners = owner_labels(self.config.gitlab.owner_labels,
                              PageOwner(target.path, *owned)) if owned else ()
        # The commit message holds no forum text: it is permanent and cannot be neutralised later.
        message = (f"docs: update {target.path}\n\n"
                   f"Drafted with docsgap for forum topic {target.thread.id}.")
        return MergeRequestDraft(
            title=mr_title, description=description, source_branch=target.branch,
            target_branch=self.config.gitlab.target_branch, file_path=target.path,
            content=content, commit_message=message, labels=labels,
            source_project=target.fork, owner_labels=owners,
        )

    def blocked(self, target: MrTarget) -> AuthError | None:
        """Why the MR cannot be opened (`mr_mode` none: no push rights and no fork), or None."""
        rights = target.rights
        if rights is None or rights.mr_mode != "none":
            return None
        project = self.tracker.project
        return AuthError(rights.mr_problem(project) or "", hint=rights.mr_fix(project))

    def where(self, target: MrTarget, draft: MergeRequestDraft) -> str:
        """Where the commit goes, for the dry run: `a new branch B (from master)`, or of the
        fork."""
        if target.fork is not None:
            return (f"a new branch {draft.source_branch} of the fork {target.fork} (from "
                    f"{draft.target_branch} of {self.tracker.project})")
        return f"a new branch {draft.source_branch} (from {draft.target_branch})"

    def open(self, target: MrTarget, draft: MergeRequestDraft) -> TrackerItem:
        """Open the MR (or adopt the one already there) and record it in the ledger and links."""
        item = target.existing
        if item is None:
            refused = self.blocked(target)
            if refused is not None:  # before any write, remote or local
                raise refused
            if draft.owner_labels:  # only labels the project has: GitLab would create others
                kept, note = present_owner_labels(
                    [label.name for label in draft.owner_labels], self.tracker, self.store)
                if note:
                    log.warning("%s: %s", target.key, note)
                draft = replace(draft, labels=tuple(dict.fromkeys([*draft.labels, *kept])))
            # Started only now: a failed label lookup leaves no half-begun entry behind.
            self.store.ledger_start(target.key, ActionKind.OPEN_DRAFT_MR.value,
                                    (target.thread.id,), f"docsgap mr for {target.path}")
            try:
                item = self.tracker.open_draft_mr(draft)
            except DocsgapError as exc:
                self.store.ledger_finish(target.key, "failed", error=str(exc))
                raise
        self.record(target, item)
        return item

    def record(self, target: MrTarget, item: TrackerItem) -> None:
        """Ledger done, item cached, thread <-> MR link kept (the report shows it)."""
        row = self.store.ledger_entry(target.key)
        if row is None or row["status"] != "done":
            if row is None:
                self.store.ledger_start(target.key, ActionKind.OPEN_DRAFT_MR.value,
                                        (target.thread.id,), f"docsgap mr for {target.path}")
            self.store.ledger_finish(target.key, "done", remote_url=item.web_url)
        self.store.upsert_items([item])
        s = target.signal
        # No signal_key: the signal's own link-back reply is about its issue; tying the MR to
        # the signal would make the run planner think that reply is still owed.
        self.store.record_link(
            target.thread.id, item.web_url, source="docsgap",
            gap_type=s.gap_type.value if s else None,
            page_url=s.page.url if s and s.page else None,
        )

    # --- the reply with the MR link -----------------------------------------------------------
    def reply_action(self, target: MrTarget, mr_url: str) -> Action:
        """The reply that tells the thread about the MR (one per thread and MR)."""
        return Action(
            ActionKind.REPLY, reply_key(target.thread.id, mr_url),
            f"tell the thread about the draft MR; policy reply={self.config.policy.reply}",
            (target.thread.id,), (target.signal.key,) if target.signal else (),
            target_url=mr_url,
        )

    def reply_mode(self, action: Action) -> str:
        """`auto`, `accepted`, `review` (ask), `off` or `rejected`, as `plan.mode_of` says."""
        verdicts = {r["key"]: r["verdict"] for r in self.store.db["verdicts"].rows}
        return mode_of(action, self.config, verdicts)

    def reply(self, target: MrTarget, action: Action, *, confirmed: bool = False) -> Outcome:
        """Post the reply (exactly once: ledger, then the marker in the thread). `confirmed`
        records the engineer's yes as an `accept` verdict when the policy is `review`."""
        if confirmed and self.reply_mode(action) == "review":
            self.store.set_verdict(action.key, "accept", note="confirmed in docsgap mr")
        signals = {target.signal.key: target.signal} if target.signal else {}
        applier = Applier(self.forum, self.tracker, self.store, self.config, signals)
        [outcome] = applier.apply(Plan((action,)), write=True)
        return outcome
