"""No two docsgap modules import each other, directly or around a loop (STYLE 2.1b: a cycle
means one of them owns something that belongs to the other). Imports under `TYPE_CHECKING`
count too: they are the same dependency, only hidden from the interpreter.

The packages are layered too (README, Development): every import points down `LAYERS`, and no
two of `docsgap.*` import each other around a loop through their modules' top-level imports
(there a lazy import in a function body is allowed, as is one under `TYPE_CHECKING`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "docsgap"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def parsed() -> dict[str, tuple[Path, ast.Module]]:
    """Every docsgap module by name, with its file and syntax tree (parsed once per session)."""
    return {module_name(p): (p, ast.parse(p.read_text(encoding="utf-8")))
            for p in sorted(PACKAGE.rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    files = parsed()
    graph: dict[str, set[str]] = {}
    for name, (_, tree) in files.items():
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in files else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = import_graph()
    assert "docsgap.sandbox.server" in graph["docsgap.sandbox"]  # the graph is really read
    assert cycles(graph) == []


def test_no_adapter_imports_the_doctor_or_the_cli() -> None:
    # The doctor uses the adapters' probes (ForumProbe, TrackerProbe), never the reverse: an
    # adapter importing it would pull the checks (and the rules) into every forum/GitLab call.
    graph = import_graph()
    adapters = [m for m in graph if m.startswith(("docsgap.forum", "docsgap.tracker"))]
    assert "docsgap.tracker.gitlab_checks" in adapters
    above = ("docsgap.doctor", "docsgap.cli")
    wrong = {m: sorted(d for d in graph[m] if d.startswith(above)) for m in adapters}
    assert {m: d for m, d in wrong.items() if d} == {}


def top_level_imports(tree: ast.Module, files: set[str]) -> Iterator[tuple[str, int]]:
    """(module, line) of each docsgap import that runs when the module is imported: the module's
    own statements and those under `if`/`try` there, not function bodies nor `if TYPE_CHECKING`."""
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If):
            test = node.test
            hidden = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
                      or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
            todo += ([] if hidden else node.body) + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
            todo += [stmt for handler in node.handlers for stmt in handler.body]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in files else node.module), node.lineno
        elif isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)


def package_of(module: str) -> str:
    """`docsgap.docs.index` -> `docsgap.docs`; a top-level module is its own node."""
    return ".".join(module.split(".")[:2])


def package_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """Which `docsgap.*` package imports which at import time, and for each edge the first
    import that makes it (`docsgap/scan/scanner.py:25 imports docsgap.docs.questions`)."""
    files = parsed()
    graph: dict[str, set[str]] = {package_of(m): set() for m in files}
    why: dict[tuple[str, str], str] = {}
    for name, (path, tree) in sorted(files.items()):
        for target, line in top_level_imports(tree, set(files)):
            if target not in files:
                continue
            edge = (package_of(name), package_of(target))
            if edge[0] != edge[1]:
                graph[edge[0]].add(edge[1])
                where = path.relative_to(PACKAGE.parent)
                why.setdefault(edge, f"{where}:{line} imports {target}")
    return graph, why


def test_top_level_imports_skip_function_bodies_and_type_checking() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import docsgap.errors\n"
        "from docsgap import models\n"
        "try:\n    from docsgap.act import plan\nexcept ImportError:\n    pass\n"
        "if TYPE_CHECKING:\n    from docsgap.loop import run\n"
        "def f():\n    from docsgap.review import queue\n")
    files = {"docsgap.errors", "docsgap.models", "docsgap.act.plan", "docsgap.loop.run",
             "docsgap.review.queue"}
    assert list(top_level_imports(tree, files)) == [
        ("typing", 1), ("docsgap.errors", 2), ("docsgap.models", 3), ("docsgap.act.plan", 5)]


def test_no_package_imports_another_that_imports_it_back() -> None:
    graph, why = package_graph()
    assert "docsgap.dedupe" in graph["docsgap.loop"]  # the graph is really read
    loops = cycles(graph)
    edges = [f"{a} -> {b}: {why[a, b]}" for loop in loops for a in loop for b in sorted(graph[a])
             if b in loop]
    assert loops == [], "package import cycle:\n" + "\n".join(edges)


LAYERS = (
    ("docsgap", "errors", "models", "paths", "yamlload", "textfile", "jsonl", "jsonshape",
     "budget", "http_budget", "config", "state", "compose", "text", "docpages"),
    ("forum", "tracker", "report", "sandbox"),
    ("detect", "dedupe", "docs", "scan", "act"),
    ("doctor",),
    ("loop",),
    ("review",),
    ("demo",),
    ("cli", "__main__"),
)
"""README's layers (Development), lowest first: a package imports only from its own layer or a
lower one, lazily or not; within a layer the cycle tests above keep the order."""


def test_every_import_points_down_the_layers() -> None:
    layer = {("docsgap" if n == "docsgap" else f"docsgap.{n}"): i
             for i, names in enumerate(LAYERS) for n in names}
    graph = import_graph()
    unplaced = sorted({package_of(m) for m in graph} - set(layer))
    assert unplaced == [], "place these in LAYERS here and in README's list of layers"
    up = sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps
                if layer[package_of(d)] > layer[package_of(m)])
    assert up == []


def test_only_the_demo_and_the_sandbox_command_import_the_sandbox() -> None:
    # The product talks to Discourse and GitLab through pydiscourse and python-gitlab only; the
    # sandbox is for `docsgap demo`, `docsgap sandbox` and the tests. Lazy imports count here.
    graph = import_graph()
    users = sorted(m for m, deps in graph.items() if not m.startswith("docsgap.sandbox")
                   and any(d.startswith("docsgap.sandbox") for d in deps))
    assert "docsgap.demo.loop" in users  # the graph is really read
    assert [m for m in users if not m.startswith("docsgap.demo.")] == ["docsgap.cli.sandbox_cmd"]
