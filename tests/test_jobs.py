"""An experiment as a graph of jobs, and that graph as SLURM would get it.

The graph is recomputed here from the plans (which phases the chains train, which phase each
starts from) rather than trusted; the SLURM submission of a 3 × 3 grid is checked exactly,
parameter by parameter, and accepted by submitit's own SLURM executor; one job runs
in-process through submitit's debug executor and trains and scores its phase.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import submitit
from conftest import REPO, XLMR_COMMIT, FinishedChain, stilts_cli

from stilts.errors import StiltsError
from stilts.experiment.jobs import job_graph
from stilts.experiment.launcher import Launcher
from stilts.experiment.plan import plan_all
from stilts.experiment.recipe import Recipe, load_recipe
from stilts.launch.backends import SlurmBackend, slurm_parameters
from stilts.launch.folder import LaunchFolder
from stilts.launch.job import PhaseJob
from stilts.launch.submitter import Submitter
from stilts.runtime.options import RunOptions
from stilts.store.layout import Store, whole_phase, whole_run
from stilts.store.results import ChainResult

SMOKE_GRID = REPO / "recipes" / "smoke" / "grid.yaml"
GRID_3X3 = {
    "stilts": 1, "data": "hub", "precision": "bf16",
    "model": {"id": "FacebookAI/xlm-roberta-large", "revision": XLMR_COMMIT},
    "grid": {"intermediate": ["mnli", "qqp", "squad"], "target": ["xnli", "pawsx", "tatoeba"]},
}  # fmt: skip
"""Planned offline: the model's commit is given. Tatoeba trains nothing: its runs are jobs
that only score."""
SLURM = {
    "kind": "slurm", "partition": "gpu", "gpus": 1, "cpus": 8, "mem": 64, "time": 720,
    "account": "lab", "qos": "normal", "sbatch": {"constraint": "a100"},
    "setup": ["source venv/bin/activate"],
}  # fmt: skip


def test_the_study_grid_is_one_job_per_phase_and_one_per_retrieval_run(tmp_path):
    """Counted from the plans: every distinct trained phase once (an intermediate phase
    however many targets follow it), and every run whose target trains nothing."""
    plans = plan_all(cell.config for cell in load_recipe(REPO / "recipes/study/grid.yaml").chains())
    graph = job_graph(plans, Store(tmp_path))
    trained = {phase.fingerprint for chain in plans for phase in chain.trained}
    scoring = {chain.run_fingerprint for chain in plans if not chain.target.trains}
    assert graph.ids == trained | scoring
    assert (len(plans), len(graph)) == (90, 99)  # 9 × 9 chains and 9 baselines: the note's
    for chain in plans:  # each job comes after the job of the phase it starts from
        for before, phase in zip(chain.trained, chain.trained[1:], strict=False):
            assert graph[phase.fingerprint].after == (before.fingerprint,)
        if chain.target.trains:
            run = str(Path("runs") / f"{'-'.join(chain.config.names)}-{chain.run_fingerprint[:12]}")
            assert run in graph[chain.target.fingerprint].runs  # trained and scored together
    ids = [job.id for job in graph.jobs]
    assert all(ids.index(need) < ids.index(job.id) for job in graph.jobs for need in job.after)


def test_what_the_store_holds_is_no_job(mnli_xnli: FinishedChain):
    """On the demo's store, the smoke grid has one job left: the baseline, which needs no
    other job."""
    plans = plan_all(cell.config for cell in load_recipe(SMOKE_GRID).chains())
    (job,) = job_graph(plans, mnli_xnli.store).jobs
    assert (job.name, job.after, len(job.runs)) == ("xnli (seed 42)", (), 1)


def test_print_jobs_gives_each_job_its_command(mnli_xnli: FinishedChain, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)
    printed = stilts_cli("run", str(SMOKE_GRID), "--store", str(store), "--print-jobs",
                         "--per-device-batch-size", "8")  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    (job,) = document["jobs"]
    assert job["command"] == ["stilts", "run", document["recipe"], "--store", str(store),
                              "--job", job["id"], "--per-device-batch-size", "8"]  # fmt: skip
    assert load_recipe(Path(document["recipe"])) == load_recipe(SMOKE_GRID)


def grid_3x3(tmp_path: Path) -> tuple[list, LaunchFolder]:
    recipe = Recipe.model_validate(GRID_3X3)
    plans = list(plan_all(cell.config for cell in recipe.chains()))
    return plans, LaunchFolder(Store(tmp_path / "store"), recipe)


FAKE_SBATCH = """#!/bin/sh
# sbatch as this machine can have it: keeps the script submitit wrote, answers as SLURM does
n=$(( $(cat "$0.count" 2>/dev/null || echo 1000) + 1 ))
echo $n > "$0.count"
cp "$1" "$(dirname "$0")/job-$n.sh"
echo "Submitted batch job $n"
"""


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    """`srun` and `sbatch` on PATH, for submitit's SLURM executor; the sbatch scripts it
    submits are kept as job-<id>.sh in the returned directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir


class QueuedSlurm(SlurmBackend):
    """SLURM with every job still queued (there is no sacct here to ask)."""

    def alive(self, attempt):
        return True


def test_a_3x3_grid_goes_to_slurm_whole_with_afterok_dependencies(tmp_path, fake_slurm):
    plans, folder = grid_3x3(tmp_path)
    folder.write_recipe()
    submitter = Submitter(plans, folder, QueuedSlurm(folder, Launcher.parse(SLURM), "s1"),
                          RunOptions(), print)  # fmt: skip
    assert submitter.round() is None  # all queued, none ended
    graph = job_graph(plans, folder.store)
    # 3 intermediate phases; after them 3 × 2 target phases and 3 Tatoeba scorings; baselines:
    # 2 target phases and 1 scoring
    assert len(graph) == 3 + 3 * 2 + 3 + 2 + 1
    slurm_ids = {job.id: folder.last(job.id).job for job in graph.jobs}
    assert sorted(slurm_ids.values()) == [str(n) for n in range(1001, 1016)]  # one each
    common = {
        "nodes": 1, "ntasks_per_node": 1, "gpus_per_node": 1, "time": 720, "signal_delay_s": 120,
        "cpus_per_task": 8, "partition": "gpu", "account": "lab", "qos": "normal",
        "mem": "64GB", "setup": ["source venv/bin/activate"],
    }  # fmt: skip
    spec = Launcher.parse(SLURM)
    for job in graph.jobs:
        after = [slurm_ids[need] for need in job.after]
        expected = {**common, "job_name": f"stilts-{job.id[:12]}",
                    "additional_parameters": {"constraint": "a100"}}  # fmt: skip
        if after:
            expected["dependency"] = "afterok:" + ":".join(after)
            expected["additional_parameters"]["kill-on-invalid-dep"] = "yes"
        assert slurm_parameters(spec, job, after) == expected, job.name
        script = (fake_slurm / f"job-{slurm_ids[job.id]}.sh").read_text()
        lines = {line for line in script.splitlines() if line.startswith("#SBATCH")}
        assert {"#SBATCH --gpus-per-node=1", "#SBATCH --partition=gpu", "#SBATCH --time=720",
                "#SBATCH --account=lab", "#SBATCH --constraint=a100", "#SBATCH --mem=64GB",
                f"#SBATCH --job-name=stilts-{job.id[:12]}"} <= lines  # fmt: skip
        assert ("#SBATCH --dependency=" + expected.get("dependency", "") in lines) == bool(after)
        assert "source venv/bin/activate" in script
    assert sum(bool(job.after) for job in graph.jobs) == 9
    # stopped and run again: everything is queued, so nothing is submitted twice
    again = Submitter(plans, folder, QueuedSlurm(folder, spec, "s2"), RunOptions(), print)
    assert again.round() is None
    assert len(list(fake_slurm.glob("job-*.sh"))) == 15


def test_a_slurm_launch_needs_a_named_precision(tmp_path):
    """Jobs plan their chain again on the GPU node: auto could resolve otherwise there."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(json.dumps({**GRID_3X3, "precision": "auto"}))
    ran = stilts_cli("run", str(recipe), "--store", str(tmp_path / "s"), "--launcher", "slurm")
    assert ran.returncode == 2
    assert "--precision auto could mean two things; name it" in ran.stderr


def test_the_job_function_trains_and_scores_its_phase_in_process(mnli_xnli, tmp_path):
    """submitit's debug executor runs the job as SLURM would, in this process: the smoke
    grid's baseline job trains XNLI alone and scores it, exactly as the runner does."""
    store = Store(tmp_path / "store")
    shutil.copytree(mnli_xnli.store.root, store.root)
    recipe = load_recipe(SMOKE_GRID)
    plans = plan_all(cell.config for cell in recipe.chains())
    (job,) = job_graph(plans, store).jobs
    folder = LaunchFolder(store, recipe)
    work = PhaseJob(folder.write_recipe(), store.root, job.id)
    submitit.DebugExecutor(folder.submitit).submit(work).result()
    assert whole_phase(store.root / job.phase) and whole_run(store.root / job.runs[0])
    assert len(job_graph(plans, store)) == 0
    result = ChainResult.read(store.root / job.runs[0])
    assert result.tasks == ("xnli",) and result.average > 0


def test_a_job_the_experiment_lacks_is_refused(mnli_xnli):
    with pytest.raises(StiltsError, match="the experiment has no job 0123; `--print-jobs` lists"):
        PhaseJob(SMOKE_GRID, mnli_xnli.store.root, "0123")()
