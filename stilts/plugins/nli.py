"""Natural language inference: MNLI (English, intermediate) and XNLI (15 languages, target).

As in the reference study and XTREME, XNLI has no training set of its own: its English
training data is MNLI, and it is evaluated zero-shot on the XNLI test sets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.data import DataLocator, HubSource
from stilts.errors import StiltsError
from stilts.eval.metrics import accuracy
from stilts.heads import SequenceClassification
from stilts.plugins.english import class_label_loader, glue_source
from stilts.task import Hyperparameters, Role, Task

if TYPE_CHECKING:
    import datasets

NLI_HEAD = SequenceClassification(
    labels=("entailment", "neutral", "contradiction"),
    text_columns=("premise", "hypothesis"),
    aliases={"contradictory": "contradiction"},  # the raw XNLI spelling
)

GLUE_MNLI = glue_source("mnli")
# google/xtreme is a script dataset; datasets >= 4 reads its parquet conversion branch.
XTREME_XNLI = HubSource(
    repo="google/xtreme", revision="refs/convert/parquet", files="XNLI/{split}/*.parquet"
)

XNLI_LANGUAGES = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

_MNLI_SPLITS: dict[Role, str] = {
    # GLUE's test labels are hidden (-1): the mismatched dev set serves as MNLI's test.
    "train": "train",
    "dev": "validation_matched",
    "test": "validation_mismatched",
}


load_mnli = class_label_loader("mnli", GLUE_MNLI, NLI_HEAD, _MNLI_SPLITS)


def load_xnli(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if role == "train":
        return load_mnli("train", language, data)
    split = "validation" if role == "dev" else "test"
    where = f"{data.where(XTREME_XNLI)} {split}"
    table = data.load(
        XTREME_XNLI, split, columns=("language", "sentence1", "sentence2", "gold_label")
    )
    table = table.filter(
        lambda langs: [x == language for x in langs], input_columns="language", batched=True
    )
    if table.num_rows == 0:
        raise StiltsError(f"{where} has no rows for language {language!r}")
    labels = NLI_HEAD.label_ids(table["gold_label"], where=where)
    table = table.select_columns(["sentence1", "sentence2"])
    table = table.rename_columns({"sentence1": "premise", "sentence2": "hypothesis"})
    return table.add_column("label", labels)


mnli = Task(
    name="mnli",
    summary="MultiNLI, English natural language inference (GLUE)",
    head=NLI_HEAD,
    languages=("en",),
    sources=(GLUE_MNLI,),
    load=load_mnli,
    metric=accuracy,
    main_metric="accuracy",
    defaults=Hyperparameters(epochs=2),
)

xnli = Task(
    name="xnli",
    summary="Cross-lingual NLI: train on MNLI, test zero-shot in 15 languages (XTREME)",
    head=NLI_HEAD,
    languages=XNLI_LANGUAGES,
    sources=(GLUE_MNLI, XTREME_XNLI),
    load=load_xnli,
    metric=accuracy,
    main_metric="accuracy",
    defaults=Hyperparameters(epochs=2),
)
