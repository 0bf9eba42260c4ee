"""One phase: a task's head on a starting encoder, trained with transformers.Trainer.

Everything here goes through Trainer's public arguments and callbacks, so the same phase runs
on a CPU, one GPU, or many processes under `torchrun` / `accelerate launch`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stilts.arguments import RunOptions, training_arguments
from stilts.data import DataLocator
from stilts.errors import StiltsError
from stilts.features import subsample, tokenized
from stilts.store import publish_dir
from stilts.task import Hyperparameters, Task
from stilts.translation import TrainingData

if TYPE_CHECKING:
    from transformers import PreTrainedModel


@dataclass(frozen=True)
class ModelSource:
    """Where a phase's encoder comes from: a hub id (+ revision) or a local directory."""

    name: str
    revision: str | None = None
    trust_remote_code: bool = False


def load_tokenizer(source: ModelSource) -> Any:
    from transformers import AutoTokenizer

    with model_errors(source):
        return AutoTokenizer.from_pretrained(
            source.name, revision=source.revision, trust_remote_code=source.trust_remote_code
        )


def model_with_fresh_head(task: Task, source: ModelSource) -> PreTrainedModel:
    """`task`'s head model on the encoder of `source`, the head newly initialised."""
    from transformers import AutoConfig, AutoModel

    with model_errors(source):
        kwargs = {"revision": source.revision, "trust_remote_code": source.trust_remote_code}
        config = AutoConfig.from_pretrained(source.name, **kwargs)
        encoder = AutoModel.from_pretrained(source.name, **kwargs)
    return task.head.model_with_encoder(config, encoder)


@dataclass(frozen=True)
class TrainingRecord:
    seconds: float
    train_rows: int
    train_loss: float
    arguments: dict[str, Any]


def train_phase(
    task: Task,
    source: ModelSource,
    data: DataLocator,
    hp: Hyperparameters,
    seed: int,
    phase_dir: Path,
    options: RunOptions,
    training: TrainingData | None = None,
) -> TrainingRecord:
    """Train `task` from `source` and publish model + tokenizer to ``phase_dir/model``.

    Resumes from the newest Trainer checkpoint in ``phase_dir/checkpoints`` if a killed run
    left one. Only the main process publishes.
    """
    from transformers import PrinterCallback, Trainer, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    started = time.perf_counter()
    tokenizer = load_tokenizer(source)
    training = training or TrainingData()
    table = subsample(training.rows(task, data), hp.max_train_examples, seed)
    train_set = tokenized(task, table, tokenizer, hp.max_length)
    set_seed(seed)  # the fresh head's initialisation is part of the experiment
    model = model_with_fresh_head(task, source)
    checkpoints = phase_dir / "checkpoints"
    trainer = Trainer(
        model=model,
        args=training_arguments(checkpoints, hp, seed, options),
        train_dataset=train_set,
        data_collator=task.head.collator(tokenizer),
        processing_class=tokenizer,
        callbacks=list(options.callbacks),
    )
    trainer.remove_callback(PrinterCallback)  # logs stay in trainer.state.log_history
    resume = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    output = trainer.train(resume_from_checkpoint=resume)
    staging = phase_dir / "model.partial"
    trainer.save_model(str(staging))  # gathers sharded (FSDP/DeepSpeed) weights; main writes
    if trainer.is_world_process_zero():
        # A pickle; the same arguments go into phase.json as JSON instead.
        (staging / "training_args.bin").unlink(missing_ok=True)
        publish_dir(staging, phase_dir / "model")
    trainer.accelerator.wait_for_everyone()
    return TrainingRecord(
        seconds=time.perf_counter() - started,
        train_rows=table.num_rows,
        train_loss=float(output.training_loss),
        arguments=trainer.args.to_dict(),
    )


@contextmanager
def model_errors(source: ModelSource) -> Iterator[None]:
    """Turn a failed model or tokenizer load into one line that says how to fix it."""
    try:
        yield
    except (OSError, ValueError) as error:
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else type(error).__name__
        raise StiltsError(
            f"cannot load model {source.name!r}: {first_line} — without hub access, pass a "
            f"local copy: --model DIR (`hf download {source.name} --local-dir DIR` on a "
            "machine with access, or any directory written by save_pretrained)"
        ) from None
