"""What the standard task formats share: built-in plugins and declared tasks read and score
them the same way.

A task declared in a recipe is built from these pieces, as are the built-in tasks of its
format, so a declared task behaves like a built-in one. They live in the core rather than in
a plugin so that dependencies point one way, from plugins to the core: declared tasks need
no plugin module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError
from stilts.eval.qa import qa_score
from stilts.tasks.task import Hyperparameters, Metric

if TYPE_CHECKING:
    import datasets

    from stilts.tasks.data import DataLocator, HubSource

TAGGING_DEFAULTS = Hyperparameters(epochs=10)
"""The study's UD-POS and PAN-X settings."""
QA_DEFAULTS = Hyperparameters(epochs=2, max_length=384, batch_size=16)
"""The study's extractive-QA settings."""

Row = dict[str, Any]
Formatter = Callable[[Row], tuple[str, list[str], int]]
"""One raw row -> (context, choices, index of the right choice; -1 when unlabelled)."""


def with_task_score(scores: Metric) -> Metric:
    """`scores` plus XTREME's QA task score, the mean of exact match and F1."""

    def metric(
        predictions: Sequence[Any], references: Sequence[Any], language: str
    ) -> dict[str, float]:
        result = scores(predictions, references, language)
        return {**result, "em_f1": qa_score(result)}

    return metric


def choice_rows(
    data: DataLocator,
    source: HubSource,
    split: str,
    columns: tuple[str, ...],
    formatter: Formatter,
    *,
    optional: tuple[str, ...] = (),
) -> datasets.Dataset:
    """A table's rows in the multiple-choice head's columns, each made by `formatter` from the
    table's own `columns` (one shared reader for every choice dataset's layout); unlabelled
    rows are dropped (`optional` columns may be empty)."""
    import datasets

    table = data.load(source, split, columns=columns, optional=optional)
    where = f"{data.where(source)} {split}"
    rows: dict[str, list[Any]] = {"context": [], "choices": [], "label": []}
    for row in table.select_columns(list(columns)):
        try:
            context, choices, label = formatter(row)
        except (KeyError, ValueError) as error:
            raise StiltsError(f"{where}: cannot read row {row!r} ({error})") from None
        if label < 0:
            continue
        if label >= len(choices):
            raise StiltsError(f"{where}: label {label} of a row with {len(choices)} choices")
        rows["context"].append(context)
        rows["choices"].append(choices)
        rows["label"].append(label)
    return datasets.Dataset.from_dict(rows)
