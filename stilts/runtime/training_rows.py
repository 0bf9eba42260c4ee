"""A phase's training rows, read: a task's own rows, its translations, or some of its groups.

What the rows are is `stilts.experiment.training_data.TrainingData`'s to say (and to
fingerprint); reading them is here, beside the rest of the data loading that training does.
"""

from __future__ import annotations

import datasets

from stilts.errors import StiltsError
from stilts.experiment.training_data import TrainingData, equal_shares, groups_of, translated_of
from stilts.runtime.features import subsample
from stilts.tasks.data import DataLocator
from stilts.tasks.task import Task


def training_rows(training: TrainingData, task: Task, data: DataLocator) -> datasets.Dataset:
    """Every training row of the chosen languages or groups, in one table (the original rows,
    then the translations, in the order given)."""
    if training.groups:
        return _concatenated([groups_of(task).load(name, data) for name in training.groups])
    tables = []
    for language in training.resolved(task):
        if language == task.train_language:
            tables.append(task.read("train", language, data))
        elif training.files is not None:  # the task's own loader over a translated mirror
            locator = training.locator(language, data)
            tables.append(task.read("train", task.train_language, locator))
        else:
            tables.append(translated_of(task).load("train", language, data))
    return _concatenated(tables)


def sampled_training_rows(
    training: TrainingData, task: Task, data: DataLocator, limit: int | None, seed: int
) -> datasets.Dataset:
    """`limit` training rows drawn with `seed` (all rows without a limit); from groups, an
    equal share of the limit from each, so phases on one group and on five see as many rows."""
    if not training.groups:
        return subsample(training_rows(training, task, data), limit, seed)
    tables = [groups_of(task).load(name, data) for name in training.groups]
    if limit is not None:
        shares = equal_shares(limit, len(tables))
        for name, table, share in zip(training.groups, tables, shares, strict=True):
            if table.num_rows < share:
                raise StiltsError(
                    f"{task.name} group {name} has {table.num_rows} training rows, fewer than "
                    f"its share ({share}) of max_train_examples {limit} over {len(tables)} "
                    "groups; lower max_train_examples or add groups"
                )
        tables = [subsample(t, n, seed) for t, n in zip(tables, shares, strict=True)]
    return _concatenated(tables)


def _concatenated(tables: list[datasets.Dataset]) -> datasets.Dataset:
    features = tables[0].features
    return datasets.concatenate_datasets([table.cast(features) for table in tables])
