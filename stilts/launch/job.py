"""What a launcher's job runs: one job of the experiment's graph, on the shared store.

`stilts run RECIPE --store STORE --job ID` (the command `--print-jobs` prints, for any
scheduler) and `PhaseJob` (what submitit runs) both come here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stilts.experiment.plan import ChainPlan, plan_all
from stilts.experiment.recipe import load_recipe
from stilts.runtime.callbacks import LineLog
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Runner
from stilts.store.layout import Store


def run_job(
    plans: Sequence[ChainPlan],
    store: Store,
    job_id: str,
    how: RunOptions,
    say: Callable[[str], None],
) -> None:
    """Do job `job_id` of `plans`' graph in `store`, saying what happens one line at a time
    (a job's log is its output)."""
    from stilts.runtime.progress import quiet_libraries

    quiet_libraries()
    Runner(store, how, callbacks=[LineLog(say)]).run_job(plans, job_id)


@dataclass(frozen=True)
class PhaseJob:
    """A job as submitit runs it, in the job's own process (or, with submitit's debug
    executor, in the submitter's: the tests). Picklable: submitit sends it to the job.
    A failure raises, and submitit writes the error to the job's log."""

    recipe: Path
    store: Path
    job_id: str
    how: RunOptions = field(default_factory=RunOptions)

    def __call__(self) -> None:
        plans = plan_all(cell.config for cell in load_recipe(self.recipe).chains())
        run_job(plans, Store(self.store), self.job_id, self.how, _logged)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """submitit's hook on preemption or the time limit: SLURM requeues the same job,
        which finds its phase's last Trainer checkpoint in the store and resumes from it."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self)


def _logged(line: str) -> None:
    print(f"· {line}", flush=True)
