"""A rule's phrases and patterns: `{term}` expansion, the checks each one gets (it compiles,
matches no empty text, cannot backtrack exponentially) and their one compiled alternation."""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node

from docsgap.detect.nodes import Ctx, Problems, text_of, texts_of
from docsgap.detect.redos import catastrophic

_TERM_RE = re.compile(r"\{([a-z_]+)\}")
_UNCOMPILABLE = (re.error, OverflowError, RecursionError)
"""What `re.compile` raises for a bad pattern: `re.error`, but OverflowError for a repeat
count past 4 billion (`a{99999999999}`) and RecursionError for parentheses nested ~1000 deep."""


def _why(exc: Exception) -> str:
    if isinstance(exc, re.error):
        return exc.msg
    return "parentheses nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def phrase_regex(phrase: str) -> str:
    """A phrase as a case-insensitive, word-bounded regex; spaces also match hyphens."""
    words = [re.escape(w) for w in phrase.split()]
    return r"(?<![\w-])" + r"[\s-]+".join(words) + r"(?![\w-])"



def regex_sources(ctx: Ctx, fields: dict[str, Node], what: str) -> list[str]:
    """A rule's phrases and patterns as regex sources. They are checked together first; only
    when that fails is each pattern compiled on its own, so a bad one is named with its line."""
    out: list[str] = []
    phrases = texts_of(ctx, fields["phrases"], f"{what}.phrases") if "phrases" in fields else []
    out.extend(phrase_regex(phrase) for phrase, _ in phrases)
    patterns = texts_of(ctx, fields["patterns"], f"{what}.patterns") if "patterns" in fields else []
    expanded = [(raw, node, expand_terms(ctx, node, raw, what)) for raw, node in patterns]
    values = [v for _, _, v in expanded if v is not None]
    if len(values) == len(expanded) and _sound(combined([*out, *values])):
        return [*out, *values]  # the usual case: parsing each one again would only cost time
    for raw, node, value in expanded:
        if value is None:
            continue
        try:
            compiled = re.compile(value, re.I)
        except _UNCOMPILABLE as exc:
            ctx.err(node, f"{what}: bad regex {raw!r}: {_why(exc)}")
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


def expand_terms(ctx: Ctx, node: Node, pattern: str, what: str) -> str | None:
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
        ctx = Ctx(label, problems)
        if not isinstance(value, MappingNode):
            ctx.err(value, "terms: expected a mapping of name: regex")
            continue
        for name_node, regex_node in value.value:
            name = str(name_node.value)
            text = text_of(ctx, regex_node, f"terms.{name}")
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
    except _UNCOMPILABLE:
        return False
    return not compiled.search("") and catastrophic(pattern) is None


def compile_any(ctx: Ctx, node: Node, sources: list[str], what: str) -> re.Pattern[str] | None:
    """One alternation of several sources; reports when they cannot live together."""
    try:
        return re.compile(combined(sources), re.I)
    except _UNCOMPILABLE as exc:
        ctx.err(node, f"{what}: patterns cannot be combined ({_why(exc)}); avoid named groups")
        return None

