"""Extractive question answering (SQuAD, SQuAD 2.0, XQuAD, MLQA, TyDiQA-GoldP).

A context longer than the maximum length is read in windows cut as XTREME and jiant cut them
(the SQuAD feature code XTREME copied from transformers, `squad_convert_example_to_features`
with `doc_stride`, in its third_party/processors/squad.py; jiant's squad_style/core.py is the
same code): a window starts every `stride` context tokens and holds as many context tokens as
the input has room for beside the question, and the last window is the first to reach the
context's end. A token then sits in several windows, and decoding lets an answer start at it
only in the window where it has the most context (`_check_is_max_context`): near a window's
edge the model has seen too little text around it to judge. Each window is trained on the
gold span if it holds the whole span and on the first token (no answer here) otherwise.

`windows="overlap"` cuts as transformers' run_qa.py does instead (and stilts did before):
`stride` is the tokenizer's overlap between windows, and a start counts in every window.

Decoding scores the `n_best` starts × ends of every window of a question, keeps spans inside
the context, starting where a start counts and at most `max_answer_length` tokens long, and
cuts the answer from the original context through the tokenizer's offset mapping, so
normalisation inside the tokenizer (NFKC…) never changes the answer text. With `allow_null`
(SQuAD 2.0) the empty answer wins when its score beats every span.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, get_args

from stilts.eval.submission import Submission, answers_json
from stilts.tasks.heads.common import ROW, AutoModelHead

if TYPE_CHECKING:
    import datasets

OUTSIDE = (-1, -1)
"""Offsets of a token outside the context (question, special tokens): never an answer."""
STARTS = "starts"
"""Feature column: per position, whether decoding lets an answer start there (a context
token, and with study windows only in the window where it has the most context)."""
Windows = Literal["study", "overlap"]


class Window(NamedTuple):
    """One model input cut from a row: its tokens, their context offsets, where answers may
    start."""

    row: int
    input_ids: list[int]
    offsets: list[list[int]]
    starts: list[bool]


@dataclass(frozen=True)
class ExtractiveQA(AutoModelHead):
    """Find the answer span of `question` in `context`; `answers` as in SQuAD.

    The defaults are those of the XTREME and SQuAD reference code: a window every 128 context
    tokens, questions cut to 64 tokens, answers at most 30 tokens, 20-best decoding.
    """

    allow_null: bool = False
    stride: int = 128
    """Context tokens from one window's start to the next (XTREME's and jiant's `doc_stride`),
    at most a window's room; with `windows="overlap"`, the tokens two windows share instead."""
    windows: Windows = "study"
    """How long contexts are cut and decoded: "study" (as XTREME and jiant) or "overlap" (as
    transformers' run_qa.py, and stilts until it followed the study)."""
    max_question_length: int = 64
    max_answer_length: int = 30
    n_best: int = 20
    columns: tuple[str, ...] = field(default=("id", "context", "question", "answers"), init=False)
    kind: str = field(default="extractive QA", init=False)
    auto_class: ClassVar[str] = "AutoModelForQuestionAnswering"

    def __post_init__(self) -> None:
        if self.windows not in get_args(Windows):
            raise ValueError(f"QA windows are 'study' or 'overlap', not {self.windows!r}")
        if self.stride < 1:
            raise ValueError(f"a QA stride is a positive number of tokens, not {self.stride}")

    def describe(self) -> str:
        return f"{self.kind} ({'with' if self.allow_null else 'no'} unanswerable questions)"

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "kind": self.kind,
            "allow_null": self.allow_null,
            "stride": self.stride,
            "max_question_length": self.max_question_length,
        }
        if self.windows != "overlap":  # only then: phases cut the old way keep their fingerprints
            spec["windows"] = self.windows
        return spec

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        questions = _cut_questions(batch["question"], tokenizer, self.question_room(max_length))
        cut = self._study_windows if self.windows == "study" else self._overlapping_windows
        features: dict[str, list[Any]] = {
            "input_ids": [],
            "attention_mask": [],
            "start_positions": [],
            "end_positions": [],
            "offsets": [],
            STARTS: [],
            ROW: [],
        }
        for window in cut(questions, batch["context"], tokenizer, max_length):
            start, end = _gold_span(batch["answers"][window.row], window.offsets)
            features["input_ids"].append(window.input_ids)
            features["attention_mask"].append([1] * len(window.input_ids))
            features["start_positions"].append(start)
            features["end_positions"].append(end)
            features["offsets"].append(window.offsets)
            features[STARTS].append(window.starts)
            features[ROW].append(window.row)
        return features

    def _study_windows(
        self, questions: list[str], contexts: list[str], tokenizer: Any, max_length: int
    ) -> Iterator[Window]:
        """Windows cut out of each whole (question, context) encoding, so their context tokens
        are those of the context read at once, as XTREME tokenises it before cutting.

        `verbose=False`: the whole encoding is never a model input, so the tokenizer need not
        warn that it is longer than the model takes.
        """
        encoded = tokenizer(questions, contexts, return_offsets_mapping=True, verbose=False)
        for row, ids in enumerate(encoded["input_ids"]):
            context = [i for i, sequence in enumerate(encoded.sequence_ids(row)) if sequence == 1]
            in_context = set(context)
            offsets = encoded["offset_mapping"][row]
            # The question and the special tokens leave the rest of max_length to the context
            # (XTREME's paragraph_len, third_party/processors/squad.py lines 151-154).
            spans = _window_spans(len(context), max_length - len(ids) + len(context), self.stride)
            best = _max_context(spans, len(context))
            for index, (start, length) in enumerate(spans):
                shown = range(context[start], context[start] + length)
                positions = [i for i in range(len(ids)) if i in shown or i not in in_context]
                yield Window(
                    row,
                    [ids[i] for i in positions],
                    [list(offsets[i]) if i in shown else list(OUTSIDE) for i in positions],
                    [i in shown and best[i - context[0]] == index for i in positions],
                )

    def _overlapping_windows(
        self, questions: list[str], contexts: list[str], tokenizer: Any, max_length: int
    ) -> Iterator[Window]:
        """Windows as the tokenizer cuts them with `stride` tokens of overlap, at most half of
        the context's room so that windows move on."""
        context_room = (
            max_length
            - self.question_room(max_length)
            - tokenizer.num_special_tokens_to_add(pair=True)
        )
        encoded = tokenizer(
            questions,
            contexts,
            truncation="only_second",
            max_length=max_length,
            stride=min(self.stride, context_room // 2),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for i, row in enumerate(encoded["overflow_to_sample_mapping"]):
            in_context = [s == 1 for s in encoded.sequence_ids(i)]
            offsets = [
                list(span) if inside else list(OUTSIDE)
                for span, inside in zip(encoded["offset_mapping"][i], in_context, strict=True)
            ]
            yield Window(row, encoded["input_ids"][i], offsets, in_context)

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
        all_offsets, all_starts = features["offsets"], features[STARTS]
        answers = []
        for row, context in enumerate(rows["context"]):
            best_score, best_text, null_score = -np.inf, "", np.inf
            for feature in windows[row]:
                offsets, may_start = all_offsets[feature], all_starts[feature]
                # Trainer pads logits across batches; only this window's positions count.
                starts = start_logits[feature][: len(offsets)]
                ends = end_logits[feature][: len(offsets)]
                null_score = min(null_score, starts[0] + ends[0])
                for s in np.argsort(starts)[::-1][: self.n_best]:
                    for e in np.argsort(ends)[::-1][: self.n_best]:
                        # A start outside its max-context window is skipped as in
                        # transformers' compute_predictions_logits, which XTREME calls
                        # (third_party/run_squad.py line 403), and jiant's copy of it
                        # (squad_style/utils.py line 113).
                        if not may_start[s] or offsets[e][0] < 0:
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


def _window_spans(tokens: int, room: int, stride: int) -> list[tuple[int, int]]:
    """(first context token, length) of each window over `tokens` context tokens, as XTREME's
    third_party/processors/squad.py (lines 138-179) and jiant's squad_style/core.py (lines
    161-235) cut them: window k starts at k × stride and holds up to `room` tokens, and the
    last is the first to reach the end (the first one the tokenizer leaves no overflow).

    The step is at most `room`: the original needs a stride no longer than a window (it
    passes room - stride to the tokenizer as overlap), and a longer step would skip context,
    so windows then follow one another. At the study's settings (384 tokens, a question of
    at most 64) a window holds at least 316 tokens and the stride of 128 stands."""
    step = min(stride, room)
    spans: list[tuple[int, int]] = []
    for start in range(0, tokens, step):
        spans.append((start, min(tokens - start, room)))
        if start + room >= tokens:
            break
    return spans


def _max_context(spans: list[tuple[int, int]], tokens: int) -> list[int]:
    """For each context token, the window where it has the most context: the highest
    min(tokens to its left, tokens to its right) + 0.01 × window length, the first window
    on a tie, exactly as `_new_check_is_max_context` (XTREME third_party/processors/squad.py
    lines 60-79, jiant squad_style/core.py lines 528-547) scores it."""
    best: list[int] = []
    for position in range(tokens):
        scores = {
            window: min(position - start, start + length - 1 - position) + 0.01 * length
            for window, (start, length) in enumerate(spans)
            if start <= position < start + length
        }
        best.append(max(scores, key=scores.__getitem__))  # the first of equal scores
    return best
