"""Every hyperparameter and seed is checked once, where recipes and the command line meet
(`stilts.tasks.hyperparameters`), before anything is planned or created: a bad value is one
`error:` line naming it, exit 2, and the store stays as it was."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import stilts_cli
from pydantic import ValidationError

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.tasks.hyperparameters import HyperparameterSettings, checked
from stilts.tasks.task import Hyperparameters


def assert_refused(done, says: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says in lines[0], lines[0]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--lr", "-1"], "hyperparameters.learning_rate: Input should be greater than 0"),
        (["--lr", "nan"], "learning_rate: Input should be greater than 0 (got nan)"),
        (["--lr", "0"], "hyperparameters.learning_rate: Input should be greater than 0"),
        (["--epochs", "0"], "hyperparameters.epochs: Input should be greater than 0"),
        (["--epochs", "-2"], "hyperparameters.epochs: Input should be greater than 0"),
        (["--batch-size", "-4"], "hyperparameters.batch_size: Input should be greater than or"),
        (["--max-length", "0"], "hyperparameters.max_length: Input should be greater than or"),
        (["--max-train-examples", "0"], "hyperparameters.max_train_examples: Input should be"),
        (["--max-train-examples", "-5"], "hyperparameters.max_train_examples: Input should be"),
        (["--max-eval-examples", "0"], "hyperparameters.max_eval_examples: Input should be"),
        (["--seed", "-1"], "seed: Input should be greater than or equal to 0"),
        (["--seed", str(2**40)], "seed: Input should be less than or equal to 4294967295"),
    ],
)
def test_a_bad_value_on_the_command_line_is_one_line_and_creates_nothing(tmp_path, options, says):
    store = tmp_path / "store"
    assert_refused(stilts_cli("chain", "mnli", "xnli", "--store", str(store), *options), says)
    assert not store.exists()


def test_a_max_length_beyond_the_models_positions_is_refused_before_any_phase(tmp_path):
    store = tmp_path / "store"
    done = stilts_cli("chain", "mnli", "xnli", "--store", str(store), "--max-length", "100000")
    assert_refused(done, "max_length 100000 of mnli is beyond the 512 positions of")
    assert not (store / "phases").exists() and not (store / "runs").exists()


@pytest.mark.parametrize(
    ("recipe", "says"),
    [
        ("hyperparameters: {learning_rate: fast}", "learning_rate: expected a number, not 'fast'"),
        ("hyperparameters: {epochs: yes}", "hyperparameters.epochs: expected a number, not True"),
        ("hyperparameters: {warmup_ratio: 1.5}", "warmup_ratio: Input should be less than 1"),
        ("hyperparameters: {weight_decay: -0.1}", "weight_decay: Input should be greater"),
        ("hyperparameters: {batch_size: 2.5}", "batch_size: Input should be a valid integer"),
        ("hyperparameters: {lerning_rate: 1}", "lerning_rate (did you mean 'learning_rate'"),
        ("seeds: [1, -1]", "seeds[1]: Input should be greater than or equal to 0"),
        ("phases: [{tasks: [mnli], hyperparameters: {batch_size: 0}}, xnli]",
         "phases[0].hyperparameters.batch_size: Input should be greater than or equal to 1"),
    ],
)  # fmt: skip
def test_a_bad_value_in_a_recipe_is_one_line_naming_its_path(tmp_path, recipe, says):
    text = f"stilts: 1\n{recipe}\n"
    if "phases" not in recipe:
        text += "phases: [mnli, xnli]\n"
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    store = tmp_path / "store"
    assert_refused(stilts_cli("run", str(path), "--store", str(store)), says)
    assert not store.exists()


def test_per_device_batch_size_below_one_is_refused(tmp_path):
    done = stilts_cli("chain", "mnli", "xnli", "--per-device-batch-size", "0")
    assert done.returncode == 2 and "--per-device-batch-size" in done.stderr


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


def test_nothing_in_the_store_changes_when_a_value_is_refused(tmp_path, mnli_xnli):
    before = sorted(p.relative_to(mnli_xnli.store.root) for p in mnli_xnli.store.root.rglob("*"))
    done = stilts_cli("chain", "mnli", "xnli", "--store", str(mnli_xnli.store.root), "--lr", "-1")
    assert done.returncode == 2
    after = sorted(p.relative_to(mnli_xnli.store.root) for p in mnli_xnli.store.root.rglob("*"))
    assert after == before
