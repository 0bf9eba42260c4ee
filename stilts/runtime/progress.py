"""Rich progress: a bar per Trainer run (a callback, Trainer's public extension point), and
the grid's display of chains and phases above it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from transformers import TrainerCallback


class RichProgress(TrainerCallback):
    """One progress bar per training phase, with the latest loss; main process only.

    Given a running `progress` (the grid's), the bar joins it and leaves when the phase ends;
    otherwise it shows its own display for the phase.
    """

    def __init__(self, console: Any, progress: Progress | None = None) -> None:
        self.console = console
        self.shared = progress
        self.progress: Any = None
        self.bar: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        if self.shared is None:
            self.progress = _progress(self.console, TextColumn("  [bold]training"))
            self.progress.start()
        else:
            self.progress = self.shared
        self.bar = self.progress.add_task("training", total=state.max_steps, note="")

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


class GridProgress:
    """A grid's display: chains run, phases trained / reused / to go, and beneath it the
    current phase's Trainer bar (`trainer_bar`). Use as a context manager."""

    def __init__(self, console: Any, chains: Sequence[str], count: Callable[[], dict]) -> None:
        """`chains` names each chain; `count()` says how many of the grid's phases the store
        holds complete now ({"phases": total, "complete": n})."""
        self.chains = chains
        self.count = count
        self.before = count()["complete"]
        self.progress = _progress(console, TextColumn("[bold]{task.description}"))
        self.bar: TaskID | None = None

    def __enter__(self) -> GridProgress:
        self.progress.start()
        self.bar = self.progress.add_task("grid", total=len(self.chains), note="")
        return self

    def __exit__(self, *exc: object) -> None:
        self.chain_starting(len(self.chains))
        self.progress.stop()

    def trainer_bar(self) -> RichProgress:
        return RichProgress(self.progress.console, self.progress)

    def chain_starting(self, index: int) -> None:
        """Chain `index` starts (or, at len(chains), the grid is over)."""
        counts = self.count()
        trained = counts["complete"] - self.before
        remaining = counts["phases"] - counts["complete"]
        current = f" · now {self.chains[index]}" if index < len(self.chains) else ""
        self.progress.update(
            self.bar,
            completed=index,
            description="chains",
            note=f"· phases: {trained} trained, {self.before} reused, {remaining} to go{current}",
        )


def _progress(console: Any, label: TextColumn) -> Progress:
    return Progress(
        label,
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
    )
