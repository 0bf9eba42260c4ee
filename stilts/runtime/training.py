"""One phase: a task's head on a starting encoder, trained with transformers.Trainer.

Everything here goes through Trainer's public arguments and callbacks, so the same phase runs
on a CPU, one GPU, or many processes under `torchrun` / `accelerate launch`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PrinterCallback,
    Trainer,
    set_seed,
)
from transformers.integrations.integration_utils import TensorBoardCallback
from transformers.trainer import TRAINER_STATE_NAME

from stilts.errors import StiltsError
from stilts.experiment.plan import PhaseTask
from stilts.experiment.precision import FULL, Resolved
from stilts.experiment.specs import DEFAULT_SAMPLER, Adapter, DevAggregate, Sampler, Selection
from stilts.runtime.adapters import count_parameters, handoff_for, prepare_encoder, save_phase_model
from stilts.runtime.arguments import training_arguments
from stilts.runtime.features import tokenized
from stilts.runtime.multitask.model import MultiTaskModel
from stilts.runtime.multitask.sampling import TaskSchedule, epoch_steps
from stilts.runtime.multitask.stream import TaskBlocks, TaskCollator, model_inputs
from stilts.runtime.options import RunOptions
from stilts.runtime.selection import (
    SelectionSetup,
    dev_subset,
    multitask_setup,
    selection_record,
    single_task_setup,
)
from stilts.runtime.totals import PhaseTotals, mean_loss
from stilts.runtime.training_rows import sampled_training_rows
from stilts.store.files import publish_dir
from stilts.tasks.data import DataLocator
from stilts.tasks.heads import takes_start_head
from stilts.tasks.heads.common import safetensors_only
from stilts.tasks.task import Hyperparameters, Task


@dataclass(frozen=True)
class ModelSource:
    """Where a phase's encoder comes from: a hub id (+ revision) or a local directory."""

    name: str
    revision: str | None = None
    trust_remote_code: bool = False


def load_tokenizer(source: ModelSource) -> Any:
    with model_errors(source):
        return AutoTokenizer.from_pretrained(
            source.name, revision=source.revision, trust_remote_code=source.trust_remote_code
        )


ABSOLUTE_OFFSET_MODELS = ("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert")
"""Model types whose position ids start after the padding index (2 for XLM-R): their last
two position embeddings are never usable."""


def model_config(source: ModelSource) -> PretrainedConfig:
    """`source`'s config alone (a small file: no weights are read)."""
    with model_errors(source):
        return AutoConfig.from_pretrained(
            source.name, revision=source.revision, trust_remote_code=source.trust_remote_code
        )


def position_limit(config: PretrainedConfig) -> int | None:
    """The longest sequence a model of `config` can embed; None where it says no limit."""
    positions = getattr(config, "max_position_embeddings", None)
    if not isinstance(positions, int):
        return None
    offset = config.pad_token_id + 1 if config.model_type in ABSOLUTE_OFFSET_MODELS else 0
    return positions - offset


def starting_encoder(
    source: ModelSource, precision: Resolved = FULL
) -> tuple[PretrainedConfig, PreTrainedModel]:
    """The config and encoder weights of `source`, whatever head it was saved with, with the
    fastest attention it supports in `precision` (`attention_request`)."""
    revision, trust_remote_code = source.revision, source.trust_remote_code

    with model_errors(source):
        config = AutoConfig.from_pretrained(
            source.name, revision=revision, trust_remote_code=trust_remote_code
        )
        encoder = AutoModel.from_pretrained(
            source.name,
            revision=revision,
            trust_remote_code=trust_remote_code,
            use_safetensors=safetensors_only(source.name),
            attn_implementation=attention_request(precision),
        )
        return config, encoder


def attention_request(precision: Resolved) -> str | None:
    """Flash attention where it is installed and can serve (a CUDA GPU, bf16 or fp16);
    otherwise None: transformers' own choice, SDPA for every model that supports it (XLM-R
    does), eager attention for the rest."""
    usable = precision in ("bf16", "fp16") and torch.cuda.is_available()
    return "flash_attention_2" if usable and find_spec("flash_attn") is not None else None


def attention_implementation(model: torch.nn.Module) -> str:
    """The attention `model` (a transformers model) runs. transformers keeps it in the
    config's ``_attn_implementation``, the attribute its docs tell users to read."""
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", "unknown"))


def model_with_fresh_head(
    task: Task,
    config: PretrainedConfig,
    encoder: PreTrainedModel,
    start: ModelSource | None = None,
) -> PreTrainedModel:
    """`task`'s head model on `encoder`, the head newly initialised.

    A head that reuses a pretrained head of the chain's start model (masked LM) reads it from
    `start`; every other head is fresh. The config is copied: each head sets its own labels.
    """
    config = copy.deepcopy(config)
    head = task.head
    if takes_start_head(head):
        return head.model_with_encoder(config, encoder, lm_head_from=start)
    return head.model_with_encoder(config, encoder)


def features(member: PhaseTask, data: DataLocator, tokenizer: Any, seed: int) -> tuple[Any, int]:
    """A phase task's tokenised training features and the number of rows they came from."""
    hp, task = member.hyperparameters, member.trained_task
    table = sampled_training_rows(member.training, task, data, hp.max_train_examples, seed)
    return tokenized(task, table, tokenizer, hp.max_length), table.num_rows


@dataclass(frozen=True)
class TrainingRecord:
    seconds: float
    """In Trainer's training loop, over every run that trained the phase
    (`stilts.runtime.totals`)."""
    train_rows: int
    train_loss: float
    """The mean over every step, however many runs trained them (`stilts.runtime.totals`)."""
    arguments: dict[str, Any]
    parameters: dict[str, int]
    """Trainable and total parameters of the phase's model (an adapter trains few)."""
    attention: str
    """The attention implementation the encoder ran (eager, sdpa, flash_attention_2…)."""
    selection: dict[str, Any]
    """How the kept weights were chosen: the dev curve and the selected step
    (`stilts.runtime.selection.selection_record`)."""
    steps_per_task: dict[str, int] | None = None
    """Multi-task phases: optimiser steps each task trained."""
    resumed_from: int | None = None
    """The step of the checkpoint this run resumed from (a killed or requeued run's)."""
    report: Callable[[dict[str, float]], None] = lambda figures: None
    """Sends figures to the phase's trackers (`Trainer.log`), e.g. its final dev scores."""


def train_phase(
    members: Sequence[PhaseTask],
    source: ModelSource,
    data: DataLocator,
    hp: Hyperparameters,
    seed: int,
    phase_dir: Path,
    options: RunOptions,
    *,
    sampler: Sampler | None = None,
    start: ModelSource | None = None,
    adapter: Adapter | None = None,
    selection: Selection | None = None,
    aggregate: DevAggregate | None = None,
    precision: Resolved = FULL,
    group_by_length: bool = False,
    report_to: Sequence[str] = ("none",),
    run_name: str | None = None,
) -> TrainingRecord:
    """Train the phase's tasks from `source`; publish model + tokenizer to ``phase_dir/model``.

    One task trains its head model directly; several share one encoder, each optimiser step training
    the task `sampler` draws for it (see `stilts.runtime.multitask`). `hp` holds the phase's
    optimisation settings (rate, batch, epochs, warmup); each member keeps its own lengths and
    limits. An adapter stack saved with `source` is applied frozen; with `adapter`, the encoder
    trains through a new adapter (see `stilts.runtime.adapters`), the heads in full. With a
    `selection` that selects, the weights kept are the best on the English dev set (a
    multi-task phase's by `aggregate`; see `stilts.runtime.selection`); otherwise the last.
    Resumes from the newest Trainer checkpoint in ``phase_dir/checkpoints`` if a killed run
    left one, its loss and time kept whole (`stilts.runtime.totals`). `precision` and
    `group_by_length` go to Trainer as its arguments (`stilts.runtime.arguments`), and so do
    the trackers (`report_to`, the run named `run_name`); TensorBoard writes under
    ``phase_dir/logs``. Only the main process publishes; a phase that ran no optimiser step
    is an error, never published (it would be reused by its fingerprint as if it had
    trained).
    """
    tokenizer = load_tokenizer(source)
    prepared = [features(member, data, tokenizer, seed) for member in members]
    set_seed(seed)  # fresh heads (and a pooler the checkpoint lacks) are part of the experiment
    config, encoder = starting_encoder(source, precision)
    tasks = [m.trained_task for m in members]
    models = {task.name: model_with_fresh_head(task, config, encoder, start) for task in tasks}
    checkpoints = phase_dir / "checkpoints"
    selecting = _selection_setup(members, data, tokenizer, models, selection, aggregate)
    chosen = {
        "precision": precision, "report_to": report_to, "run_name": run_name,
        **(selecting.arguments if selecting else {}),
    }  # fmt: skip
    model: PreTrainedModel | MultiTaskModel
    if len(members) == 1:
        (model,) = models.values()
        shared = model.base_model
        setup = {"model": model, "train_dataset": prepared[0][0]}
        setup["data_collator"] = tasks[0].head.collator(tokenizer)
        args = training_arguments(
            checkpoints, hp, seed, options, group_by_length=group_by_length, **chosen
        )
        counts = None
    else:
        model = MultiTaskModel(models)
        shared = model.encoder
        setup, args, counts = _multitask_setup(
            members, prepared, model, tokenizer, hp, seed, checkpoints, options, sampler, chosen
        )
    prepare_encoder(shared, source.name, adapter)
    handoff = handoff_for(shared, adapter)
    trainer = Trainer(
        **setup,
        **(selecting.trainer if selecting else {}),
        args=args,
        processing_class=tokenizer,
        callbacks=[*options.callbacks, *(selecting.callbacks if selecting else ()), PhaseTotals()],
    )
    trainer.remove_callback(PrinterCallback)  # logs stay in trainer.state.log_history
    _keep_tensorboard_logs(trainer, phase_dir / "logs")
    resume = last_complete_checkpoint(checkpoints)
    trainer.train(resume_from_checkpoint=resume)
    (totals,) = [c for c in trainer.callback_handler.callbacks if isinstance(c, PhaseTotals)]
    seconds = totals.seconds  # the callback restored from a checkpoint, if it resumed
    rows = sum(rows for _, rows in prepared)
    if trainer.state.global_step == 0:
        names = "+".join(task.name for task in tasks)
        raise StiltsError(
            f"phase {names} trained 0 optimiser steps ({rows} rows, batch size "
            f"{hp.batch_size}, {hp.epochs:g} epochs), so it is not stored: give it at least "
            "one batch of rows and --epochs above 0"
        )
    staging = phase_dir / "model.partial"
    if len(members) == 1 and handoff is None:
        trainer.save_model(str(staging))  # gathers sharded (FSDP/DeepSpeed) weights
    elif trainer.is_world_process_zero():
        if isinstance(model, MultiTaskModel):
            model.save(staging, handoff)
        else:
            assert handoff is not None  # a lone model without one went through save_model
            save_phase_model(model, staging, handoff)
        tokenizer.save_pretrained(staging)
    if trainer.is_world_process_zero():
        # A pickle; the same arguments go into phase.json as JSON instead.
        (staging / "training_args.bin").unlink(missing_ok=True)
        publish_dir(staging, phase_dir / "model")
    trainer.accelerator.wait_for_everyone()
    return TrainingRecord(
        seconds=seconds,
        train_rows=rows,
        train_loss=mean_loss(trainer.state.log_history),
        arguments=trainer.args.to_dict(),
        attention=attention_implementation(shared),
        parameters=count_parameters(model)._asdict(),
        selection=selection_record(
            selection or Selection(kind="last"),
            trainer.state,
            selecting.metric if selecting else None,
        ),
        steps_per_task=counts,
        resumed_from=int(Path(resume).name.removeprefix("checkpoint-")) if resume else None,
        report=trainer.log,
    )


def _keep_tensorboard_logs(trainer: Trainer, logs: Path) -> None:
    """Point Trainer's TensorBoard writer (where ``report_to`` has it) at `logs`, which the
    phase keeps: its default is under the output directory, ``checkpoints/``, which a
    finished phase deletes. The writer reads ``logging_dir`` when it opens, at training's
    start and again for figures logged after training's end."""
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback):
            callback.logging_dir = str(logs)


def _selection_setup(
    members: Sequence[PhaseTask],
    data: DataLocator,
    tokenizer: Any,
    models: dict[str, PreTrainedModel],
    selection: Selection | None,
    aggregate: DevAggregate | None,
) -> SelectionSetup | None:
    """What Trainer needs to select the phase's weights on its dev sets; None: keep the last."""
    if selection is None or not selection.best:
        return None
    assert selection.rows is not None
    subsets = [dev_subset(member, data, tokenizer, selection.rows) for member in members]
    if len(subsets) == 1:
        return single_task_setup(subsets[0], selection)
    return multitask_setup(subsets, models, selection, aggregate or DevAggregate())


def last_complete_checkpoint(checkpoints: Path) -> str | None:
    """The newest Trainer checkpoint that was written to the end, to resume from.

    Trainer writes ``checkpoint-N/`` in place, its ``trainer_state.json`` last, and only then
    deletes the one before; a kill during the save leaves a partial ``checkpoint-N`` beside a
    whole older one. `transformers.trainer_utils.get_last_checkpoint` would pick the partial
    one (by number alone), and every rerun would then fail on it.
    """
    whole = [p for p in checkpoints.glob("checkpoint-*") if (p / TRAINER_STATE_NAME).is_file()]
    numbered = [path for path in whole if path.name.removeprefix("checkpoint-").isdigit()]
    if not numbered:
        return None
    return str(max(numbered, key=lambda path: int(path.name.removeprefix("checkpoint-"))))


def _multitask_setup(
    members: Sequence[PhaseTask],
    prepared: Sequence[tuple[Any, int]],
    model: MultiTaskModel,
    tokenizer: Any,
    hp: Hyperparameters,
    seed: int,
    checkpoints: Path,
    options: RunOptions,
    sampler: Sampler | None,
    chosen: dict[str, Any],
) -> tuple[dict[str, Any], Any, dict[str, int]]:
    """Trainer's model, data and arguments for several tasks sharing one encoder.

    The phase lasts `epochs` × jiant's epoch (the sum over tasks of their capped feature
    counts in effective batches), as max_steps: the stream has no length of its own to
    count epochs by.
    """
    sampler = sampler or DEFAULT_SAMPLER
    features = {
        m.task.name: model_inputs(table, model.head(m.task.name))
        for m, (table, _) in zip(members, prepared, strict=True)
    }
    sizes = {name: table.num_rows for name, table in features.items()}
    steps = max(1, math.ceil(hp.epochs * epoch_steps(sampler, sizes, hp.batch_size)))
    schedule = TaskSchedule.draw(sampler, sizes, steps, seed)
    setup = {
        "model": model,
        "train_dataset": TaskBlocks(features, schedule.tasks, hp.batch_size, seed),
        "data_collator": TaskCollator([m.trained_task.head.collator(tokenizer) for m in members]),
    }
    args = training_arguments(
        checkpoints, hp, seed, options,
        max_steps=steps,
        remove_unused_columns=False,  # the stream holds model inputs only
        ddp_find_unused_parameters=True,  # a step leaves every other task's head unused
        # Each process reads the stream and keeps its slice of every micro-batch (collated
        # on its own), rather than the main process collating every slice and concatenating
        # them: slices of one task still pad to different lengths.
        accelerator_config={"dispatch_batches": False},
        **chosen,
    )  # fmt: skip
    return setup, args, schedule.counts()


@contextmanager
def model_errors(source: ModelSource) -> Iterator[None]:
    """Turn a failed model or tokenizer load into one line that says how to fix it."""
    try:
        yield
    except (OSError, ValueError) as error:
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else type(error).__name__
        if "trust_remote_code" in text and not source.trust_remote_code:
            raise StiltsError(
                f"model {source.name!r} needs its own code to load, which stilts runs only "
                "when told: pass --trust-remote-code (in a recipe: model.trust_remote_code: "
                "true) if you trust its author"
            ) from None
        raise StiltsError(
            f"cannot load model {source.name!r}: {first_line} — without hub access, pass a "
            f"local copy: --model DIR (`hf download {source.name} --local-dir DIR` on a "
            "machine with access, or any directory written by save_pretrained)"
        ) from None
