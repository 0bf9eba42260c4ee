"""Rich progress: a bar per Trainer run (a callback, Trainer's public extension point), and
the grid's display of chains and phases above it (a callback of the runner)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import datasets
import transformers
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from transformers import TrainerCallback

from stilts.experiment.plan import ChainPlan, PlannedPhase
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.options import RunOptions
from stilts.store.layout import Store, whole_phase


class RichProgress(TrainerCallback):
    """One progress bar per training phase, with the latest loss; main process only.

    Given a running `progress` (the grid's), the bar joins it and leaves when the phase ends;
    otherwise it shows its own display for the phase.
    """

    def __init__(
        self,
        console: Any,
        progress: Progress | None = None,
        label: Callable[[], str] = lambda: "training",
    ) -> None:
        self.console = console
        self.shared = progress
        self.label = label
        """What the bar says it trains (the phase, its chain and seed)."""
        self.progress: Any = None
        self.bar: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        if self.shared is None:
            self.progress = _progress(self.console, TextColumn("  [bold]{task.description}"))
            self.progress.start()
        else:
            self.progress = self.shared
        self.bar = self.progress.add_task(self.label(), total=state.max_steps, note="")

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.progress.update(self.bar, completed=state.global_step)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if self.bar is not None and logs and "loss" in logs:
            self.progress.update(self.bar, note=f"loss {logs['loss']:.3f}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is None:
            return
        if self.shared is None:
            self.progress.update(self.bar, completed=state.global_step)
            self.progress.stop()
        else:
            self.progress.remove_task(self.bar)
        self.bar = None


class ExperimentProgress(RunCallback):
    """What the command line shows while an experiment runs: each Trainer run's bar and, for
    a grid, a bar of its chains with its phases trained, reused and to go. A run callback (it
    counts the phases it sees trained) and a context manager (the display's life).

    The phases reused are those the store holds complete and undamaged when the experiment
    starts, read once: a run read back whole reports none of its phases, and under --force
    none is reused.
    """

    def __init__(
        self, console: Any, plans: Sequence[ChainPlan], store: Store, *, grid: bool, force: bool
    ) -> None:
        phases = {p.fingerprint: p for chain in plans for p in chain.trained}
        self.grid = grid
        self.chains = [chain.label() for chain in plans]
        self.total = len(phases)
        self.reused = 0 if force else sum(
            whole_phase(store.phase_dir(phase.name, fp)) for fp, phase in phases.items()
        )  # fmt: skip
        self.trained: set[str] = set()
        self.started = 0
        self.progress = _progress(console, TextColumn("[bold]{task.description}"))
        self.bar: TaskID | None = None
        self.training = "training"
        """The phase training now, as its bar names it."""

    def __enter__(self) -> ExperimentProgress:
        if self.grid:
            self.progress.start()
            self.bar = self.progress.add_task("grid", total=len(self.chains), note="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.grid:
            self._show(len(self.chains))
            self.progress.stop()

    def run_options(self, how: RunOptions) -> RunOptions:
        """`how` phases run, under this display: their Trainer bar joins the grid's."""
        bar = RichProgress(
            self.progress.console, self.progress if self.grid else None, lambda: self.training
        )
        return replace(how, callbacks=(*how.callbacks, bar))

    def on_phase_begin(self, chain: ChainPlan, phase: PlannedPhase, start: str) -> None:
        self.training = chain.label(phase)

    def on_run_begin(self, chain: ChainPlan) -> None:
        self._show(self.started)
        self.started += 1

    def on_phase_end(self, chain: ChainPlan, phase: PlannedPhase, record: dict[str, Any]) -> None:
        self.trained.add(phase.fingerprint)

    def _show(self, index: int) -> None:
        """Chain `index` starts (or, at len(chains), the grid is over)."""
        if self.bar is None:
            return
        remaining = self.total - self.reused - len(self.trained)
        current = f" · now {self.chains[index]}" if index < len(self.chains) else ""
        self.progress.update(
            self.bar,
            completed=index,
            description="chains",
            note=f"· phases: {len(self.trained)} trained, {self.reused} reused, "
            f"{remaining} to go{current}",
        )


def quiet_libraries() -> None:
    """Keep the terminal to stilts' own progress; library warnings stay available in logs."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def _progress(console: Any, label: TextColumn) -> Progress:
    return Progress(
        label,
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
    )
