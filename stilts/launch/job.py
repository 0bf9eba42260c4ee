"""What a job runs: one `stilts` command line on the shared store, as `--print-jobs` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stilts.runtime.options import RunOptions


def job_arguments(recipe: Path, store: Path, job_id: str, how: RunOptions) -> list[str]:
    """`stilts`'s arguments for job `job_id` of the experiment `recipe` describes."""
    arguments = ["run", str(recipe), "--store", str(store), "--job", job_id]
    if how.per_device_batch_size is not None:
        arguments += ["--per-device-batch-size", str(how.per_device_batch_size)]
    if how.compile:
        arguments.append("--compile")
    if how.gradient_checkpointing:
        arguments.append("--gradient-checkpointing")
    return arguments


@dataclass(frozen=True)
class StiltsCommand:
    """A job's work, as submitit runs it: `stilts ARGUMENTS…` in the job's own process.

    Run in the process rather than as a subprocess, so submitit's debug executor runs a job in
    the submitter's process (the tests), and a job's failure is the command's one-line error in
    its log. Picklable: submitit sends it to the job.
    """

    arguments: tuple[str, ...]

    def __call__(self) -> None:
        from stilts.cli import main

        try:
            main(list(self.arguments))
        except SystemExit as stop:
            if stop.code not in (0, None):
                command = " ".join(self.arguments)
                raise RuntimeError(f"stilts {command} exited with {stop.code}") from None

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """submitit's hook on preemption or the time limit: SLURM requeues the same command,
        which finds its phase's last Trainer checkpoint in the store and resumes from it."""
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(self)
