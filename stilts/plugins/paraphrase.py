"""Paraphrase identification: PAWS-X (7 languages, XTREME target).

Trained on the English PAWS-X training set, evaluated zero-shot on each language's test set.
XTREME stores the label as the string "0" (not a paraphrase) or "1" (paraphrase).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.data import DataLocator, HubSource
from stilts.errors import StiltsError
from stilts.eval.metrics import accuracy
from stilts.heads import SequenceClassification
from stilts.task import Hyperparameters, Role, Task

if TYPE_CHECKING:
    import datasets

PAWSX_HEAD = SequenceClassification(
    labels=("different", "paraphrase"),
    text_columns=("sentence1", "sentence2"),
    aliases={"0": "different", "1": "paraphrase"},
)
PAWSX_LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
_SPLITS: dict[str, str] = {"train": "train", "dev": "validation", "test": "test"}


def pawsx_source(language: str) -> HubSource:
    """One language's PAWS-X config of google/xtreme, read through its parquet conversion."""
    return HubSource(
        repo="google/xtreme",
        revision="refs/convert/parquet",
        files=f"PAWS-X.{language}/{{split}}/*.parquet",
    )


def load_pawsx(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if language not in PAWSX_LANGUAGES:
        raise StiltsError(
            f"pawsx has no language {language!r} (it has {', '.join(PAWSX_LANGUAGES)})"
        )
    source, split = pawsx_source(language), _SPLITS[role]
    table = data.load(source, split, columns=PAWSX_HEAD.columns)
    where = f"{data.where(source)} {split}"
    labels = PAWSX_HEAD.label_ids(table["label"], where=where)
    return table.select_columns(list(PAWSX_HEAD.text_columns)).add_column("label", labels)


pawsx = Task(
    name="pawsx",
    summary="PAWS-X paraphrase identification: train in English, test zero-shot in 7 languages",
    head=PAWSX_HEAD,
    languages=PAWSX_LANGUAGES,
    sources=tuple(pawsx_source(language) for language in PAWSX_LANGUAGES),
    load=load_pawsx,
    metric=accuracy,
    main_metric="accuracy",
    defaults=Hyperparameters(epochs=5),
)
