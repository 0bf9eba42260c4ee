"""Precision, length grouping and the other GPU settings: what each resolves to on each kind
of machine, what it does to fingerprints, and that it reaches Trainer as its own arguments."""

from __future__ import annotations

import pytest
import yaml
from conftest import XLMR_COMMIT, FinishedChain, own_copy, stilts_cli

from stilts.errors import StiltsError
from stilts.experiment import precision
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.experiment.precision import CPU, Accelerator, resolve
from stilts.runtime.arguments import training_arguments
from stilts.runtime.bundled_model import materialize
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Runner
from stilts.runtime.training import ModelSource, train_phase
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST
from stilts.tasks.task import Hyperparameters

STUDY = {"model": {"id": "FacebookAI/xlm-roberta-large", "revision": XLMR_COMMIT}, "data": "hub"}
"""The study's model and data (planned offline: the model's commit is given)."""
H100 = Accelerator("cuda", "NVIDIA H100 80GB HBM3", bf16=True, tf32=True)
V100 = Accelerator("cuda", "Tesla V100-SXM2-32GB", bf16=False, tf32=False)


@pytest.mark.parametrize(
    ("requested", "machine", "resolved"),
    [
        ("auto", CPU, "fp32"), ("fp32", CPU, "fp32"), ("bf16", CPU, "bf16"),
        ("auto", H100, "bf16"), ("fp32", H100, "tf32"), ("bf16", H100, "bf16"),
        ("fp16", H100, "fp16"),
        ("auto", V100, "fp16"), ("fp32", V100, "fp32"), ("fp16", V100, "fp16"),
    ],
)  # fmt: skip
def test_precision_resolves_per_device_kind(requested, machine, resolved):
    assert resolve(requested, machine) == resolved


@pytest.mark.parametrize(
    ("requested", "machine", "message"),
    [
        ("fp16", CPU, "fp16 needs a CUDA GPU"),
        ("bf16", V100, "V100-SXM2-32GB does not support bf16"),
    ],
)
def test_a_precision_the_machine_lacks_is_refused(requested, machine, message):
    with pytest.raises(StiltsError, match=message):
        resolve(requested, machine)


@pytest.mark.parametrize(
    ("driver", "visible", "asks_torch"),
    [(False, None, False), (True, "", False), (True, "-1", False), (True, None, True),
     (True, "0,1", True)],
)  # fmt: skip
def test_torch_is_asked_only_where_a_gpu_driver_is_visible(
    monkeypatch, tmp_path, driver, visible, asks_torch
):
    """Without a visible GPU driver (or with CUDA_VISIBLE_DEVICES hiding every GPU) the
    machine is the CPU and torch is not imported; with one, torch decides."""
    marker = tmp_path / "nvidia-version"
    if driver:
        marker.write_text("NVRM version")
    monkeypatch.setattr(precision, "GPU_DRIVER_FILES", (str(marker),))
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert precision._gpu_driver_visible() is asks_torch
    precision.this_machine.cache_clear()
    try:
        assert precision.this_machine() == CPU  # this machine's torch sees no GPU either way
    finally:
        precision.this_machine.cache_clear()


def fingerprints(accelerator: Accelerator, **settings) -> list[str]:
    chain = plan(ChainConfig(phases=("mnli", "xnli"), **settings), accelerator)
    return [phase.fingerprint for phase in chain.phases]


def test_fingerprints_differ_by_resolved_precision():
    on_cpu, on_h100, on_v100 = (fingerprints(machine) for machine in (CPU, H100, V100))
    assert len({*on_cpu, *on_h100, *on_v100}) == 6  # fp32, bf16, fp16: six different phases
    # fp32 phases keep the fingerprints they had before precision was chosen
    assert "precision" not in plan(ChainConfig(phases=("mnli", "xnli")), CPU).phases[0].spec
    # one precision, however it was asked for, is one phase
    assert fingerprints(H100, precision="bf16") == on_h100 == fingerprints(CPU, precision="bf16")
    assert fingerprints(H100, precision="fp32") != on_cpu  # TF32 matmuls round differently


def test_the_run_is_scored_in_its_precision():
    """A chain that only evaluates (its target trains nothing) is scored in the precision too."""
    config = ChainConfig(phases=("tatoeba",), **STUDY)
    assert len({plan(config, machine).run_fingerprint for machine in (CPU, H100)}) == 2


def test_group_by_length_is_fingerprinted_for_single_task_phases_only():
    plain = plan(ChainConfig(phases=("mnli+qqp", "xnli"), select="last", **STUDY), CPU)
    grouped = plan(
        ChainConfig(phases=("mnli+qqp", "xnli"), select="last", group_by_length=True, **STUDY),
        CPU,
    )
    assert plain.phases[0].fingerprint == grouped.phases[0].fingerprint  # its own task stream
    assert plain.phases[1].fingerprint != grouped.phases[1].fingerprint
    assert [phase.group_by_length for phase in grouped.phases] == [False, True]


def test_group_by_length_with_model_selection_is_refused():
    """Trainer's length-grouped sampler would also shuffle the dev rows selection scores."""
    with pytest.raises(StiltsError, match=r"group_by_length and select best.*--select last"):
        plan(ChainConfig(phases=("xnli",), group_by_length=True), CPU)


@pytest.mark.parametrize(
    ("precision", "flag"), [("bf16", "bf16"), ("fp32", None)], ids=["bf16", "fp32"]
)
def test_precision_reaches_trainer_for_training_and_prediction(tmp_path, precision, flag):
    hp = Hyperparameters()
    for train in (True, False):
        args = training_arguments(tmp_path, hp, 0, RunOptions(), precision=precision, train=train)
        assert (args.bf16, args.fp16) == (flag == "bf16", False)


def test_length_grouping_and_checkpointing_are_for_training_only(tmp_path):
    options = RunOptions(compile=True, gradient_checkpointing=True)
    hp = Hyperparameters()
    train = training_arguments(tmp_path, hp, 0, options, group_by_length=True)
    predict = training_arguments(tmp_path, hp, 0, options, group_by_length=True, train=False)
    assert train.train_sampling_strategy == "group_by_length" and train.activation_checkpointing
    # prediction reads rows in order, and has no backward pass to save memory in
    assert predict.train_sampling_strategy == "random" and not predict.activation_checkpointing
    assert train.torch_compile and predict.torch_compile


def test_a_bf16_phase_trains_and_records_what_it_ran(mnli_xnli: FinishedChain, tmp_path):
    """bf16 autocast runs on a CPU too: the phase trains through Trainer's own arguments, and
    its record says the precision and the attention it ran."""
    settings = {"max_train_examples": 64, "max_eval_examples": 16}
    config = ChainConfig(phases=("xnli",), precision="bf16", hyperparameters=settings)
    chain = plan(config, CPU)
    store = own_copy(mnli_xnli.store, tmp_path)  # the shared demo store keeps only the demo
    Runner(store, RunOptions(gradient_checkpointing=True)).run(chain)
    phase = chain.phases[0]
    record = read_json(store.phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST)
    assert record["precision"] == "bf16" == record["spec"]["precision"]
    assert record["training_arguments"]["bf16"] is True
    assert record["training_arguments"]["activation_checkpointing"] is True
    assert record["attention"] == "sdpa"  # transformers' choice for XLM-R without flash-attn
    assert record["train_loss"] > 0


def test_the_command_line_writes_precision_and_grouping_into_the_recipe():
    printed = stilts_cli(
        "chain", "mnli", "xnli", "--precision", "bf16", "--group-by-length", "--select", "last",
        "--compile", "--gradient-checkpointing", "--print-recipe",
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    recipe = yaml.safe_load(printed.stdout)
    assert (recipe["precision"], recipe["group_by_length"]) == ("bf16", True)
    # how a phase runs is not what it computes: no recipe key
    assert not {"compile", "gradient_checkpointing"} & set(recipe)


def test_gradient_checkpointing_trains_as_without_it(mnli_xnli: FinishedChain, tmp_path):
    """Recomputing activations changes memory, not the phase: its dropout masks are replayed,
    so the loss of every step is the one kept activations give (why it is not fingerprinted)."""
    settings = {"max_train_examples": 64}
    chain = plan(ChainConfig(phases=("xnli",), select="last", hyperparameters=settings), CPU)
    phase = chain.phases[0]
    source = ModelSource(str(materialize(mnli_xnli.store)))
    losses = [
        train_phase(
            [member.bound(chain.data) for member in phase.members], source, chain.data,
            phase.hyperparameters, chain.config.seed, tmp_path / str(checkpointing),
            RunOptions(gradient_checkpointing=checkpointing),
        ).train_loss
        for checkpointing in (False, True)
    ]  # fmt: skip
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
