"""Token tagging (UD-POS, PAN-X, CCG supertagging): one tag per word.

Words are tokenised into sub-words; the tag sits on the first sub-word of each word and
every other position is -100, so the loss and the prediction both happen once per word.
A sentence longer than the maximum length is split, as XTREME does, into windows of whole
words that each fit, so no word is ever dropped; each word is predicted in exactly one window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.errors import StiltsError
from stilts.eval.submission import Submission, tag_lines
from stilts.tasks.heads.common import ROW, AutoModelHead
from stilts.tasks.heads.words import first_subwords, tokenizable_words

if TYPE_CHECKING:
    import datasets

IGNORED = -100  # the label id PyTorch's cross-entropy skips
UNSEEN = "<unseen>"
"""Gold tag name for a tag id of -1: a tag missing from the head's set (CCG dev/test tags
that never occur in training). It can never be predicted, so it always counts as an error."""


@dataclass(frozen=True)
class TokenTagging(AutoModelHead):
    """Tag every word of `tokens` with one of `labels`; `tags` holds label ids per word.

    An empty `labels` means the task builds its tag set from its training data (CCG); such a
    task binds a concrete head before training (see `Task.head_for_data`).
    """

    labels: tuple[str, ...]
    columns: tuple[str, ...] = field(default=("tokens", "tags"), init=False)
    kind: str = field(default="tagging", init=False)
    auto_class: ClassVar[str] = "AutoModelForTokenClassification"

    def head_labels(self) -> tuple[str, ...]:
        if not self.labels:
            raise StiltsError("this tagging head has no tag set yet: bind it to training data")
        return self.labels

    def describe(self) -> str:
        tags = f"{len(self.labels)} tags" if self.labels else "tag set from training data"
        return f"{self.kind} ({tags})"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "labels": list(self.labels) or "from training data"}

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
        windows, origins = [], []  # words of each window; (row, index of its first word)
        for row, (words, lengths) in enumerate(tokenizable_words(batch["tokens"], tokenizer)):
            for start, end in _windows(lengths, budget):
                windows.append(words[start:end])
                origins.append((row, start))
        encoded = tokenizer(
            windows, is_split_into_words=True, truncation=True, max_length=max_length
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "labels": [],
            "word_ids": [],
            ROW: [],
        }
        for i, (row, offset) in enumerate(origins):
            tags = batch["tags"][row]
            starts = first_subwords(encoded.word_ids(i))
            word_ids = [offset + word if word >= 0 else -1 for word in starts]
            labelled = [word >= 0 and tags[word] >= 0 for word in word_ids]  # -1: unseen tag
            features["labels"].append(
                [tags[word] if ok else IGNORED for word, ok in zip(word_ids, labelled, strict=True)]
            )
            features["word_ids"].append(word_ids)
            features[ROW].append(row)
        return features

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer)

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        # Only the best tag per position is kept: a CCG tag set (>1,000 tags) would otherwise
        # gather sentences × positions × tags floats for a whole evaluation set.
        return logits.argmax(dim=-1)

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        predictions: list[list[str | None]] = [[None] * len(t) for t in rows["tokens"]]
        for best, row, word_ids in zip(outputs, features[ROW], features["word_ids"], strict=True):
            for position, word in enumerate(word_ids):
                if word >= 0:
                    predictions[row][word] = self.labels[best[position]]
        for row, tags in enumerate(predictions):
            if None in tags:
                raise StiltsError(
                    f"row {row}: word {tags.index(None)} got no prediction; tagging windows "
                    "must cover every word"
                )
        return predictions

    def references(self, rows: datasets.Dataset) -> list[Any]:
        return [[self.labels[t] if t >= 0 else UNSEEN for t in tags] for tags in rows["tags"]]

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        return tag_lines(predictions, rows)

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        for tokens in rows["tokens"]:
            yield " ".join(tokens)


def _windows(lengths: list[int], budget: int) -> Iterator[tuple[int, int]]:
    """Ranges of words (given their sub-word counts) that each fit `budget` sub-words.

    A single word longer than that gets a window of its own and is cut by truncation; its
    first sub-word, which carries the tag, stays.
    """
    start, used = 0, 0
    for index, length in enumerate(lengths):
        if used and used + length > budget:
            yield start, index
            start, used = index, 0
        used += length
    if lengths:
        yield start, len(lengths)
