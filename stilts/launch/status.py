"""`stilts grid … --status`: where each phase and run of an experiment stands, read from the
store and the launch folder only (no torch, no call to the scheduler).

* complete: the store holds it whole;
* running: a process holds its lock (the lock names the process and host);
* failed: its job's last attempt ended without completing it (the attempt's log tail shown);
* queued: its job was submitted and may still run;
* waiting: nothing has started it yet (after which jobs, where it waits for one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stilts.experiment.jobs import Job, job_graph
from stilts.experiment.plan import ChainPlan
from stilts.launch.backends import local_controller_alive
from stilts.launch.folder import LaunchFolder
from stilts.store.layout import whole_phase, whole_run
from stilts.store.lock import held_by


@dataclass(frozen=True)
class Standing:
    kind: str
    """``phase`` or ``run``."""
    name: str
    path: str
    """Relative to the store."""
    state: str
    detail: str = ""


def experiment_status(plans: Sequence[ChainPlan], folder: LaunchFolder) -> list[Standing]:
    """Every distinct phase and run of `plans`, in training order, with its state."""
    store = folder.store
    graph = job_graph(plans, store)
    jobs: dict[str, Job] = {}
    for job in graph.jobs:
        for path in (job.phase, *job.runs):
            if path is not None:
                jobs[path] = job
    names = {job.id: job.name for job in graph.jobs}
    standings: dict[str, Standing] = {}
    for chain in plans:
        for phase in chain.trained:
            directory = store.phase_dir(phase.name, phase.fingerprint)
            where = str(directory.relative_to(store.root))
            standings.setdefault(where, _standing(
                "phase", chain.label(phase), directory, where, whole_phase(directory),
                jobs.get(where), folder, names,
            ))  # fmt: skip
        directory = store.run_dir(chain.config.names, chain.run_fingerprint)
        where = str(directory.relative_to(store.root))
        standings.setdefault(where, _standing(
            "run", chain.label(), directory, where, whole_run(directory), jobs.get(where),
            folder, names,
        ))  # fmt: skip
    return list(standings.values())


def _standing(
    kind: str,
    name: str,
    directory: Path,
    where: str,
    complete: bool,
    job: Job | None,
    folder: LaunchFolder,
    names: dict[str, str],
) -> Standing:
    if complete:
        return Standing(kind, name, where, "complete")
    holder = held_by(directory)
    if holder is not None:
        return Standing(kind, name, where, "running", holder)
    last = folder.last(job.id) if job is not None else None
    if last is not None:
        ended = last.executor == "local" and local_controller_alive(last) is False
        if last.outcome == "failed" or (last.outcome is None and ended):
            return Standing(kind, name, where, "failed", folder.log_tail(last))
        if last.outcome is None:
            return Standing(kind, name, where, "queued", f"{last.executor} job {last.job}")
    after = [names[need] for need in job.after] if job is not None else []
    return Standing(kind, name, where, "waiting", f"after {', '.join(after)}" if after else "")
