"""Run a finished phase's model over a task's evaluation data and score each language."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoTokenizer, Trainer

from stilts.eval.submission import Submission
from stilts.experiment.precision import FULL, Resolved
from stilts.runtime.arguments import training_arguments
from stilts.runtime.features import rows, tokenized
from stilts.runtime.options import RunOptions
from stilts.runtime.phase_model import load_trained
from stilts.tasks.data import DataLocator, Role
from stilts.tasks.task import Hyperparameters, Task


@dataclass(frozen=True)
class Evaluation:
    """Per-language scores, the predictions as official submission files, and the time."""

    scores: dict[str, dict[str, float]]
    submissions: dict[str, Submission]
    seconds: float


def evaluate_languages(
    task: Task,
    model_dir: Path,
    role: Role,
    languages: Iterable[str],
    data: DataLocator,
    hp: Hyperparameters,
    seed: int,
    options: RunOptions,
    *,
    precision: Resolved = FULL,
    trust_remote_code: bool = False,
) -> Evaluation:
    """`task`'s metric per language for `role`, each from that language's own rows.

    The model reads the rows longest first (`length_order`), so that each batch, padded to
    its own longest row by the head's collator, is nearly all real tokens; the outputs are
    put back in row order before the head decodes them to one prediction per row (windows
    merged) and the task's metric compares them with the rows' gold answers. Trainer runs
    in the phase's `precision`.
    """
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    scores, submissions = {}, {}
    with tempfile.TemporaryDirectory(prefix="stilts-eval-") as scratch:  # prediction saves nothing
        trainer = Trainer(
            model=load_trained(task, model_dir, trust_remote_code=trust_remote_code),
            args=training_arguments(
                Path(scratch), hp, seed, options, precision=precision, train=False
            ),
            data_collator=task.head.collator(tokenizer),
            processing_class=tokenizer,
            preprocess_logits_for_metrics=task.head.reduce_outputs,
        )
        for language in languages:
            table = rows(task, role, language, data, hp, seed)
            inputs = tokenized(task, table, tokenizer, hp.max_length)
            order = length_order(inputs["input_ids"])
            output = trainer.predict(inputs.select(order))
            outputs = in_row_order(output.predictions, order)
            predictions = task.head.decode(outputs, inputs, table)
            scores[language] = task.metric(predictions, task.head.references(table), language)
            submissions[language] = task.submission_file(predictions, table)
    return Evaluation(scores, submissions, time.perf_counter() - started)


def length_order(input_ids: Sequence[Sequence[Any]]) -> np.ndarray:
    """Feature indices, longest first (ties in row order).

    Sorted so, batches of `per_device_eval_batch_size` hold rows of nearly one length, and
    the model computes little padding; longest first, so a batch too large for memory fails
    at once. A multiple-choice feature is as long as its longest choice: every choice is
    padded to it.
    """
    lengths = np.fromiter((_length(ids) for ids in input_ids), dtype=np.int64, count=len(input_ids))
    return np.argsort(-lengths, kind="stable")


def in_row_order(outputs: Any, order: np.ndarray) -> Any:
    """`outputs` of features read in `order` (arrays, or tuples or lists of them, one row
    per feature, as `Trainer.predict` returns them), back in feature order."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    if isinstance(outputs, tuple | list):
        return type(outputs)(in_row_order(output, order) for output in outputs)
    return outputs[inverse]


def padding_cost(lengths: Sequence[int], batch_size: int) -> float:
    """Tokens a model computes over `lengths` read in batches of `batch_size` in this order,
    each padded to its longest row, per real token (1.0: no padding)."""
    padded = sum(
        max(lengths[start : start + batch_size]) * len(lengths[start : start + batch_size])
        for start in range(0, len(lengths), batch_size)
    )
    return padded / sum(lengths)


def _length(ids: Sequence[Any]) -> int:
    if ids and isinstance(ids[0], Sequence):
        return max(len(choice) for choice in ids)
    return len(ids)
