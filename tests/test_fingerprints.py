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
    "demo": (["5977b863459e", "7b458c8cdb01"], "b94bf31b4e5f"),
    "hub": (["353c58ad53d8", "b340d88d7dc0"], "2e1d17d4272f"),
    "lora_stack": (["e8134ed29cc2", "070e198d2de8"], "ea775a82faef"),
    "multitask_temperature": (["e8cb0a756c38", "25c846eaa6bd"], "4266d681761a"),
    "translate_groups": (["3ab596380975", "149c0a0ab872", "11c4f6c58d03"], "d7236af2c251"),
    "phase_hp_languages": (["a7433e3a4981", "f66bd8bc4664"], "95bbc90ae486"),
    "retrieval": (["353c58ad53d8", "dd56b20f05c7"], "335cbb57e175"),
}
"""Each chain's phase fingerprints and run fingerprint (their first 12 hex digits, as store
directories name them), as stilts 0.1 planned them."""
RECIPES = {
    "recipes/study/grid.yaml": (99, "2abfa3729d528209"),
    "recipes/study/multitask.yaml": (10, "e2f1737211ee975c"),
    "recipes/study/translated.yaml": (10, "e12df9826a6d0e5a"),
    "recipes/study/mlm.yaml": (90, "bcb99a763df0ac2b"),
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
