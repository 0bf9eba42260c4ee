"""The hand-off shared by every head: a new head model on an existing encoder's weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.errors import StiltsError

if TYPE_CHECKING:
    from transformers import PreTrainedModel


def load_encoder_weights(model: PreTrainedModel, encoder: PreTrainedModel) -> None:
    """Copy every weight of `encoder` into `model.base_model`; a missing one is an error.

    Done by hand rather than `from_pretrained(previous_phase)` because that would also restore
    the previous phase's head whenever its shape happens to match; each phase must start with a
    fresh head. Extra source weights (a pooler the head model does not use) are dropped.
    """
    result = model.base_model.load_state_dict(encoder.state_dict(), strict=False)
    if result.missing_keys:
        raise StiltsError(
            f"the starting encoder lacks weights the {type(model).__name__} needs: "
            f"{', '.join(result.missing_keys[:5])}"
        )
