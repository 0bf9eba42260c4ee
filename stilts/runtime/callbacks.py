"""What the runner tells the outside world as it goes: a callback protocol like Trainer's.

Modelled on `transformers.TrainerCallback`: a base class whose every event is a no-op, so a
callback overrides only the events it cares about, and a handler that calls each callback in
turn. The runner (`stilts.runtime.runner`) calls these events; the command line's progress
display and log lines are callbacks, and so is anything a user adds (a tracker, a notifier)
without touching the runner. Per-step training progress is a `TrainerCallback` of its own,
passed to Trainer through `RunOptions.callbacks`. This module imports nothing heavy: the
command line builds its callbacks before it knows whether anything will train.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from stilts.experiment.plan import ChainPlan, PlannedPhase
    from stilts.store.results import ChainResult


class RunCallback:
    """A listener to a runner's events; every method is a no-op unless overridden."""

    def on_run_begin(self, chain: ChainPlan) -> None:
        """A chain starts: some of its phases will train or be reused, then it is scored."""

    def on_phase_begin(self, chain: ChainPlan, phase: PlannedPhase, start: str) -> None:
        """`phase` starts training from `start` (a model id or a phase's model directory)."""

    def on_phase_wait(self, chain: ChainPlan, phase: PlannedPhase, message: str) -> None:
        """Another process is writing what the chain needs next (`message` says who and
        where: `phase`, or the starting model); the runner waits for it."""

    def on_phase_reused(self, chain: ChainPlan, phase: PlannedPhase, phase_dir: Path) -> None:
        """`phase` is complete in the store and is not trained again."""

    def on_damaged(self, chain: ChainPlan, damage: str) -> None:
        """What `chain` would reuse from the store (a phase, its run, its starting model) is
        damaged (`damage` names the file and says how); it is built again."""

    def on_phase_end(self, chain: ChainPlan, phase: PlannedPhase, record: dict[str, Any]) -> None:
        """`phase` finished training; `record` is what its phase.json holds."""

    def on_evaluate(self, chain: ChainPlan, languages: Sequence[str]) -> None:
        """The chain's target is about to be scored in `languages`."""

    def on_run_end(
        self, chain: ChainPlan, result: ChainResult, run_dir: Path, reused: bool
    ) -> None:
        """The chain's results are in `run_dir`: computed now, or read back (`reused`)."""


Event = Literal[
    "on_run_begin", "on_phase_begin", "on_phase_wait", "on_phase_reused", "on_damaged",
    "on_phase_end", "on_evaluate", "on_run_end",
]  # fmt: skip


class CallbackHandler:
    """Several callbacks as one: each event goes to every callback, in order (as Trainer's
    `CallbackHandler.call_event` does)."""

    def __init__(self, callbacks: Sequence[RunCallback] = ()) -> None:
        self.callbacks = tuple(callbacks)

    def emit(self, event: Event, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(*args)


class LineLog(RunCallback):
    """One line per thing the runner does, said through `say` (the command line's console,
    or a launcher job's log)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def on_phase_begin(self, chain: ChainPlan, phase: PlannedPhase, start: str) -> None:
        self.say(f"phase {phase.name}: training from {start}")

    def on_phase_wait(self, chain: ChainPlan, phase: PlannedPhase, message: str) -> None:
        self.say(message)

    def on_phase_reused(self, chain: ChainPlan, phase: PlannedPhase, phase_dir: Path) -> None:
        self.say(f"phase {phase.name}: reusing {phase_dir}")

    def on_damaged(self, chain: ChainPlan, damage: str) -> None:
        self.say(f"damaged: {damage}; building it again")

    def on_evaluate(self, chain: ChainPlan, languages: Any) -> None:
        self.say(
            f"evaluating {chain.target.name} zero-shot on {len(languages)} languages "
            f"({chain.split})"
        )

    def on_run_end(
        self, chain: ChainPlan, result: ChainResult, run_dir: Path, reused: bool
    ) -> None:
        if reused:
            self.say(f"run {run_dir.name}: reusing its results (--force reruns it)")
