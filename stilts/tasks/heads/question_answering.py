"""Extractive question answering (SQuAD, SQuAD 2.0, XQuAD, MLQA, TyDiQA-GoldP).

A context longer than the maximum length is read in overlapping windows (`stride` tokens of
overlap). Each window is trained on the gold span if it holds the whole span and on the
first token (no answer here) otherwise. Decoding scores the `n_best` starts × ends of every
window of a question, keeps spans inside the context and at most `max_answer_length` tokens
long, and cuts the answer from the original context through the tokenizer's offset mapping,
so normalisation inside the tokenizer (NFKC…) never changes the answer text. With
`allow_null` (SQuAD 2.0) the empty answer wins when its score beats every span.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.eval.submission import Submission, answers_json
from stilts.tasks.heads.common import ROW, AutoModelHead

if TYPE_CHECKING:
    import datasets

OUTSIDE = (-1, -1)
"""Offsets of a token outside the context (question, special tokens): never an answer."""


@dataclass(frozen=True)
class ExtractiveQA(AutoModelHead):
    """Find the answer span of `question` in `context`; `answers` as in SQuAD.

    The defaults are those of the XTREME and SQuAD reference code: windows overlap by 128
    tokens, questions are cut to 64 tokens, answers are at most 30 tokens, 20-best decoding.
    """

    allow_null: bool = False
    stride: int = 128
    max_question_length: int = 64
    max_answer_length: int = 30
    n_best: int = 20
    columns: tuple[str, ...] = field(default=("id", "context", "question", "answers"), init=False)
    kind: str = field(default="extractive QA", init=False)
    auto_class: ClassVar[str] = "AutoModelForQuestionAnswering"

    def describe(self) -> str:
        return f"{self.kind} ({'with' if self.allow_null else 'no'} unanswerable questions)"

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "allow_null": self.allow_null,
            "stride": self.stride,
            "max_question_length": self.max_question_length,
        }

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        questions = _cut_questions(batch["question"], tokenizer, self.question_room(max_length))
        context_room = (
            max_length
            - self.question_room(max_length)
            - tokenizer.num_special_tokens_to_add(pair=True)
        )
        encoded = tokenizer(
            questions,
            batch["context"],
            truncation="only_second",
            max_length=max_length,
            stride=min(self.stride, context_room // 2),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "start_positions": [],
            "end_positions": [],
            "offsets": [],
            ROW: encoded["overflow_to_sample_mapping"],
        }
        for i, row in enumerate(encoded["overflow_to_sample_mapping"]):
            in_context = [s == 1 for s in encoded.sequence_ids(i)]
            offsets = [
                list(span) if inside else list(OUTSIDE)
                for span, inside in zip(encoded["offset_mapping"][i], in_context, strict=True)
            ]
            start, end = _gold_span(batch["answers"][row], offsets)
            features["offsets"].append(offsets)
            features["start_positions"].append(start)
            features["end_positions"].append(end)
        return features

    def question_room(self, max_length: int) -> int:
        """Tokens a question may take: at most half the input, so windows keep context."""
        return min(self.max_question_length, max_length // 2)

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        return logits

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        import numpy as np

        start_logits, end_logits = outputs
        windows: dict[int, list[int]] = defaultdict(list)
        for feature, row in enumerate(features[ROW]):
            windows[row].append(feature)
        all_offsets = features["offsets"]
        answers = []
        for row, context in enumerate(rows["context"]):
            best_score, best_text, null_score = -np.inf, "", np.inf
            for feature in windows[row]:
                offsets = all_offsets[feature]
                # Trainer pads logits across batches; only this window's positions count.
                starts = start_logits[feature][: len(offsets)]
                ends = end_logits[feature][: len(offsets)]
                null_score = min(null_score, starts[0] + ends[0])
                for s in np.argsort(starts)[::-1][: self.n_best]:
                    for e in np.argsort(ends)[::-1][: self.n_best]:
                        if offsets[s][0] < 0 or offsets[e][0] < 0:
                            continue
                        if not 0 <= e - s < self.max_answer_length:
                            continue
                        if starts[s] + ends[e] > best_score:
                            best_score = starts[s] + ends[e]
                            # Sentencepiece offsets include the space before a word.
                            best_text = context[offsets[s][0] : offsets[e][1]].strip()
            if self.allow_null and null_score > best_score:
                best_text = ""
            answers.append(best_text)
        return answers

    def references(self, rows: datasets.Dataset) -> list[Any]:
        return [answers["text"] for answers in rows["answers"]]

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        return answers_json(predictions, rows)

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        yield from rows["question"]
        yield from rows["context"]


def _cut_questions(questions: list[str], tokenizer: Any, room: int) -> list[str]:
    """Questions without leading spaces, each cut to `room` tokens at a token boundary (as
    XTREME's max_query_length does), so that every window has room for context."""
    questions = [q.lstrip() for q in questions]
    encoded = tokenizer(
        questions,
        add_special_tokens=False,
        truncation=True,
        max_length=room,
        return_offsets_mapping=True,
    )
    return [
        q[: spans[-1][1]] if spans else q
        for q, spans in zip(questions, encoded["offset_mapping"], strict=True)
    ]


def _gold_span(answers: dict[str, list[Any]], offsets: list[list[int]]) -> tuple[int, int]:
    """Token positions of the first gold answer in a window; (0, 0) when it is not inside."""
    if not answers["text"]:
        return 0, 0
    first = answers["answer_start"][0]
    last = first + len(answers["text"][0])
    inside = [i for i, (s, e) in enumerate(offsets) if s >= 0]
    if not inside or offsets[inside[0]][0] > first or offsets[inside[-1]][1] < last:
        return 0, 0
    start = next(i for i in inside if offsets[i][1] > first)
    end = next(i for i in reversed(inside) if offsets[i][0] < last)
    return start, end
