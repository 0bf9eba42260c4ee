"""Translated intermediate data: a task's own translations, a user's copies, or both."""

from __future__ import annotations

import pytest
from fixtures import write_translated_sample

from stilts import StiltsError, registry
from stilts.bundled import SAMPLE_DATA
from stilts.chain import ChainConfig, plan, run
from stilts.data import DataLocator
from stilts.plugins.nli import GLUE_MNLI
from stilts.store import PHASE_MANIFEST, Store, read_json
from stilts.testing import write_table
from stilts.translation import TrainingData

MNLI = registry.load("mnli")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """The bundled sample plus facebook/xnli's translated MNLI train in de and fr."""
    return write_translated_sample(tmp_path_factory.mktemp("mirror"), ("de", "fr"))


def test_the_tasks_own_translations_load_through_its_loader(mirror):
    data = DataLocator(mirror)
    english = MNLI.load("train", "en", data)
    german = TrainingData(("de",)).rows(MNLI, data)
    assert german.num_rows == english.num_rows
    assert german["premise"][0] == f"de {english['premise'][0]}"
    assert german["label"] == english["label"]
    both = TrainingData(("en", "de", "fr")).rows(MNLI, data)
    assert both.num_rows == 3 * english.num_rows
    assert both["premise"][: english.num_rows] == english["premise"]  # original first


def test_a_users_translated_copies_are_read_in_the_tasks_own_schema(tmp_path):
    english = DataLocator(SAMPLE_DATA).load(GLUE_MNLI, "train")
    copy = english.map(lambda row: {"premise": "es " + row["premise"]})
    write_table(tmp_path / "es", GLUE_MNLI, "train", copy)  # DIR/<lang>/nyu-mll/glue/…
    rows = TrainingData(("es",), files=tmp_path).rows(MNLI, DataLocator(SAMPLE_DATA))
    assert rows["premise"] == copy["premise"]
    assert rows["label"] == MNLI.load("train", "en", DataLocator(SAMPLE_DATA))["label"]


def test_a_task_without_translations_needs_the_users_files():
    with pytest.raises(StiltsError, match="qqp offers no translated data"):
        TrainingData(("de",)).check(registry.load("qqp"))
    with pytest.raises(StiltsError, match="no translated data in xx"):
        TrainingData(("de", "xx")).check(MNLI)


def test_translations_change_the_phase_fingerprint_and_plain_phases_keep_theirs(mirror):
    plain = plan(ChainConfig(tasks=("mnli", "xnli"), data=str(mirror)))
    default = plan(ChainConfig(tasks=("mnli", "xnli")))
    both = plan(
        ChainConfig(tasks=("mnli", "xnli"), data=str(mirror), translations={"mnli": ("en", "de")})
    )
    assert "training_data" not in plain.phases[0].spec
    assert both.phases[0].fingerprint != plain.phases[0].fingerprint
    assert both.phases[1].spec["start"] == {"phase": both.phases[0].fingerprint}
    assert default.phases[0].spec["hyperparameters"] == plain.phases[0].spec["hyperparameters"]
    with pytest.raises(StiltsError, match="--translate names qqp"):
        plan(ChainConfig(tasks=("mnli", "xnli"), translations={"qqp": ("de",)}))


def test_a_chain_trains_on_english_and_translated_rows(mirror, tmp_path):
    config = ChainConfig(
        tasks=("mnli", "xnli"), data=str(mirror), translations={"mnli": ("en", "de")}
    )
    chain = plan(config)
    store = Store(tmp_path)
    result = run(chain, store)
    record = read_json(store.phase_dir("mnli", chain.phases[0].fingerprint) / PHASE_MANIFEST)
    english = MNLI.load("train", "en", DataLocator(mirror)).num_rows
    assert record["train_rows"] == 2 * english
    assert result.dev["en"]["accuracy"] > 80
