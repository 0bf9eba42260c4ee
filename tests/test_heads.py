"""The sequence-classification head: labels, features, dynamic padding, decoding."""

from __future__ import annotations

import numpy as np
import pytest

from stilts import StiltsError
from stilts.tasks.heads import SequenceClassification
from stilts.testing import train_tokenizer

HEAD = SequenceClassification(
    labels=("entailment", "neutral", "contradiction"),
    text_columns=("premise", "hypothesis"),
    aliases={"contradictory": "contradiction"},
)


@pytest.fixture(scope="module")
def tokenizer():
    sentence = "a man walks his dog in the park while it rains and nobody sees them"
    return train_tokenizer([sentence] * 20, 120)


def test_label_names_and_aliases_map_to_ids():
    assert HEAD.label_ids(["neutral", "contradictory", "entailment"], where="x") == [1, 2, 0]


def test_unknown_label_suggests_the_close_name():
    with pytest.raises(StiltsError, match=r"label 'neutal' .*did you mean 'neutral'"):
        HEAD.label_ids(["neutal"], where="fixture")


def test_batches_are_padded_to_their_own_longest_row(tokenizer):
    batch = {
        "premise": ["a man walks", "a man walks his dog in the park while it rains"],
        "hypothesis": ["it rains", "nobody sees them"],
        "label": [0, 2],
    }
    features = HEAD.preprocess(batch, tokenizer, max_length=64)
    lengths = [len(ids) for ids in features["input_ids"]]
    assert lengths[0] < lengths[1] < 64  # tokenised without padding
    rows = [{k: features[k][i] for k in features} for i in range(2)]
    padded = HEAD.collator(tokenizer)(rows)
    assert padded["input_ids"].shape == (2, lengths[1])
    assert padded["labels"].tolist() == [0, 2]
    assert padded["attention_mask"][0].sum().item() == lengths[0]


def test_truncation_respects_max_length(tokenizer):
    long = " ".join(["a man walks his dog"] * 30)
    features = HEAD.preprocess(
        {"premise": [long], "hypothesis": [long], "label": [1]}, tokenizer, 16
    )
    assert len(features["input_ids"][0]) == 16


def test_decode_takes_the_highest_logit():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    assert HEAD.decode(logits, None, None) == [1, 0]


def test_describe_and_spec():
    assert HEAD.describe() == "classification (pair, 3 labels)"
    assert HEAD.spec()["labels"] == ["entailment", "neutral", "contradiction"]
    assert HEAD.columns == ("premise", "hypothesis", "label")
