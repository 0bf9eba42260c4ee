"""A run SIGKILLed at random points, again and again, resumes to an unbroken run's results, and
nothing a kill leaves half-written is ever read as complete.

Every run is `kill_chain.py` (the demo chain, a Trainer checkpoint every few steps) in its own
process, so a kill is a real SIGKILL: no `finally`, no atexit, files cut off mid-write.

The resumed results must equal the unbroken run's exactly, not approximately: on the CPU, with
one torch thread, training is deterministic, and a Trainer checkpoint holds everything the
next step depends on (weights, optimiser and scheduler state, the RNG states, the step, whose
batches Trainer skips on resume), so a resumed phase computes the very same floats. A tolerance
would hide a resume that lost, say, the optimiser state for one step.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from kill_chain import CONFIG, LOG, RESULT, TASKS, TRAIN_BEGINS
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer

from stilts.experiment.plan import plan as planned
from stilts.runtime.runner import Runner
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store

DRIVER = REPO / "tests" / "kill_chain.py"
KILLS = 4
SEED = 7
"""Seeds the kill times, so a failure names the schedule that produced it."""


@dataclass(frozen=True)
class Ended:
    """What one run of the driver printed (stdout and stderr), and how it ended."""

    returncode: int
    lines: list[str]

    @property
    def result(self) -> dict[str, Any] | None:
        found = [line.removeprefix(RESULT) for line in self.lines if line.startswith(RESULT)]
        return json.loads(found[-1]) if found else None

    @property
    def train_begins(self) -> list[int]:
        """The step each phase's training started at (above 0: resumed from a checkpoint)."""
        return [
            int(line.removeprefix(TRAIN_BEGINS).split()[0])
            for line in self.lines
            if line.startswith(TRAIN_BEGINS)
        ]

    @property
    def tail(self) -> str:
        return "\n".join(self.lines[-40:])


class Driver:
    """`kill_chain.py` in a subprocess, its output read as it comes (so it never blocks)."""

    def __init__(self, store: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(DRIVER), str(store), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        self.lines: list[str] = []
        self.first: dict[str, float] = {}
        """When the first `LOG` and `TRAIN_BEGINS` lines came (monotonic clock)."""
        self.started = threading.Event()
        """Set at the chain's first log line (or the driver's end): kill times count from
        here, past the imports and data loading, whose length varies from run to run."""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            for mark in (LOG, TRAIN_BEGINS):
                if line.startswith(mark):
                    self.first.setdefault(mark, time.monotonic())
            if LOG in self.first:
                self.started.set()
        self.started.set()

    def kill_after(self, seconds: float) -> Ended:
        """SIGKILL the driver `seconds` after its chain started, unless it ends before."""
        self.started.wait()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=seconds)
        self.process.send_signal(signal.SIGKILL)  # nothing if it has ended
        return self.end()

    def end(self) -> Ended:
        """Wait for the driver to end; what it printed and how it ended."""
        returncode = self.process.wait(timeout=600)
        self.reader.join()
        return Ended(returncode, self.lines)


def run_whole(store: Path) -> Ended:
    """The driver run to its end; it must succeed."""
    ended = Driver(store).end()
    assert ended.returncode == 0 and ended.result is not None, ended.tail
    return ended


def phase_devs(store: Path) -> dict[str, Any]:
    """Complete phase directory name (the same in every store: it holds the fingerprint) ->
    the phase's dev scores, its selection (dev curve, selected step, early stop) and its mean
    training loss (over every step, whichever run trained it)."""
    return {
        path.parent.name: dev_and_selection(read_json(path))
        for path in store.glob(f"phases/*/{PHASE_MANIFEST}")
    }


def dev_and_selection(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("dev", "selection", "train_loss")}


@dataclass(frozen=True)
class Reference:
    """The unbroken run: its results, each phase's dev scores, and how long its chain took."""

    result: dict[str, Any]
    dev: dict[str, Any]
    seconds: float
    """From the chain's first log line to the run's end: the span kills are spread over."""
    setup: float
    """From the chain's first log line to its first training step: about what a resumed run
    spends again (a phase's data and model, now with its checkpoint) before it is back
    where the last run was killed."""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The chain run once without interruption, and timed."""
    store = tmp_path_factory.mktemp("unbroken")
    driver = Driver(store)
    ended = driver.end()
    started = driver.first[LOG]
    seconds = time.monotonic() - started
    assert ended.returncode == 0 and ended.result is not None, ended.tail
    assert_nothing_partial_reads_complete(store, ended.result, phase_devs(store))  # the check
    setup = driver.first[TRAIN_BEGINS] - started
    return Reference(ended.result, phase_devs(store), seconds, setup)


def assert_loadable(model_dir: Path) -> None:
    """A published model directory holds whole weights, its config and its tokenizer."""
    assert load_file(model_dir / "model.safetensors"), model_dir  # a cut-off file fails here
    AutoConfig.from_pretrained(model_dir)
    AutoTokenizer.from_pretrained(model_dir)


def assert_nothing_partial_reads_complete(
    root: Path, result: dict[str, Any], dev: dict[str, Any]
) -> None:
    """Whatever the store calls complete is whole and right; whatever it does not, is unread.

    A kill leaves staging behind (``.phase.json.*.tmp``, ``model.partial/``, a phase's
    ``checkpoints/``, a run directory without its manifest): none of it may count.
    """
    store = Store(root)
    for model_dir in root.glob("models/*/"):
        if (model_dir / "config.json").is_file():  # how `bundled.materialize` sees it built
            assert_loadable(model_dir)
    for phase_dir in root.glob("phases/*/"):
        if Store.is_complete(phase_dir):
            assert dev_and_selection(read_json(phase_dir / PHASE_MANIFEST)) == dev[phase_dir.name]
            assert_loadable(phase_dir / "model")
    plan = planned(CONFIG)
    run_dir = store.run_dir(TASKS, plan.run_fingerprint)
    found = Runner(store).finished(plan)
    if (run_dir / "manifest.json").is_file():
        read_json(run_dir / "manifest.json")
        assert found is not None and found.as_dict() == result
    else:
        assert found is None, f"{run_dir} has no manifest, yet its results were read"


def test_the_unbroken_run_keeps_an_earlier_checkpoint_and_stops_early(reference):
    """What the kills below must preserve: each phase's best-so-far is an earlier checkpoint
    than its last, and its patience count ends training before its last scheduled step."""
    for phase, recorded in reference.dev.items():
        selection = recorded["selection"]
        assert selection["selected_step"] < selection["steps"], phase
        assert selection["stopped_early"], phase


def test_a_run_killed_again_and_again_resumes_to_the_unbroken_results(reference, tmp_path):
    """SIGKILL the run `KILLS` times at random points of its course, then let it end.

    The points are sorted random times of the unbroken run's chain, so they fall anywhere
    in it: in a Trainer step or checkpoint, while a phase's model is published or scored, in
    the zero-shot evaluation or as results are written. A resumed run picks up about where
    the last was killed, once it has set up again, so each is killed that long and the gap
    to the next point after its chain starts.

    At least one run must have resumed a phase from a Trainer checkpoint: a resume that
    silently started over would fail here, whatever its results.
    """
    schedule = random.Random(SEED)
    points = sorted(schedule.uniform(0, reference.seconds) for _ in range(KILLS))
    store = tmp_path / "store"
    runs = []
    for earlier, later in itertools.pairwise([0.0, *points]):
        again = reference.setup if runs else 0.0
        runs.append(Driver(store).kill_after(again + later - earlier))
        assert runs[-1].returncode in (-signal.SIGKILL, 0), runs[-1].tail
        assert_nothing_partial_reads_complete(store, reference.result, reference.dev)
    runs.append(run_whole(store))
    assert runs[-1].result == reference.result
    assert phase_devs(store) == reference.dev
    begins = [run.train_begins for run in runs]
    assert any(step > 0 for steps in begins for step in steps), f"none resumed: {begins}"


def test_a_kill_while_a_checkpoint_is_written_resumes_from_the_one_before(reference, tmp_path):
    """The driver kills itself inside its 2nd checkpoint (step 10), before the trainer state.

    Random kills land there now and then (saving takes about a tenth of training time here,
    so one kill in ten or so); this pins it. The half-written checkpoint-10 is newer than
    checkpoint-5, which must be where the next run resumes.
    """
    store = tmp_path / "store"
    died = Driver(store, "2").end()
    assert died.returncode == -signal.SIGKILL, died.tail
    (half_written,) = store.glob("phases/mnli-*/checkpoints/checkpoint-10")
    assert not (half_written / "trainer_state.json").exists()
    assert_nothing_partial_reads_complete(store, reference.result, reference.dev)
    resumed = run_whole(store)
    assert resumed.train_begins[0] == 5
    assert resumed.result == reference.result
