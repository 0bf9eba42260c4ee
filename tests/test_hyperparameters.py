"""Every hyperparameter and seed is checked once, where recipes and the command line meet
(`stilts.tasks.hyperparameters`), before anything is planned or created. What a bad value
looks like to a user is in the catalogue of bad input (tests/test_bad_input.py); here, what
the schema does with good ones."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.tasks import registry
from stilts.tasks.hyperparameters import HyperparameterSettings, checked
from stilts.tasks.task import Hyperparameters


@pytest.mark.parametrize("epochs", [2, 2.0, "2", "2.0"])
def test_one_setting_has_one_fingerprint_however_it_is_spelt(epochs):
    spelt = plan(ChainConfig(phases=["mnli", "xnli"], hyperparameters={"epochs": epochs}))
    assert spelt.phases[0].hyperparameters.epochs == 2.0
    default = plan(ChainConfig(phases=["mnli", "xnli"], hyperparameters={"epochs": 2.0}))
    assert [p.fingerprint for p in spelt.phases] == [p.fingerprint for p in default.phases]


def test_yaml_text_that_spells_a_number_is_that_number():
    settings = HyperparameterSettings.model_validate({"learning_rate": "1e-5", "batch_size": "16"})
    assert settings.given() == {"learning_rate": 1e-5, "batch_size": 16}


def test_a_plugins_own_defaults_pass_the_same_schema():
    with pytest.raises(ValidationError, match="learning_rate"):
        checked(Hyperparameters(learning_rate=-1.0))
    assert checked(Hyperparameters(epochs=2)).epochs == 2.0  # type: ignore[arg-type]


def test_the_schema_has_every_hyperparameter():
    fields = {field.name for field in dataclasses.fields(Hyperparameters)}
    assert set(HyperparameterSettings.model_fields) == fields


def test_on_the_bundled_model_a_task_keeps_the_values_it_sets_itself(monkeypatch):
    """`mnli → mytask` with ``defaults=Hyperparameters(epochs=8)``: mytask trains 8 epochs (the
    tiny model's learning rate still applies, its own default being the study's); mnli, whose
    2 epochs only restate the study's, keeps the tiny model's 3, as the demo always did."""
    mytask = dataclasses.replace(
        registry.load("mnli"), name="mytask", defaults=Hyperparameters(epochs=8, batch_size=16)
    )
    entries = {**registry.entries(), "mytask": registry.find("mnli")}
    monkeypatch.setattr(registry, "entries", lambda: entries)
    real_load = registry.load
    monkeypatch.setattr(
        registry, "load", lambda name: mytask if name == "mytask" else real_load(name)
    )
    chain = plan(ChainConfig(phases=["mnli", "mytask"]))
    intermediate, target = (phase.hyperparameters for phase in chain.phases)
    assert (target.epochs, target.batch_size) == (8.0, 16)
    assert target.learning_rate == intermediate.learning_rate == 1e-3
    assert (intermediate.epochs, intermediate.batch_size) == (3.0, 32)
    given = plan(ChainConfig(phases=["mnli", "mytask"], hyperparameters={"epochs": 1}))
    assert given.phases[1].hyperparameters.epochs == 1.0  # the user's value wins over both


def test_on_the_bundled_model_a_declared_task_keeps_its_hyperparameters(tmp_path):
    """What a declaration's ``hyperparameters:`` gives is its own, even the study's value."""
    declared = {
        "kind": "classification", "repo": "acme/reviews", "revision": "0" * 40,
        "files": "{split}.parquet",
        "columns": {"text": "review", "label": "verdict"}, "labels": ["good", "bad"],
        "hyperparameters": {"epochs": 8, "learning_rate": 1e-5},
    }  # fmt: skip
    config = ChainConfig.model_validate(
        {"phases": ["reviews"], "data": str(tmp_path), "tasks": {"reviews": declared}}
    )
    resolved = plan(config).phases[0].hyperparameters
    assert (resolved.epochs, resolved.learning_rate) == (8.0, 1e-5)
    assert resolved.max_length == 64  # left to the tiny model's preset
