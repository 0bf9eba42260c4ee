"""Errors a user will hit: one line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import MOCK_SUITE, XLMR_COMMIT, stilts_cli

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


# --- stilts score on a bad submission folder: one line naming the path -------------------------


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A writable copy of the official XTREME mock suite (predictions/ and labels/)."""
    return Path(shutil.copytree(MOCK_SUITE, tmp_path / "suite"))


def assert_score_error(suite: Path, path: Path, *needles: str, labels: str = "labels") -> None:
    """`stilts score` on the suite fails in one line that names `path`."""
    result = stilts_cli("score", str(suite / "predictions"), str(suite / labels))
    assert_user_error(result, f"error: {path}: ", *needles)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "┃" not in result.stdout  # no partial table before the error


def test_score_names_a_missing_folder(suite: Path):
    assert_score_error(suite, suite / "nowhere", "no such folder", labels="nowhere")
    shutil.rmtree(suite / "labels" / "xquad")
    assert_score_error(suite, suite / "labels" / "xquad", "no such folder", "predictions/xquad")


def test_score_names_a_missing_file(suite: Path):
    (suite / "predictions" / "panx" / "test-yo.tsv").unlink()
    missing = suite / "predictions" / "panx" / "test-yo.tsv"
    assert_score_error(suite, missing, "no such file", "panx is scored in 40 languages")


@pytest.mark.parametrize(
    ("name", "garbled", "needle"),
    [
        ("bucc2018/test-ru.tsv", b"ru-000001 en-000002\n", "line 1 is 'ru-000001 en-000002', not"),
        ("mlqa/test-hi.json", b'{"a": "b"', "not valid JSON (line 1"),
        ("xnli/test-th.tsv", b"\xe0\xb8\n", "not UTF-8 text"),
    ],
    ids=["bucc-line", "qa-json", "not-utf8"],
)
def test_score_names_a_garbled_file(suite: Path, name: str, garbled: bytes, needle: str):
    path = suite / "predictions" / name
    path.write_bytes(garbled)
    assert_score_error(suite, path, needle)


def test_score_names_a_file_with_another_number_of_lines_than_its_labels(suite: Path):
    path = suite / "predictions" / "xnli" / "test-fr.tsv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    labels = suite / "labels" / "xnli" / "test-fr.tsv"
    assert_score_error(suite, path, f"{len(lines) - 1} lines, but {labels} has {len(lines)}")


def test_score_names_an_unknown_task_folder(suite: Path):
    (suite / "predictions" / "xnil").mkdir()
    assert_score_error(
        suite, suite / "predictions" / "xnil", "not a task folder (did you mean 'xnli'?)"
    )
