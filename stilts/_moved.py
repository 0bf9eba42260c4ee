"""Old import paths of the plugin API, kept working for one release with a DeprecationWarning.

stilts regrouped its modules into packages (`stilts.tasks`, `stilts.experiment`,
`stilts.runtime`, `stilts.store`, `stilts.reports`) after 0.1.0. Third-party plugins written
against 0.1 import from the old places; this finder answers those names with the module that
now lives elsewhere (the same module object, so classes and isinstance checks are shared) and
tells the importer where to import from. Plugins should import from `stilts.api`. It goes in
the release after the one that first ships the new layout.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType

MOVED = {
    "stilts.task": "stilts.tasks.task",
    "stilts.data": "stilts.tasks.data",
    "stilts.registry": "stilts.tasks.registry",
    "stilts.declarative": "stilts.tasks.declarative",
    "stilts.heads": "stilts.tasks.heads",
    "stilts.heads.biaffine": "stilts.runtime.biaffine",
    "stilts.plugins": "stilts.tasks.plugins",
    "stilts.eval.mining": "stilts.runtime.mining",
}
"""Old module -> where it lives now; a package's submodules move with it."""


def moved_to(name: str) -> str | None:
    """Where the module once named `name` lives now (None: it has not moved)."""
    old = max((o for o in MOVED if name == o or name.startswith(o + ".")), key=len, default=None)
    return None if old is None else MOVED[old] + name[len(old) :]


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed under its new name."""


class MovedModules(importlib.abc.MetaPathFinder):
    """Finds an old module name and hands back the module it became."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        new = moved_to(name)
        if new is None:
            return None
        warnings.warn(
            f"{name} moved to {new}; the old path works for one more release. Plugins import "
            "from stilts.api",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.util.spec_from_loader(name, _Alias(new))


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModules())
