"""Every registered task loads its data in its head's schema, for every role and language.

The data is `fixtures.write_fixtures`' synthetic mirror in the hub schema of each dataset; raw
tables are read back with pyarrow (not through stilts) to check what the loaders keep, drop and
map. The language lists are typed out from the XTREME / XTREME-R papers and repository
(``shared/DATASETS.md``) independently of the plugin code, as the reviewer's reference.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from fixtures import FIXTURE_TASKS, write_fixtures
from fixtures.ccg import CCG_UNSEEN_IN_TRAIN

from stilts import StiltsError
from stilts.tasks import registry
from stilts.tasks.data import DataLocator, HubSource
from stilts.tasks.heads import (
    DependencyParsing,
    ExtractiveQA,
    MaskedLanguageModel,
    MultipleChoice,
    SequenceClassification,
    TokenTagging,
)
from stilts.tasks.heads.embedding import SentenceEmbedding
from stilts.tasks.plugins.ccg import CCGBANK
from stilts.tasks.plugins.english import glue_source
from stilts.tasks.plugins.multiple_choice import COMMONSENSE_QA, COPA, HELLASWAG, SIQA, xcopa_source
from stilts.tasks.plugins.nli import ANLI, SNLI
from stilts.tasks.plugins.qa import TYDIQA
from stilts.tasks.plugins.tagging import panx_source, udpos_source
from stilts.tasks.task import EncoderTask, Task
from stilts.testing import write_table

OFFICIAL_LANGUAGES = {
    "xnli": "ar bg de el en es fr hi ru sw th tr ur vi zh",
    "pawsx": "de en es fr ja ko zh",
    "udpos": (
        "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr "
        "ur vi yo zh"
    ),
    "panx": (
        "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka "
        "ko th sw yo my zh kk tr et fi hu"
    ),
    "xquad": "en es de el ru tr ar vi th zh hi",
    "mlqa": "en es de ar hi vi zh",
    "tydiqa": "en ar bn fi id ko ru sw te",
    "xcopa": "et ht id it qu sw ta th tr vi zh",
    "tatoeba": (
        "af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr nl pt ru sw ta "
        "te th tl tr ur vi zh"
    ),
    "bucc2018": "de fr ru zh",
}
OFFICIAL_COUNTS = {
    "xnli": 15, "pawsx": 7, "udpos": 33, "panx": 40, "xquad": 11, "mlqa": 7, "tydiqa": 9,
    "tatoeba": 36, "bucc2018": 4,
    "xcopa": 11,
}  # fmt: skip
TYDIQA_PREFIXES = {
    "en": "english-", "ar": "arabic-", "bn": "bengali-", "fi": "finnish-", "id": "indonesian-",
    "ko": "korean-", "ru": "russian-", "sw": "swahili-", "te": "telugu-",
}  # fmt: skip


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mirror")
    write_fixtures(path)
    return path


@pytest.fixture(scope="module")
def data(root: Path) -> DataLocator:
    return DataLocator(root)


def raw_rows(root: Path, source: HubSource, split: str) -> list[dict]:
    """A hub table's rows as stored (ClassLabels as ints), read without stilts."""
    paths = sorted((root / source.repo).glob(source.pattern(split)))
    assert paths, f"no fixture file for {source.repo} {split}"
    return [row for path in paths for row in pq.read_table(path).to_pylist()]


def labelled(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["label"] >= 0]


# --- every task, every role and language ---------------------------------------------------


def test_the_fixtures_cover_every_registered_task():
    assert sorted(FIXTURE_TASKS) == sorted(registry.entries())


def check_rows(task_name: str, head, table: datasets.Dataset, where: str) -> None:
    if isinstance(head, SequenceClassification):
        for column in head.text_columns:
            assert all(isinstance(text, str) and text for text in table[column]), where
        assert all(0 <= label < len(head.labels) for label in table["label"]), where
    elif isinstance(head, MultipleChoice):
        for row in table:
            assert len(row["choices"]) == head.num_choices, where
            assert all(isinstance(choice, str) and choice for choice in row["choices"]), where
            assert 0 <= row["label"] < head.num_choices, where
    elif isinstance(head, TokenTagging):
        lowest = -1 if task_name == "ccg" else 0  # only CCG has tags unseen in training
        for row in table:
            assert len(row["tags"]) == len(row["tokens"]) > 0, where
            assert all(lowest <= tag < len(head.labels) for tag in row["tags"]), where
    elif isinstance(head, ExtractiveQA):
        for row in table:
            texts, starts = row["answers"]["text"], row["answers"]["answer_start"]
            assert len(texts) == len(starts), where
            assert texts or head.allow_null, f"{where}: {row['id']} has no answer"
            for text, start in zip(texts, starts, strict=True):
                assert row["context"][start : start + len(text)] == text, f"{where}: {row['id']}"
    elif isinstance(head, MaskedLanguageModel):
        assert all(isinstance(text, str) and text.strip() for text in table["text"]), where
        assert set(table["language"]) <= set(registry.load(task_name).languages), where
        seeds = table["mask_seed"]  # -1 for training rows, a fixed seed for evaluation rows
        assert all(seed == -1 for seed in seeds) or all(seed >= 0 for seed in seeds), where
    elif isinstance(head, DependencyParsing):
        for row in table:
            words = len(row["tokens"])
            assert len(row["heads"]) == len(row["deprels"]) == words > 0, where
            assert all(0 <= h <= words for h in row["heads"]), where
            assert row["heads"].count(0) >= 1 and all(row["deprels"]), where
    else:  # pragma: no cover - a new head kind needs its checks here
        raise AssertionError(f"{where}: no checks for head {head!r}")


TRAINED = sorted(name for name in registry.entries() if isinstance(registry.load(name), Task))
ENCODER = sorted(set(registry.entries()) - set(TRAINED))


@pytest.mark.parametrize("name", TRAINED)
def test_every_role_and_language_loads_in_the_head_schema(name, data):
    task = registry.load(name).bound(data)
    reads = [("train", task.train_language), ("dev", task.train_language)]
    reads += [("test", language) for language in task.languages]
    for role, language in reads:
        where = f"{name} {role} {language}"
        table = task.read(role, language, data)
        assert sorted(table.column_names) == sorted(task.head.columns), where
        assert table.num_rows > 0, where
        check_rows(name, task.head, table, where)


def test_tatoeba_pairs_english_with_each_language_without_newlines(data):
    tatoeba = registry.load("tatoeba")
    for language in tatoeba.languages:
        table = tatoeba.read("test", language, data)
        assert table.column_names == ["english", "other"]
        assert table.num_rows > 0
        for english, other in zip(table["english"], table["other"], strict=True):
            assert other == f"{language} {english}"  # the fixture's translation, aligned
            assert "\n" not in english + other
    with pytest.raises(StiltsError, match="no training data"):
        tatoeba.read("train", "en", data)


def test_bucc_reads_the_gold_pairs_of_sample_for_dev_and_training_for_test(root, data):
    bucc = registry.load("bucc2018")
    for language in bucc.languages:
        for role, split in (("dev", "sample"), ("test", "training")):
            gold = root / "BUCC" / "bucc2018" / f"{language}-en" / f"{language}-en.{split}.gold"
            pairs = [tuple(line.split("\t")) for line in gold.read_text().splitlines()]
            table = bucc.read(role, language, data)
            assert list(zip(table["source_id"], table["target_id"], strict=True)) == pairs


@pytest.mark.parametrize("name", sorted(OFFICIAL_LANGUAGES))
def test_target_tasks_test_the_official_languages(name):
    languages = registry.load(name).languages
    official = OFFICIAL_LANGUAGES[name].split()
    assert len(official) == OFFICIAL_COUNTS[name]  # the reference itself, typed right
    assert set(languages) == set(official)
    assert len(languages) == len(official)  # no language twice


# --- the core checks what is read against what a task declares ---------------------------


@pytest.mark.parametrize("name", sorted(registry.entries()))
def test_an_undeclared_language_is_one_line_naming_the_languages_of_the_role(name, tmp_path):
    """No plugin checks languages itself: the core refuses, before any file is looked for
    (the data directory is empty, so a read that got past the check would fail otherwise)."""
    task = registry.load(name)
    declared = {"dev": {task.train_language, *task.languages}, "test": set(task.languages)}
    if isinstance(task, Task):
        declared["train"] = {task.train_language}
    for role, languages in declared.items():
        with pytest.raises(StiltsError) as refused:
            task.read(role, "xx", DataLocator(tmp_path))
        message = str(refused.value)
        assert "\n" not in message
        start = f"{name} has no {role} data in 'xx'; it has {role} data in "
        assert message.startswith(start), message
        if isinstance(task, Task):
            assert set(message.removeprefix(start).split(", ")) == languages, message


def test_a_task_trains_in_its_train_language_and_is_tested_in_its_languages(data):
    pawsx = registry.load("pawsx")  # tested in German, trained in English only
    assert pawsx.read("test", "de", data).num_rows > 0
    with pytest.raises(
        StiltsError, match=r"^pawsx has no train data in 'de'; it has train data in en$"
    ):
        pawsx.read("train", "de", data)
    xnli = registry.load("xnli")  # its English training data is MNLI's
    assert xnli.read("train", "en", data)[:] == registry.load("mnli").read("train", "en", data)[:]
    with pytest.raises(
        StiltsError, match=r"^xnli has no train data in 'de'; it has train data in en$"
    ):
        xnli.read("train", "de", data)


def test_dev_is_read_in_the_train_language_or_any_evaluation_language(data):
    """A chain selects on the train language's dev set and may score dev, not test, in each
    evaluation language (`--split dev`)."""
    xnli = registry.load("xnli")
    english = xnli.read("dev", "en", data)["premise"]
    for language in ("de", "sw"):
        premises = xnli.read("dev", language, data)["premise"]
        assert premises and not set(premises) & set(english), language  # that language's own


def test_a_close_language_code_is_suggested_and_an_unknown_role_named(tmp_path):
    data = DataLocator(tmp_path)
    for spelt, meant in (("JA", "ja"), ("deu", "de"), ("zh-CN", "zh")):
        with pytest.raises(StiltsError) as refused:
            registry.load("pawsx").read("test", spelt, data)
        assert str(refused.value) == (
            f"pawsx has no test data in {spelt!r} (did you mean {meant!r}?); it has test data in "
            "de, en, es, fr, ja, ko, zh"
        )
    # Another two-letter code is another language, not a typo: "fr" suggests no "tr".
    with pytest.raises(StiltsError, match=r"^tydiqa has no test data in 'fr'; it has test "):
        registry.load("tydiqa").read("test", "fr", data)
    with pytest.raises(
        StiltsError, match=r"^xnli: there is no role 'validation' \(roles: train, dev, test\)$"
    ):
        registry.load("xnli").read("validation", "en", data)


def test_the_retrieval_tasks_without_training_data_are_the_encoder_tasks():
    assert ENCODER == ["bucc2018", "lareqa", "mewslix", "tatoeba"]


@pytest.mark.parametrize("name", ENCODER)
def test_an_encoder_task_reads_no_training_data_and_scores_its_languages_only(name, tmp_path):
    task = registry.load(name)
    assert isinstance(task, EncoderTask) and isinstance(task.head, SentenceEmbedding)
    with pytest.raises(
        StiltsError, match=rf"^{name} has no training data; it evaluates the encoder$"
    ):
        task.read("train", task.languages[0], DataLocator(tmp_path))

    def embed(texts):
        raise AssertionError("embedded before the language was checked")

    with pytest.raises(
        StiltsError, match=rf"^{name} has no test data in 'xx'; it has test data in "
    ):
        task.evaluate(embed, "xx", DataLocator(tmp_path))


# --- what loaders keep, drop and map -------------------------------------------------------


STUDY_EPOCHS = {"xnli": 2, "pawsx": 5, "udpos": 10, "panx": 10}
QA_TASKS = ("squad", "squad_v2", "xquad", "mlqa", "tydiqa")
JIANT_RETRIEVAL = ("bucc2018", "tatoeba")  # jiant embeds their sentences at up to 512 tokens


XTREME_R_XCOPA = ("siqa", "copa", "xcopa")
"""XTREME-R's own settings (scripts/train_xcopa.sh), not the study's."""


@pytest.mark.parametrize("name", sorted(set(registry.entries()) - set(XTREME_R_XCOPA)))
def test_every_task_declares_the_study_hyperparameters(name):
    hp = registry.load(name).defaults
    qa = name in QA_TASKS
    assert hp.epochs == (2 if qa else STUDY_EPOCHS.get(name, 2))
    length = 384 if qa else 512 if name in JIANT_RETRIEVAL else 256
    assert (hp.max_length, hp.batch_size) == (length, 16 if qa else 32)
    assert (hp.learning_rate, hp.warmup_ratio, hp.weight_decay) == (1e-5, 0.1, 0.01)


@pytest.mark.parametrize("name", XTREME_R_XCOPA)
def test_siqa_and_copa_train_as_xtreme_r_trains_them_for_xcopa(name):
    """train_xcopa.sh for xlm-roberta-large: LR 3e-5, 5 epochs, max length 128, a batch of
    2 per device x 16 accumulation steps on one GPU."""
    hp = registry.load(name).defaults
    assert (hp.learning_rate, hp.epochs, hp.max_length, hp.batch_size) == (3e-5, 5, 128, 2 * 16)
    assert (hp.warmup_ratio, hp.weight_decay) == (0.1, 0.01)  # stilts' own


def test_snli_drops_rows_without_a_gold_label(root, data):
    snli = registry.load("snli")
    for role, split in (("train", "train"), ("dev", "validation"), ("test", "test")):
        rows = raw_rows(root, SNLI, split)
        assert any(row["label"] == -1 for row in rows), "the fixture must hold unlabelled rows"
        loaded = snli.read(role, "en", data)
        kept = labelled(rows)
        assert loaded.num_rows == len(kept) < len(rows)
        assert loaded["label"] == [row["label"] for row in kept]
        assert loaded["premise"] == [row["premise"] for row in kept]


def test_anli_plus_trains_on_anli_rounds_with_snli_and_mnli(root, data):
    anli_plus = registry.load("anli_plus")
    anli = {
        split: sum(len(labelled(raw_rows(root, ANLI, f"{split}_{r}"))) for r in ("r1", "r2", "r3"))
        for split in ("train", "dev", "test")
    }
    snli = len(labelled(raw_rows(root, SNLI, "train")))
    mnli = len(labelled(raw_rows(root, glue_source("mnli"), "train")))
    assert anli_plus.read("train", "en", data).num_rows == anli["train"] + snli + mnli
    # Model selection and testing: ANLI's own dev and test rounds only.
    assert anli_plus.read("dev", "en", data).num_rows == anli["dev"]
    assert anli_plus.read("test", "en", data).num_rows == anli["test"]


def test_tydiqa_keeps_english_for_training_and_each_language_for_testing(root, data):
    tydiqa = registry.load("tydiqa")
    train_ids = [row["id"] for row in raw_rows(root, TYDIQA, "train")]
    assert {i.split("-")[0] for i in train_ids} > {"english"}, "train must mix languages"
    train = tydiqa.read("train", "en", data)
    assert sorted(train["id"]) == sorted(i for i in train_ids if i.startswith("english-"))

    dev_ids = [row["id"] for row in raw_rows(root, TYDIQA, "validation")]
    for language, prefix in TYDIQA_PREFIXES.items():
        test = tydiqa.read("test", language, data)
        assert sorted(test["id"]) == sorted(i for i in dev_ids if i.startswith(prefix)), language
        assert test.num_rows > 0
    assert sorted(tydiqa.read("dev", "en", data)["id"]) == sorted(
        i for i in dev_ids if i.startswith("english-")
    )


def test_squad_v2_keeps_its_unanswerable_questions(data):
    dev = registry.load("squad_v2").read("dev", "en", data)
    unanswerable = [row for row in dev["answers"] if not row["text"]]
    assert 0 < len(unanswerable) < dev.num_rows
    assert all(row["text"] for row in registry.load("squad").read("dev", "en", data)["answers"])


HELLASWAG_FEATURES = datasets.Features(
    {
        "ind": datasets.Value("int32"),
        "activity_label": datasets.Value("string"),
        "ctx_a": datasets.Value("string"),
        "ctx_b": datasets.Value("string"),
        "ctx": datasets.Value("string"),
        "endings": datasets.List(datasets.Value("string")),
        "source_id": datasets.Value("string"),
        "split": datasets.Value("string"),
        "split_type": datasets.Value("string"),
        "label": datasets.Value("string"),
    }
)


def test_hellaswag_choices_complete_ctx_b_and_labels_are_strings(tmp_path):
    rows = {
        "ind": [4, 5, 6],
        "activity_label": ["Cooking", "Cooking", "Cooking"],
        "ctx_a": ["A man stands in a kitchen.", "A girl is on a swing.", "A dog runs."],
        "ctx_b": ["he", "", "it"],
        "ctx": ["A man stands in a kitchen. he", "A girl is on a swing.", "A dog runs. it"],
        "endings": [
            ["cuts a tomato.", "flies away.", "sings.", "sleeps."],
            ["She swings high.", "She cooks.", "She drives.", "She reads."],
            ["barks.", "stops.", "jumps.", "sits."],
        ],
        "source_id": ["activitynet~v_a", "activitynet~v_b", "activitynet~v_c"],
        "split": ["val", "val", "val"],
        "split_type": ["indomain", "zeroshot", "indomain"],
        "label": ["0", "3", ""],  # the last row has no label and is dropped
    }
    table = datasets.Dataset.from_dict(rows, features=HELLASWAG_FEATURES)
    write_table(tmp_path, HELLASWAG, "validation", table)
    loaded = registry.load("hellaswag").read("dev", "en", DataLocator(tmp_path))
    assert loaded["context"] == ["A man stands in a kitchen.", "A girl is on a swing."]
    assert loaded["choices"][0] == [
        "he cuts a tomato.",
        "he flies away.",
        "he sings.",
        "he sleeps.",
    ]
    assert loaded["choices"][1] == rows["endings"][1]  # no ctx_b: the ending alone
    assert loaded["label"] == [0, 3]


def test_commonsenseqa_maps_the_answer_key_to_its_choice_index(tmp_path):
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "question": datasets.Value("string"),
            "question_concept": datasets.Value("string"),
            "choices": {
                "label": datasets.List(datasets.Value("string")),
                "text": datasets.List(datasets.Value("string")),
            },
            "answerKey": datasets.Value("string"),
        }
    )
    keys = ["A", "B", "C", "D", "E"]
    rows = {
        "id": ["q1", "q2"],
        "question": ["Where is a fish kept?", "What do you cut bread with?"],
        "question_concept": ["fish", "bread"],
        "choices": [
            {"label": keys, "text": ["car", "shoe", "aquarium", "desk", "cloud"]},
            {"label": keys, "text": ["knife", "spoon", "cup", "rope", "pen"]},
        ],
        "answerKey": ["C", "A"],
    }
    table = datasets.Dataset.from_dict(rows, features=features)
    write_table(tmp_path, COMMONSENSE_QA, "train", table)
    loaded = registry.load("commonsenseqa").read("train", "en", DataLocator(tmp_path))
    assert loaded["label"] == [2, 0]
    assert loaded["context"] == rows["question"]
    assert loaded["choices"][0] == ["car", "shoe", "aquarium", "desk", "cloud"]


def test_siqa_labels_count_from_one(tmp_path):
    names = ("context", "question", "answerA", "answerB", "answerC", "label")
    features = datasets.Features({name: datasets.Value("string") for name in names})
    rows = {
        "context": ["Tracy lent Jan her bike.", "Remy ate the cake."],
        "question": ["How would Jan feel?", "What will Remy want next?"],
        "answerA": ["angry", "to sleep"],
        "answerB": ["grateful", "to bake"],
        "answerC": ["bored", "some water"],
        "label": ["2", "3"],
    }
    write_table(tmp_path, SIQA, "train", datasets.Dataset.from_dict(rows, features=features))
    loaded = registry.load("siqa").read("train", "en", DataLocator(tmp_path))
    assert loaded["label"] == [1, 2]
    assert loaded["context"][0] == "Tracy lent Jan her bike. How would Jan feel?"
    assert loaded["choices"][0] == ["angry", "grateful", "bored"]


COPA_FEATURES = datasets.Features(
    {
        "premise": datasets.Value("string"),
        "choice1": datasets.Value("string"),
        "choice2": datasets.Value("string"),
        "question": datasets.Value("string"),
        "idx": datasets.Value("int32"),
        "label": datasets.ClassLabel(names=["choice1", "choice2"]),
    }
)


def test_copa_asks_its_question_after_the_premise(tmp_path):
    rows = {
        "premise": ["My body cast a shadow over the grass.", "The man broke his toe."],
        "choice1": ["The sun was rising.", "He dropped a hammer on his foot."],
        "choice2": ["The grass was cut.", "He got a hole in his sock."],
        "question": ["cause", "effect"],
        "idx": [0, 1],
        "label": [0, 1],
    }
    table = datasets.Dataset.from_dict(rows, features=COPA_FEATURES)
    write_table(tmp_path, COPA, "validation", table)
    loaded = registry.load("copa").read("dev", "en", DataLocator(tmp_path))
    assert loaded["context"] == [
        "My body cast a shadow over the grass. What was the cause?",
        "The man broke his toe. What was the effect?",
    ]
    assert loaded["choices"][0] == ["The sun was rising.", "The grass was cut."]
    assert loaded["label"] == [0, 1]


def test_xcopa_trains_on_copa_and_tests_each_target_language(root, data):
    xcopa, copa = registry.load("xcopa"), registry.load("copa")
    for role in ("train", "dev"):
        assert xcopa.read(role, "en", data)[:] == copa.read(role, "en", data)[:]
    questions = {"cause": "What was the cause?", "effect": "What was the effect?"}
    for language in ("et", "qu", "zh"):
        rows = raw_rows(root, xcopa_source(language), "test")
        test = xcopa.read("test", language, data)
        assert test["context"] == [f"{r['premise']} {questions[r['question']]}" for r in rows]
        assert test["choices"] == [[r["choice1"], r["choice2"]] for r in rows]
        assert test["label"] == [r["label"] for r in rows]
        assert all(context.startswith(f"{language} ") for context in test["context"])


# --- tag sets ------------------------------------------------------------------------------


UPOS_V2 = "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X"


def source_for(name: str, language: str) -> HubSource:
    return udpos_source(language) if name == "udpos" else panx_source(language)


@pytest.mark.parametrize(
    ("name", "language", "column", "names"),
    [
        # UD v1's "CONJ" where UD v2 (XTREME's UD 2.5) says "CCONJ".
        ("udpos", "de", "pos_tags", UPOS_V2.replace("CCONJ", "CONJ").split()),
        # CoNLL-2003's tag set, with MISC.
        ("panx", "en", "ner_tags",
         ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]),
        # The right names in another order would silently shuffle the labels.
        ("panx", "sw", "ner_tags", ["O", "B-ORG", "I-ORG", "B-PER", "I-PER", "B-LOC", "I-LOC"]),
    ],
)  # fmt: skip
def test_tagging_refuses_a_foreign_tag_set(tmp_path, name, language, column, names):
    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            column: datasets.List(datasets.ClassLabel(names=names)),
        }
    )
    table = datasets.Dataset.from_dict({"tokens": [["a", "b"]], column: [[0, 1]]}, features)
    write_table(tmp_path, source_for(name, language), "test", table)
    with pytest.raises(StiltsError, match="ClassLabel sequence"):
        registry.load(name).read("test", language, DataLocator(tmp_path))


def test_udpos_reads_the_ud_v2_tag_set(tmp_path):
    """The control for the udpos case above: one renamed tag is all that made it fail."""
    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            "pos_tags": datasets.List(datasets.ClassLabel(names=UPOS_V2.split())),
        }
    )
    table = datasets.Dataset.from_dict({"tokens": [["a", "b"]], "pos_tags": [[0, 4]]}, features)
    write_table(tmp_path, udpos_source("de"), "test", table)
    loaded = registry.load("udpos").read("test", "de", DataLocator(tmp_path))
    assert loaded["tags"] == [[0, 4]]


@pytest.mark.parametrize(("name", "column"), [("udpos", "pos_tags"), ("panx", "ner_tags")])
def test_tagging_refuses_tags_without_names(tmp_path, name, column):
    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            column: datasets.List(datasets.Value("int64")),
        }
    )
    table = datasets.Dataset.from_dict({"tokens": [["a", "b"]], column: [[0, 1]]}, features)
    write_table(tmp_path, source_for(name, "en"), "train", table)
    with pytest.raises(StiltsError, match="ClassLabel sequence"):
        registry.load(name).read("train", "en", DataLocator(tmp_path))


LEAF_CATEGORY = re.compile(r"<L (\S+) ")


def auto_categories(root: Path, sections: list[str]) -> Counter:
    """Supertag counts of CCGbank AUTO files, read with a regular expression of our own."""
    counts: Counter = Counter()
    for section in sections:
        for path in sorted((root / CCGBANK.repo / "data" / "AUTO" / section).glob("*.auto")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("("):
                    counts.update(LEAF_CATEGORY.findall(line))
    return counts


def test_ccg_builds_its_tag_set_from_training_sections_only(root, data):
    ccg = registry.load("ccg")
    assert ccg.head.labels == ()  # unbound: the tag set comes from the data
    bound = ccg.bound(data)
    train = auto_categories(root, [f"{n:02d}" for n in range(2, 22)])
    assert set(bound.head.labels) == set(train)
    counts = [train[tag] for tag in bound.head.labels]
    assert counts == sorted(counts, reverse=True)  # most frequent first

    dev_tags = auto_categories(root, ["00"])
    assert CCG_UNSEEN_IN_TRAIN in dev_tags and CCG_UNSEEN_IN_TRAIN not in train
    dev = bound.read("dev", "en", data)
    unseen = sum(tag == -1 for tags in dev["tags"] for tag in tags)
    assert unseen == dev_tags[CCG_UNSEEN_IN_TRAIN] > 0
    # -1 sits exactly on the ditransitive verbs, the words of the unseen category.
    words = {
        w
        for ws, ts in zip(dev["tokens"], dev["tags"], strict=True)
        for w, t in zip(ws, ts, strict=True)
        if t == -1
    }
    assert words <= {"gave", "sent"}
    index = {tag: i for i, tag in enumerate(bound.head.labels)}
    assert dev["tags"][0] == [index.get(tag, -1) for tag in first_sentence_tags(root, "00")]


def first_sentence_tags(root: Path, section: str) -> list[str]:
    path = sorted((root / CCGBANK.repo / "data" / "AUTO" / section).glob("*.auto"))[0]
    line = next(x for x in path.read_text(encoding="utf-8").splitlines() if x.startswith("("))
    return LEAF_CATEGORY.findall(line)


def test_ccg_reads_english_only(data):
    english = r"^ccg has no test data in 'de'; it has test data in en$"
    with pytest.raises(StiltsError, match=english):
        registry.load("ccg").read("test", "de", data)
