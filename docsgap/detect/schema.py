"""The rules file schema: which keys each part of a rules file takes (read with `nodes`, its
patterns checked by `patterns`), and how the files assemble into one `RuleSet`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from docsgap.detect.nodes import (
    Ctx,
    Problems,
    mapping_of,
    number_of,
    text_of,
    texts_of,
    yaml_number,
)
from docsgap.detect.patterns import combined, compile_any, regex_sources
from docsgap.detect.ruleset import (
    NEAR_DOCS,
    SCOPES,
    THREAD_SCOPES,
    Canceller,
    Example,
    Examples,
    Rule,
    RuleSet,
    Settings,
)
from docsgap.models import GapType

if TYPE_CHECKING:
    from pathlib import Path


_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_STR = "tag:yaml.org,2002:str"
FILE_KEYS = frozenset({"terms", "settings", "docs_refs", "cancellers", "rules"})
SETTINGS_KEYS = frozenset({"threshold", "type_priority"})
DOCS_KEYS = frozenset({"phrases", "patterns", "examples"})
MATCH_KEYS = frozenset({"phrases", "patterns", "scope", "window", "penalty", "boost"})
CANCELLER_KEYS = MATCH_KEYS | {"id", "description", "global", "examples"}
RULE_KEYS = frozenset(
    {"id", "gap_type", "description", "phrases", "patterns", "near_docs", "cancel", "weight",
     "examples"}
)
GAP_TYPES = tuple(t.value for t in GapType)


@dataclass
class RuleDraft:
    """A rule whose canceller references are resolved once every file is read."""

    rule: Rule
    refs: list[tuple[str, Node]]
    label: str


@dataclass
class FileParts:
    """What one file contributed."""

    label: str
    settings: dict[str, tuple[Any, Node]] = field(default_factory=dict)
    docs: list[str] = field(default_factory=list)
    docs_examples: list[Examples] = field(default_factory=list)
    cancellers: list[tuple[Canceller, Node]] = field(default_factory=list)
    rules: list[tuple[RuleDraft, Node]] = field(default_factory=list)



def _examples(ctx: Ctx, node: Node, what: str) -> Examples:

    fields = mapping_of(ctx, node, f"{what}.examples", frozenset({"match", "no_match"}))
    lists = {
        key: tuple(Example(text, ctx.where(n)) for text, n in texts_of(ctx, fields[key], key))
        for key in ("match", "no_match") if key in fields
    }
    return Examples(lists.get("match", ()), lists.get("no_match", ()))


def _canceller(ctx: Ctx, node: Node, what: str, cid: str | None) -> Canceller | None:

    fields = mapping_of(ctx, node, what, CANCELLER_KEYS if cid is None else MATCH_KEYS)
    if cid is None:
        if "id" not in fields:
            ctx.err(node, f"{what}: missing required key 'id'")
            return None
        cid = text_of(ctx, fields["id"], f"{what}.id")
        if cid is None or not _ID_RE.match(cid):
            ctx.err(fields["id"], f"{what}: id must be lower-case words joined by . _ or -")
            return None
        what = f"canceller {cid}"
    if "phrases" not in fields and "patterns" not in fields:
        ctx.err(node, f"{what}: needs 'phrases' or 'patterns'")
    scope = text_of(ctx, fields["scope"], f"{what}.scope") if "scope" in fields else "sentence"
    if scope not in SCOPES:
        ctx.err(fields.get("scope", node), f"{what}: scope must be one of {', '.join(SCOPES)}")
    window = number_of(ctx, fields["window"], f"{what}.window") if "window" in fields else 4.0
    penalty = number_of(ctx, fields["penalty"], f"{what}.penalty") if "penalty" in fields else None
    boost = number_of(ctx, fields["boost"], f"{what}.boost") if "boost" in fields else None
    if "boost" in fields and scope != "staff-reply":
        ctx.err(fields["boost"], f"{what}: boost needs scope: staff-reply")
    is_global = False
    if "global" in fields:
        flag = fields["global"]
        is_global = isinstance(flag, ScalarNode) and flag.value.lower() == "true"
        if not (isinstance(flag, ScalarNode) and flag.tag.endswith(":bool")):
            ctx.err(flag, f"{what}.global: expected true or false")
    sources = regex_sources(ctx, fields, what)
    regex = compile_any(ctx, node, sources, what) if sources else None
    if regex is None:
        return None
    examples = _examples(ctx, fields["examples"], what) if "examples" in fields else Examples()
    description = text_of(ctx, fields["description"], what) if "description" in fields else ""
    return Canceller(
        cid, regex, scope or "sentence", int(window or 4), penalty, is_global, description or "",
        ctx.where(node), examples, boost,
    )


def _near(ctx: Ctx, node: Node, what: str) -> str | int | None:

    is_scalar = isinstance(node, ScalarNode)
    if is_scalar and node.tag.endswith(":bool") and str(node.value).lower() == "false":
        return None
    count = yaml_number(node) if node.tag.endswith(":int") else None
    if count is not None and count > 0:
        return int(count)
    if isinstance(node, ScalarNode) and node.value in NEAR_DOCS:
        return str(node.value)
    ctx.err(node, f"{what}.near_docs: expected {', '.join(NEAR_DOCS)}, a word count, or false")
    return None


def _rule(ctx: Ctx, node: Node) -> RuleDraft | None:

    fields = mapping_of(ctx, node, "rule", RULE_KEYS)
    rid = text_of(ctx, fields["id"], "rule.id") if "id" in fields else None
    what = f"rule {rid}" if rid else "rule"
    for key in ("id", "gap_type", "description", "weight"):
        if key not in fields:
            ctx.err(node, f"{what}: missing required key {key!r}")
    if rid is not None and not _ID_RE.match(rid):
        ctx.err(fields["id"], f"{what}: id must be lower-case words joined by . _ or -")
    gap = text_of(ctx, fields["gap_type"], f"{what}.gap_type") if "gap_type" in fields else None
    if gap is not None and gap not in GAP_TYPES:
        allowed = ", ".join(GAP_TYPES)
        ctx.err(fields["gap_type"], f"{what}: gap_type {gap!r} is not one of {allowed}")
    if "phrases" not in fields and "patterns" not in fields:
        ctx.err(node, f"{what}: needs 'phrases' or 'patterns'")
    weight = number_of(ctx, fields["weight"], f"{what}.weight") if "weight" in fields else None
    near = _near(ctx, fields["near_docs"], what) if "near_docs" in fields else None
    description = text_of(ctx, fields["description"], what) if "description" in fields else None
    refs: list[tuple[str, Node]] = []
    inline: list[Canceller] = []
    if "cancel" in fields:
        cancel = fields["cancel"]
        items = cancel.value if isinstance(cancel, SequenceNode) else []
        if not isinstance(cancel, SequenceNode):
            ctx.err(cancel, f"{what}.cancel: expected a list of canceller ids or mappings")
        for n, item in enumerate(items, 1):
            if isinstance(item, ScalarNode):
                refs.append((str(item.value), item))
            elif (c := _canceller(ctx, item, f"{what}.cancel[{n}]", f"{rid}.cancel{n}")):
                inline.append(c)
    examples = _examples(ctx, fields["examples"], what) if "examples" in fields else Examples()
    if not examples.match:
        ctx.err(fields.get("examples", node), f"{what}: needs at least one examples.match entry")
    sources = regex_sources(ctx, fields, what)
    regex = compile_any(ctx, node, sources, what) if sources else None
    if None in (rid, gap, weight, description, regex) or gap not in GAP_TYPES:
        return None
    assert rid is not None
    assert gap is not None
    assert weight is not None
    assert regex is not None
    rule = Rule(
        rid, GapType(gap), regex, weight, description or "", near, tuple(inline),
        ctx.where(node), examples, tuple(sources),
    )
    return RuleDraft(rule, refs, ctx.label)


def parse_file(label: str, root: Node, problems: Problems, terms: dict[str, str]) -> FileParts:
    """Validate one file's node tree; every problem goes to `problems`."""
    ctx = Ctx(label, problems, terms)
    parts = FileParts(label)
    top = mapping_of(ctx, root, "file", FILE_KEYS)
    if "settings" in top:
        for key, value in mapping_of(ctx, top["settings"], "settings", SETTINGS_KEYS).items():
            parts.settings[key] = (_setting(ctx, key, value), value)
    if "docs_refs" in top:
        fields = mapping_of(ctx, top["docs_refs"], "docs_refs", DOCS_KEYS)
        sources = regex_sources(ctx, fields, "docs_refs")
        if sources and compile_any(ctx, top["docs_refs"], sources, "docs_refs") is not None:
            parts.docs.extend(sources)
        if "examples" in fields:
            parts.docs_examples.append(_examples(ctx, fields["examples"], "docs_refs"))
    for key, build in (("cancellers", _canceller_entry), ("rules", _rule)):
        if key not in top:
            continue
        seq = top[key]
        if not isinstance(seq, SequenceNode):
            ctx.err(seq, f"{key}: expected a list")
            continue
        for item in seq.value:
            built = build(ctx, item)
            if built is not None:
                getattr(parts, key).append((built, item))
    return parts


def _canceller_entry(ctx: Ctx, node: Node) -> Canceller | None:
    return _canceller(ctx, node, "canceller", None)


def _setting(ctx: Ctx, key: str, node: Node) -> Any:
    if key == "threshold":
        return number_of(ctx, node, "settings.threshold")
    names = [v for v, _ in texts_of(ctx, node, "settings.type_priority")]
    bad = [n for n in names if n not in GAP_TYPES]
    if bad:
        ctx.err(node, f"settings.type_priority: unknown gap type(s) {', '.join(bad)}")
        return None
    return tuple(GapType(n) for n in dict.fromkeys([*names, *GAP_TYPES]))


def assemble(files: list[FileParts], paths: tuple[Path, ...], problems: Problems) -> RuleSet | None:
    """Cross-file checks (duplicate ids, unknown canceller ids, settings) and the final set."""

    settings: dict[str, Any] = {}
    seen_settings: dict[str, str] = {}
    cancellers: dict[str, Canceller] = {}
    docs: list[str] = []
    docs_from: list[str] = []
    docs_examples: list[Examples] = []
    drafts: list[RuleDraft] = []
    seen_rules: dict[str, str] = {}
    for part in files:
        ctx = Ctx(part.label, problems)
        for key, (value, node) in part.settings.items():
            if key in seen_settings:
                ctx.err(node, f"setting {key!r} already set at {seen_settings[key]}")
            seen_settings[key] = ctx.where(node)
            if value is not None:
                settings[key] = value
        docs.extend(part.docs)
        docs_from.extend([part.label] if part.docs else [])
        docs_examples.extend(part.docs_examples)
        for canceller, node in part.cancellers:
            if canceller.id in cancellers:
                ctx.err(node, f"duplicate canceller id {canceller.id!r} "
                        f"(first at {cancellers[canceller.id].where})")
            cancellers.setdefault(canceller.id, canceller)
        for draft, node in part.rules:
            if draft.rule.id in seen_rules:
                ctx.err(node, f"duplicate rule id {draft.rule.id!r} "
                        f"(first at {seen_rules[draft.rule.id]})")
                continue
            seen_rules[draft.rule.id] = ctx.where(node)
            drafts.append(draft)
    rules = []
    for draft in drafts:
        ctx = Ctx(draft.label, problems)
        resolved = list(draft.rule.cancel)
        for cid, node in draft.refs:
            if cid in cancellers and cancellers[cid].scope in THREAD_SCOPES:
                ctx.err(node, f"rule {draft.rule.id}: canceller {cid!r} judges the thread; "
                        "it applies to every signal and is not listed in a rule")
            elif cid in cancellers:
                resolved.append(cancellers[cid])
            else:
                ctx.err(node, f"rule {draft.rule.id}: unknown canceller {cid!r}")
        rules.append(replace(draft.rule, cancel=tuple(resolved)))
    if not docs:
        problems.add(str(paths[0]) if paths else "rules", 0, "no docs_refs vocabulary defined")
        return None
    try:
        docs_ref = re.compile(combined(docs), re.I)
    except re.error as exc:  # each file's compiles; together they may not (a group name twice)
        problems.add(docs_from[-1], 0, f"docs_refs of {', '.join(docs_from)} cannot be combined "
                     f"({exc.msg}); avoid named groups")
        return None
    merged = Examples(
        tuple(e for x in docs_examples for e in x.match),
        tuple(e for x in docs_examples for e in x.no_match),
    )
    return RuleSet(
        tuple(rules), cancellers, docs_ref, Settings(**settings), paths, merged
    )
