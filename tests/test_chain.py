"""The walking skeleton end to end: real Trainer phases on the bundled tiny model and data."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
import yaml
from conftest import stilts_cli
from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed

from stilts.experiment.bundled import SAMPLE_DATA
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan, resolve_model
from stilts.experiment.recipe import load_recipe
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.runner import Runner
from stilts.runtime.training import ModelSource, model_with_fresh_head, starting_encoder
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST
from stilts.store.results import RunStart
from stilts.tasks import registry
from stilts.tasks.plugins.nli import XNLI_LANGUAGES, XTREME_XNLI

CHANCE = 100 / 3


def test_english_dev_accuracy_is_far_above_chance(mnli_xnli):
    assert mnli_xnli.result.dev["en"]["accuracy"] > 80
    mnli_dev = read_json(mnli_xnli.phase_dir(0) / PHASE_MANIFEST)["dev"]["en"]["accuracy"]
    assert mnli_dev > 80


def test_table_has_every_xnli_language(mnli_xnli):
    assert tuple(mnli_xnli.result.test) == XNLI_LANGUAGES
    assert len(XNLI_LANGUAGES) == 15
    assert mnli_xnli.result.test["en"]["accuracy"] > 80
    expected = np.mean([s["accuracy"] for s in mnli_xnli.result.test.values()])
    assert mnli_xnli.result.average == pytest.approx(expected)


@pytest.mark.parametrize("language", ["en", "zh", "sw"])
def test_each_language_is_scored_on_its_own_rows(mnli_xnli, language):
    """Recompute one language's accuracy by hand from the raw parquet, one example at a time.

    Reads the file with pyarrow rather than through the task's loader, so a loader that
    ignored the language would show here.
    """
    model_dir = mnli_xnli.phase_dir(1) / "model"
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    (path,) = (SAMPLE_DATA / XTREME_XNLI.repo).glob(XTREME_XNLI.pattern("test"))
    rows = [r for r in pq.read_table(path).to_pylist() if r["language"] == language]
    label_ids = {"entailment": 0, "neutral": 1, "contradiction": 2}
    max_length = mnli_xnli.plan.target.hyperparameters.max_length
    correct = 0
    with torch.no_grad():
        for row in rows:
            inputs = tokenizer(
                row["sentence1"], row["sentence2"], truncation=True,
                max_length=max_length, return_tensors="pt",
            )  # fmt: skip
            predicted = model(**inputs).logits.argmax(-1).item()
            correct += int(predicted == label_ids[row["gold_label"]])
    by_hand = 100 * correct / len(rows)
    assert mnli_xnli.result.test[language]["accuracy"] == pytest.approx(by_hand, abs=1e-6)


def test_target_phase_starts_from_the_intermediate_encoder_with_a_fresh_head(mnli_xnli):
    mnli_model_dir = mnli_xnli.phase_dir(0) / "model"
    xnli_record = read_json(mnli_xnli.phase_dir(1) / PHASE_MANIFEST)
    assert xnli_record["started_from"] == str(mnli_model_dir)

    xnli = registry.load("xnli")
    mnli_model = AutoModelForSequenceClassification.from_pretrained(mnli_model_dir)
    set_seed(mnli_xnli.plan.config.seed)
    handed_on = model_with_fresh_head(xnli, *starting_encoder(ModelSource(str(mnli_model_dir))))
    encoder_before = mnli_model.base_model.state_dict()
    encoder_after = handed_on.base_model.state_dict()
    assert encoder_before.keys() == encoder_after.keys()
    for name, tensor in encoder_before.items():
        assert torch.equal(tensor, encoder_after[name]), name

    trained_head = mnli_model.classifier.state_dict()
    fresh_head = handed_on.classifier.state_dict()
    assert not any(torch.equal(trained_head[k], fresh_head[k]) for k in trained_head)
    set_seed(mnli_xnli.plan.config.seed)
    again = model_with_fresh_head(xnli, *starting_encoder(ModelSource(str(mnli_model_dir))))
    for name, tensor in again.classifier.state_dict().items():
        assert torch.equal(tensor, fresh_head[name]), "fresh head init must follow the seed"


def test_intermediate_training_changed_the_encoder(mnli_xnli):
    start = read_json(mnli_xnli.phase_dir(0) / PHASE_MANIFEST)["started_from"]
    pretrained = AutoModelForSequenceClassification.from_pretrained(start).base_model
    trained = AutoModelForSequenceClassification.from_pretrained(
        mnli_xnli.phase_dir(0) / "model"
    ).base_model
    weight = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(pretrained.state_dict()[weight], trained.state_dict()[weight])


def test_results_and_manifest_are_written(mnli_xnli):
    run_dir = mnli_xnli.run_dir
    results = json.loads((run_dir / "results.json").read_text())
    assert results["chain"] == ["mnli", "xnli"]
    assert set(results["test"]) == set(XNLI_LANGUAGES)
    csv_lines = (run_dir / "results.csv").read_text().splitlines()
    assert csv_lines[0] == "split,language,metric,value"
    assert sum(line.startswith("test,") for line in csv_lines) == 16  # 15 languages + average

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 42
    assert RunStart.of(manifest) == RunStart("bundled:tiny-xlmr")  # what analyses read back
    assert [phase["tasks"] for phase in manifest["config"]["phases"]] == [["mnli"], ["xnli"]]
    assert {"torch", "transformers", "datasets", "stilts"} <= set(manifest["packages"])
    assert [p["task"] for p in manifest["phases"]] == ["mnli", "xnli"]
    assert manifest["phases"][1]["spec"]["hyperparameters"]["learning_rate"] > 0
    read = {(r["repo"], r["split"]) for r in manifest["data"]}
    assert ("google/xtreme", "test") in read
    assert all(len(r["sha256"]) == 64 and r["rows"] > 0 for r in manifest["data"])
    assert manifest["seconds"]["total"] > 0
    assert manifest["hardware"] and manifest["stilts"]
    assert manifest["results"] == results
    for phase in manifest["phases"]:
        assert phase["seconds"]["train"] > 0
        assert phase["training_arguments"]["seed"] == 42
        phase_dir = mnli_xnli.store.root / phase["dir"]
        assert sorted(p.name for p in phase_dir.iterdir()) == ["model", "phase.json"]
        weights = [p.suffix for p in (phase_dir / "model").iterdir() if p.suffix != ".json"]
        assert weights == [".safetensors"]  # no pickles (training_args.bin, *.pt) published


class Events(RunCallback):
    """Every event a runner sends, in order, as (event, what it is about)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def on_run_begin(self, chain):
        self.seen.append(("run_begin", " → ".join(chain.config.names)))

    def on_phase_begin(self, chain, phase, start):
        self.seen.append(("phase_begin", phase.name))

    def on_phase_reused(self, chain, phase, phase_dir):
        self.seen.append(("phase_reused", phase.name))

    def on_phase_end(self, chain, phase, record):
        self.seen.append(("phase_end", phase.name))

    def on_evaluate(self, chain, languages):
        self.seen.append(("evaluate", ",".join(languages)))

    def on_run_end(self, chain, result, run_dir, reused):
        self.seen.append(("run_end", "reused" if reused else run_dir.name))


def test_a_second_run_of_a_finished_chain_reads_its_results_back(mnli_xnli):
    again = plan(ChainConfig(phases=("mnli", "xnli")))
    assert [p.fingerprint for p in again.phases] == [p.fingerprint for p in mnli_xnli.plan.phases]
    assert again.run_fingerprint == mnli_xnli.plan.run_fingerprint
    manifest = mnli_xnli.run_dir / "manifest.json"
    written = manifest.stat().st_mtime_ns
    events = Events()
    outcome = Runner(mnli_xnli.store, callbacks=[events]).run(again)
    assert events.seen == [("run_begin", "mnli → xnli"), ("run_end", "reused")]
    assert manifest.stat().st_mtime_ns == written  # nothing trained, scored or rewritten
    assert outcome.reused and outcome.result == mnli_xnli.result


def test_the_runner_tells_its_callbacks_what_it_trains_reuses_and_scores(mnli_xnli):
    """A new target after the demo's MNLI phase: that phase is reused, the target trains."""
    config = ChainConfig.model_validate(
        {"phases": ["mnli", "xnli"], "hyperparameters": {"epochs": 1}}
    )
    chain = plan(config)
    events = Events()
    outcome = Runner(mnli_xnli.store, callbacks=[events]).run(chain)
    assert chain.phases[0].fingerprint != mnli_xnli.plan.phases[0].fingerprint  # epochs: 1
    assert events.seen == [
        ("run_begin", "mnli → xnli"),
        ("phase_begin", "mnli"),
        ("phase_end", "mnli"),
        ("phase_begin", "xnli"),
        ("phase_end", "xnli"),
        ("evaluate", ",".join(XNLI_LANGUAGES)),
        ("run_end", outcome.run_dir.name),
    ]
    # --force redoes each phase and each run once, however many chains need it
    german = plan(config.updated(evaluation={"languages": ["de"]}))
    forced = Events()
    manifest = outcome.run_dir / "manifest.json"

    class Unfinished(RunCallback):
        """While --force retrains, the run it reruns is not finished: were it killed now, its
        old results, from the old phases, must not be read back."""

        def on_phase_begin(self, chain, phase, start):
            assert not manifest.exists()

    runner = Runner(mnli_xnli.store, callbacks=[forced, Unfinished()], force=True)
    runner.run_all([chain, german, chain])
    assert manifest.exists()
    trained = [name for event, name in forced.seen if event == "phase_end"]
    reused = [name for event, name in forced.seen if event == "phase_reused"]
    ended = [name for event, name in forced.seen if event == "run_end"]
    assert trained == ["mnli", "xnli"] and reused == ["mnli", "xnli"]
    assert ended[2] == "reused" and ended[0] != "reused" and ended[1] != "reused"


def test_predictions_are_written_in_the_xtreme_layout_and_rescore_to_the_table(mnli_xnli):
    labels = ("entailment", "neutral", "contradiction")
    xnli = registry.load("xnli")
    data = mnli_xnli.plan.data
    for language in XNLI_LANGUAGES:
        path = mnli_xnli.run_dir / "predictions" / "xnli" / f"test-{language}.tsv"
        predicted = [labels.index(line) for line in path.read_text().splitlines()]
        gold = xnli.read("test", language, data)["label"]
        accuracy = 100 * float(np.mean(np.array(predicted) == np.array(gold)))
        assert accuracy == pytest.approx(mnli_xnli.result.test[language]["accuracy"])


def test_eval_of_a_finished_run_reproduces_its_scores(mnli_xnli):
    model, data = resolve_model(str(mnli_xnli.run_dir))
    assert (model, data) == (str(mnli_xnli.phase_dir(1) / "model"), "sample")
    assert resolve_model(str(mnli_xnli.phase_dir(1))) == (model, "sample")  # a phase: its data
    chain = plan(
        ChainConfig.model_validate({"phases": ["xnli"], "model": {"id": model}, "data": data})
    )
    outcome = Runner(mnli_xnli.store).evaluate(chain, named=str(mnli_xnli.run_dir))
    assert outcome.result.test == mnli_xnli.result.test  # same model, rows, batches: same scores
    assert outcome.run_dir.parent == mnli_xnli.store.root / "evals"
    predictions = outcome.run_dir / "predictions" / "xnli"
    assert len(list(predictions.glob("test-*.tsv"))) == len(XNLI_LANGUAGES)


def test_report_command_writes_json_csv_and_markdown(mnli_xnli, tmp_path):
    result = stilts_cli("report", str(mnli_xnli.run_dir), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert "XTREME xnli score (15 official languages)" in (tmp_path / "report.md").read_text()
    rows = (tmp_path / "report.csv").read_text().splitlines()
    assert sum(",xnli,accuracy,test," in row for row in rows) == len(XNLI_LANGUAGES)
    assert report["runs"][0]["target"] == "xnli"


def test_the_manifests_recipe_reruns_the_same_run(mnli_xnli, tmp_path):
    manifest = json.loads((mnli_xnli.run_dir / "manifest.json").read_text())
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(manifest["recipe"]))
    assert plan(load_recipe(path).to_config()).run_fingerprint == mnli_xnli.plan.run_fingerprint


def test_evaluation_scores_the_languages_and_split_asked_for(mnli_xnli):
    """The demo chain's phases, reused; only the evaluation differs (its own run)."""
    config = mnli_xnli.plan.config.updated(evaluation={"languages": ["de", "sw"], "split": "dev"})
    result = Runner(mnli_xnli.store).run(plan(config)).result
    assert tuple(result.test) == ("de", "sw") and result.split == "dev"
    # Other rows, other scores: had it scored the test sets, these would equal the demo's.
    assert result.test != {code: mnli_xnli.result.test[code] for code in ("de", "sw")}
    saved = json.loads((mnli_xnli.store.run_dir(config.names, plan(config).run_fingerprint)
                        / "results.json").read_text())  # fmt: skip
    assert saved["split"] == "dev" and list(saved["test"]) == ["de", "sw"]


def test_the_closing_lines_say_what_the_numbers_are_and_where_the_files_are(mnli_xnli):
    """The demo's rerun (read back): the table, then what its numbers are (metric, split,
    the language trained in, the average), that the bundled model's data is synthetic and
    where chance lies, and where the files are."""
    shown = stilts_cli("chain", "mnli", "xnli", "--store", str(mnli_xnli.store.root),
                       env={"COLUMNS": "200"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    for words in (
        "accuracy on each language's test set; ★ en is the language trained in",
        "every other is zero-shot; the average is the mean over all 15, ★ included",
        "bundled tiny model, synthetic sample data (chance: 33.3)",
        f"predictions/ (official submission files) in {mnli_xnli.run_dir}",
    ):
        assert words in said, words
