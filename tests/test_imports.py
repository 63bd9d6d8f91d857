"""The picture of imports: data flows one way (archive -> db -> service -> cogs / cli / bot.py) and
no module imports itself back through others. Every import counts, including those inside functions
and under `TYPE_CHECKING`: an arrow is an arrow."""

from __future__ import annotations

import ast
from pathlib import Path

from settings import ROOT

PACKAGES = ("archive", "db", "service", "cogs", "cli")
LAYER = {"settings": 0, "archive": 1, "db": 2, "service": 3, "cogs": 4, "cli": 5, "bot": 5}
"""A module may import only from its own layer or a lower one (cogs and cli never each other); the
two hosts, `bot.py` and `cli/`, share the top (`bot.py sync` is a CLI command that needs the bot)."""
PENDING: set[tuple[str, str]] = set()
"""Upward arrows still being moved, named here so they are seen (none left: issue 10 point 2 made
indexing a service)."""


def _modules() -> dict[str, Path]:
    found = {"bot": ROOT / "bot.py", "settings": ROOT / "settings.py"}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            if "migrations" in file.parts:
                continue
            parts = file.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return found


def _imports(name: str, file: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports (the longest known prefix of each imported name)."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            parts = target.split(".")
            for cut in range(len(parts), 0, -1):
                if ".".join(parts[:cut]) in known:
                    out.add(".".join(parts[:cut]))
                    break
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, file, set(modules)) for name, file in modules.items()}


def test_no_module_imports_upward() -> None:
    upward = []
    for name, targets in _graph().items():
        mine = name.split(".")[0]
        for target in targets:
            theirs = target.split(".")[0]
            sideways = {mine, theirs} == {"cogs", "cli"}
            if (LAYER[theirs] > LAYER[mine] or sideways) and (name, target) not in PENDING:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports against the flow archive -> db -> service -> cogs/cli:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    graph = _graph()
    # Tarjan's strongly connected components: any component of two or more modules is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"modules importing each other: {cycles}"


def test_the_graph_sees_real_arrows() -> None:
    graph = _graph()
    assert "service.views" in graph["service.library"]
    assert "db.models" in graph["db.changes"]
    assert not graph["archive.model"] & {"db.models", "service.library"}
