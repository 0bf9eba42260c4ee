"""Task discovery through the ``stilts.tasks`` entry point group.

Names come from installed package metadata without importing anything; a task's module is
imported only when that task is asked for. A plugin that fails to import is reported by name,
never skipped in silence: the one-line error keeps the import error as its cause, which
`stilts --debug` shows in full.

Scanning installed metadata costs milliseconds, and planning a grid asks for tasks hundreds of
times, so the scan and each loaded task are kept for the life of the process. Code that
installs or removes a plugin in a running process (tests do) calls `refresh`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from types import MappingProxyType

from stilts.errors import StiltsError, did_you_mean
from stilts.tasks.task import AnyTask, EncoderTask, Task

GROUP = "stilts.tasks"


@dataclass(frozen=True)
class TaskEntry:
    """An installed task as package metadata describes it, before any import."""

    name: str
    target: str
    package: str
    version: str

    @property
    def provider(self) -> str:
        return f"{self.package} {self.version}"


@functools.cache
def entries() -> Mapping[str, TaskEntry]:
    """Every installed task entry point, by task name (scanned once per process)."""
    found: dict[str, TaskEntry] = {}
    for point in metadata.entry_points(group=GROUP):
        dist = point.dist
        entry = TaskEntry(
            name=point.name,
            target=point.value,
            package=dist.name if dist else "?",
            version=dist.version if dist else "?",
        )
        other = found.get(point.name)
        if other is not None and other.target != entry.target:
            raise StiltsError(
                f"two installed packages define task {point.name!r}: {other.provider} and "
                f"{entry.provider}; uninstall one of them"
            )
        found[point.name] = entry
    return MappingProxyType(found)


def find(name: str) -> TaskEntry:
    """The entry for task `name`, or an error suggesting the closest installed names."""
    known = entries()
    if name not in known:
        raise StiltsError(
            f"unknown task {name!r}{did_you_mean(name, known)}; "
            "`stilts tasks` lists the installed ones"
        )
    return known[name]


def load(name: str) -> AnyTask:
    """Import and return task `name`."""
    return load_entry(find(name))


def refresh() -> None:
    """Forget what discovery found, so the next call scans installed plugins again."""
    entries.cache_clear()
    load_entry.cache_clear()


@functools.cache
def load_entry(entry: TaskEntry) -> AnyTask:
    """Import the object an entry point names and check that it is a Task or an EncoderTask."""
    module_name, _, attribute = entry.target.partition(":")
    try:
        obj = metadata.EntryPoint(entry.name, entry.target, GROUP).load()
    except Exception as error:  # any import-time failure of third-party code
        raise StiltsError(
            f"task plugin {entry.name!r} from package {entry.provider} failed to import "
            f"({entry.target}): {type(error).__name__}: {error}; fix or reinstall {entry.package}"
        ) from error
    if not isinstance(obj, Task | EncoderTask):
        raise StiltsError(
            f"task plugin {entry.name!r} from package {entry.provider} names "
            f"{module_name}.{attribute or '?'}, a {type(obj).__name__}, not a stilts Task or "
            "EncoderTask; point the entry point at one (see stilts.api)"
        )
    if obj.name != entry.name:
        raise StiltsError(
            f"task plugin {entry.name!r} from package {entry.provider} is registered as "
            f"{entry.name!r} but calls itself {obj.name!r}; make the two names agree"
        )
    return obj
