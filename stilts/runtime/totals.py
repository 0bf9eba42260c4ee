"""A phase's training loss and time, whole however many runs it took to train.

Trainer's own figures cover only the run that called it: a phase resumed from its last
checkpoint would record the mean loss of the steps run after the resume (0.0 when it resumed
from the final checkpoint, none left to run) and the seconds of that run alone. What a
checkpoint must carry for the whole is put in its trainer state, which Trainer writes last
(`stilts.runtime.training.last_complete_checkpoint` trusts no checkpoint without it):

* the loss: every checkpoint step is also a logging step, so ``log_history`` (in the trainer
  state) holds the mean loss of every interval of steps, up to the step a resumed run starts
  from, and the resumed run logs the rest (`mean_loss`);
* the time: `PhaseTotals` is a stateful callback (`transformers.ExportableState`), its
  seconds saved with each checkpoint and given back to the run that resumes from it
  (``restore_callback_states_from_checkpoint``). They are the seconds spent in Trainer's
  training loop (evaluations for selection included), summed over the runs: each killed run's
  up to its last checkpoint, the last run's whole.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from transformers import TrainerCallback, TrainerControl, TrainerState
from transformers.trainer_callback import ExportableState


class PhaseTotals(TrainerCallback, ExportableState):
    """Makes every checkpoint step a logging step, and keeps the phase's training seconds."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.earlier = seconds
        """Seconds trained by the runs before this one (restored from the checkpoint)."""
        self.since: float | None = None

    @property
    def seconds(self) -> float:
        """Seconds the phase has trained so far, this run included."""
        now = time.perf_counter()
        return self.earlier + (now - self.since if self.since is not None else 0.0)

    def state(self) -> dict[str, Any]:
        return {"args": {"seconds": self.seconds}, "attributes": {}}

    def on_train_begin(
        self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.since = time.perf_counter()
        # A checkpoint of a stilts before these totals holds no entry for them, which Trainer's
        # next save would look up. (Typed as the list it is made from; it is a dict by now.)
        saved = cast(dict[str, Any], state.stateful_callbacks)
        saved.setdefault(type(self).__name__, self.state())

    def on_step_end(
        self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if control.should_save or control.should_training_stop:
            control.should_log = True  # the loss up to every step a run may resume from


def mean_loss(log_history: Sequence[Mapping[str, Any]]) -> float:
    """The mean training loss over every step the phase trained, from Trainer's logs.

    Each logged ``loss`` is the mean over the steps since the log before it; weighting each by
    its number of steps gives the mean over all steps (Trainer's ``training_loss`` of an
    unbroken run), however many runs the logs came from.
    """
    logged = [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry]
    total, previous = 0.0, 0
    for step, loss in logged:
        total += loss * (step - previous)
        previous = step
    return total / previous
