"""submitit executors behind one interface: submit a job, tell whether an attempt still runs.

The two launchers differ in when a job may be submitted:

* **slurm** submits a job once every job it needs is complete or itself queued, and states
  the queued ones as SLURM dependencies (``afterok``, with ``kill-on-invalid-dep``), so the
  whole graph waits in SLURM's queue and the submitter may exit and come back.
* **local** runs at most `Launcher.workers` jobs at a time, each given its own GPUs
  (``CUDA_VISIBLE_DEVICES``, set by submitit's local executor) where the machine has any, and
  submits a job only once every job it needs is complete: submitit's local executor knows
  no dependencies.
"""

from __future__ import annotations

import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from typing import Any

from stilts.errors import StiltsError
from stilts.experiment.jobs import Job
from stilts.experiment.launcher import Launcher
from stilts.experiment.precision import this_machine
from stilts.launch.folder import Attempt, LaunchFolder, new_attempt
from stilts.launch.job import PhaseJob

SLURM_LIVE = {"PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "RESIZING",
              "SUSPENDED", "REQUEUE_HOLD", "REQUEUE_FED"}  # fmt: skip
"""SLURM job states of an attempt that may still complete its job."""
UNSEEN_GRACE_S = 600
"""How long after submission SLURM's accounting may not know a job yet (it is then queued)."""


class Backend(ABC):
    """One launcher's submitit executor (see the module docstring)."""

    name: str

    def __init__(self, folder: LaunchFolder, spec: Launcher, session: str) -> None:
        self.folder = folder
        self.spec = spec
        self.session = session

    @abstractmethod
    def ready(self, job: Job, left: Collection[str], live: Collection[str]) -> bool:
        """Whether `job` may be submitted now, given the ids of the jobs `left` to do and of
        those `live` (submitted, not ended)."""

    @abstractmethod
    def submit(self, job: Job, command: PhaseJob, waits_for: Sequence[Attempt]) -> Attempt:
        """Submit `job`; `waits_for` are the live attempts of the jobs it needs."""

    @abstractmethod
    def alive(self, attempt: Attempt) -> bool:
        """Whether `attempt` may still be queued or running."""


class LocalBackend(Backend):
    name = "local"

    def __init__(self, folder: LaunchFolder, spec: Launcher, session: str) -> None:
        super().__init__(folder, spec, session)
        submitit = _submitit()
        self.gpus = machine_gpus()
        self.per_job = spec.gpus if spec.gpus is not None else (1 if self.gpus else 0)
        if self.per_job * spec.workers > len(self.gpus) and self.per_job:
            raise StiltsError(
                f"{spec.workers} workers × {self.per_job} GPU(s) need "
                f"{spec.workers * self.per_job} GPUs, and this machine has {len(self.gpus)}; "
                "lower --workers (or gpus=0 for CPU jobs)"
            )
        self.executor = submitit.LocalExecutor(folder.submitit)
        self.jobs: dict[str, Any] = {}
        """This process's submitit jobs, by id: they tell when their process ends."""
        self.using: dict[str, tuple[int, ...]] = {}
        """GPUs of each attempt this process submitted."""

    def ready(self, job: Job, left: Collection[str], live: Collection[str]) -> bool:
        return len(live) < self.spec.workers and not set(job.after) & set(left)

    def submit(self, job: Job, command: PhaseJob, waits_for: Sequence[Attempt]) -> Attempt:
        busy = {gpu for key, gpus in self.using.items() if key in self.jobs for gpu in gpus
                if self.jobs[key].state == "RUNNING"}  # fmt: skip
        free = tuple(gpu for gpu in self.gpus if gpu not in busy)[: self.per_job]
        self.executor.update_parameters(
            timeout_min=self.spec.time, gpus_per_node=self.per_job, visible_gpus=free,
            setup=list(self.spec.setup),
        )  # fmt: skip
        submitted = self.executor.submit(command)
        self.jobs[submitted.job_id] = submitted
        self.using[submitted.job_id] = free
        return new_attempt(self.name, submitted.job_id, self.session, free[0] if free else None)

    def alive(self, attempt: Attempt) -> bool:
        job = self.jobs.get(attempt.job)
        if job is not None:
            return bool(job.state == "RUNNING")
        # submitted by an earlier submitter: its controller process outlives it
        return bool(local_controller_alive(attempt))


class SlurmBackend(Backend):
    name = "slurm"

    def __init__(self, folder: LaunchFolder, spec: Launcher, session: str) -> None:
        super().__init__(folder, spec, session)
        self.executor = _submitit().SlurmExecutor(folder.submitit)

    def ready(self, job: Job, left: Collection[str], live: Collection[str]) -> bool:
        return all(need not in left or need in live for need in job.after)

    def submit(self, job: Job, command: PhaseJob, waits_for: Sequence[Attempt]) -> Attempt:
        self.executor.update_parameters(
            **slurm_parameters(self.spec, job, [attempt.job for attempt in waits_for])
        )
        submitted = self.executor.submit(command)
        return new_attempt(self.name, submitted.job_id, self.session)

    def alive(self, attempt: Attempt) -> bool:
        state = _submitit().SlurmJob(self.folder.submitit, attempt.job).state
        if state == "UNKNOWN":  # accounting has not seen it yet
            return time.time() - attempt.submitted < UNSEEN_GRACE_S
        return state.split()[0] in SLURM_LIVE


def slurm_parameters(spec: Launcher, job: Job, after: Sequence[str]) -> dict[str, Any]:
    """submitit's SlurmExecutor parameters for `job`, which starts after the SLURM jobs
    `after` succeed: one task on one node with the launcher's GPUs, CPUs, memory and time."""
    parameters: dict[str, Any] = {
        "job_name": f"stilts-{job.id[:12]}",
        "nodes": 1,
        "ntasks_per_node": 1,
        "gpus_per_node": spec.cluster_gpus,
        "time": spec.time,
        "signal_delay_s": 120,  # time to requeue before SLURM's time limit kills the job
    }
    for name, value in (("cpus_per_task", spec.cpus), ("partition", spec.partition),
                        ("account", spec.account), ("qos", spec.qos)):  # fmt: skip
        if value is not None:
            parameters[name] = value
    if spec.mem is not None:
        parameters["mem"] = f"{spec.mem}GB"
    if spec.setup:
        parameters["setup"] = list(spec.setup)
    extra = dict(spec.sbatch)
    if after:
        parameters["dependency"] = "afterok:" + ":".join(after)
        extra["kill-on-invalid-dep"] = "yes"  # a job whose prerequisite failed leaves the queue
    if extra:
        parameters["additional_parameters"] = extra
    return parameters


def backend(folder: LaunchFolder, spec: Launcher, session: str) -> Backend:
    if spec.kind == "slurm":
        return SlurmBackend(folder, spec, session)
    return LocalBackend(folder, spec, session)


def machine_gpus() -> list[int]:
    """The ids of this machine's visible GPUs (none without a GPU driver: no torch import)."""
    if this_machine().kind != "cuda":
        return []
    import torch

    count = torch.cuda.device_count()
    visible = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")]
    if len(visible) == count and all(part.isdigit() for part in visible):
        return [int(part) for part in visible]
    return list(range(count))


def _submitit() -> Any:
    """submitit, an optional dependency: only launchers need it."""
    try:
        import submitit
    except ImportError:
        raise StiltsError(
            "launchers run jobs through submitit, which is not installed: "
            "pip install 'stilts[slurm]'"
        ) from None
    return submitit


def local_controller_alive(attempt: Attempt) -> bool | None:
    """Whether a local attempt's controller process still runs (submitit's local job id is
    its pid); None where it ran on another host, which this one cannot see."""
    if attempt.host != socket.gethostname():
        return None
    return _process_alive(int(attempt.job))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
