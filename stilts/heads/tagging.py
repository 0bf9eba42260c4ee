"""Token tagging (UD-POS, PAN-X, CCG supertagging): one tag per word.

Words are tokenised into sub-words; the tag sits on the first sub-word of each word and
every other position is -100, so the loss and the prediction both happen once per word.
A sentence longer than the maximum length is split, as XTREME does, into windows of whole
words that each fit, so no word is ever dropped; each word is predicted in exactly one window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError
from stilts.eval.submission import Submission, tag_lines
from stilts.heads.common import ROW, head_model, trained_model

if TYPE_CHECKING:
    import datasets
    from transformers import PretrainedConfig, PreTrainedModel

AUTO_CLASS = "AutoModelForTokenClassification"
IGNORED = -100  # the label id PyTorch's cross-entropy skips
UNSEEN = "<unseen>"
"""Gold tag name for a tag id of -1: a tag missing from the head's set (CCG dev/test tags
that never occur in training). It can never be predicted, so it always counts as an error."""


@dataclass(frozen=True)
class TokenTagging:
    """Tag every word of `tokens` with one of `labels`; `tags` holds label ids per word.

    An empty `labels` means the task builds its tag set from its training data (CCG); such a
    task binds a concrete head before training (see `Task.head_for_data`).
    """

    labels: tuple[str, ...]
    columns: tuple[str, ...] = field(default=("tokens", "tags"), init=False)
    kind: str = field(default="tagging", init=False)

    def describe(self) -> str:
        tags = f"{len(self.labels)} tags" if self.labels else "tag set from training data"
        return f"{self.kind} ({tags})"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "labels": list(self.labels) or "from training data"}

    def model_with_encoder(
        self, config: PretrainedConfig, encoder: PreTrainedModel
    ) -> PreTrainedModel:
        if not self.labels:
            raise StiltsError("this tagging head has no tag set yet: bind it to training data")
        return head_model(AUTO_CLASS, config, encoder, self.labels)

    def load_trained(self, path: str, *, trust_remote_code: bool = False) -> PreTrainedModel:
        return trained_model(AUTO_CLASS, path, trust_remote_code=trust_remote_code)

    def preprocess(self, batch: dict[str, list], tokenizer: Any, max_length: int) -> dict:
        budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
        flat = [word for words in batch["tokens"] for word in words]
        pieces = tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
        windows, origins = [], []  # words of each window; (row, index of its first word)
        cursor = 0
        for row, words in enumerate(batch["tokens"]):
            lengths = [len(ids) for ids in pieces[cursor : cursor + len(words)]]
            cursor += len(words)
            # A word that tokenises to nothing (a lone zero-width space…) becomes the unknown
            # token, as in XTREME, so that it still has a first sub-word and a prediction.
            words = [w if n else tokenizer.unk_token for w, n in zip(words, lengths, strict=True)]
            for start, end in _windows([max(n, 1) for n in lengths], budget):
                windows.append(words[start:end])
                origins.append((row, start))
        encoded = tokenizer(
            windows, is_split_into_words=True, truncation=True, max_length=max_length
        )
        features: dict[str, list] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "labels": [],
            "word_ids": [],
            ROW: [],
        }
        for i, (row, offset) in enumerate(origins):
            tags = batch["tags"][row]
            labels, word_ids, previous = [], [], None
            for word in encoded.word_ids(i):
                first = word is not None and word != previous
                previous = word
                word_ids.append(offset + word if first else -1)
                tag = tags[offset + word] if first else IGNORED
                labels.append(tag if tag >= 0 else IGNORED)
            features["labels"].append(labels)
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

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list:
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

    def references(self, rows: datasets.Dataset) -> list:
        return [[self.labels[t] if t >= 0 else UNSEEN for t in tags] for tags in rows["tags"]]

    def submission(self, predictions: list, rows: datasets.Dataset) -> Submission:
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
