"""How `stilts grid` and `stilts run` run an experiment, as their options say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stilts.runtime.options import RunOptions
from stilts.store.layout import Store


@dataclass(frozen=True)
class Execution:
    """How a command runs its experiment: all of it here, one job of it, or through a
    launcher; or only says what is left (``--print-jobs``) or where it stands (``--status``)."""

    store: Store
    how: RunOptions
    """How phases run (options no fingerprint covers)."""
    force: bool = False
    plot: bool = False
    launcher: str | None = None
    workers: int | None = None
    retries: int | None = None
    job: str | None = None
    print_jobs: bool = False
    status: bool = False


def execution(options: dict[str, Any]) -> Execution:
    """The `Execution` of a command's parsed options."""
    how = RunOptions(
        per_device_batch_size=options["per_device_batch_size"],
        compile=options["compile_"],
        gradient_checkpointing=options["gradient_checkpointing"],
    )
    return Execution(
        Store(options["store"]), how, force=options["force"], plot=options.get("plot", False),
        launcher=options.get("launcher"), workers=options.get("workers"),
        retries=options.get("retries"), job=options.get("job"),
        print_jobs=options.get("print_jobs", False), status=options.get("status", False),
    )  # fmt: skip
