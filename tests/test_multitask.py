"""Multi-task phases: one encoder, one head per task, every optimiser step on one task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from lab import FixtureLab, build_lab

from stilts import StiltsError
from stilts.experiment.plan import plan
from stilts.experiment.specs import Adapter, Sampler
from stilts.runtime.multitask.model import MultiTaskModel, load_task_model
from stilts.runtime.multitask.sampling import TaskSchedule
from stilts.runtime.multitask.stream import TASK_INDEX, TaskBlocks
from stilts.runtime.options import RunOptions
from stilts.runtime.phase_model import load_trained
from stilts.runtime.runner import Runner
from stilts.runtime.training import ModelSource, starting_encoder, train_phase
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.store.results import ChainResult
from stilts.tasks import registry
from stilts.tasks.data import DataLocator

PHASE = ("qqp", "hellaswag", "ccg", "squad")  # one task per head kind
TARGET = "pawsx"
ABOVE_CHANCE = {"qqp": 75, "hellaswag": 60, "ccg": 60, "squad": 50}  # chance: 50, 25, ~2, ~0
SETTINGS = {"learning_rate": 1e-3, "epochs": 4, "max_length": 64, "batch_size": 16}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> FixtureLab:
    root = tmp_path_factory.mktemp("multitask")
    return build_lab(root, (*PHASE, TARGET), SETTINGS, vocab_size=1500)


@pytest.fixture(scope="module")
def finished(lab: FixtureLab):
    chain = plan(lab.config("+".join(PHASE), TARGET))
    result = Runner(lab.store).run(chain).result
    phase = chain.phases[0]
    return chain, result, lab.store.phase_dir(phase.name, phase.fingerprint)


def test_a_multitask_phase_learns_every_task_far_above_chance(finished):
    _chain, result, phase_dir = finished
    record = read_json(phase_dir / PHASE_MANIFEST)
    dev = {task: record["dev"][task]["en"] for task in PHASE}
    for task in PHASE:
        metric = registry.load(task).main_metric
        assert dev[task][metric] > ABOVE_CHANCE[task], dev
    main = [dev[t][registry.load(t).main_metric] for t in PHASE]
    assert record["dev_aggregate"]["aggregate"] == "mean"
    assert record["dev_aggregate"]["value"] == pytest.approx(sum(main) / len(main))
    # Selected on the same aggregate, over the same dev rows (each fixture has under 500):
    # the study's evaluation every 1,000 steps comes once here, at the end.
    selection = record["selection"]
    assert selection["metric"] == f"{PHASE[-1]}_dev_aggregate"
    assert [point["step"] for point in selection["curve"]] == [selection["steps"]]
    assert selection["best_score"] == pytest.approx(record["dev_aggregate"]["value"])
    assert set(record["steps_per_task"]) == set(PHASE)
    assert all(steps > 0 for steps in record["steps_per_task"].values())
    # The target trains on the shared encoder and learns as well.
    assert result.dev["en"]["accuracy"] > 75
    assert tuple(result.test) == registry.load(TARGET).languages


def test_the_shared_encoder_is_saved_once_and_each_head_beside_it(finished):
    _chain, _, phase_dir = finished
    model_dir = phase_dir / "model"
    assert (model_dir / "config.json").is_file()
    assert sorted(p.name for p in (model_dir / "heads").iterdir()) == sorted(PHASE)
    encoder_bytes = (model_dir / "model.safetensors").stat().st_size
    for task in PHASE:  # heads only: far smaller than the encoder
        head = model_dir / "heads" / task / "model.safetensors"
        assert head.stat().st_size < encoder_bytes / 5
    with pytest.raises(StiltsError, match="trained no xnli head"):
        load_task_model(model_dir, registry.load("xnli"))


def test_a_weighted_dev_aggregate_rescores_a_phase_that_kept_its_last_weights(lab, finished):
    """Where a phase selects its best weights, its aggregate chose them, so another aggregate
    is another phase; where it keeps its last, the aggregate only reads dev scores, and a
    finished phase is re-scored, never retrained."""
    weights = "weighted:qqp=3,hellaswag=1,ccg=1,squad=1"
    selected = plan(lab.config("+".join(PHASE), TARGET, dev_aggregate=weights))
    assert selected.phases[0].fingerprint != finished[0].phases[0].fingerprint
    assert selected.phases[0].spec["selection"]["by"] == weights
    small = {**lab.settings, "max_train_examples": 32, "epochs": 1}
    chain = plan(lab.config("+".join(PHASE), TARGET, select="last", hyperparameters=small))
    Runner(lab.store).run(chain)
    phase_dir = lab.store.phase_dir(chain.phases[0].name, chain.phases[0].fingerprint)
    again = plan(
        lab.config(
            "+".join(PHASE), TARGET, select="last", hyperparameters=small, dev_aggregate=weights
        )
    )
    assert again.phases[0].fingerprint == chain.phases[0].fingerprint
    Runner(lab.store).run(again)
    manifest = read_json(
        lab.store.run_dir(again.config.names, again.run_fingerprint) / "manifest.json"
    )
    phase = manifest["phases"][0]
    assert phase["reused"] and manifest["phases"][1]["reused"]
    main = {t: phase["dev"][t]["en"][registry.load(t).main_metric] for t in PHASE}
    expected = (3 * main["qqp"] + main["hellaswag"] + main["ccg"] + main["squad"]) / 6
    assert phase["dev_aggregate"]["aggregate"] == weights
    assert phase["dev_aggregate"]["value"] == pytest.approx(expected)
    assert read_json(phase_dir / PHASE_MANIFEST)["dev_aggregate"]["aggregate"] == "mean"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("median", "dev_aggregate.kind: Input should be 'mean' or 'weighted' \\(got 'median'\\)"),
        ("mean:x=1", "unknown key dev_aggregate.x; allowed here: kind, weights"),
        ("weighted:", "nothing after ':'"),
        ("weighted:qqp=0,hellaswag=1", "the weight of 'qqp' must be a finite number > 0"),
        ("weighted:qqp=nan,hellaswag=1", "the weight of 'qqp' must be a finite number > 0"),
        ("weighted:qqp=1", "the dev aggregate's weights leave out hellaswag"),
        ("weighted:qqp=1,hellaswg=1", "weights name 'hellaswg'.*did you mean 'hellaswag'"),
    ],
)
def test_bad_dev_aggregates_fail_in_plan_with_one_line(lab, text, error):
    with pytest.raises(StiltsError, match=error) as raised:
        plan(lab.config("qqp+hellaswag", TARGET, dev_aggregate=text))
    assert "\n" not in str(raised.value)


def test_a_weighted_aggregate_needs_a_multitask_phase(lab):
    with pytest.raises(StiltsError, match="this chain has none"):
        plan(lab.config("qqp", TARGET, dev_aggregate="weighted:qqp=1"))


def test_a_reloaded_head_predicts_exactly_as_the_trained_model(lab, finished):
    """Save → reload: every task's model from disk equals the in-memory multi-task model."""
    _, _, phase_dir = finished
    model_dir = phase_dir / "model"
    tasks = {name: registry.load(name).bound(DataLocator(lab.data)) for name in PHASE}
    reloaded = {task: load_task_model(model_dir, tasks[task]) for task in PHASE}
    shared = MultiTaskModel(reloaded)
    assert len({id(m.base_model) for m in shared.heads.values()}) == 1
    ids = torch.tensor([[0, 100, 200, 300, 2]])
    for task in PHASE:
        fresh = load_task_model(model_dir, tasks[task])
        inputs = {"input_ids": ids.unsqueeze(1) if task == "hellaswag" else ids}
        with torch.no_grad():
            expected = fresh(**inputs)
            got = shared.eval()(task_index=torch.tensor([PHASE.index(task)]), **inputs)
        for name in ("logits", "start_logits", "end_logits"):
            if name in expected:
                assert torch.equal(expected[name], got[name]), (task, name)


def test_state_dict_names_each_shared_weight_once(lab):
    config, encoder = starting_encoder(ModelSource(str(lab.model)))
    data = DataLocator(lab.data)
    models = {}
    for name in ("qqp", "hellaswag"):
        task = registry.load(name).bound(data)
        models[name] = task.head.model_with_encoder(
            type(config).from_dict(config.to_dict()), encoder
        )
    model = MultiTaskModel(models)
    state = model.state_dict()
    pointers = [tensor.data_ptr() for tensor in state.values()]
    assert len(pointers) == len(set(pointers))
    assert any(key.startswith("encoder.") for key in state)
    assert not any(".roberta." in key for key in state)
    # Trainer restores a checkpoint non-strictly: the one name fills every alias.
    before = models["qqp"].roberta.embeddings.word_embeddings.weight.clone()
    changed = {k: v + 1 if k.endswith("word_embeddings.weight") else v for k, v in state.items()}
    model.load_state_dict(changed, strict=False)
    assert torch.equal(models["hellaswag"].roberta.embeddings.word_embeddings.weight, before + 1)


@pytest.mark.parametrize(("per_device", "processes", "accumulation"), [(4, 1, 4), (2, 2, 4)])
def test_every_micro_batch_of_an_optimiser_step_comes_from_its_task(
    per_device, processes, accumulation
):
    """The stream read as Trainer reads it: micro-batches of per-device × processes
    consecutive examples (accelerate gives each process a slice), `accumulation` per step."""
    block = per_device * processes * accumulation
    sizes = {"a": 37, "b": 11, "c": 5}
    features = {
        name: _table({"input_ids": [[i] for i in range(size)]}) for name, size in sizes.items()
    }
    schedule = TaskSchedule.draw(Sampler(kind="uniform"), sizes, 40, seed=3)
    stream = TaskBlocks(features, schedule.tasks, block, seed=3)
    examples = list(stream)
    assert len(examples) == len(schedule) * block
    micro = per_device * processes
    for step, task in enumerate(schedule.tasks):
        for m in range(accumulation):
            batch = examples[step * block + m * micro : step * block + (m + 1) * micro]
            assert {example[TASK_INDEX] for example in batch} == {stream.tasks.index(task)}


def test_the_stream_cycles_each_task_in_seeded_permutations():
    features = {"a": _table({"input_ids": [[i] for i in range(7)]})}
    stream = TaskBlocks(features, ["a"] * 7, 3, seed=5)  # 21 draws: 3 passes over 7 rows
    rows = [example["input_ids"][0] for example in stream]
    for start in (0, 7, 14):
        assert sorted(rows[start : start + 7]) == list(range(7))
    assert rows == [example["input_ids"][0] for example in TaskBlocks(features, ["a"] * 7, 3, 5)]
    assert rows != [example["input_ids"][0] for example in TaskBlocks(features, ["a"] * 7, 3, 6)]


@pytest.mark.parametrize("adapter", [None, "lora:handoff=stack"])
def test_a_killed_multitask_phase_resumes_to_the_same_weights(lab, tmp_path, adapter):
    """Stopped right after a checkpoint, rerun: the resumed phase equals an unbroken one
    (the adapter's weights included)."""
    from transformers import TrainerCallback

    class Killed(Exception):
        pass

    class KillAfterCheckpoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise Killed

    chain = plan(lab.command("qqp+hellaswag", TARGET, sampler="uniform"))
    phase = chain.phases[0]
    source = ModelSource(str(lab.model))
    hp = replace(phase.hyperparameters, epochs=1)  # about 110 steps: the kill comes at 40

    def train(phase_dir: Path, options: RunOptions) -> None:
        train_phase(
            phase.members, source, chain.data, hp, 0, phase_dir, options,
            sampler=phase.sampler,
            adapter=Adapter.parse(adapter, option="--adapter") if adapter else None,
        )  # fmt: skip

    train(tmp_path / "whole", RunOptions(checkpoint_steps=10_000))
    with pytest.raises(Killed):
        train(
            tmp_path / "resumed",
            RunOptions(checkpoint_steps=40, callbacks=(KillAfterCheckpoint(),)),
        )
    assert not (tmp_path / "resumed" / "model").exists()
    train(tmp_path / "resumed", RunOptions(checkpoint_steps=10_000))
    for task in phase.members:
        whole = load_trained(task.task, tmp_path / "whole" / "model").state_dict()
        resumed = load_trained(task.task, tmp_path / "resumed" / "model").state_dict()
        assert whole.keys() == resumed.keys()
        assert any("lora_A" in key for key in whole) == bool(adapter)
        for key, value in whole.items():
            torch.testing.assert_close(resumed[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_phase_fingerprints_name_the_sampler_and_keep_single_task_phases(lab):
    proportional = plan(lab.config("qqp+hellaswag", TARGET))
    uniform = plan(lab.command("qqp+hellaswag", TARGET, sampler="uniform"))
    assert proportional.phases[0].fingerprint != uniform.phases[0].fingerprint
    assert proportional.phases[0].spec["sampler"] == "proportional"
    assert [m.task.name for m in uniform.phases[0].members] == ["qqp", "hellaswag"]
    single = plan(lab.config("qqp", TARGET))
    assert "tasks" not in single.phases[0].spec and single.phases[0].sampler is None


@pytest.mark.parametrize(
    ("phases", "sampler", "error"),
    [
        (("qqp", "squad+pawsx"), None, "the last phase is evaluated zero-shot, so it is one task"),
        (("qqp++squad", "pawsx"), None, "no empty names, e.g. mnli\\+squad\\+hellaswag"),
        (("qqp+qqp", "pawsx"), None, "names qqp more than once"),
        (("qqp+tatoeba", "pawsx"), None, "tatoeba has no training data"),
        (("qqp+sqad", "pawsx"), None, "unknown task 'sqad'.*squad"),
        (("qqp", "pawsx"), "uniform", "this command has none; join tasks with '\\+'"),
        (("qqp+squad", "pawsx"), "probabilities:qqp=1,sqad=1", "'sqad'.*did you mean 'squad'"),
        (("qqp+squad", "pawsx"), "temprature:T=2", "\\(got 'temprature'\\)"),
    ],
)
def test_bad_phases_fail_in_plan_with_one_line(lab, phases, sampler, error):
    with pytest.raises(StiltsError, match=error) as raised:
        plan(lab.command(*phases, sampler=sampler))
    assert "\n" not in str(raised.value)


def _table(columns: dict) -> object:
    import datasets

    return datasets.Dataset.from_dict(columns)


def test_a_multitask_phase_trains_under_ddp_with_two_processes(lab, tmp_path):
    """Two gloo processes, each step's other heads unused: DDP must neither fail nor hang,
    only the main process writes, the shared encoder still learns both tasks, and the
    metrics agree with one process's run of the same chain."""
    settings = {**SETTINGS, "epochs": 2}
    phases = ("qqp+hellaswag", TARGET)
    launched = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
            str(Path(__file__).with_name("ddp_chain.py")), str(lab.data), str(lab.model),
            str(tmp_path / "store"), json.dumps(settings), *phases,
        ],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr[-3000:]
    chain = plan(lab.config(*phases, hyperparameters=settings))
    phase = chain.phases[0]
    record = read_json(
        Store(tmp_path / "store").phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST
    )
    arguments = record["training_arguments"]
    # The effective batch is split over the two processes.
    assert (
        arguments["per_device_train_batch_size"] * 2 * arguments["gradient_accumulation_steps"]
        == settings["batch_size"]
    )
    assert sum(record["steps_per_task"].values()) == arguments["max_steps"]
    for task in ("qqp", "hellaswag"):
        metric = registry.load(task).main_metric
        assert record["dev"][task]["en"][metric] > ABOVE_CHANCE[task], record["dev"]

    # One process, the same effective batch and schedule: the same steps, close metrics
    # (the two processes pad their halves of a batch separately; float sums differ).
    single = Runner(Store(tmp_path / "single")).run(chain).result
    alone = read_json(
        Store(tmp_path / "single").phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST
    )
    assert alone["steps_per_task"] == record["steps_per_task"]
    for task in ("qqp", "hellaswag"):
        metric = registry.load(task).main_metric
        ddp_dev, one_dev = record["dev"][task]["en"][metric], alone["dev"][task]["en"][metric]
        assert abs(ddp_dev - one_dev) <= 5, (task, ddp_dev, one_dev)
    ddp = ChainResult.read(Store(tmp_path / "store").run_dir(phases, chain.run_fingerprint))
    for language, scores in single.test.items():
        assert abs(ddp.test[language]["accuracy"] - scores["accuracy"]) <= 5, language
