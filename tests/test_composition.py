"""The intermediate-phase variants composed in one chain: multi-task + MLM + translated data
through a LoRA adapter, handed on to the target as a frozen stack; and a merged adapter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from lab import FixtureLab, build_lab
from safetensors.torch import load_file

from stilts import StiltsError
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import ChainPlan, plan
from stilts.runtime.adapters import ADAPTERS_DIR, STACK_FILE
from stilts.runtime.options import RunOptions
from stilts.runtime.predict import evaluate_languages
from stilts.runtime.runner import Runner
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.store.results import ChainResult
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.plugins.mlm import MULTI
from stilts.tasks.plugins.nli import GLUE_MNLI
from stilts.testing import write_table

SETTINGS = {"learning_rate": 3e-3, "epochs": 3, "max_length": 64, "batch_size": 16}
TRANSLATED = "de"


@dataclass(frozen=True)
class Finished:
    chain: ChainPlan
    result: ChainResult
    store: Store
    mlm_before: float
    """The start model's masked-token accuracy on mlm's dev set."""

    def model_dir(self, index: int) -> Path:
        phase = self.chain.phases[index]
        return self.store.phase_dir(phase.name, phase.fingerprint) / "model"

    def record(self, index: int) -> dict:
        return read_json(self.model_dir(index).parent / PHASE_MANIFEST)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> FixtureLab:
    lab = build_lab(
        tmp_path_factory.mktemp("composition"), ("mnli", "mlm", "xnli"), SETTINGS, vocab_size=1200
    )
    # A user's German copy of MNLI in MNLI's own schema: the English rows, marked.
    english = DataLocator(lab.data).load(GLUE_MNLI, "train")
    german = english.map(
        lambda row: {k: f"{TRANSLATED} {row[k]}" for k in ("premise", "hypothesis")}
    )
    write_table(translated_dir(lab) / TRANSLATED, GLUE_MNLI, "train", german)
    return lab


def translated_dir(lab: FixtureLab) -> Path:
    return lab.root / "translated"


@pytest.fixture(scope="module")
def composed(lab: FixtureLab) -> Finished:
    """`stilts chain mnli+mlm xnli --translate mnli=en,de --translated-data DIR
    --adapter lora:handoff=stack --sampler probabilities:mnli=1,mlm=1`."""
    chain = plan(
        lab.command(
            "mnli+mlm", "xnli",
            translate=[f"mnli=en,{TRANSLATED}"],
            translated_data=str(translated_dir(lab)),
            adapters=["lora:handoff=stack"],
            sampler="probabilities:mnli=1,mlm=1",  # mlm's few blocks would get 5 % of steps
        )
    )  # fmt: skip
    mlm = chain.phases[0].members[1]
    before = evaluate_languages(
        mlm.task.bound(chain.data), lab.model, "dev", [MULTI], chain.data,
        mlm.hyperparameters, chain.config.seed, RunOptions(),
    )  # fmt: skip
    result = Runner(lab.store).run(chain).result
    return Finished(chain, result, lab.store, before.scores[MULTI]["accuracy"])


def encoder_weights(model_dir: Path) -> dict[str, torch.Tensor]:
    """The encoder tensors of a saved model, under the encoder's own names."""
    weights = load_file(str(model_dir / "model.safetensors"))
    return {k.removeprefix("roberta."): v for k, v in weights.items() if not k.startswith("lm_")}


def test_the_composed_intermediate_phase_learns_through_its_adapter(lab, composed):
    record = composed.record(0)
    spec = composed.chain.phases[0].spec
    assert spec["adapter"]["kind"] == "lora" and spec["adapter"]["handoff"] == "stack"
    assert [task["task"] for task in spec["tasks"]] == ["mnli", "mlm"]
    assert spec["tasks"][0]["training_data"]  # the translated rows are part of its identity
    # Every English row and its German copy, plus the mlm documents.
    data = DataLocator(lab.data)
    english = registry.load("mnli").read("train", "en", data).num_rows
    mlm = registry.load("mlm").read("train", "multi", data).num_rows
    assert record["train_rows"] == 2 * english + mlm
    assert record["dev"]["mnli"]["en"]["accuracy"] > 60  # chance: 33
    mlm_after = record["dev"]["mlm"][MULTI]["accuracy"]
    print(f"mlm dev masked-token accuracy {composed.mlm_before:.1f} -> {mlm_after:.1f}")
    assert mlm_after > composed.mlm_before + 10
    assert set(record["steps_per_task"]) == {"mnli", "mlm"}
    parameters = record["parameters"]
    print(f"composed phase trains {parameters['trainable']:,} of {parameters['total']:,}")
    assert parameters["trainable"] < parameters["total"] / 4


def test_a_stack_handoff_leaves_the_encoder_weights_and_saves_the_adapter(lab, composed):
    model_dir = composed.model_dir(0)
    start = encoder_weights(lab.model)
    saved = encoder_weights(model_dir)
    shared = set(start) & set(saved)
    assert len(shared) > 20
    for name in shared:  # only the adapter trained: the encoder is as it started
        assert torch.equal(start[name], saved[name]), name
    stack = read_json(model_dir / ADAPTERS_DIR / STACK_FILE)
    assert [entry["kind"] for entry in stack] == ["lora"]
    assert sorted(p.name for p in (model_dir / "heads").iterdir()) == ["mlm", "mnli"]


def test_the_target_trains_the_encoder_under_the_frozen_stack(lab, composed):
    target_dir = composed.model_dir(1)
    stack = read_json(target_dir / ADAPTERS_DIR / STACK_FILE)
    assert [entry["kind"] for entry in stack] == ["lora"]
    inherited = load_file(
        str(composed.model_dir(0) / ADAPTERS_DIR / "0" / "adapter_model.safetensors")
    )
    handed_on = load_file(str(target_dir / ADAPTERS_DIR / "0" / "adapter_model.safetensors"))
    assert inherited.keys() == handed_on.keys()
    for name, tensor in inherited.items():  # frozen under the target phase
        assert torch.equal(tensor, handed_on[name]), name
    start, trained = encoder_weights(lab.model), encoder_weights(target_dir)
    assert not torch.equal(
        start["encoder.layer.0.attention.self.query.weight"],
        trained["encoder.layer.0.attention.self.query.weight"],
    )
    record = composed.record(1)
    assert record["parameters"]["trainable"] > composed.record(0)["parameters"]["trainable"]
    assert composed.result.dev["en"]["accuracy"] > 60
    assert tuple(composed.result.test) == registry.load("xnli").languages


def test_a_merged_adapter_changes_only_the_layers_it_adapts(lab):
    chain = plan(lab.command("mnli", "xnli", adapters=["lora"]))
    result = Runner(lab.store).run(chain).result
    phase = chain.phases[0]
    model_dir = lab.store.phase_dir(phase.name, phase.fingerprint) / "model"
    assert not (model_dir / ADAPTERS_DIR).exists()
    start, merged = encoder_weights(lab.model), encoder_weights(model_dir)
    changed = {
        name for name in set(start) & set(merged) if not torch.equal(start[name], merged[name])
    }
    adapted = {  # LoRA's default targets: the query and value projections of every layer
        f"encoder.layer.{i}.attention.self.{m}.weight" for i in range(2) for m in ("query", "value")
    }
    assert changed == adapted
    record = read_json(model_dir.parent / PHASE_MANIFEST)
    assert record["dev"]["en"]["accuracy"] > 60
    assert "adapter" not in chain.phases[1].spec  # the target fine-tunes the whole encoder
    assert result.dev["en"]["accuracy"] > 60


@pytest.mark.parametrize(
    ("phases", "values", "error"),
    [
        (("qqp", "pawsx"), ["qq=lora"], "names phase 'qq'.*did you mean 'qqp'"),
        (("pawsx",), ["lora"], "this command has none; name the phase.*pawsx=lora"),
        (("qqp", "tatoeba"), ["tatoeba=lora"], "tatoeba has no training data"),
        (("qqp", "pawsx"), ["qqp=lorra"], r"\(got 'lorra'\) \(did you mean 'lora'"),
        (("qqp", "pawsx"), ["qqp=lora", "qqp=ia3"], "gives phase 'qqp' two adapters"),
        (("qqp", "pawsx"), ["=lora"], "write \\[PHASE=\\]KIND"),
    ],
)
def test_bad_adapter_options_fail_before_training_in_one_line(lab, phases, values, error):
    with pytest.raises(StiltsError, match=error) as raised:
        plan(lab.command(*phases, adapters=values))
    assert "\n" not in str(raised.value)


def test_adapter_options_name_phases_or_default_to_every_intermediate_one(lab):
    values = ["lora:r=4", "pawsx=ia3:handoff=stack", "qqp+hellaswag=lora"]
    parsed = PhaseOptions.parse(adapters=values).adapters
    assert parsed == {"*": "lora:r=4", "pawsx": "ia3:handoff=stack", "qqp+hellaswag": "lora"}
    chain = plan(lab.command("qqp+hellaswag", "squad", "pawsx", adapters=values))
    kinds = [(p.adapter.kind, p.adapter.r) if p.adapter else None for p in chain.phases]
    assert kinds == [("lora", 8), ("lora", 4), ("ia3", None)]
    plain = plan(lab.command("qqp+hellaswag", "squad", "pawsx"))
    assert all(phase.adapter is None for phase in plain.phases)
    assert all(
        a.fingerprint != b.fingerprint for a, b in zip(chain.phases, plain.phases, strict=True)
    )
