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
from typing import TYPE_CHECKING, Any, Protocol

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

    kind: str
    columns: tuple[str, ...]
    """Columns a task's loaded rows must have for this head."""
    head_from_start: bool
    """Whether the head's weights come from the chain's start model (the masked LM's
    pretrained head) rather than fresh in every phase; then `model_with_encoder` takes the
    start model as `lm_head_from`."""

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

    def preprocess(self, batch: dict[str, list], tokenizer: Any, max_length: int) -> dict:
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

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list:
        """Model outputs over `features` -> one prediction per row of `rows`, in order."""
        ...

    def references(self, rows: datasets.Dataset) -> list:
        """The gold answers of `rows`, in the form `decode` predicts them."""
        ...

    def submission(self, predictions: list, rows: datasets.Dataset) -> Submission:
        """One language's decoded predictions as the official submission file."""
        ...

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        """The text of `rows` a tokenizer would see (to train a fixture tokenizer)."""
        ...


__all__ = [
    "ROW",
    "DependencyParsing",
    "ExtractiveQA",
    "Head",
    "MaskedLanguageModel",
    "MultipleChoice",
    "SequenceClassification",
    "TokenTagging",
]
