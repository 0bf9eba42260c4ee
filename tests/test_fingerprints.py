"""Fingerprints keep their meaning across releases: the same experiment, the same phases.

A store full of trained phases is only worth keeping if the next stilts plans the same
fingerprints for the same experiment. These were computed by stilts 0.1 (before phases became
one `PhaseConfig` object) and re-pinned where 0.2 changed what phases compute (each phase now
keeps its best dev checkpoint by default, and its selection is part of its identity; see the
README, "Upgrading from 0.1"), for experiments that exercise every part of a phase's identity: the
start, data, hyperparameters at each level, adapters, multi-task sampling, translations,
groups, a retrieval target, the evaluation settings; and for every phase of the study's
recipes. A change here re-trains every lab's stored phases, so it must be deliberate: bump
`PREPROCESSING_VERSION` (or the stilts version, for runs) and say so in the README.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import REPO

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan, plan_all
from stilts.experiment.recipe import load_recipe

HUB = {"model": {"id": "FacebookAI/xlm-roberta-large"}, "data": "hub"}
CHAINS = {
    "demo": {"phases": ["mnli", "xnli"]},
    "hub": {"phases": ["mnli", "xnli"], **HUB},
    "lora_stack": {"phases": [{"tasks": ["mnli"], "adapter": "lora:handoff=stack,r=4"}, "xnli"],
                   **HUB},
    "multitask_temperature": {
        "phases": [{"tasks": ["mnli", "squad", "hellaswag"],
                    "sampler": "temperature:T=2,cap=100000"}, "pawsx"],
        "dev_aggregate": "weighted:mnli=2,squad=1,hellaswag=1",
        **HUB,
    },
    "translate_groups": {
        "phases": [{"tasks": ["mnli"], "translate": {"mnli": ["en", "de"]}},
                   {"tasks": ["anli_plus"], "groups": {"anli_plus": ["snli", "anli_r1"]}}, "xnli"],
        "hyperparameters": {"max_train_examples": 1000},
        **HUB,
    },
    "phase_hp_languages": {
        "phases": [{"tasks": ["qqp"], "hyperparameters": {"epochs": 1}}, "xnli"],
        "evaluation": {"languages": ["de", "sw"], "split": "dev"},
        "seed": 7,
        **HUB,
    },
    "retrieval": {"phases": ["mnli", "tatoeba"], **HUB},
}  # fmt: skip
PINNED = {
    "demo": (["bfb069681fc9", "21539ec5d0c4"], "de697fa3d2bf"),
    "hub": (["53d729fb5868", "bf4afbd35107"], "7c5df6ca7144"),
    "lora_stack": (["6296d0231a1f", "eb22c39a0cf6"], "f6f775907b65"),
    "multitask_temperature": (["847d78769d0a", "415dd7a5f9d1"], "48ea29a1d85b"),
    "translate_groups": (["423ac79e1b3e", "1235a875a034", "1ea3e2ba8fc1"], "56cde999ed73"),
    "phase_hp_languages": (["0ee4be4d9708", "78ae4d523fa1"], "d4443ddf0a36"),
    "retrieval": (["53d729fb5868", "9d37f2669549"], "5ba9db7a5e1d"),
}
"""Each chain's phase fingerprints and run fingerprint (their first 12 hex digits, as store
directories name them), as stilts 0.2 plans them."""
RECIPES = {
    "recipes/study/grid.yaml": (99, "6af27a378cd685ec"),
    "recipes/study/multitask.yaml": (10, "37480e9dee976ba3"),
    "recipes/study/translated.yaml": (10, "73e07cf943c99925"),
    "recipes/study/mlm.yaml": (90, "2f514f916ea81b82"),
}
"""Each study recipe's distinct phases: how many, and a hash of their sorted fingerprints."""


@pytest.mark.parametrize("name", CHAINS)
def test_a_chain_plans_the_fingerprints_it_always_had(name):
    chain = plan(ChainConfig.model_validate(CHAINS[name]))
    phases, run = PINNED[name]
    assert [phase.fingerprint[:12] for phase in chain.phases] == phases
    assert chain.run_fingerprint[:12] == run


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_study_recipes_plan_the_phases_they_always_had(recipe):
    plans = plan_all(cell.config for cell in load_recipe(Path(REPO / recipe)).chains())
    phases = sorted({phase.fingerprint for chain in plans for phase in chain.phases})
    digest = hashlib.sha256("\n".join(phases).encode()).hexdigest()[:16]
    assert (len(phases), digest) == RECIPES[recipe]
