"""One writer per phase: a second process waits, says who holds the lock, and reuses."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, stilts_cli

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan as planned
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.runner import Runner
from stilts.store.layout import Store
from stilts.store.lock import Mount, directory_lock, flock_trusted, lock_path, mount_of

HOLD = """
import sys, time
from pathlib import Path
from stilts.store.lock import directory_lock
with directory_lock(Path(sys.argv[1]), print):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(directory: Path, seconds: float) -> subprocess.Popen:
    """Another process holding `directory`'s lock for `seconds`, once it says so."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(directory), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


@pytest.fixture(params=["flock", "lease"])
def mode(request, monkeypatch) -> str:
    """Each lock the way a store takes it: flock, or a lease where flock is not trusted."""
    monkeypatch.setenv("STILTS_LOCK", request.param)
    return request.param


def test_a_second_writer_names_the_holder_and_waits_for_it(tmp_path, mode):
    holder = hold(tmp_path / "phases" / "mnli-abc", 1.5)
    said: list[str] = []
    started = time.perf_counter()
    with directory_lock(tmp_path / "phases" / "mnli-abc", said.append):
        assert time.perf_counter() - started > 1  # the lock came only once the holder let go
    holder.wait(timeout=60)
    assert len(said) == 1
    assert f"mnli-abc is being written by process {holder.pid} on " in said[0]
    assert said[0].endswith("; waiting for it")
    assert lock_path(tmp_path / "phases" / "mnli-abc").read_text() == ""  # released, unnamed


def test_a_killed_holder_leaves_no_stale_lock(tmp_path, mode):
    holder = hold(tmp_path / "phase", 600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    said: list[str] = []
    started = time.perf_counter()
    with directory_lock(tmp_path / "phase", said.append):
        pass
    assert said == [] and time.perf_counter() - started < 1


class Said(RunCallback):
    """What the command line would say: waits, and phases trained."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_phase_wait(self, chain, phase, message):
        self.lines.append(message)

    def on_phase_begin(self, chain, phase, start):
        self.lines.append(f"phase {phase.name}: training from {start}")


def test_the_same_chain_started_twice_trains_each_phase_once(tmp_path):
    """The demo chain twice at once on one store: the later run waits for the run the first
    is writing; between them, each phase is trained exactly once."""
    store = tmp_path / "store"
    first = subprocess.Popen(
        [sys.executable, "-m", "stilts", "chain", "mnli", "xnli", "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    plan = planned(ChainConfig(phases=("mnli", "xnli")))
    mnli = Store(store).phase_dir("mnli", plan.phases[0].fingerprint)
    deadline = time.monotonic() + 120
    while not lock_path(mnli).is_file() or not lock_path(mnli).read_text():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
        time.sleep(0.05)
    listener = Said()
    result = Runner(Store(store), callbacks=[listener]).run(plan).result
    said = listener.lines
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert any(f"is being written by process {first.pid}" in line for line in said), said
    both = [*said, *out.splitlines()]
    for phase in ("mnli", "xnli"):
        assert sum(f"phase {phase}: training" in line for line in both) == 1, both
    reference = Runner(Store(store)).run(plan).result  # the first run's phases, read back
    assert result.test == reference.test


SLOW_SCORE = """
import sys, time
from pathlib import Path
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.runner import Runner
from stilts.store.layout import Store

class SlowScore(RunCallback):
    def on_evaluate(self, chain, languages):
        print("scoring", flush=True)
        time.sleep(float(sys.argv[2]))

chain = plan(ChainConfig(phases=("mnli", "xnli")))
Runner(Store(Path(sys.argv[1])), callbacks=[SlowScore()]).run(chain)
"""


def test_the_same_run_started_twice_is_scored_and_written_once(mnli_xnli, tmp_path):
    """Its phases in the store, the demo chain twice at once: the first scores and writes the
    run (slowly: it waits a few seconds before scoring), the second waits for it, then reads
    it back rather than scoring it again into the same directory."""
    store = tmp_path / "store"
    for path in (
        mnli_xnli.phase_dir(0),
        mnli_xnli.phase_dir(1),
        *mnli_xnli.store.root.glob("models/*/"),
    ):
        shutil.copytree(path, store / path.relative_to(mnli_xnli.store.root))
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_SCORE, str(store), "5"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert first.stdout is not None and first.stdout.readline().strip() == "scoring"
    listener = Said()
    outcome = Runner(Store(store), callbacks=[listener]).run(mnli_xnli.plan)
    assert first.wait(timeout=300) == 0
    run = mnli_xnli.run_dir.name
    assert any(f"{run} is being written by process {first.pid}" in line for line in listener.lines)
    assert outcome.reused and outcome.result == mnli_xnli.result
    assert not any("training" in line for line in listener.lines)


@pytest.mark.parametrize(
    ("kind", "options", "mode"),
    [
        ("ext4", "rw,relatime", "flock"), ("xfs", "rw", "flock"),
        ("nfs4", "rw,vers=4.2", "flock"), ("nfs", "rw,vers=3", "flock"),
        ("nfs", "rw,vers=3,nolock", "lease"), ("nfs4", "rw,local_lock=flock", "lease"),
        ("lustre", "rw,flock", "flock"), ("lustre", "rw,localflock", "lease"),
        ("lustre", "rw", "lease"), ("beegfs", "rw", "lease"), ("fuse.sshfs", "rw", "lease"),
    ],
)  # fmt: skip
def test_flock_is_trusted_only_where_it_holds_across_machines(kind, options, mode, monkeypatch):
    monkeypatch.delenv("STILTS_LOCK", raising=False)
    mount = Mount("/shared", kind, frozenset(options.split(",")))
    assert ("flock" if flock_trusted(mount) else "lease") == mode


def test_the_store_s_mount_is_read_from_the_mount_table(tmp_path):
    mount = mount_of(tmp_path / "not" / "made" / "yet")
    assert mount is not None and str(tmp_path.resolve()).startswith(mount.point)


def test_a_store_locked_by_leases_says_so_at_start(tmp_path):
    ran = stilts_cli("run", str(REPO / "recipes" / "smoke" / "grid.yaml"), "--store",
                     str(tmp_path), "--status", env={"STILTS_LOCK": "lease"})  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert f"the store {tmp_path} is locked with leases" in " ".join(ran.stdout.split())
