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
from stilts.launch.job import StiltsCommand, job_arguments
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
    recipe = folder.write_recipe()
    with directory_lock(folder.path, say):
        session = submit_session()
        backend = make_backend(session)
        launched = Launched()
        retries = backend.spec.retries
        while True:
            graph = job_graph(plans, folder.store)
            left = graph.ids
            live = {job.id for job in graph.jobs if _live(folder, backend, job.id)}
            stuck: set[str] = set()
            for job in graph.jobs:
                if job.id in live:
                    continue
                last = folder.last(job.id)
                if last is not None and last.outcome is None:  # ended, its job not done
                    ran = not set(job.after) & left  # what it waited for was complete
                    last.outcome = "failed" if ran else "cancelled"
                    folder.save()
                    if ran:
                        say(f"{job.name}: attempt failed ({last.executor} job {last.job}):\n"
                            f"{folder.log_tail(last)}")  # fmt: skip
                if folder.failures(job.id, session) > retries or set(job.after) & stuck:
                    stuck.add(job.id)
                    continue
                if not backend.ready(job, left, live):
                    continue
                waits_for = [a for a in map(folder.last, job.after) if a is not None]
                arguments = job_arguments(recipe, folder.store.root, job.id, how)
                attempt = backend.submit(job, StiltsCommand(tuple(arguments)), waits_for)
                folder.record(job.id, attempt)
                live.add(job.id)
                launched.submitted += 1
                gpu = f" on GPU {attempt.gpu}" if attempt.gpu is not None else ""
                say(f"{job.name}: submitted as {attempt.executor} job {attempt.job}{gpu}")
            if not live:
                for job in graph.jobs:
                    last = folder.last(job.id)
                    if job.id in stuck and last is not None and last.outcome == "failed":
                        launched.failed[job.id] = (job, last)
                    else:
                        launched.blocked.append(job)
                return launched
            time.sleep(poll_s)


def _live(folder: LaunchFolder, backend: Backend, job_id: str) -> bool:
    last = folder.last(job_id)
    return last is not None and last.outcome is None and backend.alive(last)
