"""Multiple choice (HellaSwag, CommonsenseQA, Cosmos QA, SIQA, COPA, XCOPA).

Each row is a `context` and a fixed number of `choices`; the model scores every
(context, choice) pair and the highest-scoring choice wins. How a dataset's fields become the
context and the choices (HellaSwag's `ctx_a` | `ctx_b + ending`, COPA's question words…) is
the task's business, done in its loader, so every multiple-choice task shares this head.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.eval.submission import Submission, label_lines
from stilts.tasks.heads.common import AutoModelHead

if TYPE_CHECKING:
    import datasets


@dataclass(frozen=True)
class MultipleChoice(AutoModelHead):
    """Pick one of `num_choices` endings for a context; `label` is the right choice's index."""

    num_choices: int
    columns: tuple[str, ...] = field(default=("context", "choices", "label"), init=False)
    kind: str = field(default="multiple choice", init=False)
    auto_class: ClassVar[str] = "AutoModelForMultipleChoice"

    def __post_init__(self) -> None:
        if not 2 <= self.num_choices <= 5:
            raise ValueError(f"multiple choice takes 2-5 choices, not {self.num_choices}")

    def describe(self) -> str:
        return f"{self.kind} ({self.num_choices} choices)"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "num_choices": self.num_choices}

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        contexts, endings = [], []
        for context, choices in zip(batch["context"], batch["choices"], strict=True):
            if len(choices) != self.num_choices:
                raise ValueError(f"a row has {len(choices)} choices, not {self.num_choices}")
            contexts += [context] * self.num_choices
            endings += choices
        # longest_first trims the longer side (the context, as a rule) and, unlike
        # only_first, never fails when an ending alone is long.
        flat = tokenizer(contexts, endings, truncation=True, max_length=max_length)
        n = self.num_choices
        features = {
            key: [values[i : i + n] for i in range(0, len(values), n)]
            for key, values in flat.items()
        }
        features["labels"] = batch["label"]
        return features

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForMultipleChoice

        return DataCollatorForMultipleChoice(tokenizer)

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        return logits

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        return outputs.argmax(axis=-1).tolist()  # one feature per row: no windows here

    def references(self, rows: datasets.Dataset) -> list[Any]:
        return rows["label"]

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        return label_lines()(predictions, rows)  # the index of the chosen answer

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        yield from rows["context"]
        for choices in rows["choices"]:
            yield from choices
