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
    "hub": (["cc12af09e9a1", "c79767bc47d2"], "8a7474e5612f"),
    "lora_stack": (["d2c9ff31d673", "794f70301fa1"], "192e79c044a0"),
    "multitask_temperature": (["5a58031da45c", "8f90ba537bef"], "0f7680767dca"),
    "translate_groups": (["bff4026725b5", "41fee3888582", "c669bf1a7339"], "f76d0c848651"),
    "phase_hp_languages": (["4000b755e571", "b5e444bf5231"], "86abdb1ad1b9"),
    "retrieval": (["cc12af09e9a1", "14a874a1f515"], "04c4c9abcd61"),
}
"""Each chain's phase fingerprints and run fingerprint (their first 12 hex digits, as store
directories name them), as stilts 0.2 plans them."""
RECIPES = {
    "recipes/study/grid.yaml": (99, "f6f901ce7ae887ee"),
    "recipes/study/multitask.yaml": (10, "7f47ebd07e1e550c"),
    "recipes/study/translated.yaml": (10, "5caa611f988af5d3"),
    "recipes/study/mlm.yaml": (90, "89d19a7fedee257c"),
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
