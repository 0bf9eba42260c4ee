"""Dependencies inside stilts.tasks point one way: from the built-in plugins to the core.

The core (the contract, data, heads, registry, declared tasks, the formats' shared pieces)
must not import a plugin: a declared task would otherwise need a plugin module, and a change
to a built-in task could break a task that merely shares its format.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import stilts.tasks

TASKS = Path(stilts.tasks.__file__).parent
CORE = sorted(p for p in TASKS.rglob("*.py") if TASKS / "plugins" not in p.parents)
PLUGIN_PACKAGES = ("stilts.tasks.plugins", "stilts.plugins")  # the second: its 0.1 alias


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (also inside functions), absolute names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                package = path.relative_to(TASKS.parent.parent).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                found.add(f"{base}.{node.module}" if node.module else base)
            else:
                found.add(node.module or "")
            found |= {f"{node.module}.{alias.name}" for alias in node.names if node.module}
    return found


def test_the_core_modules_are_found():
    names = {p.relative_to(TASKS).as_posix() for p in CORE}
    assert {"task.py", "data.py", "registry.py", "declarative.py", "formats.py"} <= names


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.relative_to(TASKS).as_posix())
def test_no_core_module_imports_a_plugin(path):
    plugins = sorted(name for name in imported_modules(path) if name.startswith(PLUGIN_PACKAGES))
    assert plugins == [], f"{path.name} imports {plugins}"


def test_declaring_a_task_loads_no_plugin_module():
    probe = (
        "import sys\n"
        "from stilts.tasks.declarative import declared_task\n"
        "declared_task('reviews', {'kind': 'tagging', 'repo': 'acme/tags', 'revision': 'abc',"
        " 'files': '{split}.parquet', 'labels': ['O', 'B-X']})\n"
        "print(sorted(m for m in sys.modules if m.startswith('stilts.tasks.plugins')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
