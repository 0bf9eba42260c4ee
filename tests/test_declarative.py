"""Declared tasks: standard-format datasets described as data in a recipe, with no plugin.

The datasets are made-up hub repos written in the layout the hub would serve them in
(``ROOT/<org>/<name>/<language>/<split>-00000-of-00001.parquet``), with learnable cues, so a
real chain with a tiny model shows a declared task trains, hands its encoder on and is scored
zero-shot in every language it declares.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import datasets
import pytest
from datasets import ClassLabel, Features, List, Value
from fixtures.common import sentence, with_marker
from fixtures.qa import qa_example
from fixtures.tagging import panx_sentence
from pydantic import ValidationError

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.runner import Runner
from stilts.schema import describe
from stilts.store.layout import Store
from stilts.tasks.data import DataLocator, HubSource
from stilts.tasks.declarative import TaskDeclaration, declared_task
from stilts.tasks.formats import TAGGING_DEFAULTS
from stilts.tasks.plugins.tagging import PANX_TAGS
from stilts.tasks.task import Hyperparameters
from stilts.testing import build_tiny_model, task_texts, write_table

REVISION = "5f0c1b2a3d4e5f60718293a4b5c6d7e8f9012345"
LANGUAGES = ("en", "de", "fr")
CUES = {"negative": "dreadful", "positive": "wonderful"}
"""The word of a review that decides its verdict."""
REVIEWS: dict[str, Any] = {
    "kind": "classification",
    "repo": "acme-nlp/tiny-reviews",
    "revision": REVISION,
    "files": "{language}/{split}-*.parquet",
    "columns": {"text": "review", "label": "verdict"},
    "labels": ["negative", "positive"],
    "languages": list(LANGUAGES),
    "summary": "made-up product reviews, for tests",
}
ENTITIES: dict[str, Any] = {
    "kind": "tagging",
    "repo": "acme-nlp/tiny-entities",
    "revision": REVISION,
    "files": "data/{split}.parquet",
    "splits": {"dev": "dev"},
    "columns": {"tokens": "words", "tags": "entities"},
    "labels": list(PANX_TAGS),
}
DECLARED = {"reviews": REVIEWS, "entities": ENTITIES}
SIZES = {"train": 400, "validation": 60, "test": 60}
SETTINGS = {"learning_rate": 1e-3, "epochs": 4, "max_length": 64, "batch_size": 16}


def review_rows(language: str, split: str, n: int) -> dict[str, list]:
    """Reviews whose verdict is stored as its name; non-English text starts with its code."""
    rng = random.Random(f"reviews/{language}/{split}")
    rows: dict[str, list] = {"id": [], "review": [], "verdict": []}
    for i in range(n):
        verdict = rng.choice(list(CUES))
        text = with_marker(rng, sentence(rng), CUES[verdict])
        rows["id"].append(f"{language}-{split}-{i}")
        rows["review"].append(text if language == "en" else f"{language} {text}")
        rows["verdict"].append(verdict)
    return rows


def write_reviews(root: Path) -> None:
    for language in LANGUAGES:
        source = HubSource(REVIEWS["repo"], REVISION, f"{language}/{{split}}-*.parquet")
        for split, n in SIZES.items():
            table = datasets.Dataset.from_dict(review_rows(language, split, n))
            write_table(root, source, split, table)


def write_entities(root: Path) -> None:
    """PAN-X-like English sentences, tags a ClassLabel sequence in an order of its own."""
    names = sorted(PANX_TAGS)  # the declaration's order differs: tags are read by name
    features = Features({"words": List(Value("string")), "entities": List(ClassLabel(names=names))})
    source = HubSource(ENTITIES["repo"], REVISION, ENTITIES["files"])
    for split, n in {"train": 400, "dev": 60, "test": 60}.items():
        rng = random.Random(f"entities/{split}")
        rows: dict[str, list] = {"words": [], "entities": []}
        for _ in range(n):
            words, tags = panx_sentence(rng)
            rows["words"].append(words)
            rows["entities"].append([names.index(PANX_TAGS[tag]) for tag in tags])
        write_table(root, source, split, datasets.Dataset.from_dict(rows, features=features))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror holding the made-up repos, and a tiny model whose tokenizer knows their text."""
    root = tmp_path_factory.mktemp("declared")
    write_reviews(root / "data")
    write_entities(root / "data")
    data = DataLocator(root / "data")
    tasks = [declared_task(name, declaration) for name, declaration in DECLARED.items()]
    build_tiny_model(root / "model", task_texts(tasks, data), vocab_size=600, seed=0)
    return root


def config(root: Path, *tasks: str, declared: dict[str, Any] = DECLARED) -> ChainConfig:
    return ChainConfig.model_validate({
        "phases": tasks, "model": {"id": str(root / "model")}, "data": str(root / "data"),
        "hyperparameters": SETTINGS, "tasks": declared,
    })  # fmt: skip


def test_a_declared_intermediate_and_target_train_and_score_zero_shot(lab):
    chain = plan(config(lab, "entities", "reviews"))
    result = Runner(Store(lab / "store")).run(chain).result
    assert result.target == "reviews" and result.metric == "accuracy"
    assert tuple(result.test) == LANGUAGES  # every declared language, zero-shot
    assert result.dev["en"]["accuracy"] > 80, result.dev  # chance: 50
    assert min(scores["accuracy"] for scores in result.test.values()) > 80, result.test
    run_dir = Store(lab / "store").run_dir(chain.config.names, chain.run_fingerprint)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    recorded = manifest["recipe"]["tasks"]  # the recipe that reruns it declares them as given
    assert {name: TaskDeclaration.model_validate(d) for name, d in recorded.items()} == {
        name: TaskDeclaration.model_validate(d) for name, d in DECLARED.items()
    }
    entities = manifest["phases"][0]
    assert entities["dev"]["en"]["f1"] > 60, entities["dev"]  # chunk F1, chance near 0
    assert entities["spec"]["declaration"]["columns"] == ENTITIES["columns"]


def test_declared_task_reads_labels_by_name_index_or_class_label(tmp_path):
    """Names (and aliases), integer indices and ClassLabel columns all reach the same ids;
    unlabelled rows (-1, "", None) are dropped."""
    source = HubSource("acme-nlp/labels", REVISION, "{split}.parquet")
    verdicts = {
        "train": ["positive", "bad", "", None, "negative"],  # "bad": an alias
        "validation": [1, -1, 0, 0, 1],  # indices into labels
    }
    for split, labels in verdicts.items():
        rows = {"text": [f"review {i}" for i in range(5)], "label": labels}
        write_table(tmp_path, source, split, datasets.Dataset.from_dict(rows))
    features = Features({"text": Value("string"), "label": ClassLabel(names=["pos", "neg"])})
    rows = {"text": ["a", "b", "c"], "label": [0, 1, -1]}
    write_table(tmp_path, source, "test", datasets.Dataset.from_dict(rows, features=features))
    task = declared_task(
        "labels",
        {
            "kind": "classification", "repo": source.repo, "revision": REVISION,
            "files": source.files, "columns": {"text": "text"}, "labels": ["negative", "positive"],
            "aliases": {"bad": "negative", "pos": "positive", "neg": "negative"},
        },
    )  # fmt: skip
    data = DataLocator(tmp_path)
    assert task.read("train", "en", data)["label"] == [1, 0, 0]
    assert task.read("dev", "en", data)["label"] == [1, 0, 0, 1]
    assert task.read("test", "en", data)["label"] == [1, 0]  # by name, not by position


def test_multiple_choice_and_extractive_qa_read_their_columns(tmp_path):
    choices = HubSource("acme-nlp/choices", REVISION, "{split}.parquet")
    rows = {
        "question": ["which one ?", "and now ?"],
        "story": ["a story .", "another ."],
        "options": [["a", "b", "c"], ["d", "e", "f"]],
        "answer": ["B", "C"],
    }
    write_table(tmp_path, choices, "train", datasets.Dataset.from_dict(rows))
    mc = declared_task(
        "choices",
        {
            "kind": "multiple_choice", "repo": choices.repo, "revision": REVISION,
            "files": choices.files, "labels": ["A", "B", "C"],
            "columns": {"context": ["story", "question"], "choices": "options", "label": "answer"},
        },
    )  # fmt: skip
    loaded = mc.read("train", "en", DataLocator(tmp_path))
    assert loaded.to_dict() == {
        "context": ["a story . which one ?", "another . and now ?"],
        "choices": [["a", "b", "c"], ["d", "e", "f"]],
        "label": [1, 2],
    }
    questions = HubSource("acme-nlp/questions", REVISION, "{split}.parquet")
    context, question, answer, start = qa_example(random.Random(0))
    gold = {"text": [answer], "answer_start": [start]}
    row = {"qid": "q0", "passage": context, "question": question, "gold": gold}
    write_table(tmp_path, questions, "train", datasets.Dataset.from_list([row]))
    qa = declared_task(
        "questions",
        {
            "kind": "extractive_qa", "repo": questions.repo, "revision": REVISION,
            "files": questions.files,
            "columns": {"id": "qid", "context": "passage", "answers": "gold"},
        },
    )  # fmt: skip
    assert qa.main_metric == "em_f1" and qa.defaults.max_length == 384  # as SQuAD's
    loaded = qa.read("train", "en", DataLocator(tmp_path))
    assert loaded.column_names == ["id", "context", "question", "answers"]
    assert loaded[0] == {"id": "q0", "context": context, "question": question, "answers": gold}


def declare(**changes: Any) -> dict[str, Any]:
    """REVIEWS with `changes`; a None value removes the key."""
    changed = {**REVIEWS, **changes}
    return {key: value for key, value in changed.items() if value is not None}


MALFORMED = [
    (
        declare(kind="regression"),
        "tasks.reviews.kind: Input should be 'classification', 'tagging', "
        "'multiple_choice' or 'extractive_qa' (got 'regression')",
    ),
    (declare(revision=None), "tasks.reviews.revision is missing"),
    (
        declare(column={"text": "review"}),
        "unknown key tasks.reviews.column (did you mean 'columns'?); allowed here: "
        "kind, repo, revision, files, columns, labels, aliases, splits, languages, "
        "train_language, metric, allow_null, summary, hyperparameters",
    ),
    (
        declare(columns={"text": "review", "lable": "verdict"}),
        "unknown key tasks.reviews.columns.lable (did you mean 'label'?); allowed "
        "here: text, label, tokens, tags, context, choices, question, id, answers",
    ),
    (
        declare(columns={"tokens": "review"}),
        "tasks.reviews.columns: kind classification reads no tokens column (it reads text, label)",
    ),
    (
        declare(columns={"text": ["a", "b", "c"]}),
        "tasks.reviews.columns: text is one column, or two for a text pair",
    ),
    (
        declare(labels=None),
        "tasks.reviews.labels: kind classification must list its label names",
    ),
    (
        declare(labels=["positive", 1]),
        "tasks.reviews.labels[1]: Input should be a valid string (got 1)",
    ),
    (
        declare(files="{lang}/{split}.parquet"),
        "tasks.reviews.files: '{lang}/{split}.parquet' must name the split as "
        "{split}, and may name the language as {language} (no other placeholder), e.g. "
        "'{language}/{split}-*.parquet'",
    ),
    (
        declare(metric="f1"),
        "tasks.reviews.metric: the main metric of kind classification is one of accuracy, not 'f1'",
    ),
    (
        declare(hyperparameters={"epoch": 3}),
        "unknown key tasks.reviews.hyperparameters.epoch (did you mean 'epochs'?); "
        "allowed here: learning_rate, batch_size, epochs, max_length, warmup_ratio, "
        "weight_decay, max_train_examples, max_eval_examples, embedding_layer",
    ),
    (
        declare(aliases={"meh": "neutral"}),
        "tasks.reviews: aliases: 'meh' stands for 'neutral', which is not one of "
        "labels (negative, positive)",
    ),
    (
        declare(files="{split}.parquet"),
        "tasks.reviews: files '{split}.parquet' has no {language}, so the dataset has "
        "one language: set languages to [en] (or add {language} to files)",
    ),
]


@pytest.mark.parametrize(("declaration", "message"), MALFORMED)
def test_a_malformed_declaration_is_one_line_naming_task_and_key(tmp_path, declaration, message):
    """As a recipe reports it: the key's path names the declared task (``tasks.reviews``)."""
    with pytest.raises(ValidationError) as error:
        config(tmp_path, "reviews", declared={"reviews": declaration})
    assert describe(error.value, ChainConfig) == message


BAD_DATA = [
    (
        declare(labels=["negative", "neutral"]),
        "acme-nlp/tiny-reviews en/train-*.parquet: label 'positive' is not one of negative, "
        "neutral (did you mean 'negative'?)",
    ),
    (
        declare(columns={"text": "review", "label": "stars"}),
        "split 'train' has no column 'stars' (it has id, review, verdict)",
    ),
]


@pytest.mark.parametrize(("declaration", "message"), BAD_DATA)
def test_data_that_does_not_fit_the_declaration_is_one_line(lab, declaration, message):
    chain = plan(config(lab, "reviews", declared={"reviews": declaration}))
    with pytest.raises(StiltsError) as error:
        chain.target.task.read("train", "en", chain.data)
    text = str(error.value)
    assert "\n" not in text
    assert message in text, text


def test_a_declared_name_must_not_be_an_installed_task(tmp_path):
    with pytest.raises(StiltsError, match="declared task 'xnli' has the name of the installed"):
        plan(config(tmp_path, "mnli", "xnli", declared={"xnli": REVIEWS}))
    with pytest.raises(StiltsError, match="unknown task 'review' \\(did you mean 'reviews'"):
        plan(config(tmp_path, "review"))


def fingerprint(root: Path, **changes: Any) -> str:
    declared = {**DECLARED, "reviews": declare(**changes)}
    return plan(config(root, "reviews", declared=declared)).phases[0].fingerprint


def test_the_phase_fingerprint_follows_the_declaration(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "data").mkdir()
    base = fingerprint(tmp_path)
    changed = {
        fingerprint(tmp_path, columns={"text": ["review", "id"], "label": "verdict"}),
        fingerprint(tmp_path, labels=["positive", "negative"]),
        fingerprint(tmp_path, aliases={"good": "positive"}),
        fingerprint(tmp_path, splits={"dev": "test"}),
        fingerprint(tmp_path, files="{language}/{split}/*.parquet"),
        fingerprint(tmp_path, revision="main"),
    }
    assert base not in changed and len(changed) == 6
    # Spelt-out defaults, a summary or key order are the same declaration.
    same = declare(summary="other words", splits={"train": "train"}, metric="accuracy")
    assert fingerprint(tmp_path, **same) == base
    assert fingerprint(tmp_path, **dict(reversed(REVIEWS.items()))) == base


def test_installed_tasks_keep_their_fingerprints():
    plain = plan(ChainConfig(phases=("mnli", "xnli")))
    beside = plan(ChainConfig(phases=("mnli", "xnli"), declared_tasks=DECLARED))
    assert [p.fingerprint for p in beside.phases] == [p.fingerprint for p in plain.phases]
    assert "declaration" not in plain.phases[0].spec


def test_a_declaration_survives_the_recipe_round_trip():
    """What a recipe passes on (`model_dump(mode="json", exclude_defaults=True)`) is the
    same declaration, and a given hyperparameter equal to a dataclass default is kept."""
    declaration = TaskDeclaration.model_validate({**ENTITIES, "hyperparameters": {"epochs": 2}})
    dumped = declaration.model_dump(mode="json", exclude_defaults=True)
    assert TaskDeclaration.model_validate(dumped) == declaration
    assert dumped["hyperparameters"] == {"epochs": 2}
    task = declaration.build("entities")
    assert task.defaults == TAGGING_DEFAULTS.updated({"epochs": 2})
    assert Hyperparameters().epochs == 2  # the value the dump must not drop
