"""QA windows as XTREME and jiant cut them: a window every `stride` context tokens, and a
token's start scored only in the window where it has the most context.

Every word of the context is one token of the test tokenizer, so token positions are word
positions and the expected windows can be worked out by hand. The context is FILLER (13
words) eight times: 104 tokens. The question "what is it" is 3 tokens, and XLM-R's layout
<s> question </s></s> context </s> adds 4, so at max_length 40 a window holds
40 - 3 - 4 = 33 context tokens.
"""

from __future__ import annotations

import re

import datasets
import numpy as np
import pytest

from stilts.eval.qa import squad_scores
from stilts.runtime.features import tokenized
from stilts.tasks.heads import ExtractiveQA
from stilts.tasks.heads.question_answering import STARTS
from stilts.tasks.task import Task
from stilts.testing import train_tokenizer

FILLER = "the farmer walked to the old mill by the river and sat down"
CONTEXT = " ".join([FILLER] * 8)
QUESTION = "what is it"
MAX_LENGTH = 40
WORD_ENDS = {match.end(): i for i, match in enumerate(re.finditer(r"\S+", CONTEXT))}
"""Context token (= word) index by the character offset where it ends."""


@pytest.fixture(scope="module")
def tokenizer():
    tokenizer = train_tokenizer([FILLER, QUESTION] * 30, 120)
    assert len(tokenizer(CONTEXT, add_special_tokens=False)["input_ids"]) == 104
    assert len(tokenizer(QUESTION, add_special_tokens=False)["input_ids"]) == 3
    return tokenizer


def features_of(head: ExtractiveQA, tokenizer, answer: str = "old mill") -> datasets.Dataset:
    answers = {"text": [answer], "answer_start": [CONTEXT.index(answer)]}
    rows = datasets.Dataset.from_dict(
        {"id": ["q"], "question": [QUESTION], "context": [CONTEXT], "answers": [answers]}
    )
    task = Task(
        name="toy", summary="", head=head, languages=("en",), sources=(), load=None,
        metric=squad_scores, main_metric="em_f1",
    )  # fmt: skip
    return tokenized(task, rows, tokenizer, MAX_LENGTH)


def context_tokens(offsets: list[list[int]]) -> list[int]:
    """The context token index of each context position of a window, read off its offsets."""
    return [WORD_ENDS[end] for start, end in offsets if start >= 0]


def spans(features: datasets.Dataset) -> list[tuple[int, int]]:
    """(first context token, number of context tokens) of each window."""
    tokens = [context_tokens(offsets) for offsets in features["offsets"]]
    for window in tokens:  # each window is one unbroken run of the context
        assert window == list(range(window[0], window[0] + len(window)))
    return [(window[0], len(window)) for window in tokens]


def test_windows_start_every_stride_tokens(tokenizer):
    # Window k starts at 16k and holds up to 33 tokens; the last is the first to reach the
    # end (token 103): starts 0, 16, 32, 48, 64 end at 32, 48, 64, 80, 96, and the one at 80
    # holds the 24 tokens 80-103. With 16 as the overlap instead (run_qa.py's reading of the
    # number) windows would start every 33 - 16 = 17 tokens: 0, 17, 34, 51, 68, 85.
    features = features_of(ExtractiveQA(stride=16), tokenizer)
    assert spans(features) == [(0, 33), (16, 33), (32, 33), (48, 33), (64, 33), (80, 24)]
    assert all(len(ids) <= MAX_LENGTH for ids in features["input_ids"])


def test_a_stride_longer_than_a_window_makes_windows_follow_one_another(tokenizer):
    # The default 128 exceeds the 33 tokens a window holds; stepping 128 would skip 95
    # tokens, so windows step 33: 0, 33, 66, and 99 with the last 5 tokens (99-103).
    assert spans(features_of(ExtractiveQA(), tokenizer)) == [(0, 33), (33, 33), (66, 33), (99, 5)]


def test_overlap_windows_still_share_stride_tokens(tokenizer):
    # The old way: a question may take min(64, 40 // 2) = 20 tokens, leaving 40 - 20 - 4 = 16
    # for context, half of which (8) caps the overlap of 16; 33-token windows sharing 8
    # tokens step 25: 0, 25, 50, and 75 with the last 29 tokens.
    head = ExtractiveQA(stride=16, windows="overlap")
    features = features_of(head, tokenizer)
    assert spans(features) == [(0, 33), (25, 33), (50, 33), (75, 29)]
    # Every context token's start counts, in every window that holds it.
    assert all(
        starts == [start >= 0 for start, _ in offsets]
        for starts, offsets in zip(features[STARTS], features["offsets"], strict=True)
    )


def counted_in(features: datasets.Dataset) -> dict[int, list[int]]:
    """Context token -> the windows whose decoding may start an answer at it."""
    counted: dict[int, list[int]] = {}
    for window, (starts, offsets) in enumerate(
        zip(features[STARTS], features["offsets"], strict=True)
    ):
        for may_start, (start, end) in zip(starts, offsets, strict=True):
            if start >= 0 and may_start:
                counted.setdefault(WORD_ENDS[end], []).append(window)
    return counted


def test_a_token_counts_only_in_the_window_where_it_has_the_most_context(tokenizer):
    counted = counted_in(features_of(ExtractiveQA(stride=16), tokenizer))
    assert sorted(counted) == list(range(104))
    assert all(len(windows) == 1 for windows in counted.values())
    # Score in a window = min(tokens left of it, tokens right of it) + 0.01 x window length.
    # Token 44: window 1 (16-48) min(28, 4) + 0.33 = 4.33; window 2 (32-64) min(12, 20)
    # + 0.33 = 12.33.
    assert counted[44] == [2]
    # Token 40: 8.33 in window 1 (24 left, 8 right) and in window 2 (8, 24): the first wins.
    assert counted[40] == [1]
    # Token 80: windows 3 (48-80) 0.33, 4 (64-96) 16.33 and 5 (80-103, 24 tokens) 0.24.
    assert counted[80] == [4]


def position_of(token: int, offsets: list[list[int]]) -> int:
    """Where context token `token` sits in a window's input."""
    return next(i for i, (s, e) in enumerate(offsets) if s >= 0 and WORD_ENDS[e] == token)


def test_decoding_takes_a_start_from_its_max_context_window_only(tokenizer):
    head = ExtractiveQA(stride=16)
    features = features_of(head, tokenizer)
    rows = datasets.Dataset.from_dict({"context": [CONTEXT]})
    width = max(len(ids) for ids in features["input_ids"])
    starts = np.full((features.num_rows, width), -100.0)
    ends = np.full((features.num_rows, width), -100.0)
    # Token 44 ("old") is in windows 1 and 2 and has the most context in window 2 (see above).
    # Window 1 is sure of "old mill" (44-45, score 40), window 2 only of "old mill by"
    # (44-46, score 10): were starts scored in every window, "old mill" would win.
    window_1, window_2 = features["offsets"][1], features["offsets"][2]
    starts[1, position_of(44, window_1)] = ends[1, position_of(45, window_1)] = 20.0
    starts[2, position_of(44, window_2)] = ends[2, position_of(46, window_2)] = 5.0
    assert head.decode((starts, ends), features, rows) == ["old mill by"]


def test_the_way_windows_are_cut_is_part_of_the_fingerprint():
    # The old way keeps the spec, so phases trained before keep their fingerprints.
    assert ExtractiveQA(windows="overlap").spec() == {
        "kind": "extractive QA", "allow_null": False, "stride": 128, "max_question_length": 64,
    }  # fmt: skip
    assert ExtractiveQA().spec() == {**ExtractiveQA(windows="overlap").spec(), "windows": "study"}
    with pytest.raises(ValueError, match="'study' or 'overlap', not 'sliding'"):
        ExtractiveQA(windows="sliding")  # type: ignore[arg-type]
