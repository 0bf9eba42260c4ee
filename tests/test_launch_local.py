"""The smoke grid through `--launcher local --workers 2`: real submitit local jobs, each a real
Trainer run in its own process, one of them SIGKILLed mid-phase.

What must hold: the results are those of the sequential grid, exactly; each phase is trained
by one job (the killed one's retry resumes it from its last checkpoint); and submitting the
finished grid again submits nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, FinishedChain, stilts_cli

from stilts.experiment.plan import plan_all
from stilts.experiment.recipe import load_recipe
from stilts.runtime.runner import Runner
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.store.lock import lock_path

SMOKE_GRID = REPO / "recipes" / "smoke" / "grid.yaml"
TRAINING = "· phase "


@pytest.fixture(scope="module")
def sequential(mnli_xnli: FinishedChain, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The smoke grid run as `stilts grid` runs it, one chain after another in one process
    (on a copy of the demo's store, which holds its MNLI → XNLI chain)."""
    store = Store(tmp_path_factory.mktemp("sequential") / "store")
    shutil.copytree(mnli_xnli.store.root, store.root)
    plans = plan_all(cell.config for cell in load_recipe(SMOKE_GRID).chains())
    Runner(store).run_all(plans)
    return store


class Killer(threading.Thread):
    """SIGKILLs the process training `phase` once it has written a whole checkpoint."""

    def __init__(self, store: Path, phase: str) -> None:
        super().__init__(daemon=True)
        self.store, self.phase = store, phase
        self.killed_at: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            states = sorted(
                self.store.glob(f"phases/{self.phase}-*/checkpoints/*/trainer_state.json")
            )
            if states:
                phase_dir = states[0].parents[2]
                holder = json.loads(lock_path(phase_dir).read_text() or "{}")
                if "pid" in holder:
                    os.kill(holder["pid"], signal.SIGKILL)
                    self.killed_at = int(states[0].parent.name.removeprefix("checkpoint-"))
                    return
            time.sleep(0.05)


@pytest.mark.slow
def test_the_smoke_grid_through_two_local_workers(sequential: Store, tmp_path):
    store = tmp_path / "store"
    killer = Killer(store, "mnli")
    killer.start()
    command = ["run", str(SMOKE_GRID), "--store", str(store), "--launcher", "local",
               "--workers", "2", "--no-plot"]  # fmt: skip
    ran = stilts_cli(*command)
    killer.stop.set()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert killer.killed_at is not None, "the MNLI phase was never seen mid-training"

    # the results of the sequential grid, exactly
    for run in (sequential.root / "runs").glob("[!.]*"):  # runs, not their locks
        assert read_json(store / "runs" / run.name / "results.json") == read_json(
            run / "results.json"
        ), run.name

    # the killed job failed, and its retry resumed the phase from a checkpoint
    (launch,) = (store / "launches").glob("[!.]*")
    attempts = read_json(launch / "attempts.json")
    outcomes = Counter(
        tuple(str(attempt["outcome"]) for attempt in tries) for tries in attempts.values()
    )
    assert outcomes == {("None",): 2, ("failed", "None"): 1}  # None: it did not end unfinished
    (mnli,) = (store / "phases").glob("mnli-*")
    assert read_json(mnli / PHASE_MANIFEST)["resumed_from_step"] >= killed_step(killer)

    # each phase trained by one job: its training began once, and once more after the kill
    began = Counter(
        line.removeprefix(TRAINING).split(":")[0]
        for log in (launch / "submitit").glob("*_log.out")
        for line in log.read_text().splitlines()
        if line.startswith(TRAINING) and ": training from" in line
    )
    assert began == {"mnli": 2, "xnli": 2}  # xnli: the baseline's and the one after mnli

    # the finished grid submitted again: nothing to submit
    again = stilts_cli(*command)
    assert again.returncode == 0, again.stderr
    assert "all jobs done (0 submitted now)" in again.stdout
    assert read_json(launch / "attempts.json") == attempts


def killed_step(killer: Killer) -> int:
    assert killer.killed_at is not None
    return killer.killed_at
