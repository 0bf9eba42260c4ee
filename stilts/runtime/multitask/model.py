"""One encoder, one head per task: the model of a multi-task phase, and how it is saved.

Each task keeps its own transformers head model (so its loss, its outputs and its decoding are
exactly those of a single-task phase); all of them are built around one encoder module
object, so every step updates the same encoder whichever task it trains.

On disk a multi-task phase's model directory holds the shared encoder as a plain checkpoint
(the next phase starts from it like from any other) and, under ``heads/<task>/``, each task's
head model config with only its head weights: nine copies of XLM-R large would cost 20 GB.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import PreTrainedModel

from stilts.errors import StiltsError
from stilts.runtime.adapters import LoadResult, save_phase_model
from stilts.tasks.heads.common import safetensors_only
from stilts.tasks.task import Task

HEADS = "heads"
"""Subdirectory of a multi-task phase's model directory: one head per task."""
HEAD_WEIGHTS = "model.safetensors"
_Destination = TypeVar("_Destination", bound=dict[str, Any])


class MultiTaskModel(torch.nn.Module):
    """Task head models sharing one encoder; `forward` runs the head of the batch's task.

    Every batch carries `task_index` (one task per batch, see `stilts.runtime.multitask.stream`).
    The encoder is registered once, first, so `state_dict` names each shared weight once
    (``encoder.…``): Trainer checkpoints it with safetensors, which refuses a tensor saved under two
    names, and restores it with a non-strict `load_state_dict`, which fills every alias of a shared
    module from that one name.
    """

    # The heads' losses are per-batch means, as in a single-task phase; Trainer must not
    # rescale them by token counts it would compute for language-model losses.
    accepts_loss_kwargs = False

    def __init__(self, models: Mapping[str, PreTrainedModel]) -> None:
        super().__init__()
        # Head classes build their encoders differently (multiple choice keeps the pooler,
        # classification drops it): the one with most weights serves every head.
        self.encoder = _pretrained(
            max(
                (model.base_model for model in models.values()),
                key=lambda encoder: sum(p.numel() for p in encoder.parameters()),
            )
        )
        for model in models.values():
            setattr(model, model.base_model_prefix, self.encoder)
            model.tie_weights()  # an MLM decoder is the input embedding: now the shared one
        self.tasks = tuple(models)
        self.heads = torch.nn.ModuleDict(models)

    def head(self, task: str) -> PreTrainedModel:
        return _pretrained(self.heads[task])

    def activation_checkpointing_enable(self, **options: Any) -> None:
        """Trainer's hook for ``activation_checkpointing``: the shared encoder's layers are
        what holds the activations (the heads are one or two layers on top)."""
        self.encoder.activation_checkpointing_enable(**options)

    def forward(self, task_index: torch.Tensor, selection_labels: Any = None, **inputs: Any) -> Any:
        """The batch's task's head on `inputs`. `selection_labels` is not the model's: Trainer
        hands the labels it names (`label_names`) to evaluation as they are in the batch, and
        model selection needs each batch's task and labels under the same names whatever the
        task (`stilts.runtime.selection`)."""
        return self.heads[self.tasks[int(task_index[0])]](**inputs)

    # torch's overloads, restated: the override passes every argument through.
    @overload
    def state_dict(
        self, *, destination: _Destination, prefix: str = ..., keep_vars: bool = ...
    ) -> _Destination: ...
    @overload
    def state_dict(self, *, prefix: str = ..., keep_vars: bool = ...) -> dict[str, Any]: ...
    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        canonical = self._canonical_names()
        full = super().state_dict(*args, **kwargs)
        return type(full)((key, value) for key, value in full.items() if key in canonical)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> LoadResult:
        """Loads `state_dict`'s names; an alias of a shared weight is never reported missing."""
        result: LoadResult = super().load_state_dict(state_dict, strict=False, assign=assign)
        canonical = self._canonical_names()
        result.missing_keys[:] = [key for key in result.missing_keys if key in canonical]
        if strict and (result.missing_keys or result.unexpected_keys):
            raise RuntimeError(
                f"multi-task state dict does not fit: missing {result.missing_keys[:4]}, "
                f"unexpected {result.unexpected_keys[:4]}"
            )
        return result

    def _canonical_names(self) -> set[str]:
        names = {name for name, _ in self.named_parameters()}
        return names | {name for name, _ in self.named_buffers()}

    def save(self, out_dir: Path, handoff: str | None = None) -> None:
        """The encoder as a plain checkpoint in `out_dir`, each head under heads/<task>/.

        With adapters on the encoder, `handoff` says how they are handed on (see
        `stilts.runtime.adapters.save_phase_model`).
        """
        if handoff is None:
            self.encoder.save_pretrained(out_dir)
        else:
            save_phase_model(self.encoder, out_dir, handoff)
        for task in self.tasks:
            model = self.head(task)
            head_dir = out_dir / HEADS / task
            model.config.architectures = [type(model).__name__]
            model.config.save_pretrained(head_dir)
            weights = {k: v.contiguous() for k, v in head_weights(model).items()}
            save_file(weights, str(head_dir / HEAD_WEIGHTS), metadata={"format": "pt"})


def _pretrained(module: torch.nn.Module) -> PreTrainedModel:
    """`module`, a head model or its encoder, as the transformers model it is: torch types
    `ModuleDict` items, and transformers `base_model`, as plain modules."""
    if not isinstance(module, PreTrainedModel):
        raise TypeError(f"{type(module).__name__} is not a transformers model")
    return module


def head_weights(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """`model`'s weights outside its encoder, except those tied to it (an MLM decoder)."""
    encoder = {id(p) for p in model.base_model.parameters()}
    prefix = f"{model.base_model_prefix}."
    return {
        name: tensor.detach()
        for name, tensor in model.named_parameters()
        if not name.startswith(prefix) and id(tensor) not in encoder
    } | {name: tensor for name, tensor in model.named_buffers() if not name.startswith(prefix)}


def is_multitask(model_dir: Path) -> bool:
    return (model_dir / HEADS).is_dir()


def load_task_model(model_dir: Path, task: Task, *, trust_remote_code: bool = False) -> Any:
    """`task`'s head model from a multi-task phase: the shared encoder plus its head.

    A transformers head class loads the shared checkpoint itself; a head model of stilts'
    own (the parser's) is built by the task's head around the shared encoder. Either way the
    head's weights then come from its own file.
    """
    head_dir = model_dir / HEADS / task.name
    if not head_dir.is_dir():
        trained = sorted(p.name for p in (model_dir / HEADS).iterdir())
        raise StiltsError(
            f"the multi-task phase at {model_dir.parent} trained no {task.name} head (it "
            f"trained {', '.join(trained)})"
        )
    config = transformers.AutoConfig.from_pretrained(head_dir)
    model_class = getattr(transformers, config.architectures[0], None)
    safe = safetensors_only(str(model_dir))
    if model_class is not None:
        model = model_class.from_pretrained(
            model_dir, config=config, trust_remote_code=trust_remote_code, use_safetensors=safe
        )
    else:
        encoder = transformers.AutoModel.from_pretrained(
            model_dir, trust_remote_code=trust_remote_code, use_safetensors=safe
        )
        model = task.head.model_with_encoder(config, encoder)
    weights = load_file(str(head_dir / HEAD_WEIGHTS))
    expected = set(head_weights(model))
    if set(weights) != expected:
        different = sorted(set(weights) ^ expected)
        raise StiltsError(
            f"the {task.name} head at {head_dir} does not fit {type(model).__name__}: "
            f"{', '.join(different[:4])}"
        )
    model.load_state_dict(weights, strict=False)
    return model.eval()
