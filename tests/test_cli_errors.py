"""Errors a user will hit: one line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import XLMR_COMMIT, stilts_cli

from stilts.experiment.bundled import SAMPLE_DATA
from stilts.tasks.data import DataLocator
from stilts.tasks.plugins.nli import GLUE_MNLI, XTREME_XNLI
from stilts.testing import write_table


def assert_user_error(result, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    message = " ".join(result.stderr.split())
    assert message.startswith("error:"), result.stderr
    for needle in needles:
        assert needle in message, (needle, message)


def assert_nothing_written(store: Path) -> None:
    assert not (store / "runs").exists()
    assert not list(store.glob("phases/*/phase.json"))


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A writable local mirror root, starting as a copy of the bundled sample."""
    root = tmp_path / "mirror"
    shutil.copytree(SAMPLE_DATA, root)
    return root


def test_unknown_task_suggests_the_closest_names(tmp_path):
    result = stilts_cli("chain", "mnly", "xnli", "--store", str(tmp_path))
    assert_user_error(result, "unknown task 'mnly'", "did you mean 'mnli'", "stilts tasks")
    assert_nothing_written(tmp_path)


def test_missing_column_names_the_column_and_the_source(mirror, tmp_path):
    train = DataLocator(mirror).load(GLUE_MNLI, "train")
    write_table(mirror, GLUE_MNLI, "train", train.remove_columns("hypothesis"))
    store = tmp_path / "store"
    result = stilts_cli("chain", "mnli", "xnli", "--data", str(mirror), "--store", str(store))
    assert_user_error(result, "no column 'hypothesis'", "nyu-mll/glue", "split 'train'")
    assert_nothing_written(store)


def test_wrong_label_names_are_reported(mirror, tmp_path):
    test = DataLocator(mirror).load(XTREME_XNLI, "test")
    test = test.map(
        lambda row: {"gold_label": "maybe" if row["gold_label"] == "neutral" else row["gold_label"]}
    )
    for old in (mirror / "google/xtreme").glob(XTREME_XNLI.pattern("test")):
        old.unlink()
    write_table(mirror, XTREME_XNLI, "test", test)
    store = tmp_path / "store"
    result = stilts_cli("chain", "mnli", "xnli", "--data", str(mirror), "--store", str(store))
    assert_user_error(result, "label 'maybe' is not one of entailment, neutral, contradiction")
    assert_nothing_written(store)


def test_no_network_for_hub_data_says_how_to_use_a_local_mirror(tmp_path):
    result = stilts_cli(
        "chain", "mnli", "xnli", "--data", "hub", "--store", str(tmp_path),
        env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert_user_error(result, "cannot reach the Hugging Face hub", "nyu-mll/glue", "--data DIR")
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("revision", "error"),
    [
        ((), "cannot pin model 'xlm-roberta-large' at 'main' to a commit"),  # when planned
        (("--revision", XLMR_COMMIT), "cannot load model 'xlm-roberta-large'"),  # when loaded
    ],
)
def test_no_network_for_a_hub_model_says_how_to_use_a_local_copy(tmp_path, revision, error):
    result = stilts_cli(
        "chain", "mnli", "xnli", "--model", "xlm-roberta-large", *revision, "--data", "sample",
        "--store", str(tmp_path), env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path)},
    )  # fmt: skip
    assert_user_error(result, error, "--model DIR")
    assert_nothing_written(tmp_path)


def test_a_missing_mirror_directory_is_named(tmp_path):
    result = stilts_cli(
        "chain", "mnli", "--data", str(tmp_path / "nowhere"), "--store", str(tmp_path)
    )
    assert_user_error(result, "--data", "nowhere")
    (tmp_path / "empty").mkdir()
    result = stilts_cli(
        "chain", "mnli", "--data", str(tmp_path / "empty"), "--store", str(tmp_path)
    )
    assert_user_error(result, "no local copy of nyu-mll/glue", "hf download nyu-mll/glue")
    assert_nothing_written(tmp_path)


def test_unknown_option_is_a_usage_error(tmp_path):
    result = stilts_cli("chain", "mnli", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_model_directory_without_config_is_named(tmp_path):
    (tmp_path / "model").mkdir()
    result = stilts_cli(
        "chain", "mnli", "--model", str(tmp_path / "model"), "--store", str(tmp_path)
    )
    assert_user_error(result, "without config.json")
    assert_nothing_written(tmp_path)


def test_a_task_beyond_the_bundled_sample_says_how_to_run_it_on_real_data(tmp_path):
    result = stilts_cli("chain", "squad", "xquad", "--store", str(tmp_path))
    assert_user_error(result, "sample data has no squad, xquad", "--data hub", "--model")
    assert_nothing_written(tmp_path)


def test_ccg_without_a_local_ccgbank_says_where_to_put_it(tmp_path):
    result = stilts_cli("chain", "ccg", "xnli", "--data", "hub", "--store", str(tmp_path))
    assert_user_error(result, "CCGbank (LDC2005T13", "DIR/LDC2005T13/ccgbank_1_1", "--data DIR")
    assert_nothing_written(tmp_path)


def test_eval_refuses_a_model_without_the_task_head(tmp_path):
    result = stilts_cli("eval", "bundled:tiny-xlmr", "xnli", "--store", str(tmp_path))
    assert_user_error(result, "has no trained classification head", "XLMRobertaForMaskedLM")
    assert not (tmp_path / "evals").exists()


def test_a_task_without_training_data_can_only_end_a_chain(tmp_path):
    result = stilts_cli("chain", "tatoeba", "xnli", "--store", str(tmp_path))
    assert_user_error(result, "tatoeba has no training data", "stilts chain mnli tatoeba")
