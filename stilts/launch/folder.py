"""A launch's folder under the store: its recipe, its jobs' attempts and their logs.

Layout, one folder per experiment (its recipe's fingerprint), so a rerun of the same
``stilts grid`` or ``stilts run`` finds what it submitted before::

    launches/<fp>/recipe.yaml     the recipe every job command runs (`--set` applied)
    launches/<fp>/attempts.json   job id -> its attempts: submitit's job id, where, when, outcome
    launches/<fp>/submitit/       submitit's pickles and each attempt's stdout/stderr logs

Only the submitter writes ``attempts.json`` (atomically; one submitter per launch holds the
folder's lock), and a job never does: a job reports what it did by completing its phase or run
in the store, which is the only record of success. An attempt whose process ended without
that is a failure, whatever submitit says of it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from stilts.experiment.recipe import Recipe
from stilts.store.files import fingerprint, read_json, write_json, write_text
from stilts.store.layout import Store

LAUNCHES = "launches"
LOG_LINES = 12
"""Lines of a failed attempt's log that a report shows."""


@dataclass
class Attempt:
    """One submission of a job."""

    executor: str
    """``local`` or ``slurm``."""
    job: str
    """submitit's job id: the SLURM job id, or the local job's process id."""
    host: str
    submitted: float
    session: str
    """The submitter run that made it (retries are counted per run)."""
    gpu: int | None = None
    """local: the GPU it was given."""
    outcome: str | None = None
    """None while it may still run; ``failed`` (ended without completing its job) or
    ``cancelled`` (never ran: a job it waited for failed)."""


class LaunchFolder:
    """The folder of one experiment's launches (see the module docstring)."""

    def __init__(self, store: Store, recipe: Recipe) -> None:
        self.store = store
        self.recipe = recipe
        # what the jobs compute names the folder; where they run does not
        experiment = {key: value for key, value in recipe.dump().items() if key != "launcher"}
        self.path = store.root / LAUNCHES / fingerprint(experiment)[:12]
        self._attempts: dict[str, list[Attempt]] | None = None

    @property
    def recipe_path(self) -> Path:
        return self.path / "recipe.yaml"

    @property
    def submitit(self) -> Path:
        return self.path / "submitit"

    def write_recipe(self) -> Path:
        """The recipe the jobs run, written once (atomically)."""
        if not self.recipe_path.is_file():
            write_text(self.recipe_path, self.recipe.to_yaml())
        return self.recipe_path

    @property
    def attempts(self) -> dict[str, list[Attempt]]:
        if self._attempts is None:
            path = self.path / "attempts.json"
            stored = read_json(path) if path.is_file() else {}
            self._attempts = {job: [Attempt(**a) for a in tries] for job, tries in stored.items()}
        return self._attempts

    def last(self, job_id: str) -> Attempt | None:
        tries = self.attempts.get(job_id)
        return tries[-1] if tries else None

    def failures(self, job_id: str, session: str) -> int:
        """Failed attempts of `job_id` in submitter run `session`."""
        tries = self.attempts.get(job_id, [])
        return sum(a.outcome == "failed" and a.session == session for a in tries)

    def record(self, job_id: str, attempt: Attempt) -> None:
        self.attempts.setdefault(job_id, []).append(attempt)
        self.save()

    def save(self) -> None:
        data = {job: [asdict(a) for a in tries] for job, tries in self.attempts.items()}
        write_json(self.path / "attempts.json", data)

    def log_tail(self, attempt: Attempt, lines: int = LOG_LINES) -> str:
        """The last lines an attempt wrote (stderr, where errors go, then stdout)."""
        for suffix in ("err", "out"):
            path = self.submitit / f"{attempt.job}_0_log.{suffix}"
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace").strip()
                if text:
                    return "\n".join(text.splitlines()[-lines:])
        return "(it wrote no log)"


def new_attempt(executor: str, job: str, session: str, gpu: int | None = None) -> Attempt:
    return Attempt(executor, job, socket.gethostname(), time.time(), session, gpu)
