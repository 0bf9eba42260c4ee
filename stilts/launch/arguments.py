"""The command line of a job: `stilts run RECIPE --store STORE --job ID` and how it runs."""

from __future__ import annotations

from pathlib import Path

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
