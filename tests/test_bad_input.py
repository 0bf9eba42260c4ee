"""The catalogue of bad input: every kind a user has been seen to give, each one `error:` line
naming the thing (exit 2), no traceback, and the store exactly as it was.

Each case is a command line, with what it needs set up first in its own directory (a recipe,
a damaged copy of the bundled sample, a model directory…), and words its one line must hold.
The command runs in this process (`stilts.cli.main`, as the `stilts` script runs it), so the
catalogue costs planning and data loading, not a Python start per case; none of these cases
trains. Errors found only once training has begun are the store-damage tests' and the slow
tier's.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import MOCK_SUITE, XLMR_COMMIT

from stilts.cli import main
from stilts.experiment.bundled import SAMPLE_DATA
from stilts.testing import build_tiny_model

MNLI_TRAIN = "mirror/nyu-mll/glue/mnli/train-00000-of-00001.parquet"
XNLI_TEST = "mirror/google/xtreme/XNLI/test-00000-of-00001.parquet"
HUB_MODEL = ["--model", "FacebookAI/xlm-roberta-large", "--revision", XLMR_COMMIT, "--data", "hub"]
"""A real model and hub data, pinned: planning needs neither the hub nor a download."""

Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    argv: list[str]
    """The command line; ``{dir}`` is the case's own directory."""
    says: str
    setup: tuple[Setup, ...] = field(default_factory=tuple)
    store: bool = True
    """Whether the command takes --store (added as {dir}/store)."""


# -- what cases set up -------------------------------------------------------------------------


def mirror(root: Path) -> None:
    shutil.copytree(SAMPLE_DATA, root / "mirror")


def write(name: str, text: str | bytes) -> Setup:
    def setup(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return setup


def recipe(text: str) -> Setup:
    return write("r.yaml", "stilts: 1\n" + text)


def damaged(name: str, damage: Callable[[Path], None]) -> Setup:
    return lambda root: damage(root / name)


def cut_in_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def csv_renamed(path: Path) -> None:
    table = pq.read_table(path).slice(0, 20)
    lines = [",".join(table.column_names)]
    lines += [",".join(str(v) for v in row.values()) for row in table.to_pylist()]
    path.write_text("\n".join(lines))


def set_cell(column: str, row: int, value: object) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        table = pq.read_table(path)
        cells = table[column].to_pylist()
        cells[row] = value
        index = table.schema.get_field_index(column)
        kind = table.schema.field(column)
        pq.write_table(table.set_column(index, kind, pa.array(cells, kind.type)), path)

    return damage


def drop_column(column: str) -> Callable[[Path], None]:
    return lambda path: pq.write_table(pq.read_table(path).drop_columns([column]), path)


def tiny_model(root: Path) -> None:
    """A model directory as save_pretrained writes it (the tiny model, no training)."""
    build_tiny_model(root / "model", ["a few words of text"] * 20, vocab_size=200, seed=0)


def first_bytes(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def mock_suite(root: Path) -> None:
    shutil.copytree(MOCK_SUITE, root / "suite")


CHAIN = ["chain", "mnli", "xnli"]
ON_MIRROR = [*CHAIN, "--data", "{dir}/mirror"]
CUSTOM_CODE = {"model_type": "xlm-roberta", "auto_map": {"AutoModel": "modeling_x.XModel"}}

CASES: dict[str, Case] = {
    # -- the command line itself
    "no tasks": Case(["chain"], "Missing argument 'tasks'"),
    "unknown command": Case(["chian", "mnli"], "No such command 'chian'. Did you mean 'chain'?",
                            store=False),
    "unknown option": Case([*CHAIN, "--bogus"], "No such option: --bogus"),
    "text for a number": Case([*CHAIN, "--epochs", "two"], "Invalid value for '--epochs'"),
    "no seeds": Case(["grid", "--intermediate", "mnli", "--target", "xnli", "--seeds", "0"],
                     "Invalid value for '--seeds'"),
    "per-device batch 0": Case([*CHAIN, "--per-device-batch-size", "0"],
                               "Invalid value for '--per-device-batch-size'"),
    "split train": Case([*CHAIN, "--split", "train"], "evaluation.split: Input should be 'test'"),
    "unknown precision": Case([*CHAIN, "--precision", "fp64"],
                              "precision: Input should be 'auto', 'fp32', 'bf16' or 'fp16'"),
    "fp16 without a GPU": Case([*CHAIN, "--precision", "fp16"], "fp16 needs a CUDA GPU"),
    "grouped and selecting": Case([*CHAIN, "--group-by-length"],
                                  "group_by_length and select best"),
    "launcher of the wrong kind": Case(["grid", "--intermediate", "mnli", "--target", "xnli",
                                        "--launcher", "local:partition=gpu"],
                                       "partition is for a SLURM launcher"),
    "workers without a launcher": Case(["grid", "--intermediate", "mnli", "--target", "xnli",
                                        "--workers", "2"], "--workers is for a launcher"),
    "unknown tracker": Case([*CHAIN, "--report-to", "tensorbord"],
                            "did you mean 'tensorboard'"),
    "grid without target": Case(["grid", "--intermediate", "mnli"], "Missing option '--target'"),
    "grid without rows": Case(["grid", "--intermediate", "", "--target", "xnli"],
                              "--intermediate names no task"),
    "grid without columns": Case(["grid", "--intermediate", "mnli", "--target", ","],
                                 "--target names no task"),
    # -- tasks and phases
    "unknown task": Case(["chain", "mnli", "xnlii"], "xnlii"),
    "task named twice": Case(["chain", "mnli+mnli", "xnli"], "the phase names mnli more than once"),
    "multi-task last": Case(["chain", "mnli", "mnli+qqp"], "the last phase is evaluated zero-shot"),
    "encoder task first": Case(["chain", "tatoeba", "xnli", *HUB_MODEL],
                               "tatoeba has no training data, so it can only end a chain"),
    "unknown language": Case([*CHAIN, "--languages", "xx"], "evaluation language 'xx'"),
    "dev of an encoder task": Case(["chain", "mnli", "tatoeba", "--split", "dev", *HUB_MODEL],
                                   "tatoeba scores the encoder on its test data only"),
    "task outside the sample": Case(["chain", "qqp", "xnli"],
                                    "the bundled sample data has no qqp"),
    "sampler without multi-task": Case([*CHAIN, "--sampler", "uniform"],
                                       "--sampler chooses the task of each step"),
    "temperature without T": Case(["chain", "mnli+qqp", "xnli", "--sampler", "temperature",
                                   *HUB_MODEL], "temperature sampling needs T"),
    "probabilities of another task": Case(
        ["chain", "mnli+qqp", "xnli", "--sampler", "probabilities:mnli=1,squad=1", *HUB_MODEL],
        "'squad'"),
    "unknown adapter": Case([*CHAIN, "--adapter", "lorax"], "--adapter 'lorax'"),
    "adapter rank 0": Case([*CHAIN, "--adapter", "mnli=lora:r=0"], "r: Input should be greater"),
    "adapter option of another kind": Case([*CHAIN, "--adapter", "ia3:r=4"],
                                           "ia3 adapters take no option 'r'"),
    "adapter without intermediate": Case(["chain", "xnli", "--adapter", "lora"],
                                         "--adapter lora is for intermediate phases"),
    "adapter for a missing phase": Case([*CHAIN, "--adapter", "qqp=lora"],
                                        "--adapter names phase 'qqp'"),
    "unknown dev aggregate": Case([*CHAIN, "--dev-aggregate", "median"], "median"),
    "weights without multi-task": Case([*CHAIN, "--dev-aggregate", "weighted:mnli=1"],
                                       "dev_aggregate weighs the tasks of a multi-task phase"),
    "unknown selection": Case([*CHAIN, "--select", "lats"], "did you mean 'last'"),
    "last with options": Case([*CHAIN, "--select", "last:every=5"],
                              "last keeps the final weights and evaluates nothing"),
    "unknown translation": Case([*CHAIN, "--translate", "mnli=xx", *HUB_MODEL],
                                "mnli has no translated data in xx"),
    "translation of an untrained task": Case([*CHAIN, "--translate", "qqp=de"],
                                             "--translate names qqp"),
    "unknown group": Case([*CHAIN, "--groups", "mnli=fictionx", *HUB_MODEL], "fictionx"),
    "groups of a task without": Case([*CHAIN, "--groups", "xnli=a"],
                                     "xnli names no groups of its training rows"),
    "groups and translations": Case(
        [*CHAIN, "--groups", "mnli=fiction", "--translate", "mnli=de", *HUB_MODEL],
        "mnli: train on translations or on groups of its rows, not both"),
    # -- hyperparameters and seeds
    "negative rate": Case([*CHAIN, "--lr", "-1"], "learning_rate: Input should be greater than 0"),
    "NaN rate": Case([*CHAIN, "--lr", "nan"], "learning_rate: Input should be a finite number"),
    "zero rate": Case([*CHAIN, "--lr", "0"], "learning_rate: Input should be greater than 0"),
    "zero epochs": Case([*CHAIN, "--epochs", "0"], "epochs: Input should be greater than 0"),
    "negative epochs": Case([*CHAIN, "--epochs", "-2"], "epochs: Input should be greater than 0"),
    "negative batch": Case([*CHAIN, "--batch-size", "-4"], "batch_size: Input should be greater"),
    "zero max length": Case([*CHAIN, "--max-length", "0"], "max_length: Input should be greater"),
    "max length beyond positions": Case([*CHAIN, "--max-length", "100000"],
                                        "max_length 100000 of mnli is beyond the 512 positions"),
    "no training rows": Case([*CHAIN, "--max-train-examples", "0"],
                             "max_train_examples: Input should be greater"),
    "negative training rows": Case([*CHAIN, "--max-train-examples", "-5"],
                                   "max_train_examples: Input should be greater"),
    "no evaluation rows": Case([*CHAIN, "--max-eval-examples", "0"],
                               "max_eval_examples: Input should be greater"),
    "negative seed": Case([*CHAIN, "--seed", "-1"], "seed: Input should be greater than or equal"),
    "huge seed": Case([*CHAIN, "--seed", str(2**40)], "seed: Input should be less than or equal"),
    "negative layer": Case(["chain", "mnli", "tatoeba", "--layer", "-1", *HUB_MODEL],
                           "embedding_layer: Input should be greater than or equal to 0"),
    # -- data and models
    "no such data": Case([*CHAIN, "--data", "{dir}/nowhere"],
                         "is neither 'sample', 'hub' nor an existing directory"),
    "data is a file": Case([*CHAIN, "--data", "{dir}/r.yaml"], "is neither 'sample', 'hub'",
                           (write("r.yaml", "x"),)),
    "mirror without the task": Case([*CHAIN, "--data", "{dir}/empty", *HUB_MODEL[:4]],
                                    "no local copy of nyu-mll/glue", (write("empty/x", "x"),)),
    "model without config": Case([*CHAIN, "--model", "{dir}/model"],
                                 "is a directory without config.json", (write("model/x", "x"),)),
    "model with custom code": Case([*CHAIN, "--model", "{dir}/model"],
                                   "names custom code (AutoModel in auto_map)",
                                   (write("model/config.json", json.dumps(CUSTOM_CODE)),)),
    "model config not JSON": Case([*CHAIN, "--model", "{dir}/model"], "is not a JSON config",
                                  (write("model/config.json", "{not json"),)),
    "model weights cut off": Case([*CHAIN, "--model", "{dir}/model", "--data", "sample"],
                                  "model.safetensors is damaged (1000 bytes, too short",
                                  (tiny_model, damaged("model/model.safetensors", first_bytes))),
    "hub model by a branch offline": Case(
        [*CHAIN, "--model", "FacebookAI/xlm-roberta-large", "--data", "hub"],
        "cannot pin model 'FacebookAI/xlm-roberta-large' at 'main' to a commit"),
    "truncated parquet": Case(ON_MIRROR, "is not a readable parquet file",
                              (mirror, damaged(MNLI_TRAIN, cut_in_half))),
    "zero-byte parquet": Case(ON_MIRROR, "is not a readable parquet file",
                              (mirror, write(MNLI_TRAIN, b""))),
    "garbage parquet": Case(ON_MIRROR, "is not a readable parquet file",
                            (mirror, write(XNLI_TEST, b"\x00\x13 not parquet \xff" * 40))),
    "csv as parquet": Case(ON_MIRROR, "is not a readable parquet file",
                           (mirror, damaged(XNLI_TEST, csv_renamed))),
    "table of no rows": Case(ON_MIRROR, "holds no rows", (mirror, damaged(
        MNLI_TRAIN, lambda path: pq.write_table(pq.read_table(path).slice(0, 0), path)))),
    "null text cell": Case(ON_MIRROR, "column 'premise' is empty (null) in row 5",
                           (mirror, damaged(MNLI_TRAIN, set_cell("premise", 5, None)))),
    "label name outside the set": Case(
        ON_MIRROR, "label 'maybe' is not one of entailment, neutral, contradiction (row 3)",
        (mirror, damaged(XNLI_TEST, set_cell("gold_label", 3, "maybe")))),
    "label id outside the classes": Case(
        ON_MIRROR, "mnli train rows: label 7 in row 7 is outside the 3 classes",
        (mirror, damaged(MNLI_TRAIN, set_cell("label", 7, 7)))),
    "missing column": Case(ON_MIRROR, "has no column 'hypothesis'",
                           (mirror, damaged(MNLI_TRAIN, drop_column("hypothesis")))),
    "split missing from the mirror": Case(
        ON_MIRROR, "has no files matching", (mirror, lambda root: (root / XNLI_TEST).unlink())),
    # -- recipes
    "no such recipe": Case(["run", "{dir}/none.yaml"], "cannot read recipe"),
    "recipe not UTF-8": Case(["run", "{dir}/r.yaml"], "is not UTF-8 text",
                             (write("r.yaml", b"stilts: 1\n# \xff\xfe\n"),)),
    "recipe not YAML": Case(["run", "{dir}/r.yaml"], "r.yaml (line 3): expected ',' or ']'",
                            (write("r.yaml", "stilts: 1\nphases: [mnli\n"),)),
    "recipe a list": Case(["run", "{dir}/r.yaml"], "expected a mapping of keys",
                          (write("r.yaml", "- mnli\n"),)),
    "recipe without format": Case(["run", "{dir}/r.yaml"], "stilts is missing",
                                  (write("r.yaml", "phases: [mnli, xnli]\n"),)),
    "recipe of a later format": Case(["run", "{dir}/r.yaml"], "stilts: Input should be 1",
                                     (write("r.yaml", "stilts: 2\nphases: [mnli, xnli]\n"),)),
    "misspelt key": Case(["run", "{dir}/r.yaml"], "unknown key phasess (did you mean 'phases'",
                         (recipe("phasess: [mnli, xnli]\n"),)),
    "no phases": Case(["run", "{dir}/r.yaml"], "phases: List should have at least 1 item",
                      (recipe("phases: []\n"),)),
    "misspelt phase key": Case(["run", "{dir}/r.yaml"],
                               "unknown key phases[0].adaptr (did you mean 'adapter'",
                               (recipe("phases: [{tasks: [mnli], adaptr: lora}, xnli]\n"),)),
    "split train in a recipe": Case(["run", "{dir}/r.yaml"], "evaluation.split: Input should be",
                                    (recipe("phases: [mnli, xnli]\n"
                                            "evaluation: {split: train}\n"),)),
    "sampler T as text": Case(["run", "{dir}/r.yaml"], "phases[0].sampler.T",
                              (recipe("phases: [{tasks: [mnli, qqp], sampler: "
                                      "{kind: temperature, T: hot}}, xnli]\n"),)),
    "seed and seeds": Case(["run", "{dir}/r.yaml"], "give seed (one) or seeds (a list), not both",
                           (recipe("phases: [mnli, xnli]\nseed: 1\nseeds: [1, 2]\n"),)),
    "seeds with a negative": Case(["run", "{dir}/r.yaml"], "seeds[1]: Input should be greater",
                                  (recipe("phases: [mnli, xnli]\nseeds: [1, -1]\n"),)),
    "rate as text": Case(["run", "{dir}/r.yaml"], "learning_rate: expected a number, not 'fast'",
                         (recipe("phases: [mnli, xnli]\n"
                                 "hyperparameters: {learning_rate: fast}\n"),)),
    "epochs as a boolean": Case(["run", "{dir}/r.yaml"], "epochs: expected a number, not True",
                                (recipe("phases: [mnli, xnli]\n"
                                        "hyperparameters: {epochs: yes}\n"),)),
    "warm-up of more than all": Case(["run", "{dir}/r.yaml"], "warmup_ratio: Input should be less",
                                     (recipe("phases: [mnli, xnli]\n"
                                             "hyperparameters: {warmup_ratio: 1.5}\n"),)),
    "misspelt hyperparameter": Case(["run", "{dir}/r.yaml"],
                                    "lerning_rate (did you mean 'learning_rate'",
                                    (recipe("phases: [mnli, xnli]\n"
                                            "hyperparameters: {lerning_rate: 1}\n"),)),
    "a phase's batch 0": Case(["run", "{dir}/r.yaml"], "phases[0].hyperparameters.batch_size",
                              (recipe("phases: [{tasks: [mnli], hyperparameters: "
                                      "{batch_size: 0}}, xnli]\n"),)),
    "plugin not installed": Case(["run", "{dir}/r.yaml"], "plugin stilts-nope is not installed",
                                 (recipe("phases: [mnli, xnli]\n"
                                         "requires: {stilts-nope: '>=1'}\n"),)),
    "requirement not a version": Case(["run", "{dir}/r.yaml"], "is not a version specifier",
                                      (recipe("phases: [mnli, xnli]\n"
                                              "requires: {stilts: 'soon'}\n"),)),
    "set not YAML": Case(["run", "{dir}/r.yaml", "--set", "seed=[1,"], "the value is not YAML",
                         (recipe("phases: [mnli, xnli]\n"),)),
    "set without a value": Case(["run", "{dir}/r.yaml", "--set", "seed"], "write PATH=VALUE",
                                (recipe("phases: [mnli, xnli]\n"),)),
    "set outside the recipe": Case(["run", "{dir}/r.yaml", "--set", "phases.5.tasks=[qqp]"],
                                   "is not in the recipe", (recipe("phases: [mnli, xnli]\n"),)),
    "declared task without a kind": Case(["run", "{dir}/r.yaml"], "tasks.a b.kind is missing",
                                      (recipe("phases: [mnli, xnli]\ntasks: {'a b': {}}\n"),)),
    # -- evaluating, reporting, analysing and scoring
    "eval of nothing": Case(["eval", "{dir}/nowhere", "xnli"], "nowhere"),
    "eval of an unknown task": Case(["eval", "bundled:tiny-xlmr", "xnlii"], "xnlii"),
    "report of nothing": Case(["report", "{dir}/nowhere"], "nowhere", store=False),
    "analysis of nothing": Case(["analyze", "resource", "{dir}/nowhere"], "nowhere", store=False),
    "analysis of a folder without runs": Case(
        ["analyze", "families", "{dir}/empty"], "is not a run, a grid or a store directory",
        (write("empty/x.txt", "x"),), store=False),
    "eval of a damaged run": Case(["eval", "{dir}/run", "xnli"], "manifest.json is damaged",
                                  (write("run/manifest.json", "{garbage"),)),
    "eval of a run manifest that is a list": Case(
        ["eval", "{dir}/run", "xnli"], "is damaged: a JSON list, not an object",
        (write("run/manifest.json", "[1, 2]"),)),
    "eval of a damaged phase": Case(["eval", "{dir}/phase", "xnli"], "phase.json is damaged",
                                    (write("phase/phase.json", "\x00\x01"),)),
    "store is a file": Case([*CHAIN, "--store", "{dir}/afile"], "afile",
                            (write("afile", "not a store"),), store=False),
    "score of nothing": Case(["score", "{dir}/nowhere", "{dir}/labels"], "nowhere", store=False),
    "score of a garbled line": Case(
        ["score", "{dir}/suite/predictions", "{dir}/suite/labels"], "test-de.tsv",
        (mock_suite, write("suite/predictions/xnli/test-de.tsv", "entailment\n\x00\n")),
        store=False),
}  # fmt: skip


@dataclass(frozen=True)
class Ended:
    code: int
    stdout: str
    stderr: str


def run_stilts(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> Ended:
    """`stilts ARGV` as the script runs it (`stilts.cli.main`), in this process."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "argv", ["stilts", *argv])
    monkeypatch.setenv("COLUMNS", "400")  # one error line stays one line
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as ended,
    ):
        main()
    code = ended.value.code
    return Ended(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_error_line_and_leaves_the_store_as_it_was(name, tmp_path, monkeypatch):
    case = CASES[name]
    for setup in case.setup:
        setup(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    (store / "kept.txt").write_text("a store in use")
    before = listing(store)
    argv = [part.format(dir=tmp_path) for part in case.argv]
    if case.store:
        argv += ["--store", str(store)]
    ended = run_stilts(argv, monkeypatch)
    assert ended.code == 2, (ended.code, ended.stderr)
    assert "Traceback" not in ended.stderr + ended.stdout
    lines = ended.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), ended.stderr
    assert case.says in lines[0], lines[0]
    assert listing(store) == before


def test_the_catalogue_covers_every_class_of_bad_input():
    assert len(CASES) >= 80
