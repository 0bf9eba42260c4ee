"""Sentence and sentence-pair classification (XNLI, PAWS-X, MNLI, QQP…)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.errors import StiltsError, did_you_mean
from stilts.eval.submission import Submission, label_lines
from stilts.tasks.heads.common import AutoModelHead

if TYPE_CHECKING:
    import datasets


@dataclass(frozen=True)
class SequenceClassification(AutoModelHead):
    """Classify one text or a text pair into `labels` (order = label ids).

    `aliases` maps spellings found in raw data onto label names, e.g. XNLI's "contradictory".
    """

    labels: tuple[str, ...]
    text_columns: tuple[str, ...] = ("sentence1", "sentence2")
    aliases: Mapping[str, str] = field(default_factory=dict)
    kind: str = field(default="classification", init=False)
    auto_class: ClassVar[str] = "AutoModelForSequenceClassification"

    def __post_init__(self) -> None:
        if not 1 <= len(self.text_columns) <= 2:
            raise ValueError("a classification head reads one text column or a pair")

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.text_columns, "label")

    def head_labels(self) -> tuple[str, ...]:
        return self.labels

    def describe(self) -> str:
        inputs = "pair" if len(self.text_columns) == 2 else "sentence"
        return f"{self.kind} ({inputs}, {len(self.labels)} labels)"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "labels": list(self.labels), "inputs": list(self.text_columns)}

    def label_ids(self, names: Iterable[str], *, where: str) -> list[int]:
        """Map label names (or their aliases) to ids; an unknown name is a clear error."""
        index = {name: i for i, name in enumerate(self.labels)}
        index.update({alias: index[target] for alias, target in self.aliases.items()})
        ids = []
        for row, name in enumerate(names):
            if name not in index:
                raise StiltsError(
                    f"{where}: label {name!r} is not one of {', '.join(self.labels)}"
                    f"{did_you_mean(name, index)} (row {row})"
                )
            ids.append(index[name])
        return ids

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        # No padding here: the collator pads each batch to its own longest row.
        features = tokenizer(
            *(batch[c] for c in self.text_columns), truncation=True, max_length=max_length
        )
        features["labels"] = batch["label"]
        return features

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        return logits

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        return outputs.argmax(axis=-1).tolist()  # one feature per row: no windows here

    def references(self, rows: datasets.Dataset) -> list[Any]:
        return rows["label"]

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        return label_lines(self.labels)(predictions, rows)

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        for column in self.text_columns:
            yield from rows[column]
