"""Multiple-choice tasks: HellaSwag, CommonsenseQA, Cosmos QA, SIQA, COPA (English) and XCOPA.

Each loader turns its dataset's fields into the head's `context` and `choices`. Hidden test
labels (HellaSwag, CommonsenseQA, Cosmos QA, SIQA, COPA) make the dev set serve as test.
XCOPA follows XTREME-R: train on SIQA, then on COPA (`stilts chain siqa xcopa` trains the
`xcopa` phase on COPA), and test zero-shot on XCOPA's 11 languages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.eval.metrics import accuracy
from stilts.eval.submission import choice_objects
from stilts.tasks.data import DEV_AS_TEST, DataLocator, HubSource, Role
from stilts.tasks.formats import Formatter, Row, choice_rows
from stilts.tasks.heads import MultipleChoice
from stilts.tasks.task import Hyperparameters, Loader, Task

if TYPE_CHECKING:
    import datasets

# The English datasets hide their test labels: their dev set serves as test.
HELLASWAG = HubSource(
    repo="Rowan/hellaswag",
    revision="218ec52e09a7e7462a5400043bb9a69a41d06b76",
    files="data/{split}-*.parquet",
    splits=DEV_AS_TEST,
)
COMMONSENSE_QA = HubSource(
    repo="tau/commonsense_qa",
    revision="94630fe30dad47192a8546eb75f094926d47e155",
    files="data/{split}-*.parquet",
    splits=DEV_AS_TEST,
)
# Script datasets: read from the hub's parquet conversion, never by running their script.
# Commits found in public code, not checked against the hub from here (no access): a wrong
# one fails to read, never reads other data.
COSMOS_QA = HubSource(
    repo="allenai/cosmos_qa",
    # a commit of refs/convert/parquet; a public project downloads default/train/0000.parquet
    # at it, the layout read here
    revision="ed50fe83db62b355759053b1cd5eef344ee371e0",
    files="default/{split}/*.parquet",
    splits=DEV_AS_TEST,
)
SIQA = HubSource(
    repo="allenai/social_i_qa",
    revision="9eb9490eb61bd4ffb5eaedf2ae22e260d8c4019e",  # a commit of refs/convert/parquet
    files="default/{split}/*.parquet",
    splits=DEV_AS_TEST,
)
COPA = HubSource(
    repo="aps/super_glue",
    revision="5234c61e804e85e5994b14b002fa9ec34487bcfb",
    files="copa/{split}-*.parquet",
    splits=DEV_AS_TEST,
)
XCOPA_LANGUAGES = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")


XCOPA_REVISION = "042f78955ba48e6404616762fa6e05e839c3907a"
"""A commit of cambridgeltl/xcopa's main branch at which the repo holds plain parquet files,
``{language}/{split}-00000-of-00001.parquet`` (a public project reads
``tr/test-00000-of-00001.parquet`` at it; found in public code, not checked against the hub
from here)."""


def xcopa_source(language: str) -> HubSource:
    return HubSource(
        repo="cambridgeltl/xcopa",
        revision=XCOPA_REVISION,
        files=f"{language}/{{split}}-*.parquet",
    )


STUDY = Hyperparameters()
"""The reference study's settings, which the English intermediate tasks keep."""
XTREME_R_XCOPA = Hyperparameters(learning_rate=3e-5, epochs=5.0, max_length=128, batch_size=32)
"""XTREME-R's settings for XLM-R large on SIQA and then COPA, so that `stilts chain siqa xcopa`
is its XCOPA recipe: google-research/xtreme scripts/train_xcopa.sh (commit 838c13b), lines
29-31 (EPOCH=5) and 44-48 (xlm-roberta-large: MAXL=128, LR=3e-5, BATCH_SIZE=2 with GRAD_ACC=16
on its one GPU, an effective batch of 32). Warm-up and weight decay stay stilts' (the script
leaves Trainer's defaults, none of either)."""


def choice_loader(source: HubSource, columns: tuple[str, ...], formatter: Formatter) -> Loader:
    """A loader for an English multiple-choice table; unlabelled rows are dropped."""

    def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        return choice_rows(data, source, source.split(role), columns, formatter)

    return load


def hellaswag_row(row: Row) -> tuple[str, list[str], int]:
    # The context's last sentence is unfinished (`ctx_b`); each ending completes it.
    endings = [f"{row['ctx_b']} {ending}".strip() for ending in row["endings"]]
    return row["ctx_a"], endings, int(row["label"]) if row["label"] != "" else -1


def commonsenseqa_row(row: Row) -> tuple[str, list[str], int]:
    keys = row["choices"]["label"]
    label = keys.index(row["answerKey"]) if row["answerKey"] else -1
    return row["question"], list(row["choices"]["text"]), label


def cosmosqa_row(row: Row) -> tuple[str, list[str], int]:
    answers = [row[f"answer{i}"] for i in range(4)]
    return f"{row['context']} {row['question']}", answers, row["label"]


def siqa_row(row: Row) -> tuple[str, list[str], int]:
    answers = [row["answerA"], row["answerB"], row["answerC"]]
    label = row["label"].strip()  # "1".."3"; early releases kept a trailing newline
    return f"{row['context']} {row['question']}", answers, int(label) - 1 if label else -1


COPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What was the effect?"}
"""XTREME-R's phrasing: `f"{context} What was the {question}?"` (google-research/xtreme
third_party/run_xcopa.py, line 305, commit 838c13b)."""


def copa_row(row: Row) -> tuple[str, list[str], int]:
    """COPA and XCOPA: the premise with its question ("cause"/"effect", in English in both)."""
    context = f"{row['premise']} {COPA_QUESTIONS[row['question']]}"
    return context, [row["choice1"], row["choice2"]], row["label"]


COPA_COLUMNS = ("premise", "choice1", "choice2", "question", "label")
load_copa = choice_loader(COPA, COPA_COLUMNS, copa_row)


def load_xcopa(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    if role != "test":
        return load_copa(role, "en", data)
    source = xcopa_source(language)
    return choice_rows(data, source, source.split("test"), COPA_COLUMNS, copa_row)


def _english(
    name: str, summary: str, source: HubSource, columns: tuple[str, ...], formatter: Formatter,
    num_choices: int, defaults: Hyperparameters = STUDY,
) -> Task:  # fmt: skip
    return Task(
        name=name,
        summary=summary,
        head=MultipleChoice(num_choices),
        languages=("en",),
        sources=(source,),
        load=choice_loader(source, columns, formatter),
        metric=accuracy,
        main_metric="accuracy",
        defaults=defaults,
    )


hellaswag = _english(
    "hellaswag", "HellaSwag commonsense sentence completion, English", HELLASWAG,
    ("ctx_a", "ctx_b", "endings", "label"), hellaswag_row, 4,
)  # fmt: skip
commonsenseqa = _english(
    "commonsenseqa", "CommonsenseQA five-way question answering, English", COMMONSENSE_QA,
    ("question", "choices", "answerKey"), commonsenseqa_row, 5,
)  # fmt: skip
cosmosqa = _english(
    "cosmosqa", "Cosmos QA reading comprehension with commonsense, English", COSMOS_QA,
    ("context", "question", "answer0", "answer1", "answer2", "answer3", "label"),
    cosmosqa_row, 4,
)  # fmt: skip
siqa = _english(
    "siqa", "Social IQa social commonsense questions, English", SIQA,
    ("context", "question", "answerA", "answerB", "answerC", "label"), siqa_row, 3,
    XTREME_R_XCOPA,
)  # fmt: skip
copa = _english(
    "copa", "COPA choice of plausible alternatives, English (SuperGLUE)", COPA,
    COPA_COLUMNS, copa_row, 2, XTREME_R_XCOPA,
)  # fmt: skip

xcopa = Task(
    name="xcopa",
    summary="XCOPA: train on COPA (after siqa, as XTREME-R), test zero-shot in 11 languages",
    head=MultipleChoice(2),
    languages=XCOPA_LANGUAGES,
    sources=(COPA, *(xcopa_source(language) for language in XCOPA_LANGUAGES)),
    load=load_xcopa,
    metric=accuracy,
    main_metric="accuracy",
    submission=choice_objects,  # XTREME-R's xcopa/test-{lang}.jsonl, not the head's bare indices
    defaults=XTREME_R_XCOPA,
)
