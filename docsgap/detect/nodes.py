"""Rules files as PyYAML nodes (for line numbers): typed reads of mappings, texts and numbers
that report every problem as `file:line: message` instead of stopping at the first."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class Problems:
    """Collects `file:line: message` strings."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, label: str, line: int, message: str) -> None:
        """Record one problem."""
        self.items.append(f"{label}:{line}: {message}")


@dataclass
class Ctx:
    """Where a file's problems go, and the terms its patterns may use."""

    label: str
    problems: Problems
    terms: dict[str, str] = field(default_factory=dict)

    def err(self, node: Node, message: str) -> None:
        self.problems.add(self.label, node.start_mark.line + 1, message)

    def where(self, node: Node) -> str:
        return f"{self.label}:{node.start_mark.line + 1}"




def mapping_of(ctx: Ctx, node: Node, what: str, allowed: frozenset[str]) -> dict[str, Node]:
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


def text_of(ctx: Ctx, node: Node, what: str) -> str | None:
    if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        ctx.err(node, f"{what}: expected text")
        return None
    return str(node.value)


def texts_of(ctx: Ctx, node: Node, what: str) -> list[tuple[str, Node]]:
    if not isinstance(node, SequenceNode):
        ctx.err(node, f"{what}: expected a list")
        return []
    out = []
    for item in node.value:
        value = text_of(ctx, item, what)
        if value is not None and value.strip():
            out.append((value, item))
        elif value is not None:
            ctx.err(item, f"{what}: empty entry")
    return out


def yaml_number(node: Node) -> float | None:
    """A finite YAML int or float as YAML reads it (`0x1F`, `1_000`, `1:30` included), or
    None: not a number, `.inf`/`.nan`, `1e400`, or an explicit `!!int` tag on text."""
    if not (isinstance(node, ScalarNode) and node.tag.endswith((":int", ":float"))):
        return None
    try:
        value = float(SafeConstructor().construct_object(node))
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def number_of(ctx: Ctx, node: Node, what: str, *, minimum: float = 0.0) -> float | None:
    value = yaml_number(node)
    if value is not None and value > minimum:
        return value
    ctx.err(node, f"{what}: expected a number above {minimum:g}")
    return None

