"""Run a finished phase's model over a task's evaluation data and score each language."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoTokenizer, Trainer

from stilts.eval.submission import Submission
from stilts.runtime.arguments import RunOptions, training_arguments
from stilts.runtime.features import rows, tokenized
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
    trust_remote_code: bool = False,
) -> Evaluation:
    """`task`'s metric per language for `role`, each from that language's own rows.

    Batches are padded to their own longest row by the head's collator, not to max length;
    the head decodes the outputs back to one prediction per row (windows merged), and the
    task's metric compares them with the rows' gold answers.
    """
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    scores, submissions = {}, {}
    with tempfile.TemporaryDirectory(prefix="stilts-eval-") as scratch:  # prediction saves nothing
        trainer = Trainer(
            model=load_trained(task, model_dir, trust_remote_code=trust_remote_code),
            args=training_arguments(Path(scratch), hp, seed, options, train=False),
            data_collator=task.head.collator(tokenizer),
            processing_class=tokenizer,
            preprocess_logits_for_metrics=task.head.reduce_outputs,
        )
        for language in languages:
            table = rows(task, role, language, data, hp, seed)
            inputs = tokenized(task, table, tokenizer, hp.max_length)
            output = trainer.predict(inputs)
            predictions = task.head.decode(output.predictions, inputs, table)
            scores[language] = task.metric(predictions, task.head.references(table), language)
            submissions[language] = task.submission_file(predictions, table)
    return Evaluation(scores, submissions, time.perf_counter() - started)
