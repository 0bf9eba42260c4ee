"""Head kinds: how a task's output maps onto a transformers model class, collator and decoding.

A head is declared by a task (cheap dataclass) and used by the phase runner; everything that
needs torch or transformers is imported inside the methods so that declaring a task stays
import-light.

Every head reads loaded rows in its own normalised schema (`columns`) and turns them into
features; a feature may cover part of a row (a window of a long context), so decoding gets
the features back and returns exactly one prediction per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

if TYPE_CHECKING:
    import datasets
    from transformers import PretrainedConfig, PreTrainedModel

    from stilts.eval.submission import Submission

from stilts.tasks.heads.classification import SequenceClassification
from stilts.tasks.heads.common import ROW
from stilts.tasks.heads.dependency import DependencyParsing
from stilts.tasks.heads.masked_lm import MaskedLanguageModel
from stilts.tasks.heads.multiple_choice import MultipleChoice
from stilts.tasks.heads.question_answering import ExtractiveQA
from stilts.tasks.heads.tagging import TokenTagging


class Head(Protocol):
    """What the phase runner needs from a head kind."""

    # Read-only: heads are frozen dataclasses, and `head_from_start` is a class constant.
    @property
    def kind(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns a task's loaded rows must have for this head."""
        ...

    @property
    def head_from_start(self) -> bool:
        """Whether the head's weights come from the chain's start model (the masked LM's
        pretrained head) rather than fresh in every phase; then `model_with_encoder` takes the
        start model as `lm_head_from` (see `StartHead`)."""
        ...

    def describe(self) -> str:
        """A few words for `stilts tasks`, e.g. 'classification (pair, 3 labels)'."""
        ...

    def spec(self) -> dict[str, Any]:
        """Everything that changes the model this head builds (part of phase fingerprints)."""
        ...

    def model_with_encoder(
        self, config: PretrainedConfig, encoder: PreTrainedModel
    ) -> PreTrainedModel:
        """A model of this head kind whose encoder weights are `encoder`'s, head fresh."""
        ...

    def load_trained(self, path: str, *, trust_remote_code: bool = False) -> PreTrainedModel:
        """A model of this head kind saved by a finished phase, its head included."""
        ...

    def trained_in(self, architecture: str) -> bool:
        """Whether a saved model whose config names `architecture` carries this head, so
        `load_trained` would read a trained head rather than make up a fresh one."""
        ...

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        """Batched rows -> features, unpadded: the collator pads each batch to its longest.

        Returns `ROW` (index into the batch) when features are not one per row.
        """
        ...

    def collator(self, tokenizer: Any) -> Any:
        """The data collator of this head kind (dynamic padding)."""
        ...

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        """What decoding needs of one batch's logits; Trainer applies it on the device per
        batch (`preprocess_logits_for_metrics`) before gathering a whole evaluation set."""
        ...

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        """Model outputs over `features` -> one prediction per row of `rows`, in order."""
        ...

    def references(self, rows: datasets.Dataset) -> list[Any]:
        """The gold answers of `rows`, in the form `decode` predicts them."""
        ...

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        """One language's decoded predictions as the official submission file."""
        ...

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        """The text of `rows` a tokenizer would see (to train a fixture tokenizer)."""
        ...


class StartHead(Head, Protocol):
    """A head whose weights come from the chain's start model (`head_from_start`)."""

    def model_with_encoder(
        self, config: PretrainedConfig, encoder: PreTrainedModel, *, lm_head_from: Any = None
    ) -> PreTrainedModel:
        """As `Head.model_with_encoder`, the head read from `lm_head_from`, a checkpoint
        (the chain's start model), instead of made fresh."""
        ...


def takes_start_head(head: Head) -> TypeGuard[StartHead]:
    """Whether `head` reuses the start model's head. Its `head_from_start` says so, and the
    `Head` contract then promises the `lm_head_from` argument, which the type system cannot
    tie to a boolean attribute by itself."""
    return head.head_from_start


__all__ = [
    "ROW",
    "DependencyParsing",
    "ExtractiveQA",
    "Head",
    "MaskedLanguageModel",
    "MultipleChoice",
    "SequenceClassification",
    "StartHead",
    "TokenTagging",
    "takes_start_head",
]
