"""Fingerprints keep their meaning across releases: the same experiment, the same phases.

A store full of trained phases is only worth keeping if the next stilts plans the same
fingerprints for the same experiment. These were computed by stilts 0.1 (before phases became
one `PhaseConfig` object) for experiments that exercise every part of a phase's identity: the
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
    "demo": (["5977b863459e", "7b458c8cdb01"], "b94bf31b4e5f"),
    "hub": (["9355e9c1360b", "c85ae798942d"], "811bc197321d"),
    "lora_stack": (["2c3a8fcaad06", "6fcabfde6fa9"], "98133daebe71"),
    "multitask_temperature": (["1e11904af444", "6b9f74dcd555"], "7a60a32b2131"),
    "translate_groups": (["c8feb6df6fdd", "cfc59362b369", "6b25c68ec1d1"], "bf04b98cb5dc"),
    "phase_hp_languages": (["8211067a4fc7", "a437b09897c3"], "25052aa4fdf7"),
    "retrieval": (["9355e9c1360b", "23e963f81695"], "d2be659f539a"),
}
"""Each chain's phase fingerprints and run fingerprint (their first 12 hex digits, as store
directories name them), as stilts 0.1 planned them."""
RECIPES = {
    "recipes/study/grid.yaml": (99, "0701e569881c4030"),
    "recipes/study/multitask.yaml": (10, "44cc8b81503ad5f1"),
    "recipes/study/translated.yaml": (10, "d7c69154969e102c"),
    "recipes/study/mlm.yaml": (90, "ae7b449dac1b3414"),
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
