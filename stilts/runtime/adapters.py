"""Parameter-efficient phases: a PEFT adapter trains on the encoder, the task head in full.

An adapter lives on the encoder module only (``getattr(model, model.base_model_prefix)``), so
head models stay ordinary transformers models that Trainer trains as usual, and several head
models of a multi-task phase can share one adapted encoder object.

A phase hands its encoder on in one of two ways (`Adapter.handoff`):

* ``merge``: every active adapter is merged into the encoder weights; the saved phase model is
  a plain transformers head model.
* ``stack``: the saved phase model holds the unmerged encoder weights, and the adapters sit
  beside it in ``ADAPTERS_DIR`` (one PEFT adapter directory each, listed in order in
  ``STACK_FILE``). The next phase applies them frozen and trains on top: the full encoder, or
  an adapter of its own; its own stack save keeps the inherited adapters.

Phase code builds its head models, then calls `prepare_encoder` on their (shared) encoder
(`prepare_model` on a lone head model), `save_phase_model` on the main process after
training, and `load_phase_model` to evaluate. What an adapter is (kind, options, hand-off), as a
user writes it, is `stilts.experiment.specs.Adapter`.

PEFT API level: PEFT offers a `PeftModel` wrapper, tuner wrappers (`LoraModel`…) and the
functions of `peft.functional`, which PEFT declares public API for integrations
(transformers' own adapter support uses them). We use the functions: they inject adapters
into the encoder in place, so the module object every head model holds stays the same and
its state-dict keys get no wrapper prefix; several named adapters of one kind coexist and are
activated together (`set_adapter`); and adapter weights are saved and loaded by name
(`get_peft_model_state_dict` / `set_peft_model_state_dict`) in PEFT's own file format. A
`PeftModel` would instead wrap the head model and own the head through `modules_to_save`,
the usual way a trained head is lost on reload. Merging for a save goes through each tuner
layer's own `merge`, applied to a copy of that one layer, so saving never alters the model
in memory and can be repeated for every head model sharing the encoder.
"""

from __future__ import annotations

import copy
import json
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import peft
from peft import PeftConfig, PeftType
from peft.functional import (
    get_peft_model_state_dict,
    inject_adapter_in_model,
    set_adapter,
    set_peft_model_state_dict,
)
from peft.tuners.tuners_utils import BaseTunerLayer
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedModel

from stilts.errors import StiltsError, did_you_mean
from stilts.experiment.specs import HANDOFFS, Adapter
from stilts.tasks.heads import Head

ADAPTERS_DIR = "adapters"
"""Subdirectory of a saved phase model that holds its adapter stack."""
STACK_FILE = "stack.json"
"""In `ADAPTERS_DIR`: a JSON list of ``{"dir": …, "kind": …}``, the first-applied first."""
_IA3_FEEDFORWARD = "output.dense"
_IA3_EXCLUDED = "attention.output.dense"
_POOLER = "pooler"  # the encoder's pooler module (BERT, RoBERTa, XLM-R)
_NAME_PREFIX = "adapter"  # adapters on an encoder are adapter0, adapter1, … in stack order


class LoadResult(Protocol):
    """What torch's `load_state_dict` returns, as `set_peft_model_state_dict` passes it on:
    torch leaves it unannotated, PEFT annotates it as `namedtuple` (the factory, no type)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def encoder_of(model: PreTrainedModel) -> nn.Module:
    """The encoder module of a transformers head model, where adapters live; a bare encoder
    (a multi-task phase saves its shared one) is its own."""
    return getattr(model, model.base_model_prefix, model)


def apply_stack(encoder: nn.Module, model_dir: str | Path) -> nn.Module:
    """Apply the adapter stack saved with a phase model to `encoder`, frozen and active.

    `model_dir` is the phase model the encoder was loaded from; without a stack (a merged or
    plain model, or a hub id) nothing happens. Whether the encoder's own weights train is
    left as it was, so a full fine-tuning phase still trains them underneath the stack.
    Returns `encoder`, changed in place.
    """
    entries = _read_stack(Path(model_dir))
    if not entries:
        return encoder
    if _adapter_names(encoder):
        raise ValueError("apply the inherited stack before adding adapters of this phase")
    trainable = {parameter: parameter.requires_grad for parameter in encoder.parameters()}
    for index, (path, kind) in enumerate(entries):
        config = PeftConfig.from_pretrained(str(path))
        if _peft_type(config).lower() != kind:
            raise StiltsError(f"{path} holds a {_peft_type(config)} adapter, not {kind}")
        name = f"{_NAME_PREFIX}{index}"
        _inject(encoder, config, name)
        result: LoadResult = set_peft_model_state_dict(
            encoder, load_file(path / "adapter_model.safetensors"), adapter_name=name
        )
        missing = [key for key in result.missing_keys if name in key.split(".")]
        if missing or result.unexpected_keys:
            raise StiltsError(
                f"adapter {path} does not fit the encoder of {model_dir} "
                f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]}); "
                "re-run the phase that wrote it"
            )
    _activate_all(encoder)
    for parameter in encoder.parameters():
        parameter.requires_grad_(trainable.get(parameter, False))
    return encoder


def add_adapter(encoder: nn.Module, config: Adapter) -> nn.Module:
    """Add a trainable adapter on top of any stack: it and the pooler train in `encoder`.

    The encoder's weights and any stacked adapters are frozen; heads are not touched, so
    every head model holding this encoder trains its head in full. The pooler counts as head:
    only the multiple-choice head reads it, and a masked-LM checkpoint (XLM-R's) has none, so
    it starts freshly initialised like the head itself. Returns `encoder`, changed in place.
    """
    name = f"{_NAME_PREFIX}{len(_adapter_names(encoder))}"
    _inject(encoder, _peft_config(config, encoder), name)
    _activate_all(encoder)
    for key, parameter in encoder.named_parameters():
        parts = key.split(".")
        parameter.requires_grad_(name in parts or parts[0] == _POOLER)
    return encoder


def prepare_encoder(encoder: nn.Module, source: str | Path, adapter: Adapter | None) -> nn.Module:
    """Ready a phase's encoder, its head models built: `source`'s stack frozen, then `adapter`.

    `source` is where the encoder weights came from (the previous phase model, or a hub id);
    with no `adapter` the phase fine-tunes the full encoder. Returns `encoder`.
    """
    apply_stack(encoder, source)
    if adapter is not None:
        add_adapter(encoder, adapter)  # after the heads exist: they stay trainable in full
    return encoder


def prepare_model(
    model: PreTrainedModel, source: str | Path, adapter: Adapter | None
) -> PreTrainedModel:
    """`prepare_encoder` for one fresh head model's encoder; returns `model`."""
    prepare_encoder(encoder_of(model), source, adapter)
    return model


def handoff_for(encoder: nn.Module, adapter: Adapter | None) -> str | None:
    """How a phase saves `encoder`: its own adapter's hand-off; ``stack`` when it only
    carries an inherited stack (full fine-tuning underneath keeps the stack as it was);
    None for a plain encoder, which transformers saves as usual."""
    if adapter is not None:
        return adapter.handoff
    return "stack" if _adapter_names(encoder) else None


def save_phase_model(model: PreTrainedModel, out_dir: str | Path, handoff: str) -> None:
    """Save a trained head model (or bare encoder) so that transformers'
    ``AutoModel[For…].from_pretrained(out_dir)`` loads it.

    ``merge``: the weights have every adapter merged in. ``stack``: plain unmerged weights,
    plus every adapter (inherited and own, in order) under ``out_dir/ADAPTERS_DIR``. Always
    safetensors. `model` itself is not changed, so head models sharing one encoder can be
    saved one after another. Call on the main process only, with the unwrapped model;
    saving the tokenizer is the caller's job.
    """
    if handoff not in HANDOFFS:
        raise StiltsError(f"adapter handoff {handoff!r} is not one of {', '.join(HANDOFFS)}")
    out_dir = Path(out_dir)
    encoder = encoder_of(model)
    names = _adapter_names(encoder)
    state = _plain_state_dict(model, merge=handoff == "merge")
    model.save_pretrained(out_dir, state_dict=state)
    shutil.rmtree(out_dir / ADAPTERS_DIR, ignore_errors=True)  # a stale stack of an earlier save
    if handoff == "stack" and names:
        _write_stack(encoder, names, out_dir / ADAPTERS_DIR)


def load_phase_model(
    head: Head, model_dir: str | Path, *, trust_remote_code: bool = False
) -> PreTrainedModel:
    """A finished phase model with its head and adapter stack, in evaluation mode."""
    model = head.load_trained(str(model_dir), trust_remote_code=trust_remote_code)
    apply_stack(encoder_of(model), model_dir)
    return model.eval()


class ParameterCount(NamedTuple):
    trainable: int
    total: int

    @property
    def percent(self) -> float:
        """Trainable parameters as a percentage of all."""
        return 100 * self.trainable / self.total if self.total else 0.0


def count_parameters(*modules: nn.Module) -> ParameterCount:
    """Trainable and total parameters of `modules`, each shared parameter counted once
    (head models of a multi-task phase share one encoder)."""
    unique = {id(p): p for module in modules for p in module.parameters()}
    return ParameterCount(
        trainable=sum(p.numel() for p in unique.values() if p.requires_grad),
        total=sum(p.numel() for p in unique.values()),
    )


def _peft_config(config: Adapter, encoder: nn.Module) -> PeftConfig:
    """The PEFT config of `config` for `encoder`, whose every target must exist."""
    targets = list(config.target_modules or ())
    names = [name for name, _ in encoder.named_modules()]
    for target in targets:
        if not any(name == target or name.endswith(f".{target}") for name in names):
            suffixes = {".".join(name.split(".")[-depth:]) for name in names for depth in (1, 2)}
            raise StiltsError(
                f"{config.kind} target module {target!r} matches no layer of the "
                f"{type(encoder).__name__} encoder{did_you_mean(target, suffixes)}"
            )
    if config.kind == "lora":
        # The kind's defaults fill the options it takes (`Adapter._prepared`).
        assert config.r is not None and config.alpha is not None and config.dropout is not None
        return peft.LoraConfig(
            r=config.r, lora_alpha=config.alpha, lora_dropout=config.dropout, target_modules=targets
        )
    if config.kind == "ia3":
        return peft.IA3Config(
            target_modules=targets,
            feedforward_modules=[t for t in targets if t == _IA3_FEEDFORWARD],
            exclude_modules=[_IA3_EXCLUDED],
        )
    factory = {"loha": peft.LoHaConfig, "lokr": peft.LoKrConfig}[config.kind]
    return factory(r=config.r, alpha=config.alpha, target_modules=targets)


def _adapter_names(encoder: nn.Module) -> list[str]:
    """Names of the adapters on `encoder`, in the order they were added (= stack order)."""
    return list(_peft_configs(encoder))


def _peft_configs(encoder: nn.Module) -> dict[str, PeftConfig]:
    """The adapters' configs by name: the attribute PEFT sets on a module it injects into
    (none on a plain encoder)."""
    configs: dict[str, PeftConfig] = getattr(encoder, "peft_config", {})
    return configs


def _peft_type(config: PeftConfig) -> str:
    """PEFT's name of the adapter kind (``LORA``…). Every concrete config sets a `PeftType`,
    though `PeftConfig` declares an optional plain string."""
    assert isinstance(config.peft_type, PeftType)
    return config.peft_type.value


def _inject(encoder: nn.Module, config: PeftConfig, name: str) -> None:
    """Inject adapter `name`; refuse a kind other than the stack's (PEFT cannot stack them)."""
    present = {_peft_type(c).lower() for c in _peft_configs(encoder).values()}
    kind = _peft_type(config).lower()
    if present - {kind}:
        raise StiltsError(
            f"cannot stack {kind} on the {', '.join(sorted(present))} adapter(s) this encoder "
            f"carries: PEFT stacks adapters of one kind only; use {' or '.join(sorted(present))}"
            " here, or handoff=merge in the earlier phase"
        )
    with warnings.catch_warnings():
        # PEFT warns whenever a second adapter joins a model: that is the point of a stack.
        warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
        inject_adapter_in_model(config, encoder, adapter_name=name)


def _activate_all(encoder: nn.Module) -> None:
    """Make every adapter on `encoder` take part in its forward pass."""
    set_adapter(encoder, _adapter_names(encoder))


def _tuner_layers(encoder: nn.Module) -> Iterable[tuple[str, BaseTunerLayer]]:
    return [(n, m) for n, m in encoder.named_modules() if isinstance(m, BaseTunerLayer)]


def _plain_state_dict(model: PreTrainedModel, *, merge: bool) -> dict[str, Any]:
    """`model`'s state dict as a plain transformers model has it: no adapter tensors, each
    adapted layer's own weights (with all adapters merged in when `merge`)."""
    encoder = encoder_of(model)
    names = _adapter_names(encoder)
    state = model.state_dict()
    outer = "" if encoder is model else f"{model.base_model_prefix}."
    for path, layer in _tuner_layers(encoder):
        prefix = f"{outer}{path}."
        for key in [key for key in state if key.startswith(prefix)]:
            del state[key]
        base = layer.get_base_layer()
        if merge and names:
            merged = copy.deepcopy(layer)  # one layer at a time: the model stays as it is
            merged.merge(adapter_names=names)
            base = merged.get_base_layer()
        state.update({prefix + key: value for key, value in base.state_dict().items()})
    return state


def _write_stack(encoder: nn.Module, names: list[str], stack_dir: Path) -> None:
    """Each adapter as a PEFT adapter directory (loadable by `PeftModel.from_pretrained` on
    the encoder alone), listed in order in `STACK_FILE`."""
    entries = []
    for index, name in enumerate(names):
        path = stack_dir / str(index)
        config = _peft_configs(encoder)[name]
        config.save_pretrained(str(path))
        weights = get_peft_model_state_dict(encoder, adapter_name=name, save_embedding_layers=False)
        tensors = {
            f"base_model.model.{k}": v.detach().cpu().contiguous() for k, v in weights.items()
        }
        save_file(tensors, str(path / "adapter_model.safetensors"), metadata={"format": "pt"})
        entries.append({"dir": str(index), "kind": _peft_type(config).lower()})
    (stack_dir / STACK_FILE).write_text(json.dumps(entries, indent=2) + "\n")


def _read_stack(model_dir: Path) -> list[tuple[Path, str]]:
    """(adapter directory, kind) of each adapter stacked on `model_dir`, first-applied first."""
    stack_file = model_dir / ADAPTERS_DIR / STACK_FILE
    if not stack_file.is_file():
        return []
    try:
        entries = json.loads(stack_file.read_text())
        stack = [(stack_file.parent / entry["dir"], entry["kind"]) for entry in entries]
    except (ValueError, TypeError, KeyError) as error:
        raise StiltsError(
            f"broken adapter stack {stack_file} ({error}); re-run its phase"
        ) from None
    for path, _ in stack:
        if not (path / "adapter_model.safetensors").is_file():
            raise StiltsError(f"adapter stack {stack_file} lists {path}, which holds no adapter")
    return stack
