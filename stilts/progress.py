"""Rich progress for Trainer runs, through Trainer's public callback interface."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from transformers import TrainerCallback


class RichProgress(TrainerCallback):
    """One progress bar per training phase, with the latest loss; main process only."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.progress: Any = None
        self.bar: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self.progress = Progress(
                TextColumn("  [bold]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.progress.start()
            self.bar = self.progress.add_task("", total=state.max_steps, loss="-")

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.progress.update(self.bar, completed=state.global_step)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if self.bar is not None and logs and "loss" in logs:
            self.progress.update(self.bar, loss=f"{logs['loss']:.3f}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.progress.update(self.bar, completed=state.global_step)
            self.progress.stop()
            self.bar = None
