"""From a task's loaded rows to model features: subsampling and tokenisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stilts.tasks.data import DataLocator, Role
from stilts.tasks.heads.common import ROW
from stilts.tasks.task import Hyperparameters, Task

if TYPE_CHECKING:
    import datasets


def rows(
    task: Task, role: Role, language: str, data: DataLocator, hp: Hyperparameters, seed: int
) -> datasets.Dataset:
    """The loaded rows of `task` for `role` in `language`, subsampled if asked."""
    limit = hp.max_train_examples if role == "train" else hp.max_eval_examples
    return subsample(task.read(role, language, data), limit, seed)


def subsample(table: datasets.Dataset, limit: int | None, seed: int) -> datasets.Dataset:
    """`limit` rows of `table` drawn with `seed`, or all of them."""
    if limit is not None and table.num_rows > limit:
        table = table.shuffle(seed=seed).select(range(limit))
    return table


def tokenized(
    task: Task, table: datasets.Dataset, tokenizer: Any, max_length: int
) -> datasets.Dataset:
    """Model features of `table`'s rows; each feature's `ROW` names the row it came from."""

    def tokenize(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        features = task.tokenize(batch, tokenizer, max_length)
        local = features.pop(ROW, range(len(indices)))
        features[ROW] = [indices[i] for i in local]
        return features

    return table.map(tokenize, batched=True, with_indices=True, remove_columns=table.column_names)
