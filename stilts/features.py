"""From a task's loaded rows to model features: subsampling and tokenisation."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from stilts.data import DataLocator
from stilts.task import Hyperparameters, Role, Task

if TYPE_CHECKING:
    import datasets


def features(
    task: Task,
    role: Role,
    language: str,
    data: DataLocator,
    tokenizer: Any,
    hp: Hyperparameters,
    seed: int,
) -> datasets.Dataset:
    """The tokenised rows of `task` for `role` in `language`, subsampled if asked."""
    table = task.load(role, language, data)
    limit = hp.max_train_examples if role == "train" else hp.max_eval_examples
    if limit is not None and table.num_rows > limit:
        table = table.shuffle(seed=seed).select(range(limit))
    tokenize = partial(task.tokenize, tokenizer=tokenizer, max_length=hp.max_length)
    return table.map(tokenize, batched=True, remove_columns=table.column_names)
