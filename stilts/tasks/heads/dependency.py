"""Dependency parsing: each word's head and relation, with a biaffine parser.

Dozat & Manning (2017)'s parser on the encoder (the model: `stilts.runtime.biaffine`): each word
is read at its first sub-word, as the tagging head reads it; MLPs reduce each word to a
dependent and a head representation, a biaffine scores every (dependent, head) pair, the root
being the ``<s>`` position, and a second biaffine classifies the relation of each dependent
with its head. Training scores relations on the gold head; decoding on the predicted one.

Decoding takes each word's best-scoring head on its own (argmax), not the best tree (MST or
Eisner): a parse may then have several roots or a cycle. UAS and LAS score words one by one,
so this changes nothing about how a parse is scored, only that the prediction file is not
always a well-formed tree (which the official CoNLL 2018 evaluation script refuses).

A sentence is not split into windows as tagging does (an arc may span the whole sentence):
words past the maximum length are cut, are not trained on (nor is a word whose head is cut),
and are predicted as `UNPARSED`: an error, except for UAS when the word is the root.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.errors import StiltsError
from stilts.eval.parsing import Arc, conllu_lines
from stilts.eval.submission import Submission
from stilts.tasks.heads.common import ROW, set_labels, with_encoder_weights
from stilts.tasks.heads.words import first_subwords, tokenizable_words

if TYPE_CHECKING:
    import datasets
    from transformers import PretrainedConfig, PreTrainedModel

IGNORED = -100  # the label id PyTorch's cross-entropy skips
PARSER_ARCHITECTURE = "BiaffineParserModel"
"""The architecture a saved parser's config records (`stilts.runtime.biaffine`'s model class)."""
UNPARSED: Arc = (0, "dep")
"""The prediction for a word cut off by the maximum length: attached to the root with UD's
unspecified relation, so the prediction file stays valid CoNLL-U."""


@dataclass(frozen=True)
class DependencyParsing:
    """Parse the words of `tokens`: `heads` (per word, the 1-based index of its head word, 0 for
    the root) and `deprels` (per word, its relation name, subtypes included).

    `labels` are the relations the classifier predicts; an empty `labels` means the task builds
    them from its training data and binds a concrete head before training (see
    `Task.head_for_data`). A gold relation outside `labels` is not trained on and, unless its
    universal part is predicted, scores as an error. The sizes and dropout are Dozat &
    Manning (2017)'s: 500-unit arc and 100-unit relation MLPs, dropout 0.33.
    """

    labels: tuple[str, ...]
    arc_size: int = 500
    label_size: int = 100
    dropout: float = 0.33
    columns: tuple[str, ...] = field(default=("tokens", "heads", "deprels"), init=False)
    kind: str = field(default="dependency parsing", init=False)
    head_from_start: ClassVar[bool] = False

    def describe(self) -> str:
        relations = f"{len(self.labels)} relations" if self.labels else "relations from data"
        return f"{self.kind} (biaffine, {relations})"

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": list(self.labels) or "from training data",
            "arc_size": self.arc_size,
            "label_size": self.label_size,
            "dropout": self.dropout,
            "decoding": "argmax head per word",
        }

    def model_with_encoder(
        self, config: PretrainedConfig, encoder: PreTrainedModel
    ) -> PreTrainedModel:
        from stilts.runtime.biaffine import SETTINGS, BiaffineParserModel

        self._check_bound()
        set_labels(config, self.labels)
        sizes = {"arc_size": self.arc_size, "label_size": self.label_size}
        setattr(config, SETTINGS, {**sizes, "dropout": self.dropout})
        return with_encoder_weights(BiaffineParserModel(config), encoder)

    def load_trained(self, path: str, *, trust_remote_code: bool = False) -> PreTrainedModel:
        from stilts.runtime.biaffine import load_parser

        self._check_bound()
        return load_parser(path, self.labels, trust_remote_code=trust_remote_code)

    def trained_in(self, architecture: str) -> bool:
        return architecture == PARSER_ARCHITECTURE

    def _check_bound(self) -> None:
        if not self.labels:
            raise StiltsError("this parsing head has no relation set yet: bind it to training data")

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        """One feature per sentence: `word_ids` marks each word's first sub-word; there,
        `head_labels` holds the position of the head's first sub-word (0, ``<s>``: the root)
        and `labels` the relation id."""
        index = {name: i for i, name in enumerate(self.labels)}
        sentences = [words for words, _ in tokenizable_words(batch["tokens"], tokenizer)]
        encoded = tokenizer(
            sentences, is_split_into_words=True, truncation=True, max_length=max_length
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "word_ids": [],
            "head_labels": [],
            "labels": [],
        }
        for i, (heads, deprels) in enumerate(zip(batch["heads"], batch["deprels"], strict=True)):
            word_ids = first_subwords(encoded.word_ids(i))
            if word_ids and word_ids[0] >= 0:
                raise StiltsError(
                    "the parser reads the root at the tokenizer's first special token (<s>), "
                    "and this tokenizer starts a sentence with a word"
                )
            position = {word: p for p, word in enumerate(word_ids) if word >= 0}
            position[-1] = 0  # head 0, the root, is word -1 here: the <s> position
            head_labels, labels = [], []
            for word in word_ids:
                head = position.get(heads[word] - 1) if word >= 0 else None
                head_labels.append(IGNORED if head is None else head)
                labels.append(IGNORED if head is None else index.get(deprels[word], IGNORED))
            features["word_ids"].append(word_ids)
            features["head_labels"].append(head_labels)
            features["labels"].append(labels)
        return features

    def collator(self, tokenizer: Any) -> Any:
        return ParseCollator(tokenizer.pad_token_id)

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        """Per position: the best head position and the relation id predicted for it; never
        the positions × positions arc scores of a whole evaluation set."""
        import torch

        arcs, relations = logits
        return torch.stack([arcs.argmax(dim=-1), relations.argmax(dim=-1)], dim=-1)

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        predictions: list[list[Arc]] = [[UNPARSED] * len(words) for words in rows["tokens"]]
        for best, row, word_ids in zip(outputs, features[ROW], features["word_ids"], strict=True):
            for position, word in enumerate(word_ids):
                if word >= 0:
                    head, relation = (int(value) for value in best[position])
                    head_word = word_ids[head] + 1 if head else 0
                    predictions[row][word] = (head_word, self.labels[relation])
        return predictions

    def references(self, rows: datasets.Dataset) -> list[Any]:
        return [
            list(zip(heads, deprels, strict=True))
            for heads, deprels in zip(rows["heads"], rows["deprels"], strict=True)
        ]

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        return conllu_lines(predictions, rows["tokens"])

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        for tokens in rows["tokens"]:
            yield " ".join(tokens)


class ParseCollator:
    """Pads a batch to its longest sentence: ids with the pad token, `word_ids` with -1 (no
    word starts there), head and relation labels with -100 (not scored)."""

    def __init__(self, pad_token_id: int) -> None:
        self.padding = {
            "input_ids": pad_token_id,
            "attention_mask": 0,
            "word_ids": -1,
            "head_labels": IGNORED,
            "labels": IGNORED,
        }

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(feature["input_ids"]) for feature in features)
        return {
            key: torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features])
            for key, value in self.padding.items()
            if key in features[0]
        }
