"""Run a finished phase's model over a task's evaluation data and score each language."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from stilts.arguments import RunOptions, training_arguments
from stilts.data import DataLocator
from stilts.features import features
from stilts.task import Hyperparameters, Role, Task


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
) -> tuple[dict[str, dict[str, float]], float]:
    """`task`'s metric per language for `role`, each from that language's own rows; seconds.

    Batches are padded to their own longest row by the head's collator, not to max length.
    """
    from transformers import AutoTokenizer, Trainer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    scores = {}
    with tempfile.TemporaryDirectory(prefix="stilts-eval-") as scratch:  # prediction saves nothing
        trainer = Trainer(
            model=task.head.load_trained(str(model_dir), trust_remote_code=trust_remote_code),
            args=training_arguments(Path(scratch), hp, seed, options, train=False),
            data_collator=task.head.collator(tokenizer),
            processing_class=tokenizer,
        )
        for language in languages:
            rows = features(task, role, language, data, tokenizer, hp, seed)
            output = trainer.predict(rows)
            predictions = task.head.decode(output.predictions)
            scores[language] = task.metric(predictions, output.label_ids, language)
    return scores, time.perf_counter() - started
