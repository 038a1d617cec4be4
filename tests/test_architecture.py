"""The package reads as the data flow: imports go one way, down the layers, and never in a circle.

    ground (config, elements, compositions, censored, acquisition, validation)
      -> candidates -> data -> features, interface -> models -> ranking
      -> reporting, suggest -> tracking -> cli

A module may import its own layer or any layer below it (checked on every import statement,
function-level imports included), and the import graph has no cycle, neither between modules nor
between subpackages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lithioscreen

ROOT = Path(lithioscreen.__file__).resolve().parent
LAYERS = [
    {"config", "elements", "compositions", "censored", "acquisition", "validation", "__init__", "__main__"},
    {"candidates"},
    {"data"},
    {"features", "interface"},
    {"models"},
    {"ranking"},
    {"reporting", "suggest"},
    {"tracking"},
    {"cli"},
]


def _layer(top: str) -> int:
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{top!r} is in no layer: add it to LAYERS (tests/test_architecture.py)")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lithioscreen":
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "lithioscreen"}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name or None

    return {
        module: {target for name in _imports(path) if (target := resolve(name)) not in (None, module)}
        for module, path in modules.items()
    }


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(_top(target)) > _layer(_top(module))
    ]
    assert not upward, "\n".join(sorted(upward))


def test_no_import_cycle_between_modules_or_subpackages():
    graph = _graph()
    assert _cycles(graph) == []
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        for target in targets:
            if _top(module) != _top(target):
                packages.setdefault(_top(module), set()).add(_top(target))
    assert _cycles(packages) == []


def test_the_layers_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The check can fail: a ground module importing the CLI is reported."""
    fake = tmp_path / "config.py"
    fake.write_text("from lithioscreen.cli import app\n")
    assert "lithioscreen.cli.app" in _imports(fake)
    assert _layer(_top("lithioscreen.cli")) > _layer(_top("lithioscreen.config"))
