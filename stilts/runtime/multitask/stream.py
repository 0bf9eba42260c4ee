"""The training examples of a multi-task phase, in the order its task schedule dictates.

Trainer draws micro-batches of `per_device × processes` consecutive examples from an iterable
dataset (accelerate hands each process its slice of one such batch) and accumulates
`accumulation` of them into one optimiser step. So a stream made of blocks of
`effective batch` consecutive examples of one task gives every optimiser step, on every
process, exactly one task: the schedule's task for that step. The order is a function of the
seed alone, so a resumed run skips the batches it has seen and continues identically.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedModel

TASK_INDEX = "task_index"
EVAL_LABELS = "selection_labels"
"""A batch's copy of its head's labels (`MultiTaskModel.forward`), for model selection."""


class TaskBlocks(torch.utils.data.IterableDataset[dict[str, Any]]):
    """`len(schedule)` blocks of `block` examples; block i from task `schedule[i]`.

    Each task's examples come in a fresh seeded permutation per pass over its data, so a
    task drawn more often than its size allows is cycled, never truncated mid-pass.
    """

    def __init__(
        self,
        features: Mapping[str, datasets.Dataset],
        schedule: Sequence[str],
        block: int,
        seed: int,
    ) -> None:
        super().__init__()
        self.features = dict(features)
        self.tasks = tuple(self.features)
        self.schedule = tuple(schedule)
        self.block = block
        self.seed = seed

    def __len__(self) -> int:
        return len(self.schedule) * self.block

    def __iter__(self) -> Iterator[dict[str, Any]]:
        orders = {
            task: _cycled_permutations(self.features[task].num_rows, self.seed, index)
            for index, task in enumerate(self.tasks)
        }
        for task in self.schedule:
            table, index = self.features[task], self.tasks.index(task)
            for row in (next(orders[task]) for _ in range(self.block)):
                yield {**table[row], TASK_INDEX: index}


def _cycled_permutations(size: int, seed: int, stream: int) -> Iterator[int]:
    rng = np.random.default_rng([seed, stream])
    while True:
        yield from rng.permutation(size).tolist()


class TaskCollator:
    """Collates a batch of one task with that task's own collator and marks its task."""

    def __init__(self, collators: Sequence[Any]) -> None:
        self.collators = tuple(collators)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        indices = {example.pop(TASK_INDEX) for example in examples}
        if len(indices) != 1:  # the stream's blocks guarantee it; a mixed batch is a bug
            raise RuntimeError(f"a multi-task batch mixes tasks {sorted(indices)}")
        (index,) = indices
        batch = dict(self.collators[index](examples))
        batch[TASK_INDEX] = torch.full((len(examples),), index, dtype=torch.long)
        # Heads that name their labels otherwise (QA's positions) reduce their outputs
        # without them: the task index stands in.
        batch[EVAL_LABELS] = batch.get("labels", batch[TASK_INDEX])
        return batch


def model_inputs(features: datasets.Dataset, model: PreTrainedModel) -> datasets.Dataset:
    """`features` without the columns `model.forward` does not take (row bookkeeping).

    Trainer drops them itself for a single model; a multi-task model's forward takes any
    keyword, so the stream must select each task's own inputs.
    """
    accepted = set(inspect.signature(model.forward).parameters)
    return features.select_columns([c for c in features.column_names if c in accepted])
