"""Run the demo chain (mnli → xnli) into a store, checkpointing often, to be killed (see
test_kill_resume).

    python tests/kill_chain.py STORE [DIE_AT_CHECKPOINT]

It prints each phase the runner trains or reuses as it happens after `LOG` (the first comes
once the imports, the data and the bundled model are ready), a `TRAIN_BEGINS` line when a phase's
Trainer starts (with the step it starts at: above 0 when it resumed from a checkpoint) and,
once the run is whole, `RESULT` and the results as JSON. With DIE_AT_CHECKPOINT = N it
SIGKILLs itself while writing its Nth checkpoint: after the weights, optimiser and RNG state,
before the trainer state that Trainer writes last.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
from pathlib import Path

from transformers import TrainerCallback, TrainerState

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Runner
from stilts.store.layout import Store

TASKS = ("mnli", "xnli")
CHECKPOINT_STEPS = 5
"""A checkpoint every few steps (a fraction of a second on the tiny model), so that almost
every kill during training leaves one to resume from."""
CONFIG = ChainConfig(phases=TASKS, select=f"best:every={CHECKPOINT_STEPS},rows=100,patience=30")
"""The demo chain, selecting its weights: a phase checkpoints at each evaluation, and the
sample's dev set is learnt early, so each phase keeps an early checkpoint through every later
one, and stops early once 30 evaluations brought nothing better; a resumed run must keep the
best-so-far weights, score and patience count."""
LOG = "stilts:"
TRAIN_BEGINS = "train begins at step"
RESULT = "result:"


class ReportTrainBegin(TrainerCallback):
    """Prints the step each phase's training starts at."""

    def on_train_begin(self, args, state, control, **kwargs):
        print(f"{TRAIN_BEGINS} {state.global_step} of {state.max_steps}", flush=True)


class PrintPhases(RunCallback):
    """Prints each phase the runner starts to train or reuses."""

    def on_phase_begin(self, chain, phase, start):
        print(LOG, f"phase {phase.name}: training from {start}", flush=True)

    def on_phase_reused(self, chain, phase, phase_dir):
        print(LOG, f"phase {phase.name}: reusing {phase_dir}", flush=True)


def die_writing_checkpoint(number: int) -> None:
    """SIGKILL this process when Trainer is about to write the `number`th trainer state."""
    calls = itertools.count(1)
    write = TrainerState.save_to_json

    def save_to_json(self: TrainerState, json_path: str) -> None:
        if next(calls) == number:
            os.kill(os.getpid(), signal.SIGKILL)
        write(self, json_path)

    TrainerState.save_to_json = save_to_json


if __name__ == "__main__":
    store, *die_at = sys.argv[1:]
    if die_at:
        die_writing_checkpoint(int(die_at[0]))
    options = RunOptions(checkpoint_steps=CHECKPOINT_STEPS, callbacks=(ReportTrainBegin(),))
    runner = Runner(Store(Path(store)), options, callbacks=[PrintPhases()])
    result = runner.run(plan(CONFIG)).result
    print(RESULT, json.dumps(result.as_dict()), flush=True)
