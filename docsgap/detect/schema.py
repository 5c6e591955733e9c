"""The rules file schema: walk PyYAML nodes (for line numbers), report every problem as
`file:line: message`, compile phrases and patterns, and assemble a `RuleSet`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from docsgap.detect.redos import catastrophic
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
_TERM_RE = re.compile(r"\{([a-z_]+)\}")
SETTINGS_KEYS = frozenset({"threshold", "type_priority"})
DOCS_KEYS = frozenset({"phrases", "patterns", "examples"})
MATCH_KEYS = frozenset({"phrases", "patterns", "scope", "window", "penalty", "boost"})
CANCELLER_KEYS = MATCH_KEYS | {"id", "description", "global", "examples"}
RULE_KEYS = frozenset(
    {"id", "gap_type", "description", "phrases", "patterns", "near_docs", "cancel", "weight",
     "examples"}
)
GAP_TYPES = tuple(t.value for t in GapType)


class Problems:
    """Collects `file:line: message` strings."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, label: str, line: int, message: str) -> None:
        """Record one problem."""
        self.items.append(f"{label}:{line}: {message}")


@dataclass
class _Ctx:
    label: str
    problems: Problems
    terms: dict[str, str] = field(default_factory=dict)

    def err(self, node: Node, message: str) -> None:
        self.problems.add(self.label, node.start_mark.line + 1, message)

    def where(self, node: Node) -> str:
        return f"{self.label}:{node.start_mark.line + 1}"


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


def phrase_regex(phrase: str) -> str:
    """A phrase as a case-insensitive, word-bounded regex; spaces also match hyphens."""
    words = [re.escape(w) for w in phrase.split()]
    return r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?![\w-])"


def _mapping(ctx: _Ctx, node: Node, what: str, allowed: frozenset[str]) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        ctx.err(node, f"{what}: expected a mapping")
        return {}
    out: dict[str, Node] = {}
    for key, value in node.value:
        name = str(key.value)
        if not isinstance(key, ScalarNode):
            ctx.err(key, f"{what}: keys must be plain words")
        elif name in out:
            ctx.err(key, f"{what}: duplicate key {name!r}")
        elif name not in allowed:
            ctx.err(key, f"{what}: unknown key {name!r} (allowed: {', '.join(sorted(allowed))})")
        else:
            out[name] = value
    return out


def _text(ctx: _Ctx, node: Node, what: str) -> str | None:
    if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        ctx.err(node, f"{what}: expected text")
        return None
    return str(node.value)


def _texts(ctx: _Ctx, node: Node, what: str) -> list[tuple[str, Node]]:
    if not isinstance(node, SequenceNode):
        ctx.err(node, f"{what}: expected a list")
        return []
    out = []
    for item in node.value:
        value = _text(ctx, item, what)
        if value is not None and value.strip():
            out.append((value, item))
        elif value is not None:
            ctx.err(item, f"{what}: empty entry")
    return out


def _number(ctx: _Ctx, node: Node, what: str, *, minimum: float = 0.0) -> float | None:
    if isinstance(node, ScalarNode) and node.tag.endswith((":int", ":float")):
        value = float(node.value)
        if value > minimum:
            return value
    ctx.err(node, f"{what}: expected a number above {minimum:g}")
    return None


def _sources(ctx: _Ctx, fields: dict[str, Node], what: str) -> list[str]:
    """Compile each phrase and pattern on its own so a bad one is named with its line."""
    out: list[str] = []
    phrases = _texts(ctx, fields["phrases"], f"{what}.phrases") if "phrases" in fields else []
    out.extend(phrase_regex(phrase) for phrase, _ in phrases)
    patterns = _texts(ctx, fields["patterns"], f"{what}.patterns") if "patterns" in fields else []
    expanded = [(raw, node, expand_terms(ctx, node, raw, what)) for raw, node in patterns]
    values = [v for _, _, v in expanded if v is not None]
    if len(values) == len(expanded) and _sound(combined([*out, *values])):
        return [*out, *values]  # the usual case: parsing each one again would only cost time
    for raw, node, value in expanded:
        if value is None:
            continue
        try:
            compiled = re.compile(value, re.I)
        except re.error as exc:
            ctx.err(node, f"{what}: bad regex {raw!r}: {exc.msg}")
            continue
        if compiled.search(""):
            ctx.err(node, f"{what}: pattern {raw!r} matches empty text (it would fire anywhere)")
            continue
        slow = catastrophic(value)
        if slow:
            ctx.err(node, f"{what}: pattern {raw!r} {slow}")
            continue
        out.append(value)
    return out


def expand_terms(ctx: _Ctx, node: Node, pattern: str, what: str) -> str | None:
    """Replace `{name}` with the named term (terms may use earlier terms)."""
    for _ in range(5):
        unknown = [n for n in _TERM_RE.findall(pattern) if n not in ctx.terms]
        if unknown:
            ctx.err(node, f"{what}: unknown term {{{unknown[0]}}} (define it under 'terms')")
            return None
        expanded = _TERM_RE.sub(lambda m: f"(?:{ctx.terms[m.group(1)]})", pattern)
        if expanded == pattern:
            return pattern
        pattern = expanded
    ctx.err(node, f"{what}: terms nest too deeply")
    return None


def collect_terms(label: str, root: Node, problems: Problems, terms: dict[str, str]) -> None:
    """First pass over a file: its `terms:` (name -> regex), shared by every file."""
    if not isinstance(root, MappingNode):
        return
    for key, value in root.value:
        if key.value != "terms":
            continue
        ctx = _Ctx(label, problems)
        if not isinstance(value, MappingNode):
            ctx.err(value, "terms: expected a mapping of name: regex")
            continue
        for name_node, regex_node in value.value:
            name = str(name_node.value)
            text = _text(ctx, regex_node, f"terms.{name}")
            if not re.fullmatch(r"[a-z_]+", name):
                ctx.err(name_node, f"terms: name {name!r} must be lower-case letters and _")
            elif name in terms:
                ctx.err(name_node, f"terms: {name!r} is defined twice")
            elif text is not None:
                terms[name] = text


def combined(sources: list[str]) -> str:
    """One alternation of several sources (as `compile_any` compiles it)."""
    return "|".join(f"(?:{s})" for s in sources)


def _sound(pattern: str) -> bool:
    """Whether an alternation passes every check its parts get one by one in `_sources`: it
    compiles, matches no empty text and cannot backtrack exponentially (each holds for the
    alternation exactly when it holds for every part). `re` caches the compiled pattern for
    `compile_any`."""
    try:
        compiled = re.compile(pattern, re.I)
    except re.error:
        return False
    return not compiled.search("") and catastrophic(pattern) is None


def compile_any(ctx: _Ctx, node: Node, sources: list[str], what: str) -> re.Pattern[str] | None:
    """One alternation of several sources; reports when they cannot live together."""
    try:
        return re.compile(combined(sources), re.I)
    except re.error as exc:
        ctx.err(node, f"{what}: patterns cannot be combined ({exc.msg}); avoid named groups")
        return None


def _examples(ctx: _Ctx, node: Node, what: str) -> Examples:

    fields = _mapping(ctx, node, f"{what}.examples", frozenset({"match", "no_match"}))
    lists = {
        key: tuple(Example(text, ctx.where(n)) for text, n in _texts(ctx, fields[key], key))
        for key in ("match", "no_match") if key in fields
    }
    return Examples(lists.get("match", ()), lists.get("no_match", ()))


def _canceller(ctx: _Ctx, node: Node, what: str, cid: str | None) -> Canceller | None:

    fields = _mapping(ctx, node, what, CANCELLER_KEYS if cid is None else MATCH_KEYS)
    if cid is None:
        if "id" not in fields:
            ctx.err(node, f"{what}: missing required key 'id'")
            return None
        cid = _text(ctx, fields["id"], f"{what}.id")
        if cid is None or not _ID_RE.match(cid):
            ctx.err(fields["id"], f"{what}: id must be lower-case words joined by . _ or -")
            return None
        what = f"canceller {cid}"
    if "phrases" not in fields and "patterns" not in fields:
        ctx.err(node, f"{what}: needs 'phrases' or 'patterns'")
    scope = _text(ctx, fields["scope"], f"{what}.scope") if "scope" in fields else "sentence"
    if scope not in SCOPES:
        ctx.err(fields.get("scope", node), f"{what}: scope must be one of {', '.join(SCOPES)}")
    window = _number(ctx, fields["window"], f"{what}.window") if "window" in fields else 4.0
    penalty = _number(ctx, fields["penalty"], f"{what}.penalty") if "penalty" in fields else None
    boost = _number(ctx, fields["boost"], f"{what}.boost") if "boost" in fields else None
    if "boost" in fields and scope != "staff-reply":
        ctx.err(fields["boost"], f"{what}: boost needs scope: staff-reply")
    is_global = False
    if "global" in fields:
        flag = fields["global"]
        is_global = isinstance(flag, ScalarNode) and flag.value.lower() == "true"
        if not (isinstance(flag, ScalarNode) and flag.tag.endswith(":bool")):
            ctx.err(flag, f"{what}.global: expected true or false")
    sources = _sources(ctx, fields, what)
    regex = compile_any(ctx, node, sources, what) if sources else None
    if regex is None:
        return None
    examples = _examples(ctx, fields["examples"], what) if "examples" in fields else Examples()
    description = _text(ctx, fields["description"], what) if "description" in fields else ""
    return Canceller(
        cid, regex, scope or "sentence", int(window or 4), penalty, is_global, description or "",
        ctx.where(node), examples, boost,
    )


def _near(ctx: _Ctx, node: Node, what: str) -> str | int | None:

    is_scalar = isinstance(node, ScalarNode)
    if is_scalar and node.tag.endswith(":bool") and str(node.value).lower() == "false":
        return None
    if isinstance(node, ScalarNode) and node.tag.endswith(":int") and int(node.value) > 0:
        return int(node.value)
    if isinstance(node, ScalarNode) and node.value in NEAR_DOCS:
        return str(node.value)
    ctx.err(node, f"{what}.near_docs: expected {', '.join(NEAR_DOCS)}, a word count, or false")
    return None


def _rule(ctx: _Ctx, node: Node) -> RuleDraft | None:

    fields = _mapping(ctx, node, "rule", RULE_KEYS)
    rid = _text(ctx, fields["id"], "rule.id") if "id" in fields else None
    what = f"rule {rid}" if rid else "rule"
    for key in ("id", "gap_type", "description", "weight"):
        if key not in fields:
            ctx.err(node, f"{what}: missing required key {key!r}")
    if rid is not None and not _ID_RE.match(rid):
        ctx.err(fields["id"], f"{what}: id must be lower-case words joined by . _ or -")
    gap = _text(ctx, fields["gap_type"], f"{what}.gap_type") if "gap_type" in fields else None
    if gap is not None and gap not in GAP_TYPES:
        allowed = ", ".join(GAP_TYPES)
        ctx.err(fields["gap_type"], f"{what}: gap_type {gap!r} is not one of {allowed}")
    if "phrases" not in fields and "patterns" not in fields:
        ctx.err(node, f"{what}: needs 'phrases' or 'patterns'")
    weight = _number(ctx, fields["weight"], f"{what}.weight") if "weight" in fields else None
    near = _near(ctx, fields["near_docs"], what) if "near_docs" in fields else None
    description = _text(ctx, fields["description"], what) if "description" in fields else None
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
    sources = _sources(ctx, fields, what)
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
    ctx = _Ctx(label, problems, terms)
    parts = FileParts(label)
    top = _mapping(ctx, root, "file", FILE_KEYS)
    if "settings" in top:
        for key, value in _mapping(ctx, top["settings"], "settings", SETTINGS_KEYS).items():
            parts.settings[key] = (_setting(ctx, key, value), value)
    if "docs_refs" in top:
        fields = _mapping(ctx, top["docs_refs"], "docs_refs", DOCS_KEYS)
        parts.docs.extend(_sources(ctx, fields, "docs_refs"))
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


def _canceller_entry(ctx: _Ctx, node: Node) -> Canceller | None:
    return _canceller(ctx, node, "canceller", None)


def _setting(ctx: _Ctx, key: str, node: Node) -> Any:
    if key == "threshold":
        return _number(ctx, node, "settings.threshold")
    names = [v for v, _ in _texts(ctx, node, "settings.type_priority")]
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
    docs_examples: list[Examples] = []
    drafts: list[RuleDraft] = []
    seen_rules: dict[str, str] = {}
    for part in files:
        ctx = _Ctx(part.label, problems)
        for key, (value, node) in part.settings.items():
            if key in seen_settings:
                ctx.err(node, f"setting {key!r} already set at {seen_settings[key]}")
            seen_settings[key] = ctx.where(node)
            if value is not None:
                settings[key] = value
        docs.extend(part.docs)
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
        ctx = _Ctx(draft.label, problems)
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
    docs_ref = re.compile("|".join(f"(?:{s})" for s in docs), re.I)
    merged = Examples(
        tuple(e for x in docs_examples for e in x.match),
        tuple(e for x in docs_examples for e in x.no_match),
    )
    return RuleSet(
        tuple(rules), cancellers, docs_ref, Settings(**settings), paths, merged
    )
