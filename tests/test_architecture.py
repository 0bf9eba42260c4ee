"""The layout the README draws, checked on the import graph of `stilts/`.

Packages form layers, each importing only from those below it at module level:

    errors, schema  <  eval, store  <  tasks  <  stilts, api  <  experiment  <  runtime
                    <  launch  <  reports  <  testing, cli

so a recipe flows down through planning to the runtime and out to the reports, never back.
A function-local import may reach up into `stilts.runtime` and nowhere else: that is the
light/heavy boundary (a head's collator, a retrieval task's mining, an analysis that runs the
encoder), crossed only when the heavy work is asked for. And no cycle, counting every import,
local ones included.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "stilts"
LAYERS = (
    ("stilts.errors", "stilts.schema", "stilts._moved"),
    ("stilts.eval", "stilts.store"),
    ("stilts.tasks",),
    ("stilts", "stilts.api"),
    ("stilts.experiment",),
    ("stilts.runtime",),
    ("stilts.launch",),
    ("stilts.reports",),
    ("stilts.testing", "stilts.cli", "stilts.__main__"),
)
"""From the bottom up; `stilts` is the package's own __init__ (its version, a few names)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    """The index of the layer `module` belongs to (its longest matching package)."""
    best = max(
        (prefix for names in LAYERS for prefix in names
         if module == prefix or module.startswith(prefix + ".")),
        key=len,
    )  # fmt: skip
    return next(i for i, names in enumerate(LAYERS) if best in names)


def edges(path: Path) -> list[tuple[str, bool]]:
    """The stilts modules `path` imports, each with whether the import is at module level
    (imports for type checking only are left out: they never run)."""
    found = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit_list(child.orelse, top)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:  # `from stilts.x import y`: y may be a module
                    full = f"{child.module}.{alias.name}"
                    found.append((full if full in MODULES else child.module, top))
            inner = top and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            visit(child, inner)

    def visit_list(nodes: list[ast.stmt], top: bool) -> None:
        holder = ast.Module(body=nodes, type_ignores=[])
        visit(holder, top)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return [(name, top) for name, top in found if name in MODULES]


GRAPH = {name: edges(path) for name, path in MODULES.items()}


def test_the_import_graph_of_stilts_has_no_cycle():
    dependencies = {
        name: {target for target, _ in targets if target != name} for name, targets in GRAPH.items()
    }
    sorter = graphlib.TopologicalSorter(dependencies)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_module_level_imports_only_point_down_the_layers():
    upward = [
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        for target, top in targets
        if top and layer(target) > layer(source)
    ]
    assert upward == []


def test_a_local_import_reaches_up_only_into_the_runtime():
    upward = [
        f"{source} -> {target}"
        for source, targets in GRAPH.items()
        for target, top in targets
        if not top and layer(target) > layer(source) and not target.startswith("stilts.runtime")
    ]
    assert upward == []


def test_the_layers_cover_every_module():
    assert all(layer(name) >= 0 for name in MODULES)
    assert {"stilts.experiment.plan", "stilts.runtime.runner", "stilts.cli.app"} <= set(MODULES)
