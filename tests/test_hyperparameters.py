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
