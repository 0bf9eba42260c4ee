"""Fingerprints keep their meaning across releases: the same experiment, the same phases.

A store full of trained phases is only worth keeping if the next stilts plans the same
fingerprints for the same experiment. These were computed by stilts 0.1 (before phases became
one `PhaseConfig` object) and planned again by 0.2, which changed what phases compute (model
selection, QA windows, XTREME-R's COPA settings, data and models pinned to commits; README,
"Upgrading from 0.1"), for experiments that exercise every part of a phase's identity: the
start, data, hyperparameters at each level, adapters, multi-task sampling, translations,
groups, a retrieval target, the evaluation settings; and for every phase of the study's
recipes. A change here re-trains every lab's stored phases, so it must be deliberate: bump
`PREPROCESSING_VERSION` (or the stilts version, for runs) and say so in the README.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import REPO, XLMR_COMMIT

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan, plan_all
from stilts.experiment.recipe import load_recipe

HUB = {"model": {"id": "FacebookAI/xlm-roberta-large", "revision": XLMR_COMMIT}, "data": "hub"}
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
    "demo": (["6aa86ed1a8bf", "8ef6c0f19607"], "a53ea5630087"),
    "hub": (["24943099206c", "82908e8af7e2"], "0db041fb5f7a"),
    "lora_stack": (["15b8326e009a", "338718384c65"], "50add30b07f4"),
    "multitask_temperature": (["f7273c7af56d", "e31247b48d53"], "36699c5c0633"),
    "translate_groups": (["528d5513a1c6", "0bc4690a2bff", "9b85a8105d11"], "987b9f502195"),
    "phase_hp_languages": (["99ec7fa55dd1", "b1b0556a6166"], "ee649784b959"),
    "retrieval": (["24943099206c", "b1a39880b7d8"], "722d3ea13fdb"),
}
"""Each chain's phase fingerprints and run fingerprint (their first 12 hex digits, as store
directories name them), as stilts 0.2 plans them."""
RECIPES = {
    "recipes/study/grid.yaml": (99, "bed20d9f641f74df"),
    "recipes/study/multitask.yaml": (10, "0f7df6817651ea11"),
    "recipes/study/translated.yaml": (10, "38a0c0f663c83ae2"),
    "recipes/study/mlm.yaml": (90, "03209394c68f8e44"),
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
