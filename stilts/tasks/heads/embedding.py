"""Sentence embeddings of the encoder itself, for tasks without training data (retrieval).

As in the reference study and XTREME: the mean of one layer's hidden states over every token,
special tokens included, L2-normalised. The layer is given as a fraction of the encoder's
depth (the study's layer 14 of XLM-R large's 24, counting the embedding output as layer 0), so
the same task means the same relative depth on any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError

if TYPE_CHECKING:
    import numpy as np
    from transformers import PreTrainedModel

STUDY_LAYER = 14 / 24


@dataclass(frozen=True)
class SentenceEmbedding:
    """Mean-pooled hidden states of layer round(`layer_fraction` × depth), L2-normalised."""

    layer_fraction: float = STUDY_LAYER
    batch_size: int = 64
    kind: str = field(default="retrieval", init=False)
    columns: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.layer_fraction <= 1:
            raise ValueError(f"layer fraction {self.layer_fraction} is not between 0 and 1")

    def describe(self) -> str:
        return f"{self.kind} (no training; mean of layer {self.layer_fraction * 24:g}/24)"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "layer_fraction": self.layer_fraction}

    def layer(self, depth: int) -> int:
        """The layer index in `hidden_states` (0 = embedding output) for an encoder of `depth`."""
        return round(self.layer_fraction * depth)

    def embed(
        self,
        encoder: PreTrainedModel,
        tokenizer: Any,
        texts: Sequence[str],
        max_length: int,
        layer: int | None = None,
    ) -> np.ndarray:
        """One unit vector per text, in order, from `layer` (default: `self.layer(depth)`).

        Texts are batched by length (longest first) and each batch is padded to its own
        longest text, never to `max_length`: sorting keeps padding, and so wasted compute, low.
        """
        import numpy as np
        import torch

        depth = encoder.config.num_hidden_layers
        layer = self.layer(depth) if layer is None else layer
        if not 0 <= layer <= depth:
            raise StiltsError(f"layer {layer} does not exist: the encoder has layers 0-{depth}")
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
        device = next(encoder.parameters()).device
        encoder.eval()
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                inputs = tokenizer(
                    [texts[i] for i in batch],
                    truncation=True,
                    max_length=max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                hidden = encoder(**inputs, output_hidden_states=True).hidden_states[layer]
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
                unit = torch.nn.functional.normalize(mean.float(), dim=-1)
                vectors[batch] = unit.cpu().numpy()
        return vectors
