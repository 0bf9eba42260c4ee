"""Errors a user will hit: one line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import MOCK_SUITE, XLMR_COMMIT, stilts_cli

from stilts import StiltsError
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


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_stilts_did_not_foresee_is_one_line_calling_itself_a_bug(monkeypatch, debug):
    """The last guard: whatever escapes a command is reported as a bug in one line (exit 1),
    with its traceback only under --debug, never as a traceback the user must read."""
    from typer.testing import CliRunner

    from stilts.cli import app, running

    def broken(*args: object) -> None:
        raise RuntimeError("the loader fell over\nsecond line")

    monkeypatch.setattr(running, "chain_recipe", broken)
    monkeypatch.setenv("STILTS_DEBUG", "0")  # restored after the test, which --debug sets
    options = ["--debug"] if debug else []
    result = CliRunner().invoke(app, [*options, "chain", "mnli", "xnli"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: RuntimeError: the loader fell over")
    if debug:
        assert "Traceback" in result.stderr
    else:
        assert len(lines) == 1 and "this is a bug in stilts" in lines[0]
        assert "stilts --debug" in lines[0]


def test_a_recipe_that_is_not_utf8_is_one_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(b"stilts: 1\nphases: [mnli, xnli]\n# \xff\xfe\n")
    assert_user_error(stilts_cli("run", str(recipe)), "is not UTF-8 text (byte 33)")


def test_a_set_value_that_is_not_yaml_is_one_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("stilts: 1\nphases: [mnli, xnli]\n")
    done = stilts_cli("run", str(recipe), "--set", "seed=[1,", "--store", str(tmp_path / "s"))
    assert_user_error(done, "--set 'seed=[1,': the value is not YAML")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(("option", "value"), [("--intermediate", ""), ("--target", ",")])
def test_a_grid_without_rows_or_columns_is_refused(tmp_path, option, value):
    given = {"--intermediate": "mnli", "--target": "xnli", option: value}
    options = [part for pair in given.items() for part in pair]
    done = stilts_cli("grid", *options, "--store", str(tmp_path))
    assert_user_error(done, f"{option} names no task")
    assert not list(tmp_path.iterdir())


def test_a_model_naming_custom_code_needs_trust_remote_code(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    config = {"model_type": "xlm-roberta", "auto_map": {"AutoModel": "modeling_x.XModel"}}
    (model / "config.json").write_text(json.dumps(config))
    store = tmp_path / "store"
    done = stilts_cli("chain", "mnli", "xnli", "--model", str(model), "--store", str(store))
    assert_user_error(done, "names custom code (AutoModel in auto_map)", "--trust-remote-code")
    assert not store.exists()


def test_an_unreadable_data_directory_is_one_line(tmp_path, monkeypatch):
    """Tests run as root here, which reads any directory: the permission is denied through
    `os.access`, which is what planning asks."""
    import os

    from stilts.experiment.config import ChainConfig
    from stilts.experiment.plan import plan

    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(StiltsError, match="cannot be read \\(permission denied\\)"):
        plan(ChainConfig(phases=["mnli", "xnli"], data=str(tmp_path)))


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["chain"], "Missing argument 'tasks'. (see `"),
        (["chian", "mnli"], "No such command 'chian'. Did you mean 'chain'?"),
        (["chain", "mnli", "xnli", "--bogus"], "No such option: --bogus"),
        (["grid", "--intermediate", "mnli", "--target", "xnli", "--seeds", "0"],
         "Invalid value for '--seeds'"),
        (["chain", "mnli", "xnli", "--epochs", "two"], "Invalid value for '--epochs'"),
    ],
)  # fmt: skip
def test_a_wrong_option_or_argument_is_one_error_line(arguments, says):
    done = stilts_cli(*arguments)
    assert_user_error(done, says)
    assert len(done.stderr.strip().splitlines()) == 1
