"""Per-language metrics, reported ×100 as the official XTREME evaluation code does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def accuracy(predictions: ArrayLike, references: ArrayLike, language: str) -> dict[str, float]:
    """Share of exact label matches (XNLI, PAWS-X, XCOPA)."""
    predictions, references = np.asarray(predictions), np.asarray(references)
    if predictions.shape != references.shape:
        raise ValueError(f"{language}: {predictions.shape} predictions, {references.shape} gold")
    if references.size == 0:
        raise ValueError(f"{language}: no examples to score")
    return {"accuracy": float((predictions == references).mean() * 100)}
