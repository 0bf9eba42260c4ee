"""An experiment as a graph of jobs: what is left to train and score, and in which order.

A job trains one phase the store lacks, the way the runner would train it within a chain, and
scores every run that ends in that phase; a run whose phases are all complete, but which is
not scored yet, is a job that only scores. A phase shared by several chains (a grid's intermediate
phase, once per seed) is one job, however many targets follow it. A job comes after the job
of the phase it starts from, where that phase is not complete; so a grid whose intermediate
phases are done is a set of independent target jobs.

A job's id is the fingerprint of the phase it trains or whose runs it scores (for a run whose
target trains nothing, the run's), so the graph of an experiment names the same jobs however
often it is computed, from whichever machine, and however far its jobs have got: a launcher
compares it with what it submitted before (a target job that has trained its phase and is
scoring it still has its id). Computing it reads the store and
imports no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stilts.experiment.plan import ChainPlan, PlannedPhase
from stilts.store.layout import Store, whole_phase, whole_run


@dataclass(frozen=True)
class Job:
    """One unit of work: a phase to train (and the runs ending in it to score), or a run."""

    id: str
    """The fingerprint of the phase it trains (or whose runs it scores), or of the run it
    scores where the run's target trains nothing."""
    name: str
    """What it does, in words: ``mnli (seed 1)``, ``mnli → xnli (seed 1)``."""
    phase: str | None
    """The store directory of the phase it trains, relative to the store; None: none."""
    runs: tuple[str, ...]
    """The store directories of the runs it scores and writes, relative to the store."""
    after: tuple[str, ...]
    """Ids of the jobs that must complete before it starts."""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "phase": self.phase, "runs": list(self.runs),
                "after": list(self.after)}  # fmt: skip


@dataclass
class _Building:
    id: str
    name: str
    phase: str | None
    after: tuple[str, ...]
    runs: list[str] = field(default_factory=list)

    def job(self) -> Job:
        return Job(self.id, self.name, self.phase, tuple(self.runs), self.after)


@dataclass(frozen=True)
class JobGraph:
    """The jobs left, each after the jobs it needs (listed after them)."""

    jobs: tuple[Job, ...]

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, job_id: str) -> Job:
        return next(job for job in self.jobs if job.id == job_id)

    @property
    def ids(self) -> set[str]:
        return {job.id for job in self.jobs}


def job_graph(plans: Sequence[ChainPlan], store: Store) -> JobGraph:
    """The jobs that would complete `plans` in `store`: every phase not complete there, and
    every run not finished."""
    jobs: dict[str, _Building] = {}
    for chain in plans:
        before: str | None = None  # the job of the phase the next one starts from, if any
        for phase in chain.trained:
            phase_dir = store.phase_dir(phase.name, phase.fingerprint)
            if whole_phase(phase_dir):
                before = None
                continue
            if phase.fingerprint not in jobs:
                name = chain.label(phase)
                relative = str(phase_dir.relative_to(store.root))
                jobs[phase.fingerprint] = _Building(
                    phase.fingerprint, name, relative, _after(before)
                )
            before = phase.fingerprint
        run_dir = store.run_dir(chain.config.names, chain.run_fingerprint)
        if whole_run(run_dir):
            continue
        relative = str(run_dir.relative_to(store.root))
        job_id = _scoring_job(chain)
        if job_id not in jobs:  # only the scoring is left (or the target trains nothing)
            name = f"score {chain.label()}"
            jobs[job_id] = _Building(job_id, name, None, _after(before))
        jobs[job_id].runs.append(relative)
    return JobGraph(tuple(building.job() for building in jobs.values()))


def chains_of(
    plans: Iterable[ChainPlan], job_id: str
) -> tuple[list[ChainPlan], PlannedPhase | None]:
    """What job `job_id` does: the chains it runs to the end (trained and scored), or, for a
    job that trains a phase no chain ends in, one chain that trains it and that phase."""
    plans = list(plans)
    ending = [chain for chain in plans if _ends_in(chain, job_id)]
    if ending:
        return ending, None
    for chain in plans:
        for phase in chain.trained:
            if phase.fingerprint == job_id:
                return [chain], phase
    return [], None


def _ends_in(chain: ChainPlan, job_id: str) -> bool:
    """Whether `job_id` scores `chain`."""
    return _scoring_job(chain) == job_id


def _scoring_job(chain: ChainPlan) -> str:
    """The id of the job that scores `chain`: the one training its target, even once the
    target is complete (the job that trained it may be scoring it still), or, for a target
    that trains nothing, its run's."""
    target = chain.target
    return target.fingerprint if target.trains else chain.run_fingerprint


def _after(before: str | None) -> tuple[str, ...]:
    return (before,) if before is not None else ()
