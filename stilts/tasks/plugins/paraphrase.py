"""Paraphrase identification: QQP (English, intermediate) and PAWS-X (7 languages, target).

PAWS-X is trained on its English training set and evaluated zero-shot on each language's test
set; XTREME stores its label as the string "0" (not a paraphrase) or "1" (paraphrase).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.eval.metrics import accuracy
from stilts.eval.submission import label_lines
from stilts.tasks.data import DataLocator, HubSource, Role
from stilts.tasks.heads import SequenceClassification
from stilts.tasks.plugins.english import class_label_loader, glue_source
from stilts.tasks.plugins.xtreme import xtreme_source
from stilts.tasks.task import Hyperparameters, Task

if TYPE_CHECKING:
    import datasets

QQP_HEAD = SequenceClassification(
    labels=("not_duplicate", "duplicate"), text_columns=("question1", "question2")
)
GLUE_QQP = glue_source("qqp")  # GLUE hides the test labels: the dev set serves as test

PAWSX_HEAD = SequenceClassification(
    labels=("different", "paraphrase"),
    text_columns=("sentence1", "sentence2"),
    aliases={"0": "different", "1": "paraphrase"},
)
PAWSX_LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")


def pawsx_source(language: str) -> HubSource:
    """One language's PAWS-X config of google/xtreme."""
    return xtreme_source(f"PAWS-X.{language}")


def load_pawsx(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    source = pawsx_source(language)
    split = source.split(role)
    table = data.load(source, split, columns=PAWSX_HEAD.columns)
    where = f"{data.where(source)} {split}"
    labels = PAWSX_HEAD.label_ids(table["label"], where=where)
    return table.select_columns(list(PAWSX_HEAD.text_columns)).add_column("label", labels)


qqp = Task(
    name="qqp",
    summary="Quora Question Pairs, English duplicate-question detection (GLUE)",
    head=QQP_HEAD,
    languages=("en",),
    sources=(GLUE_QQP,),
    load=class_label_loader("qqp", GLUE_QQP, QQP_HEAD),
    metric=accuracy,
    main_metric="accuracy",
)

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
    submission=label_lines(("0", "1")),  # XTREME's PAWS-X files keep the raw labels
)
