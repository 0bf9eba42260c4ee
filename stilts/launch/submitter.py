"""The submitter: the job graph handed to a launcher, watched until it is done or stuck.

Each round it computes the graph again from the store (`stilts.experiment.jobs`), so a job
is done exactly when its phase or run is complete there, whoever completed it. For every job
left it looks at its last attempt (`stilts.launch.folder`): one that may still run is left
alone; one that ended is a failure, counted against ``retries`` in this submitter's run, and
the job is submitted again while failures do not exceed them. A job that needs a failed job
is not submitted. The submitter stops when nothing is left, or when nothing runs and nothing
more can be submitted (the failures are then reported with their logs' last lines).

Stopping it (Ctrl-C) and running it again loses nothing: queued and running attempts are
found alive and left alone, and nothing complete is submitted again. One submitter per
launch holds the launch folder's lock; a second one waits for it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stilts.experiment.jobs import Job, job_graph
from stilts.experiment.plan import ChainPlan
from stilts.launch.backends import Backend
from stilts.launch.folder import Attempt, LaunchFolder
from stilts.launch.job import PhaseJob
from stilts.runtime.options import RunOptions
from stilts.store.lock import directory_lock


@dataclass
class Launched:
    """What a submitter run did, and what it could not do."""

    submitted: int = 0
    failed: dict[str, tuple[Job, Attempt]] = field(default_factory=dict)
    """Jobs that failed more often than their retries allow, with their last attempt."""
    blocked: list[Job] = field(default_factory=list)
    """Jobs never submitted because a job they need failed."""

    @property
    def complete(self) -> bool:
        return not self.failed and not self.blocked


def submit_session() -> str:
    return uuid.uuid4().hex[:8]


def launch(
    plans: Sequence[ChainPlan],
    folder: LaunchFolder,
    make_backend: Callable[[str], Backend],
    how: RunOptions,
    say: Callable[[str], None],
    *,
    poll_s: float = 2.0,
) -> Launched:
    """Run the experiment's jobs through a launcher until all are done or none can go on."""
    folder.write_recipe()
    with directory_lock(folder.path, say):
        submitter = Submitter(plans, folder, make_backend(submit_session()), how, say)
        while (launched := submitter.round()) is None:
            time.sleep(poll_s)
        return launched


class Submitter:
    """One submitter run: its rounds over the graph, its failures (see the module docstring)."""

    def __init__(
        self,
        plans: Sequence[ChainPlan],
        folder: LaunchFolder,
        backend: Backend,
        how: RunOptions,
        say: Callable[[str], None],
    ) -> None:
        self.plans, self.folder, self.backend, self.how, self.say = plans, folder, backend, how, say
        self.launched = Launched()

    def round(self) -> Launched | None:
        """Look at every job left once, submitting what may go; what this run did, once
        nothing is left to wait for (None while jobs still run)."""
        folder, backend = self.folder, self.backend
        graph = job_graph(self.plans, folder.store)
        left = graph.ids
        live = {job.id for job in graph.jobs if self._live(job.id)}
        stuck: set[str] = set()
        for job in graph.jobs:
            if job.id in live:
                continue
            self._ended(job, left)
            failed_out = folder.failures(job.id, backend.session) > backend.spec.retries
            if failed_out or set(job.after) & stuck:  # or it needs a job that failed out
                stuck.add(job.id)
            elif backend.ready(job, left, live):
                self._submit(job)
                live.add(job.id)
        if live:
            return None
        for job in graph.jobs:
            last = folder.last(job.id)
            if last is not None and last.outcome == "failed" and job.id in stuck:
                self.launched.failed[job.id] = (job, last)
            else:
                self.launched.blocked.append(job)
        return self.launched

    def _live(self, job_id: str) -> bool:
        last = self.folder.last(job_id)
        return last is not None and last.outcome is None and self.backend.alive(last)

    def _ended(self, job: Job, left: set[str]) -> None:
        """Record how the job's last attempt ended, if it ended unrecorded: failed, or
        cancelled when a job it waited for was not complete (it never ran)."""
        last = self.folder.last(job.id)
        if last is None or last.outcome is not None:
            return
        ran = not set(job.after) & left
        last.outcome = "failed" if ran else "cancelled"
        self.folder.save()
        if ran:
            self.say(
                f"{job.name}: attempt failed ({last.executor} job {last.job}):\n"
                f"{self.folder.log_tail(last)}"
            )

    def _submit(self, job: Job) -> None:
        folder = self.folder
        waits_for = [a for a in map(folder.last, job.after) if a is not None]
        work = PhaseJob(folder.recipe_path, folder.store.root, job.id, self.how)
        attempt = self.backend.submit(job, work, waits_for)
        folder.record(job.id, attempt)
        self.launched.submitted += 1
        gpu = f" on GPU {attempt.gpu}" if attempt.gpu is not None else ""
        self.say(f"{job.name}: submitted as {attempt.executor} job {attempt.job}{gpu}")
