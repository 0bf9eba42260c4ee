"""The grid's live display: each phase's training bar names the phase, its chain and seed."""

from __future__ import annotations

import io
from types import SimpleNamespace

from conftest import REPO, FinishedChain
from rich.console import Console

from stilts.experiment.plan import plan_all
from stilts.experiment.recipe import load_recipe
from stilts.runtime.options import RunOptions
from stilts.runtime.progress import ExperimentProgress


def test_each_training_bar_names_its_phase(mnli_xnli: FinishedChain):
    plans = plan_all(c.config for c in load_recipe(REPO / "recipes/smoke/grid.yaml").chains())
    console = Console(file=io.StringIO(), width=120)
    with ExperimentProgress(console, plans, mnli_xnli.store, grid=True, force=False) as shown:
        bar = shown.run_options(RunOptions()).callbacks[-1]
        for chain in plans:
            for phase in chain.trained:
                shown.on_phase_begin(chain, phase, "start")
                bar.on_train_begin(None, SimpleNamespace(is_world_process_zero=True,
                                                         max_steps=10), None)  # fmt: skip
                assert shown.progress.tasks[-1].description == chain.label(phase)
                bar.on_train_end(None, SimpleNamespace(global_step=10), None)
    labels = {chain.label(phase) for chain in plans for phase in chain.trained}
    assert labels == {"mnli (seed 42)", "mnli → xnli (seed 42)", "xnli (seed 42)"}
