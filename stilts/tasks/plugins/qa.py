"""Extractive QA: SQuAD v1.1 and v2.0 (English, intermediate); XQuAD, MLQA and TyDiQA-GoldP
(targets). As in XTREME, XQuAD and MLQA train on SQuAD v1.1 and TyDiQA-GoldP on its own
English training set; each is tested zero-shot on every language of its list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.eval.qa import mlqa_scores, squad_scores
from stilts.tasks.data import DEV_AS_TEST, DataLocator, HubSource, Role
from stilts.tasks.formats import QA_DEFAULTS, with_task_score
from stilts.tasks.heads import ExtractiveQA
from stilts.tasks.plugins.xtreme import xtreme_source
from stilts.tasks.task import Loader, Task

if TYPE_CHECKING:
    import datasets

COLUMNS = ("id", "context", "question", "answers")

# SQuAD hides its test sets, and XTREME's XQuAD and TyDiQA-GoldP have none: the dev set
# serves as test.
SQUAD = HubSource(
    repo="rajpurkar/squad",
    revision="7b6d24c440a36b6815f21b70d25016731768db1f",
    files="plain_text/{split}-*.parquet",
    splits=DEV_AS_TEST,
)
SQUAD_V2 = HubSource(
    repo="rajpurkar/squad_v2",
    revision="3ffb306f725f7d2ce8394bc1873b24868140c412",
    files="squad_v2/{split}-*.parquet",
    splits=DEV_AS_TEST,
)
XQUAD_LANGUAGES = ("en", "es", "de", "el", "ru", "tr", "ar", "vi", "th", "zh", "hi")
MLQA_LANGUAGES = ("en", "es", "de", "ar", "hi", "vi", "zh")
TYDIQA_LANGUAGES = {
    "en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
    "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu",
}  # fmt: skip
"""TyDiQA-GoldP's languages and the id prefix that marks each (`arabic-…`)."""
TYDIQA = xtreme_source("tydiqa", DEV_AS_TEST)


def xquad_source(language: str) -> HubSource:
    return xtreme_source(f"XQuAD.{language}", DEV_AS_TEST)


def mlqa_source(language: str) -> HubSource:
    return xtreme_source(f"MLQA.{language}.{language}")


def _read(data: DataLocator, source: HubSource, role: Role) -> datasets.Dataset:
    """The split of `source` that serves `role`, in the QA head's columns."""
    table = data.load(source, source.split(role), columns=COLUMNS)
    return table.select_columns(list(COLUMNS))


def english_loader(source: HubSource) -> Loader:
    def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        return _read(data, source, role)

    return load


def load_xquad(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if role != "test":
        return _read(data, SQUAD, role)
    return _read(data, xquad_source(language), role)


def load_mlqa(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if role == "train":
        return _read(data, SQUAD, role)
    return _read(data, mlqa_source(language), role)


def load_tydiqa(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    # One table holds every language; the id prefix says which. XTREME trains on English
    # only and has no test set beyond the dev set, so dev and test are both its validation.
    table = _read(data, TYDIQA, role)
    prefix = TYDIQA_LANGUAGES[language] + "-"
    table = table.filter(
        lambda ids: [i.startswith(prefix) for i in ids], input_columns="id", batched=True
    )
    if table.num_rows == 0:
        raise StiltsError(
            f"{data.where(TYDIQA)} {TYDIQA.split(role)} has no ids starting with {prefix!r}"
        )
    return table


squad = Task(
    name="squad",
    summary="SQuAD v1.1 extractive question answering, English",
    head=ExtractiveQA(),
    languages=("en",),
    sources=(SQUAD,),
    load=english_loader(SQUAD),
    metric=with_task_score(squad_scores),
    main_metric="em_f1",
    defaults=QA_DEFAULTS,
)

squad_v2 = Task(
    name="squad_v2",
    summary="SQuAD v2.0 extractive question answering with unanswerable questions, English",
    head=ExtractiveQA(allow_null=True),
    languages=("en",),
    sources=(SQUAD_V2,),
    load=english_loader(SQUAD_V2),
    metric=with_task_score(squad_scores),
    main_metric="em_f1",
    defaults=QA_DEFAULTS,
)

xquad = Task(
    name="xquad",
    summary="XQuAD: train on SQuAD v1.1, test zero-shot in 11 languages",
    head=ExtractiveQA(),
    languages=XQUAD_LANGUAGES,
    sources=(SQUAD, *(xquad_source(code) for code in XQUAD_LANGUAGES)),
    load=load_xquad,
    metric=with_task_score(squad_scores),
    main_metric="em_f1",
    defaults=QA_DEFAULTS,
)

mlqa = Task(
    name="mlqa",
    summary="MLQA: train on SQuAD v1.1, test zero-shot in 7 languages (MLQA scorer)",
    head=ExtractiveQA(),
    languages=MLQA_LANGUAGES,
    sources=(SQUAD, *(mlqa_source(code) for code in MLQA_LANGUAGES)),
    load=load_mlqa,
    metric=with_task_score(mlqa_scores),
    main_metric="em_f1",
    defaults=QA_DEFAULTS,
)

tydiqa = Task(
    name="tydiqa",
    summary="TyDiQA-GoldP: train on its English set, test zero-shot in 9 languages",
    head=ExtractiveQA(),
    languages=tuple(TYDIQA_LANGUAGES),
    sources=(TYDIQA,),
    load=load_tydiqa,
    metric=with_task_score(squad_scores),
    main_metric="em_f1",
    defaults=QA_DEFAULTS,
)
