"""The multiple-choice head: one (context, choice) pair per choice, padded per batch."""

from __future__ import annotations

import numpy as np
import pytest

from stilts.tasks.heads import MultipleChoice
from stilts.testing import train_tokenizer

HEAD = MultipleChoice(3)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(["she opened the door and walked into the garden slowly"] * 20, 100)


def test_every_choice_is_paired_with_the_context_and_padded_per_batch(tokenizer):
    batch = {
        "context": ["she opened the door", "she walked"],
        "choices": [["and walked", "slowly", "into the garden slowly"], ["a", "b", "c"]],
        "label": [2, 0],
    }
    features = HEAD.preprocess(batch, tokenizer, max_length=64)
    assert [len(choices) for choices in features["input_ids"]] == [3, 3]
    first = tokenizer.decode(features["input_ids"][0][2], skip_special_tokens=True)
    assert first.split() == ["she", "opened", "the", "door", "into", "the", "garden", "slowly"]
    rows = [{k: features[k][i] for k in features} for i in range(2)]
    padded = HEAD.collator(tokenizer)(rows)
    longest = max(len(ids) for choices in features["input_ids"] for ids in choices)
    assert padded["input_ids"].shape == (2, 3, longest)
    assert padded["labels"].tolist() == [2, 0]


def test_long_contexts_are_truncated_without_losing_the_ending(tokenizer):
    batch = {
        "context": ["she opened the door " * 40],
        "choices": [["x", "y", "slowly"]],
        "label": [0],
    }
    features = HEAD.preprocess(batch, tokenizer, max_length=16)
    assert all(len(ids) == 16 for ids in features["input_ids"][0])
    assert tokenizer.decode(features["input_ids"][0][2]).endswith("slowly</s>")


def test_a_row_with_the_wrong_number_of_choices_is_refused(tokenizer):
    with pytest.raises(ValueError, match="2 choices, not 3"):
        HEAD.preprocess({"context": ["c"], "choices": [["a", "b"]], "label": [0]}, tokenizer, 16)
    with pytest.raises(ValueError, match="2-5 choices"):
        MultipleChoice(6)


def test_decode_picks_the_best_scored_choice():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    assert HEAD.decode(scores, None, None) == [1, 0]
    assert HEAD.describe() == "multiple choice (3 choices)"
