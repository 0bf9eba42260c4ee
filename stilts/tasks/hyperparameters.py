"""The one schema every hyperparameter value passes: a recipe's, a command line's, a declared
task's and, once resolved, a plugin's defaults.

`stilts.tasks.task.Hyperparameters` is the plain dataclass plugins build; what a user writes is
checked here, where recipes and the command line meet, before anything is planned or created:
a learning rate of -1 or NaN would otherwise reach the optimiser, zero epochs publish an
untrained phase, and a seed beyond numpy's range fail deep in training. Numbers are normalised
to their field's type (``epochs: 2`` is 2.0), so one setting has one fingerprint however it was
spelt; a YAML boolean or text is refused where a number belongs.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from stilts.schema import Strict
from stilts.tasks.task import Hyperparameters

MAX_SEED = 2**32 - 1
"""numpy's and torch's seeds are unsigned 32-bit numbers."""
MIN_LENGTH = 8
"""Tokens of the shortest useful sequence: special tokens and a few words of each text."""


def _number(value: Any) -> Any:
    """A number as YAML or the command line gives it; never a boolean (YAML's ``yes``), and
    text only where it spells a number (YAML 1.1 reads ``1e-5`` as text)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {value!r}")
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise ValueError(f"expected a number, not {value!r}") from None
    return value


def _whole(value: Any) -> Any:
    """A count: an integer, or a float with nothing after the point (``32.0``)."""
    value = _number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Each bound comes before the validator that reads text and whole floats as numbers: the bound
# then sits on the number itself, so the JSON Schema says it (`minimum`, not pydantic's bare
# `ge`, which editors ignore); validation is the same either way (the validator runs first).
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)]
Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), BeforeValidator(_number)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_number)]
Count = Annotated[int, Field(ge=1, strict=True), BeforeValidator(_whole)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, strict=True), BeforeValidator(_whole)]
"""A random seed: numpy's range."""


class HyperparameterSettings(Strict):
    """Any subset of `Hyperparameters`, each value checked; None keeps the value below it."""

    learning_rate: Rate | None = None
    """AdamW's peak learning rate."""
    batch_size: Count | None = None
    """The effective batch: per-device batch × devices × accumulation steps."""
    epochs: Rate | None = None
    """Training epochs (a fraction trains part of one)."""
    max_length: (
        Annotated[int, Field(ge=MIN_LENGTH, strict=True), BeforeValidator(_whole)] | None
    ) = None
    """Tokens per sequence; at most the model's position limit (checked against the model)."""
    warmup_ratio: Fraction | None = None
    """The share of all steps the learning rate warms up over."""
    weight_decay: NonNegative | None = None
    """AdamW's weight decay (not on biases and LayerNorm weights)."""
    max_train_examples: Count | None = None
    """A seeded sample of this many training rows."""
    max_eval_examples: Count | None = None
    """The same for each evaluation set."""
    embedding_layer: Annotated[int, Field(ge=0, strict=True), BeforeValidator(_whole)] | None = None
    """Retrieval: the hidden layer to pool (0: the embeddings)."""

    def given(self) -> dict[str, Any]:
        """The values set, as `Hyperparameters.updated` takes them."""
        return self.model_dump(exclude_none=True)


def checked(hyperparameters: Hyperparameters) -> Hyperparameters:
    """`hyperparameters` passed through the schema (a plugin's defaults included): each value
    checked and normalised to its field's type (pydantic's ValidationError names the first bad
    one)."""
    settings = HyperparameterSettings.model_validate(dataclasses.asdict(hyperparameters))
    return dataclasses.replace(hyperparameters, **settings.given())
