"""How stilts settings become transformers.TrainingArguments."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState
from transformers import TrainingArguments

from stilts.errors import StiltsError
from stilts.experiment.precision import FULL, Resolved, trainer_precision
from stilts.runtime.options import RunOptions
from stilts.tasks.task import Hyperparameters


def process_state() -> PartialState:
    """accelerate's view of this process: its rank, the number of processes, its device.

    Processes launched on a machine without a GPU (`torchrun` with gloo) are a distributed run
    to accelerate only when it is told to use the CPU (`accelerate launch --cpu` tells it);
    otherwise each believes it runs alone, trains alone and writes alone. Every stilts use of
    accelerate's state goes through here, and Trainer is told the same (`use_cpu`).
    """
    return PartialState(cpu=_cpu_launch())


def _cpu_launch() -> bool:
    """Several processes and no GPU: a CPU-only distributed launch."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def training_arguments(
    out_dir: Path,
    hp: Hyperparameters,
    seed: int,
    options: RunOptions,
    *,
    precision: Resolved = FULL,
    group_by_length: bool = False,
    report_to: Sequence[str] = ("none",),
    run_name: str | None = None,
    train: bool = True,
    **extra: Any,
) -> Any:
    """Trainer arguments for a phase; effective batch = per-device × processes × accumulation.

    Trainer evaluates in the precision it trains in (accelerate autocasts the model's forward
    either way). `group_by_length` groups training batches only: prediction reads rows in
    order. Trackers (`report_to`, under `run_name`) watch training; prediction reports to
    none. `extra` are further TrainingArguments, over these (a multi-task phase sets its
    number of steps; model selection its evaluations and checkpoints).
    """
    processes = process_state().num_processes
    per_device = options.per_device_batch_size or max(1, hp.batch_size // processes)
    accumulation, remainder = divmod(hp.batch_size, per_device * processes)
    if remainder or accumulation == 0:
        raise StiltsError(
            f"batch size {hp.batch_size} is not a multiple of per-device batch {per_device} × "
            f"{processes} process(es); choose --per-device-batch-size to divide it"
        )
    arguments = dict(
        output_dir=str(out_dir),
        learning_rate=hp.learning_rate,
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=per_device * 2,
        gradient_accumulation_steps=accumulation,
        num_train_epochs=hp.epochs,
        warmup_steps=hp.warmup_ratio,  # a float below 1 is a ratio of all steps
        weight_decay=hp.weight_decay,
        seed=seed,
        eval_strategy="no",
        save_strategy="steps" if train else "no",
        save_steps=options.checkpoint_steps,
        save_total_limit=1,
        # A resumed phase continues its callbacks' counts: patience, its time (`totals`)
        restore_callback_states_from_checkpoint=train,
        train_sampling_strategy="group_by_length" if group_by_length and train else "random",
        torch_compile=options.compile,
        activation_checkpointing=options.gradient_checkpointing and train,
        logging_steps=50,
        report_to=list(report_to) if train else "none",
        run_name=run_name,
        disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),
        # Trainer takes bf16 without a GPU only when told it runs on the CPU
        use_cpu=_cpu_launch() or (precision == "bf16" and not torch.cuda.is_available()),
    )
    return TrainingArguments(**{**arguments, **trainer_precision(precision), **extra})
