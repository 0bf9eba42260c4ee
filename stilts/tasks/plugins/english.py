"""Loading for English-only tasks whose hub tables carry a ClassLabel `label` column (GLUE…)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.tasks.data import DEV_AS_TEST, DataLocator, HubSource, Role, RoleSplits
from stilts.tasks.heads import SequenceClassification
from stilts.tasks.task import Loader

if TYPE_CHECKING:
    import datasets


def glue_source(config: str, splits: RoleSplits = DEV_AS_TEST) -> HubSource:
    """One GLUE task's parquet files in nyu-mll/glue, pinned to the parquet conversion.

    GLUE hides its test labels (all -1), so by default the dev set serves as test.
    """
    return HubSource(
        repo="nyu-mll/glue",
        revision="a3f3ab759b9d7018046ce361f115ef38276d2e1e",  # "Convert dataset to Parquet (#16)"
        files=f"{config}/{{split}}-*.parquet",
        splits=splits,
    )


def class_label_loader(task: str, source: HubSource, head: SequenceClassification) -> Loader:
    """A loader reading the split of `source` that serves a role, checked against the head's
    label set.

    Rows without a gold label (-1, as in GLUE's hidden test sets and SNLI) are dropped.
    """

    def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        split = source.split(role)
        table = data.load(source, split, columns=head.columns)
        check_label_names(table, head, f"{data.where(source)} {split}", task)
        table = table.select_columns(list(head.columns))
        return table.filter(
            lambda labels: [x >= 0 for x in labels], input_columns="label", batched=True
        )

    return load


def check_label_names(
    table: datasets.Dataset, head: SequenceClassification, where: str, task: str
) -> None:
    """Refuse a table whose ClassLabel names differ from the head's (label ids would lie)."""
    names = getattr(table.features["label"], "names", None)
    if names is not None and tuple(names) != head.labels:
        raise StiltsError(
            f"{where}: label set {names} differs from {list(head.labels)}, which {task} "
            "expects; is this the task's own data?"
        )
