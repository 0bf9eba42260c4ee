"""Tests see stilts' own tasks only, whatever else is installed where they run.

A third-party plugin pip-installed beside stilts would otherwise enter every test that lists
or counts tasks (every installed task's source pinned, the fixtures covering every task) and
the light-import checks, which would then measure the plugin's imports, not stilts'. Tests
that install plugins on purpose run `stilts` in a subprocess, which sees them.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

OWN = "stilts"
GROUP = "stilts.tasks"


def only_stilts_tasks() -> None:
    """Make this process's task discovery see the entry points of stilts' own package only."""
    every = metadata.entry_points

    def own(**selection: Any) -> Any:
        points = every(**selection)
        if selection.get("group") != GROUP:
            return points
        return metadata.EntryPoints(p for p in points if p.dist is not None and p.dist.name == OWN)

    metadata.entry_points = own  # type: ignore[assignment]
