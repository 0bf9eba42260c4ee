"""Adapter phases on a real tiny XLM-R: what trains, what each hand-off saves, what reloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)

from stilts import StiltsError
from stilts.experiment.specs import Adapter
from stilts.runtime import adapters
from stilts.tasks.heads import SequenceClassification

HEAD = SequenceClassification(labels=("apple", "stone"), text_columns=("sentence1",))
SUBJECTS = ("the", "a", "my", "your", "one", "that")
PLACES = ("on the table", "in the box", "near the door", "under the bed", "by the window")
TEXTS = [f"{s} {word} lies {p}" for s in SUBJECTS for p in PLACES for word in ("apple", "stone")]
"""Learnable: the label is the word in the sentence (apple -> 0, stone -> 1)."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stilts.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("base"), TEXTS * 4, vocab_size=300)


@pytest.fixture(scope="module")
def tokenizer(base: Path):
    return AutoTokenizer.from_pretrained(base)


@pytest.fixture(scope="module")
def batch(tokenizer) -> dict[str, torch.Tensor]:
    return dict(tokenizer(TEXTS[:8], padding=True, return_tensors="pt"))


def fresh(source: Path):
    """A head model with a fresh head on `source`'s encoder weights, as a phase builds it."""
    encoder = AutoModel.from_pretrained(source)
    return HEAD.model_with_encoder(AutoConfig.from_pretrained(source), encoder)


def train(model, tokenizer, out_dir: Path, learning_rate: float = 1e-2):
    """A real Trainer run of a few steps."""
    rows = [dict(tokenizer(text), labels=int("stone" in text)) for text in TEXTS]
    args = TrainingArguments(
        output_dir=str(out_dir),
        max_steps=6,
        per_device_train_batch_size=8,
        learning_rate=learning_rate,
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    Trainer(
        model=model, args=args, train_dataset=rows, data_collator=DataCollatorWithPadding(tokenizer)
    ).train()
    return model.eval()


def logits(model, batch) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(**batch).logits


def hidden(model, batch) -> torch.Tensor:
    """The encoder's output: a tiny random encoder barely moves the logits, but it moves this."""
    with torch.no_grad():
        return adapters.encoder_of(model.eval())(**batch).last_hidden_state


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Far beyond float noise (reloads match to 1e-6)."""
    return (a - b).abs().max().item() > 1e-3


def snapshot(model) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def adapter_keys(state, name: str) -> set[str]:
    return {key for key in state if name in key.split(".")}


@pytest.fixture(scope="module")
def phases(base: Path, tokenizer, tmp_path_factory: pytest.TempPathFactory):
    """kind -> (model trained with a fresh adapter of that kind, its state before training)."""
    trained = {}

    def get(kind: str):
        if kind not in trained:
            model = adapters.prepare_model(fresh(base), base, Adapter(kind=kind))
            before = snapshot(model)
            trained[kind] = train(model, tokenizer, tmp_path_factory.mktemp(kind)), before
        return trained[kind]

    return get


@pytest.mark.parametrize("kind", ["lora", "ia3"])
def test_an_adapter_phase_trains_only_its_adapter_and_the_head(phases, kind):
    model, before = phases(kind)
    after = model.state_dict()
    own = adapter_keys(after, "adapter0")
    head = {key for key in after if not key.startswith(f"{model.base_model_prefix}.")}
    assert own and head == {"classifier.dense.weight", "classifier.dense.bias"} | {
        "classifier.out_proj.weight",
        "classifier.out_proj.bias",
    }
    for key, value in after.items():
        if key in own or key in head:
            assert not torch.equal(value, before[key]), f"{key} did not train"
        else:
            assert torch.equal(value, before[key]), f"{key} of the base encoder changed"
    trainable = sum(after[key].numel() for key in own | head)
    assert adapters.count_parameters(model).trainable == trainable


def test_lora_parameter_count_is_what_lora_adds(base):
    model = adapters.prepare_model(fresh(base), base, parse_adapter("lora:r=4"))
    hidden, layers = model.config.hidden_size, model.config.num_hidden_layers
    head = sum(p.numel() for p in model.classifier.parameters())
    count = adapters.count_parameters(model)
    assert count.trainable == head + layers * 2 * 4 * (hidden + hidden)  # query, value: A and B
    assert count.total == sum(p.numel() for p in model.parameters())
    assert 0 < count.percent < 100


def test_merge_folds_lora_into_the_weights_by_its_formula(phases, batch, tmp_path):
    model, _ = phases("lora")
    config = Adapter(kind="lora")
    before = snapshot(model)
    adapters.save_phase_model(model, tmp_path, "merge")
    assert not (tmp_path / adapters.ADAPTERS_DIR).exists()
    saved = load_file(tmp_path / "model.safetensors")
    assert not [key for key in saved if "lora" in key or "base_layer" in key]
    encoder = adapters.encoder_of(model)
    for layer in (encoder.encoder.layer[0], encoder.encoder.layer[1]):
        for linear in (layer.attention.self.query, layer.attention.self.value):
            w = linear.base_layer.weight
            a, b = linear.lora_A["adapter0"].weight, linear.lora_B["adapter0"].weight
            path = next(n for n, m in model.named_modules() if m is linear)
            expected = w + (config.alpha / config.r) * b @ a
            torch.testing.assert_close(saved[f"{path}.weight"], expected, atol=1e-6, rtol=0)
            assert torch.equal(saved[f"{path}.bias"], linear.base_layer.bias)
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())

    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert not any("lora" in name for name, _ in plain.named_modules())
    torch.testing.assert_close(logits(plain, batch), logits(model, batch), atol=1e-6, rtol=0)


def test_stack_saves_plain_weights_and_the_adapter_beside_them(phases, batch, base, tmp_path):
    model, _ = phases("lora")
    adapters.save_phase_model(model, tmp_path, "stack")
    saved = load_file(tmp_path / "model.safetensors")
    start = load_file(base / "model.safetensors")  # the MLM checkpoint the phase started from
    for key, value in saved.items():
        if key.startswith("roberta.encoder."):
            assert torch.equal(value, start[key]), key
    stack = json.loads((tmp_path / adapters.ADAPTERS_DIR / adapters.STACK_FILE).read_text())
    assert stack == [{"dir": "0", "kind": "lora"}]

    reloaded = adapters.load_phase_model(HEAD, tmp_path)
    torch.testing.assert_close(logits(reloaded, batch), logits(model, batch), atol=1e-6, rtol=0)
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert differs(hidden(plain, batch), hidden(model, batch))  # the adapter does something


@pytest.fixture(scope="module")
def lora_stack(phases, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished LoRA phase handed on by `stack`."""
    out = tmp_path_factory.mktemp("lora_stack")
    adapters.save_phase_model(phases("lora")[0], out, "stack")
    return out


def stacked_tensors(model_dir: Path, index: int) -> dict[str, torch.Tensor]:
    path = model_dir / adapters.ADAPTERS_DIR / str(index) / "adapter_model.safetensors"
    return load_file(path)


def live_adapter(model, name: str) -> dict[str, torch.Tensor]:
    """`name`'s tensors in `model`, keyed as a saved adapter file keys them."""
    prefix = f"{model.base_model_prefix}."
    return {
        "base_model.model." + key.removeprefix(prefix).replace(f".{name}", ""): value
        for key, value in model.state_dict().items()
        if name in key.split(".")
    }


def test_full_fine_tuning_on_a_stack_keeps_it_frozen_and_active(
    lora_stack, tokenizer, batch, tmp_path
):
    model = adapters.prepare_model(fresh(lora_stack), lora_stack, None)
    before = snapshot(model)
    train(model, tokenizer, tmp_path / "run", learning_rate=1e-3)
    assert live_adapter(model, "adapter0").keys() == stacked_tensors(lora_stack, 0).keys()
    for key, value in live_adapter(model, "adapter0").items():
        assert torch.equal(value, stacked_tensors(lora_stack, 0)[key]), key
    query = "roberta.encoder.layer.0.attention.self.query.base_layer.weight"
    assert not torch.equal(model.state_dict()[query], before[query])  # the encoder trained

    adapters.save_phase_model(model, tmp_path / "out", "stack")
    inherited = stacked_tensors(tmp_path / "out", 0)
    assert all(torch.equal(v, stacked_tensors(lora_stack, 0)[k]) for k, v in inherited.items())
    reloaded = adapters.load_phase_model(HEAD, tmp_path / "out")
    torch.testing.assert_close(logits(reloaded, batch), logits(model, batch), atol=1e-6, rtol=0)
    without = AutoModelForSequenceClassification.from_pretrained(tmp_path / "out")
    assert differs(hidden(without, batch), hidden(model, batch))  # the stack is active


def test_a_second_adapter_trains_on_top_of_the_frozen_stack(lora_stack, tokenizer, batch, tmp_path):
    model = adapters.prepare_model(fresh(lora_stack), lora_stack, parse_adapter("lora:r=4"))
    before = snapshot(model)
    train(model, tokenizer, tmp_path / "run")
    after = model.state_dict()
    for key, value in live_adapter(model, "adapter0").items():
        assert torch.equal(value, stacked_tensors(lora_stack, 0)[key]), key
    changed = {key for key, value in after.items() if not torch.equal(value, before[key])}
    assert changed == adapter_keys(after, "adapter1") | {k for k in after if "classifier" in k}

    adapters.save_phase_model(model, tmp_path / "stack", "stack")
    listed = json.loads(
        (tmp_path / "stack" / adapters.ADAPTERS_DIR / adapters.STACK_FILE).read_text()
    )
    assert [entry["dir"] for entry in listed] == ["0", "1"]
    reloaded = adapters.load_phase_model(HEAD, tmp_path / "stack")
    torch.testing.assert_close(logits(reloaded, batch), logits(model, batch), atol=1e-6, rtol=0)

    adapters.save_phase_model(model, tmp_path / "merged", "merge")  # merges both adapters
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "merged")
    torch.testing.assert_close(logits(plain, batch), logits(model, batch), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["ia3", "loha", "lokr"])
@pytest.mark.parametrize("handoff", ["merge", "stack"])
def test_a_saved_phase_reloads_with_its_trained_head(phases, batch, tmp_path, kind, handoff):
    model, before = phases(kind)
    adapters.save_phase_model(model, tmp_path, handoff)
    reloaded = adapters.load_phase_model(HEAD, tmp_path)
    torch.testing.assert_close(logits(reloaded, batch), logits(model, batch), atol=1e-6, rtol=0)
    for key in ("classifier.out_proj.weight", "classifier.dense.weight"):
        assert not torch.equal(reloaded.state_dict()[key], before[key])  # trained, not fresh
        assert torch.equal(reloaded.state_dict()[key], model.state_dict()[key])


def test_head_models_can_share_one_adapted_encoder(base, batch, tmp_path):
    first = fresh(base)
    second = SequenceClassification(labels=("x", "y", "z"), text_columns=("sentence1",))
    other = second.model_with_encoder(
        AutoConfig.from_pretrained(base), AutoModel.from_pretrained(base)
    )
    encoder = adapters.add_adapter(adapters.encoder_of(first), parse_adapter("ia3"))
    setattr(other, other.base_model_prefix, encoder)
    with torch.no_grad():
        for parameter in encoder.parameters():
            if parameter.requires_grad:
                parameter.add_(0.5)  # a visibly trained adapter
    heads = sum(p.numel() for m in (first, other) for p in m.classifier.parameters())
    shared = adapters.count_parameters(first, other)
    assert shared.trainable == heads + sum(
        p.numel() for p in encoder.parameters() if p.requires_grad
    )
    assert shared.total == sum(p.numel() for p in first.parameters()) + sum(
        p.numel() for p in other.classifier.parameters()
    )
    for head, model in ((HEAD, first), (second, other)):
        for handoff in adapters.HANDOFFS:
            out = tmp_path / f"{len(head.labels)}-{handoff}"
            adapters.save_phase_model(model, out, handoff)
            reloaded = adapters.load_phase_model(head, out)
            expected = logits(model, batch)
            torch.testing.assert_close(logits(reloaded, batch), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("handoff", adapters.HANDOFFS)
def test_a_bare_encoder_saves_and_reloads_like_a_head_model(phases, batch, tmp_path, handoff):
    encoder = adapters.encoder_of(phases("lora")[0])
    adapters.save_phase_model(encoder, tmp_path, handoff)
    reloaded = adapters.apply_stack(AutoModel.from_pretrained(tmp_path), tmp_path).eval()
    with torch.no_grad():
        expected = encoder.eval()(**batch).last_hidden_state
        got = reloaded(**batch).last_hidden_state
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_a_stack_of_another_kind_is_refused(lora_stack):
    with pytest.raises(StiltsError, match=r"cannot stack ia3 on the lora adapter.*one kind only"):
        adapters.prepare_model(fresh(lora_stack), lora_stack, parse_adapter("ia3"))


def test_a_missing_target_module_suggests_the_close_name(base):
    with pytest.raises(StiltsError, match=r"'valeu' matches no layer .*did you mean 'value'"):
        adapters.prepare_model(fresh(base), base, parse_adapter("lora:target_modules=valeu"))


def test_a_source_without_a_stack_adds_nothing(base):
    model = adapters.prepare_model(fresh(base), "FacebookAI/xlm-roberta-large", None)
    assert not hasattr(adapters.encoder_of(model), "peft_config")
    assert adapters.count_parameters(model).percent == 100


def parse_adapter(text: str) -> Adapter:
    return Adapter.parse(text, option="--adapter")


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("lora", {"kind": "lora", "handoff": "merge", "r": 8, "alpha": 16, "dropout": 0.1}),
        ("lora:r=8,alpha=16", {"r": 8, "alpha": 16}),
        ("LoRA : handoff=stack , r=4", {"handoff": "stack", "r": 4, "alpha": 16}),
        ("lora:target_modules=query+key+value", {"target_modules": ["query", "key", "value"]}),
        ("lora:dropout=0", {"dropout": 0.0}),
        ("ia3:handoff=stack", {"kind": "ia3", "target_modules": ["key", "value", "output.dense"]}),
        ("loha:r=4,alpha=2", {"kind": "loha", "r": 4, "alpha": 2}),
        ("lokr", {"kind": "lokr", "r": 8}),
    ],
)
def test_parse_adapter_reads_kind_and_options(text, spec):
    parsed = parse_adapter(text).fingerprint()
    assert parsed == {**parsed, **spec}
    json.dumps(parsed)  # goes into phase fingerprints
    assert parse_adapter(parse_adapter(text).short()) == parse_adapter(text)  # round trip


def test_ia3_takes_no_rank():
    assert "r" not in parse_adapter("ia3").fingerprint()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"the spec is empty; e\.g\. lora, lora:r=8,alpha=16"),
        ("lroa", r"kind: Input should be 'lora', 'ia3', 'loha' or 'lokr' .*did you mean 'lora'"),
        ("vera:r=4", r"\(got 'vera'\)"),
        ("lora:rank=8", r"unknown key rank; allowed here: kind, handoff, r, alpha, dropout"),
        ("lora:alhpa=8", r"unknown key alhpa \(did you mean 'alpha'\?\)"),
        ("lora:r", r"'r' is not key=value"),
        ("lora:r=", r"'r=' is not key=value"),
        ("lora:r=8,r=4", r"'r' is given twice"),
        ("lora:r=abc", r"r: Input should be a valid integer \(got 'abc'\)"),
        ("lora:r=0", r"r: Input should be greater than or equal to 1 \(got 0\)"),
        ("lora:alpha=1.5", r"alpha: Input should be a valid integer \(got 1.5\)"),
        ("lora:dropout=1", r"dropout: Input should be less than 1"),
        ("lora:dropout=high", r"dropout: Input should be a valid number"),
        (
            "lora:handoff=mrege",
            r"handoff: Input should be 'merge' or 'stack' .*did you mean 'merge'",
        ),
        ("ia3:r=4", r"ia3 adapters take no option 'r'; their options: handoff, target_modules"),
        ("lora:target_modules=query++value", r"target_modules: expected module names joined"),
    ],
)
def test_parse_adapter_rejects_bad_specs_in_one_line(text, message):
    with pytest.raises(StiltsError, match=message) as caught:
        parse_adapter(text)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("--adapter ")


def test_a_recipes_adapter_mapping_is_the_same_adapter():
    with pytest.raises(StiltsError, match=r"ia3 adapters take no option 'r'; their options: "):
        Adapter.parse({"kind": "ia3", "r": 4}, option="phases[0].adapter")
    assert Adapter(kind="lora") == parse_adapter("lora:r=8,alpha=16,dropout=0.1,handoff=merge")
    mapping = {"kind": "lora", "target_modules": ["query", "key"], "handoff": "stack"}
    short = "lora:handoff=stack,target_modules=query+key"
    assert Adapter.parse(mapping, option="x") == parse_adapter(short)


def test_importing_the_spec_stays_light():
    probe = (
        "import sys; from stilts.experiment.specs import Adapter; Adapter.parse('lora:r=4', "
        "option='x'); print(sorted(m for m in ('torch', 'transformers', 'peft') if m in "
        "sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_pooler_trains_with_the_adapter_as_part_of_the_head(base):
    """Multiple choice reads the pooler, which an MLM checkpoint lacks: it starts fresh, so it
    must train like the head; every other encoder weight stays frozen."""
    from transformers import AutoModelForMultipleChoice

    model = AutoModelForMultipleChoice.from_config(AutoConfig.from_pretrained(base))
    encoder = adapters.add_adapter(adapters.encoder_of(model), parse_adapter("lora"))
    trainable = {key for key, p in encoder.named_parameters() if p.requires_grad}
    pooler = {key for key in trainable if key.startswith("pooler.")}
    assert pooler == {"pooler.dense.weight", "pooler.dense.bias"}
    assert all("adapter0" in key.split(".") for key in trainable - pooler)
    assert all(p.requires_grad for p in model.classifier.parameters())
