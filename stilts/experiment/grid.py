"""Grids: many chains (intermediate × target, each once per seed) run as one experiment.

A grid is nothing but chains: each row (an intermediate phase) before each column (a target),
and, with baselines, each column alone, once per seed. A row or column is a `PhaseConfig`, so
two rows may train the same task differently (data size, translations, groups, adapter) when
their labels tell them apart. The runner trains a phase only when its fingerprint is not
complete in the store yet, so a grid of I intermediate and T target phases with baselines
trains I intermediate phases, I × T target phases after them and T baselines: every
intermediate phase once, however many targets follow it.

A grid's directory in the store (`grid_dir`) is named by the runs it holds and lists them,
with their rows and columns, in ``runs.json`` for the study table and the analyses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig, PhaseConfig
from stilts.experiment.specs import DevAggregate
from stilts.store.files import fingerprint, write_json
from stilts.store.layout import Store

if TYPE_CHECKING:
    from stilts.experiment.plan import ChainPlan

GRID_RUNS = "runs.json"
"""In a grid's directory: its runs (directories relative to the store root, rows, columns)."""
BASELINE = "none"
"""The row of targets trained with no intermediate phase."""


@dataclass(frozen=True)
class GridCell:
    """One chain of a grid: its configuration, and the row and column it fills."""

    config: ChainConfig
    row: str
    column: str


def grid_chains(
    settings: Mapping[str, Any],
    rows: Sequence[PhaseConfig],
    columns: Sequence[PhaseConfig],
    seeds: Sequence[int],
    *,
    baselines: bool = True,
) -> tuple[GridCell, ...]:
    """Every row → column chain (and each column alone, with `baselines`) per seed, each with
    the `Settings` every chain shares."""
    if not rows and not baselines:
        raise StiltsError("a grid needs intermediate tasks, or baselines, or both")
    if not columns:
        raise StiltsError("a grid needs at least one target task, e.g. --target xnli")
    for what, phases in (("intermediate", rows), ("target", columns)):
        titles = [phase.title for phase in phases]
        repeated = sorted({title for title in titles if titles.count(title) > 1})
        if repeated:
            raise StiltsError(
                f"the grid names {what} {', '.join(repeated)} more than once; to compare "
                "variants of one task, give each a label"
            )
    starts: list[tuple[PhaseConfig, ...]] = [(row,) for row in rows]
    if baselines:
        starts.insert(0, ())
    return tuple(
        GridCell(
            _chain(settings, (*start, column), seed),
            start[0].title if start else BASELINE,
            column.title,
        )
        for seed in seeds
        for start in starts
        for column in columns
    )


def _chain(settings: Mapping[str, Any], phases: tuple[PhaseConfig, ...], seed: int) -> ChainConfig:
    """One chain of the grid; the dev aggregate only where a phase has several tasks to weigh
    (a baseline has none)."""
    if not any(phase.multitask for phase in phases):
        settings = {**settings, "dev_aggregate": DevAggregate()}
    return ChainConfig(**settings, phases=phases, seed=seed)


def grid_dir(store: Store, plans: Sequence[ChainPlan]) -> Path:
    """Where a grid's tables go, named by the runs it holds."""
    key = fingerprint({"runs": [chain.run_fingerprint for chain in plans]})
    return store.root / "grids" / f"grid-{key[:12]}"


def record(store: Store, plans: Sequence[ChainPlan], cells: Sequence[GridCell]) -> Path:
    """Write the grid's runs (each with its row and column) into its directory; return it.
    (Its runs may all have been read back from a store that cannot be written: said here.)"""
    store.check_writable()
    out = grid_dir(store, plans)
    listed = [
        {
            "run": str(store.run_dir(p.config.names, p.run_fingerprint).relative_to(store.root)),
            "row": cell.row,
            "column": cell.column,
        }
        for p, cell in zip(plans, cells, strict=True)
    ]
    write_json(out / GRID_RUNS, listed)
    return out
