"""SST-2 (GLUE) sentiment classification: a complete third-party stilts task plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.api import (
    DEV_AS_TEST,
    DataLocator,
    HubSource,
    Hyperparameters,
    Role,
    SequenceClassification,
    Task,
    accuracy,
)

if TYPE_CHECKING:  # `stilts tasks` imports this module: keep it light
    import datasets

SST2 = HubSource(
    repo="nyu-mll/glue",
    revision="a3f3ab759b9d7018046ce361f115ef38276d2e1e",
    files="sst2/{split}-*.parquet",
    splits=DEV_AS_TEST,  # GLUE hides the test labels: the validation split serves as test
)
HEAD = SequenceClassification(labels=("negative", "positive"), text_columns=("sentence",))


def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    table = data.load(SST2, SST2.split(role), columns=HEAD.columns)
    return table.select_columns(list(HEAD.columns))


task = Task(
    name="sst2",
    summary="Stanford Sentiment Treebank, binary sentiment (GLUE)",
    head=HEAD,
    languages=("en",),
    sources=(SST2,),
    load=load,
    metric=accuracy,
    main_metric="accuracy",
    defaults=Hyperparameters(epochs=3),
)
