"""The team's review verdicts as labelled data, so detection and deduplication learn from use.

`export_verdicts` reads the state (`verdicts`, `signals`, `threads`, held `posts`, `links`,
`items`) and returns two record lists:

- detection records in the format of `detect-dev.jsonl`: a signal whose issue or reply (or an
  evidence note linking it) was **accepted** is a `docs_gap` of the signal's type; a **rejected**
  signal (rejecting its issue or link rejects it) is `not_docs_gap`. A reviewer's note saying
  `gap_type: <type>` (or `type=<type>`) corrects the type. Signals nobody decided are left out.
- dedup pairs, one per reviewed evidence note (`note:<issue url>` actions): the signal's thread
  as the query and the linked issue or MR as the candidate, `same` true when the link was
  accepted, false when it was rejected. A rejected link also rejects its signal, so a `false`
  pair may mean "not a gap" rather than "another issue"; `evidence` says which verdict it was.

The post text comes from the held posts when the state has them, else from the evidence
sentences the signal stored. Pure reading: nothing in the state changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsgap.models import GapType
from docsgap.state import StateStore

DETECT_FILE = "detect-verdicts.jsonl"
DEDUP_FILE = "dedup-verdicts.jsonl"
_TYPE_RE = re.compile(r"\b(?:gap_type|type)\s*[:=]\s*(" + "|".join(t.value for t in GapType)
                      + r")\b")
_ACCEPT_PREFIXES = ("issue:", "reply:")


@dataclass
class Exported:
    """What `export_verdicts` found."""

    detect: list[dict[str, Any]] = field(default_factory=list)
    dedup: list[dict[str, Any]] = field(default_factory=list)


def _rows(store: StateStore, table: str) -> list[dict[str, Any]]:
    return list(store.db.table(table).rows) if store.db.table(table).exists() else []


def _post_text(store: StateStore, signal: dict[str, Any]) -> str:
    """The signal's post as held in the state, else its evidence sentences."""
    if store.db.table("posts").exists():
        rows = list(store.db.table("posts").rows_where(
            "topic_id = ? and number = ?", [signal["thread_id"], signal["post_number"] or 1]))
        if rows:
            return str(rows[0].get("raw") or rows[0].get("cooked") or "")
    evidence = json.loads(signal.get("evidence") or "[]")
    return "\n\n".join(dict.fromkeys(str(e.get("text", "")) for e in evidence))


def _corrected_type(verdict: dict[str, Any] | None) -> str | None:
    found = _TYPE_RE.search(str((verdict or {}).get("note") or ""))
    return found.group(1) if found else None


def _note_target(key: str) -> tuple[str, set[int] | None]:
    """The item URL of an evidence-note action key, and the threads it was for when it waited
    in the review band (`note:<url>#review:t12,t34`; None: every thread linked to the URL)."""
    url, _, threads = key.removeprefix("note:").partition("#review:")
    if not threads:
        return url, None
    return url, {int(t[1:]) for t in threads.split(",") if t[1:].isdigit()}


def _signal_of(action: str, signals: dict[str, dict[str, Any]]) -> tuple[str, str | None] | None:
    """The signal an issue or reply action key (less its prefix) was planned for, and the gap
    type the action has when the docs index changed it (`docs_moved` makes a gap
    `broken_link`, `docs_check` makes it `confusing` with the covering page): the action's key
    then names that type and page, not the signal's."""
    if action in signals:
        return action, None
    thread, _, rest = action.partition(":")
    gap, _, page = rest.partition(":")
    if gap not in {t.value for t in GapType}:
        return None
    mine = [k for k, s in signals.items() if f"t{s['thread_id']}" == thread]
    same_page = [k for k in mine if k.partition(":")[2].partition(":")[2] == page]
    found = same_page if len(same_page) == 1 else mine if len(mine) == 1 else []
    return (found[0], gap) if found else None


def export_verdicts(store: StateStore) -> Exported:
    """Labelled detection records and dedup pairs from the review verdicts in `store`."""
    verdicts = {str(r["key"]): r for r in _rows(store, "verdicts")}
    signals = {str(r["key"]): r for r in _rows(store, "signals")}
    threads = {r["id"]: r for r in _rows(store, "threads")}
    items = {str(r["url"]): r for r in _rows(store, "items")}
    links = _rows(store, "links")
    out = Exported()
    accepted: dict[str, str] = {}
    retyped: dict[str, str] = {}  # signal key -> the gap type of the action a person accepted
    for key, v in verdicts.items():
        if v["verdict"] == "accept":
            for prefix in _ACCEPT_PREFIXES:
                found = _signal_of(key[len(prefix):], signals) if key.startswith(prefix) \
                    else None
                if found is not None:
                    accepted.setdefault(found[0], key)
                    if found[1] is not None:
                        retyped.setdefault(found[0], found[1])
    accepted_notes: dict[str, list[tuple[str, set[int] | None]]] = {}
    for k, v in verdicts.items():
        if k.startswith("note:") and v["verdict"] == "accept":
            url, only = _note_target(k)
            accepted_notes.setdefault(url, []).append((k, only))
    pairs: list[tuple[str, str, bool, str]] = []  # (signal key, item url, same, verdict key)
    for link in links:
        if link.get("signal_key") not in signals:
            continue
        for note, only in accepted_notes.get(str(link["item_url"]), []):
            if only is None or link["thread_id"] in only:
                accepted.setdefault(str(link["signal_key"]), note)
                pairs.append((str(link["signal_key"]), str(link["item_url"]), True, note))
                break
    for key, signal in sorted(signals.items()):
        own = verdicts.get(key)
        thread = threads.get(signal["thread_id"], {})
        if own is not None and own["verdict"] == "reject":
            label, why = "not_docs_gap", f"review verdict: signal rejected ({own.get('note')})"
            note = str(own.get("note") or "")
            if note.startswith("with note:"):
                pairs.append((key, _note_target(note[5:])[0], False, note[5:]))
        elif key in accepted:
            label, why = "docs_gap", f"review verdict: {accepted[key]} accepted"
        else:
            continue
        gap = _corrected_type(verdicts.get(accepted.get(key, ""))) or _corrected_type(own) \
            or retyped.get(key) or signal["gap_type"]
        url = str(thread.get("url") or "")
        out.detect.append({
            "id": f"verdict:{key}",
            "source_url": f"{url}/{signal['post_number']}" if url else "",
            "kind": "forum", "title": str(thread.get("title") or ""),
            "text": _post_text(store, signal), "label": label,
            "gap_type": gap if label == "docs_gap" else None,
            "docs_url": signal.get("page_url"), "note": why,
        })
    for signal_key, item_url, same, verdict_key in pairs:
        signal = signals[signal_key]
        thread = threads.get(signal["thread_id"], {})
        item = items.get(item_url, {})
        out.dedup.append({
            "id": f"verdict:{verdict_key}:{signal_key}",
            "repo": item.get("project"),
            "query": {"url": thread.get("url"), "title": thread.get("title"),
                      "body": _post_text(store, signal), "docs_url": signal.get("page_url"),
                      "created_at": thread.get("created_at")},
            "candidate": {"url": item_url, "title": item.get("title"),
                          "body": item.get("description"), "state": item.get("state"),
                          "created_at": item.get("created_at")},
            "same": same,
            "evidence": f"review verdict {'accept' if same else 'reject'} {verdict_key}",
        })
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def write_verdicts(store: StateStore, directory: Path) -> Exported:
    """Export and write `detect-verdicts.jsonl` and `dedup-verdicts.jsonl` into `directory`."""
    exported = export_verdicts(store)
    directory.mkdir(parents=True, exist_ok=True)
    _write_jsonl(directory / DETECT_FILE, exported.detect)
    _write_jsonl(directory / DEDUP_FILE, exported.dedup)
    return exported
