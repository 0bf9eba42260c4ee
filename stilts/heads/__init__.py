"""Head kinds: how a task's output maps onto a transformers model class, collator and decoding.

A head is declared by a task (cheap dataclass) and used by the phase runner; everything that
needs torch or transformers is imported inside the methods so that declaring a task stays
import-light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    from transformers import PretrainedConfig, PreTrainedModel

from stilts.heads.classification import SequenceClassification


class Head(Protocol):
    """What the phase runner needs from a head kind."""

    kind: str
    columns: tuple[str, ...]
    """Columns a task's loaded rows must have for this head."""

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

    def preprocess(self, batch: dict[str, list], tokenizer: Any, max_length: int) -> dict:
        """Batched rows -> features, unpadded: the collator pads each batch to its longest."""
        ...

    def collator(self, tokenizer: Any) -> Any:
        """The data collator of this head kind (dynamic padding)."""
        ...

    def decode(self, predictions: np.ndarray) -> np.ndarray:
        """Model outputs of a prediction run -> predicted label ids."""
        ...


__all__ = ["Head", "SequenceClassification"]
