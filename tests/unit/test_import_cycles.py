"""No two docsgap modules import each other, directly or around a loop (STYLE 2.1b: a cycle
means one of them owns something that belongs to the other). Imports under `TYPE_CHECKING`
count too: they are the same dependency, only hidden from the interpreter."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "docsgap"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
