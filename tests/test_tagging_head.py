"""The tagging head: first-sub-word labels, word windows for long sentences, decoding to words."""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from stilts import StiltsError
from stilts.eval.tagging import chunk_f1
from stilts.runtime.features import tokenized
from stilts.tasks.heads import ROW, TokenTagging
from stilts.tasks.task import Task
from stilts.testing import train_tokenizer

HEAD = TokenTagging(labels=("O", "B-PER", "I-PER"))
TASK = Task(
    name="toy", summary="", head=HEAD, languages=("en",), sources=(), load=None,
    metric=chunk_f1, main_metric="f1",
)  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(["anna met bob in the park"] * 30, 60)


def one_hot_outputs(features: datasets.Dataset) -> np.ndarray:
    """Per-position best tags as Trainer returns them: gold where labelled, padded with -100."""
    width = max(len(labels) for labels in features["labels"])
    best = np.full((features.num_rows, width), -100)
    for i, labels in enumerate(features["labels"]):
        best[i, : len(labels)] = [max(label, 0) for label in labels]
    return best


def test_a_word_of_several_sub_words_is_labelled_on_its_first_only(tokenizer):
    rows = {"tokens": [["anna", "zyxwvut", "bob"]], "tags": [[1, 2, 0]]}
    features = HEAD.preprocess(rows, tokenizer, max_length=64)
    pieces = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    labels = features["labels"][0]
    # <s> ▁anna ▁ z y x w v u t ▁bob </s>: the made-up word is eight sub-words
    first_of_word = [i for i, label in enumerate(labels) if label != -100]
    assert [labels[i] for i in first_of_word] == [1, 2, 0]
    assert [pieces[i] for i in (first_of_word[0], first_of_word[2])] == ["▁anna", "▁bob"]
    assert first_of_word[2] - first_of_word[1] >= 4  # its other sub-words are unlabelled
    word_ids = features["word_ids"][0]
    assert [word_ids[i] for i in first_of_word] == [0, 1, 2]
    assert word_ids.count(-1) == len(pieces) - 3


def test_a_long_sentence_is_split_into_windows_and_every_word_comes_back(tokenizer):
    words = ["anna", "met", "bob", "in", "the", "park"] * 20  # 120 words, > 1 window of 32
    tags = [1, 0, 1, 0, 0, 0] * 20
    table = datasets.Dataset.from_dict({"tokens": [["bob"], words], "tags": [[1], tags]})
    features = tokenized(TASK, table, tokenizer, max_length=32)
    assert features[ROW].count(1) >= 4  # the long row needs several windows
    assert all(len(ids) <= 32 for ids in features["input_ids"])
    predicted = HEAD.decode(one_hot_outputs(features), features, table)
    assert predicted == HEAD.references(table)
    assert len(predicted[1]) == 120


def test_windows_never_split_a_word_and_predict_each_word_once(tokenizer):
    words = ["zyxwvutsrq"] * 12  # ~9 sub-words each: a window holds three of them
    table = datasets.Dataset.from_dict({"tokens": [words], "tags": [[2] * 12]})
    features = tokenized(TASK, table, tokenizer, max_length=32)
    covered = [w for ids in features["word_ids"] for w in ids if w >= 0]
    assert sorted(covered) == list(range(12))
    for ids, labels in zip(features["word_ids"], features["labels"], strict=True):
        first = next(i for i, w in enumerate(ids) if w >= 0)
        assert labels[first] == 2 and ids[first] >= 0


def test_a_word_that_tokenises_to_nothing_still_gets_a_prediction(tokenizer):
    table = datasets.Dataset.from_dict({"tokens": [["anna", "", "bob"]], "tags": [[1, 0, 1]]})
    features = tokenized(TASK, table, tokenizer, max_length=32)
    assert HEAD.decode(one_hot_outputs(features), features, table) == [["B-PER", "O", "B-PER"]]


def test_a_word_without_prediction_is_an_error_not_a_silent_drop(tokenizer):
    table = datasets.Dataset.from_dict({"tokens": [["anna", "bob"]], "tags": [[1, 1]]})
    features = tokenized(TASK, table, tokenizer, max_length=32)
    truncated = features.map(lambda f: {"word_ids": [w if w != 1 else -1 for w in f["word_ids"]]})
    with pytest.raises(StiltsError, match="word 1 got no prediction"):
        HEAD.decode(one_hot_outputs(features), truncated, table)


def test_unseen_gold_tags_are_kept_as_errors_and_ignored_by_the_loss(tokenizer):
    table = datasets.Dataset.from_dict({"tokens": [["anna", "bob"]], "tags": [[1, -1]]})
    features = tokenized(TASK, table, tokenizer, max_length=32)
    assert sorted(set(features["labels"][0])) == [-100, 1]
    assert HEAD.references(table) == [["B-PER", "<unseen>"]]


def test_describe_and_spec():
    assert HEAD.describe() == "tagging (3 tags)"
    assert TokenTagging(labels=()).describe() == "tagging (tag set from training data)"
    with pytest.raises(StiltsError, match="no tag set"):
        TokenTagging(labels=()).model_with_encoder(None, None)
