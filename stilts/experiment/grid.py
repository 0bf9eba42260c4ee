"""Grids: many chains (intermediate × target, each once per seed) run as one experiment.

A grid is nothing but chains: each is planned and run by `stilts.experiment.chain`, whose store
trains a phase only when its fingerprint is not complete yet. So a grid of I intermediate and T
target tasks with baselines trains I intermediate phases, I × T target phases after them and T
baseline phases: every intermediate phase once, however many targets follow it. Every chain is
planned before the first trains, so a bad name anywhere fails before any training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.experiment.chain import PHASE_JOIN, ChainConfig, ChainPlan, Log, finished, plan
from stilts.runtime.adapters import EVERY_INTERMEDIATE
from stilts.store.files import fingerprint, write_json
from stilts.store.layout import PHASE_MANIFEST, RUN_MANIFEST, Store
from stilts.store.results import ChainResult

GRID_RUNS = "runs.json"
"""In a grid's directory: its runs (directories relative to the store root, rows, columns)."""
BASELINE = "none"
"""The row of targets trained with no intermediate phase."""


@dataclass(frozen=True)
class GridPhase:
    """A row (intermediate phase) or column (target) of a grid, with the settings it alone
    has: two rows may train the same task differently (data size, translations, groups,
    adapter), so a row is known by its label, not its task."""

    name: str
    """The phase: a task, or tasks joined by `PHASE_JOIN`."""
    label: str = ""
    """How the table names it; empty: its name."""
    adapter: str | None = None
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    sampler: str | None = None
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class GridCell:
    """One chain of a grid: its configuration, and the row and column it fills."""

    config: ChainConfig
    row: str
    column: str


def grid_chains(
    base: ChainConfig,
    intermediates: Sequence[GridPhase | str],
    targets: Sequence[GridPhase | str],
    seeds: Sequence[int],
    *,
    baselines: bool = True,
) -> tuple[GridCell, ...]:
    """Every intermediate → target chain (and each target alone, with `baselines`) per seed.

    `base` holds what every chain shares; its per-phase settings (adapters and phase
    hyperparameters, keyed by phase name; translations and groups, keyed by task) are kept
    by the chains that have those phases or tasks, and each `GridPhase` adds its own.
    """
    rows = [GridPhase(p) if isinstance(p, str) else p for p in intermediates]
    columns = [GridPhase(p) if isinstance(p, str) else p for p in targets]
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
    starts: list[tuple[GridPhase, ...]] = [(row,) for row in rows]
    if baselines:
        starts.insert(0, ())
    return tuple(
        GridCell(
            chain_for(base, (*start, column), seed),
            start[0].title if start else BASELINE,
            column.title,
        )
        for seed in seeds
        for start in starts
        for column in columns
    )


def chain_for(base: ChainConfig, phases: Sequence[GridPhase | str], seed: int) -> ChainConfig:
    """`base` for the chain `phases` with `seed`: the shared settings that apply to it, and
    each phase's own."""
    phases = [GridPhase(p) if isinstance(p, str) else p for p in phases]
    names = {phase.name for phase in phases}
    tasks = {task for phase in names for task in phase.split(PHASE_JOIN)}
    multitask = any(PHASE_JOIN in name for name in names)
    sampler = next((p.sampler for p in phases if p.sampler is not None), base.sampler)
    return replace(
        base,
        tasks=tuple(phase.name for phase in phases),
        seed=seed,
        adapters={
            **{
                name: spec
                for name, spec in base.adapters.items()
                if name in names or (name == EVERY_INTERMEDIATE and len(phases) > 1)
            },
            **{p.name: p.adapter for p in phases if p.adapter is not None},
        },
        translations=_per_task(base.translations, [p.translations for p in phases], tasks),
        groups=_per_task(base.groups, [p.groups for p in phases], tasks),
        phase_overrides={
            **{name: values for name, values in base.phase_overrides.items() if name in names},
            **{p.name: dict(p.hyperparameters) for p in phases if p.hyperparameters},
        },
        sampler=sampler if multitask else None,
        dev_aggregate=base.dev_aggregate if multitask else ChainConfig.dev_aggregate,
    )


def _per_task(
    shared: Mapping[str, Any], own: Sequence[Mapping[str, Any]], tasks: set[str]
) -> dict[str, Any]:
    """A per-task setting of a chain: the shared one of each of its tasks, then its phases'."""
    return {
        **{task: value for task, value in shared.items() if task in tasks},
        **{task: value for phase in own for task, value in phase.items()},
    }


@dataclass(frozen=True)
class GridRun:
    """What became of one chain of a grid (in the order of its plans)."""

    result: ChainResult
    reused: bool
    """Whether the whole run was read back from the store (nothing trained or scored)."""


RunChain = Callable[[ChainPlan], ChainResult]
"""Trains and scores one planned chain (`stilts.experiment.chain.run` with the caller's options)."""


def plan_all(configs: Iterable[ChainConfig]) -> tuple[ChainPlan, ...]:
    """Plan every chain first: the grid fails on any bad input before training anything."""
    plans = tuple(plan(config) for config in configs)
    if not plans:
        raise StiltsError("the experiment has no chains to run")
    return plans


def run_all(
    plans: Sequence[ChainPlan],
    store: Store,
    run_chain: RunChain,
    *,
    force: bool = False,
    log: Log = lambda _message: None,
    on_chain: Callable[[int, ChainPlan], None] = lambda _index, _plan: None,
) -> list[GridRun]:
    """Run each chain in turn (phases shared between chains train once), in order.

    `on_chain(index, plan)` is told before each chain starts (for progress displays).
    """
    runs = []
    forgotten: set[str] = set()
    for index, chain in enumerate(plans):
        on_chain(index, chain)
        if force:
            _forget_once(chain, store, forgotten)
        done = finished(chain, store, log)
        if done is not None:
            runs.append(GridRun(done, reused=True))
        else:
            runs.append(GridRun(run_chain(chain), reused=False))
    return runs


def read_back(plans: Sequence[ChainPlan], store: Store) -> list[GridRun] | None:
    """Every chain's results if every chain finished before (nothing imports torch)."""
    results = [finished(chain, store, lambda _message: None) for chain in plans]
    if any(result is None for result in results):
        return None
    return [GridRun(result, reused=True) for result in results]


def _forget_once(chain: ChainPlan, store: Store, forgotten: set[str]) -> None:
    """`--force` in a grid: mark each phase incomplete the first time a chain needs it, so
    it retrains once and the chains after reuse the retrained phase; rescore every run."""
    from stilts.runtime.arguments import process_state

    if not process_state().is_main_process:
        return
    for phase in chain.phases:
        if phase.fingerprint not in forgotten and phase.members[0].task.trains:
            forgotten.add(phase.fingerprint)
            phase_dir = store.phase_dir(phase.name, phase.fingerprint)
            (phase_dir / PHASE_MANIFEST).unlink(missing_ok=True)
    run_dir = store.run_dir(chain.config.tasks, chain.run_fingerprint)
    (run_dir / RUN_MANIFEST).unlink(missing_ok=True)


def _grid_dir(store: Store, plans: Sequence[ChainPlan]) -> Path:
    """Where a grid's tables go, named by the runs it holds; `GRID_RUNS` there lists them
    (for the analyses), written by `record`."""
    key = fingerprint({"runs": [chain.run_fingerprint for chain in plans]})
    return store.root / "grids" / f"grid-{key[:12]}"


def record(store: Store, plans: Sequence[ChainPlan], cells: Sequence[GridCell]) -> Path:
    """Write the grid's runs (each with its row and column) into its directory; return it."""
    out = _grid_dir(store, plans)
    listed = [
        {
            "run": str(store.run_dir(p.config.tasks, p.run_fingerprint).relative_to(store.root)),
            "row": cell.row,
            "column": cell.column,
        }
        for p, cell in zip(plans, cells, strict=True)
    ]
    write_json(out / GRID_RUNS, listed)
    return out


def phase_counts(plans: Sequence[ChainPlan], store: Store) -> dict[str, Any]:
    """The distinct trained phases of `plans` and how many are complete in `store` now."""
    phases = {
        phase.fingerprint: store.phase_dir(phase.name, phase.fingerprint)
        for chain in plans
        for phase in chain.phases
        if phase.members[0].task.trains
    }
    complete = sum(Store.is_complete(path) for path in phases.values())
    return {"phases": len(phases), "complete": complete}
