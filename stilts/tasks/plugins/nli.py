"""Natural language inference: MNLI, SNLI, ANLI+ (English, intermediate) and XNLI (target).

As in the reference study and XTREME, XNLI has no training set of its own: its English
training data is MNLI, and it is evaluated zero-shot on the XNLI test sets.

ANLI+ names its sources (ANLI's three rounds, SNLI, MNLI) and MNLI its five training genres
as groups of training rows, for the question of how diverse intermediate data should be.
MNLI's genres come from `nyu-mll/multi_nli`: GLUE's copy has no genre column.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.eval.metrics import accuracy
from stilts.tasks.data import DataLocator, HubSource, Role, RoleSplits
from stilts.tasks.heads import SequenceClassification
from stilts.tasks.plugins.english import check_label_names, class_label_loader, glue_source
from stilts.tasks.plugins.xtreme import xtreme_source
from stilts.tasks.task import Hyperparameters, Task, TrainingGroups, TranslatedData

if TYPE_CHECKING:
    import datasets

NLI_HEAD = SequenceClassification(
    labels=("entailment", "neutral", "contradiction"),
    text_columns=("premise", "hypothesis"),
    aliases={"contradictory": "contradiction"},  # the raw XNLI spelling
)

# GLUE's test labels are hidden (-1): the mismatched dev set serves as MNLI's test.
GLUE_MNLI = glue_source("mnli", RoleSplits(dev="validation_matched", test="validation_mismatched"))
XTREME_XNLI = xtreme_source("XNLI")

SNLI = HubSource(
    repo="stanfordnlp/snli",
    revision="cdb5c3d5eed6ead6e5a341c8e56e669bb666725b",  # "Convert dataset to Parquet (#6)"
    files="plain_text/{split}-*.parquet",
)
ANLI = HubSource(
    repo="facebook/anli",
    revision="8e4813d81f46d313dac7892e1c28076917cfcdf9",  # "Convert dataset to Parquet (#5)"
    files="plain_text/{split}-*.parquet",
)
ANLI_ROUNDS = ("r1", "r2", "r3")
ANLI_ROUND = {
    r: replace(ANLI, splits=RoleSplits(f"train_{r}", f"dev_{r}", f"test_{r}")) for r in ANLI_ROUNDS
}
"""ANLI read by round: each round has splits of its own in the one table family `ANLI`."""
MULTI_NLI = HubSource(
    repo="nyu-mll/multi_nli",
    revision="da70db2af9d09693783c3320c4249840212ee221",  # "Convert dataset to Parquet (#5)"
    files="data/{split}-*.parquet",
)
MNLI_GENRES = ("fiction", "government", "slate", "telephone", "travel")
"""The genres of MNLI's training set (the mismatched dev set has five others)."""

XNLI_LANGUAGES = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

load_mnli = class_label_loader("mnli", GLUE_MNLI, NLI_HEAD)
load_snli = class_label_loader("snli", SNLI, NLI_HEAD)
_ANLI_ROUND_LOADERS = {
    r: class_label_loader("anli_plus", source, NLI_HEAD) for r, source in ANLI_ROUND.items()
}


def load_anli_plus(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    """ANLI rounds 1-3 with, for training, all of SNLI and MNLI (the study's ANLI+).

    Model selection and testing use ANLI's own dev and test sets of the three rounds.
    """
    import datasets

    if role == "train":
        tables = [load_anli_plus_group(group, data) for group in ANLI_PLUS_GROUPS.names]
    else:
        tables = [load(role, language, data) for load in _ANLI_ROUND_LOADERS.values()]
    return datasets.concatenate_datasets(tables)


def load_anli_plus_group(group: str, data: DataLocator) -> datasets.Dataset:
    """The training rows of one of ANLI+'s sources: an ANLI round, SNLI or MNLI."""
    if group == "snli":
        return load_snli("train", "en", data)
    if group == "mnli":
        return load_mnli("train", "en", data)
    return _ANLI_ROUND_LOADERS[group.removeprefix("anli_")]("train", "en", data)


ANLI_PLUS_GROUPS = TrainingGroups(
    names=(*(f"anli_{r}" for r in ANLI_ROUNDS), "snli", "mnli"),
    sources=(ANLI, SNLI, GLUE_MNLI),
    load=load_anli_plus_group,
)


def load_mnli_genre(genre: str, data: DataLocator) -> datasets.Dataset:
    """MNLI's training rows of one genre (multi_nli's copy of the same 392,702 rows)."""
    where = f"{data.where(MULTI_NLI)} train"
    table = data.load(MULTI_NLI, "train", columns=(*NLI_HEAD.columns, "genre"))
    check_label_names(table, NLI_HEAD, where, "mnli")
    table = table.filter(
        lambda genres, labels: [g == genre and x >= 0 for g, x in zip(genres, labels, strict=True)],
        input_columns=["genre", "label"],
        batched=True,
    )
    if table.num_rows == 0:
        raise StiltsError(f"{where} has no labelled rows of genre {genre!r}")
    return table.select_columns(list(NLI_HEAD.columns))


MNLI_GENRE_GROUPS = TrainingGroups(names=MNLI_GENRES, sources=(MULTI_NLI,), load=load_mnli_genre)


def xnli_translation(language: str) -> HubSource:
    """One language of facebook/xnli, whose train split is MNLI machine-translated."""
    return HubSource(
        repo="facebook/xnli",
        # Pinned by three independent public projects that read
        # {language}/{split}-00000-of-00001.parquet at it (not checked against the hub from
        # here: no access; a wrong commit fails to read, never reads other data).
        revision="b8dd5d7af51114dbda02c0e3f6133f332186418e",
        files=f"{language}/{{split}}-*.parquet",
    )


def load_translated_mnli(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    """MNLI's training set machine-translated into `language` (the XNLI authors' release)."""
    if role != "train" or language not in TRANSLATED_LANGUAGES:
        raise StiltsError(f"translated MNLI is a training set in {', '.join(TRANSLATED_LANGUAGES)}")
    source = xnli_translation(language)
    table = data.load(source, "train", columns=NLI_HEAD.columns)
    check_label_names(table, NLI_HEAD, f"{data.where(source)} train", "translated MNLI")
    return table.select_columns(list(NLI_HEAD.columns))


def load_xnli(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if role == "train":
        return load_mnli("train", language, data)
    split = XTREME_XNLI.split(role)
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


TRANSLATED_LANGUAGES = tuple(x for x in XNLI_LANGUAGES if x != "en")
TRANSLATED_MNLI = TranslatedData(TRANSLATED_LANGUAGES, xnli_translation, load_translated_mnli)

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
    translated=TRANSLATED_MNLI,
    groups=MNLI_GENRE_GROUPS,
)

snli = Task(
    name="snli",
    summary="Stanford NLI, English natural language inference",
    head=NLI_HEAD,
    languages=("en",),
    sources=(SNLI,),
    load=load_snli,
    metric=accuracy,
    main_metric="accuracy",
)

anli_plus = Task(
    name="anli_plus",
    summary="ANLI rounds 1-3 trained together with SNLI and MNLI (ANLI+), English",
    head=NLI_HEAD,
    languages=("en",),
    sources=(ANLI, SNLI, GLUE_MNLI),
    load=load_anli_plus,
    metric=accuracy,
    main_metric="accuracy",
    groups=ANLI_PLUS_GROUPS,
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
    translated=TRANSLATED_MNLI,  # XNLI trains on MNLI: translate-train
)
