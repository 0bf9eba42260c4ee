"""The extractive-QA head: windows with a stride, gold spans, n-best decoding, null answers."""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from stilts.eval.qa import squad_scores
from stilts.runtime.features import tokenized
from stilts.tasks.heads import ROW, ExtractiveQA
from stilts.tasks.task import Task
from stilts.testing import train_tokenizer

FILLER = "the farmer walked to the old mill by the river and sat down"
TEXT = [FILLER, "the ﬁnal code is zebra quartz", "the office is in ＡＢＣ tower", "what is it"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXT * 30, 120)


def task(head: ExtractiveQA) -> Task:
    return Task(
        name="toy", summary="", head=head, languages=("en",), sources=(), load=None,
        metric=squad_scores, main_metric="em_f1",
    )  # fmt: skip


def table(*rows: tuple[str, str, str | None]) -> datasets.Dataset:
    """(question, context, answer or None) rows in SQuAD's schema."""
    answers = []
    for _, context, answer in rows:
        found = [] if answer is None else [context.index(answer)]
        answers.append({"text": [answer] if answer else [], "answer_start": found})
    return datasets.Dataset.from_dict(
        {
            "id": [str(i) for i in range(len(rows))],
            "question": [q for q, _, _ in rows],
            "context": [c for _, c, _ in rows],
            "answers": answers,
        }
    )


def gold_logits(features: datasets.Dataset, null: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Start/end logits peaking (10) on each window's training span, padded like Trainer's."""
    width = max(len(ids) for ids in features["input_ids"])
    starts = np.full((features.num_rows, width), -100.0)
    ends = np.full((features.num_rows, width), -100.0)
    for i, ids in enumerate(features["input_ids"]):
        starts[i, : len(ids)] = ends[i, : len(ids)] = 0.0
        starts[i, 0] = ends[i, 0] = null
        starts[i, features["start_positions"][i]] += 10
        ends[i, features["end_positions"][i]] += 10
    return starts, ends


def windows_of(context: str, answer: str, tokenizer, head: ExtractiveQA):
    rows = table(("what is it", context, answer))
    features = tokenized(task(head), rows, tokenizer, max_length=40)
    spans = []  # (first char, end char, gold start, gold end) per window
    for offsets, start, end in zip(
        features["offsets"], features["start_positions"], features["end_positions"], strict=True
    ):
        inside = [o for o in offsets if o[0] >= 0]
        spans.append((inside[0][0], inside[-1][1], start, end))
    return rows, features, spans


def test_an_answer_across_a_window_boundary_is_found_in_the_window_holding_it(tokenizer):
    head, answer = ExtractiveQA(stride=8), "zebra quartz"
    for shift in range(30):  # move the answer until a window boundary falls inside it
        context = f"{'the ' * shift}{FILLER} {FILLER} the ﬁnal code is {answer} and {FILLER}"
        rows, features, spans = windows_of(context, answer, tokenizer, head)
        start = context.index(answer)
        cut = [s for s in spans if s[0] <= start < s[1] < start + len(answer)]
        if cut:
            break
    else:
        pytest.fail("no window boundary fell inside the answer")
    assert features[ROW] == [0] * features.num_rows
    # The window that ends inside the answer is trained on "no answer here" (0, 0) …
    assert all(s[2:] == (0, 0) for s in cut)
    # … and a later one, thanks to the stride, holds it whole and is trained on it.
    whole = [s for s in spans if s[0] <= start and start + len(answer) <= s[1]]
    assert whole and all(s[2] > 0 for s in whole)
    assert head.decode(gold_logits(features), features, rows) == [answer]


def test_an_unanswerable_question_gets_the_empty_answer_only_with_null_answers(tokenizer):
    rows = table(("what is it", "the ﬁnal code is zebra quartz", None))
    for head, expected in ((ExtractiveQA(allow_null=True), ""), (ExtractiveQA(), "code")):
        features = tokenized(task(head), rows, tokenizer, max_length=64)
        starts, ends = gold_logits(features, null=12.0)
        code = next(i for i, o in enumerate(features["offsets"][0]) if o[0] >= 0) + 2
        starts[0, code] = ends[0, code] = 5.0  # the best span, but below the null score
        assert head.decode((starts, ends), features, rows) == [expected]


def test_answers_come_from_the_original_text_not_the_normalised_one(tokenizer):
    # NFKC turns "ＡＢＣ" into "ABC" and "ﬁ" into "fi" inside the tokenizer.
    rows = table(
        ("what is it", "the office is in ＡＢＣ tower", "ＡＢＣ"),
        ("what is it", "the ﬁnal code is zebra quartz", "ﬁnal code"),
    )
    head = ExtractiveQA()
    features = tokenized(task(head), rows, tokenizer, max_length=64)
    assert head.decode(gold_logits(features), features, rows) == ["ＡＢＣ", "ﬁnal code"]
    assert head.references(rows) == [["ＡＢＣ"], ["ﬁnal code"]]


def test_spans_longer_than_the_maximum_answer_length_are_never_chosen(tokenizer):
    rows = table(("what is it", FILLER, "the farmer"))
    head = ExtractiveQA(max_answer_length=3)
    features = tokenized(task(head), rows, tokenizer, max_length=64)
    starts, ends = gold_logits(features)
    first = features["start_positions"][0]
    starts[0, [i for i in range(starts.shape[1]) if i != first]] = -40.0
    last = max(i for i, o in enumerate(features["offsets"][0]) if o[0] >= 0)
    ends[0, last] = 50.0  # "the farmer … sat down" would score 60 but is 12 words long
    assert head.decode((starts, ends), features, rows) == ["the farmer"]


def test_long_questions_are_cut_so_every_window_keeps_context(tokenizer):
    question = " ".join(["what is it"] * 40)
    rows = table((question, f"{FILLER} the ﬁnal code is zebra quartz", "zebra quartz"))
    head = ExtractiveQA(max_question_length=8)
    features = tokenized(task(head), rows, tokenizer, max_length=32)
    assert all(len(ids) <= 32 for ids in features["input_ids"])
    assert head.decode(gold_logits(features), features, rows) == ["zebra quartz"]
