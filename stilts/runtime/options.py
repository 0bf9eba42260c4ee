"""How a phase runs, apart from what it computes: the settings no fingerprint covers.

Light (no torch), so that the command line builds them before deciding whether anything is
left to train. Each setting here leaves a phase's results as they are (up to floating-point
rounding), so a phase trained with any of them is reused by runs without them, and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import TrainerCallback


@dataclass(frozen=True)
class RunOptions:
    """Settings that change how a phase runs but not what it computes (not fingerprinted)."""

    per_device_batch_size: int | None = None
    """Rows per device and step; gradient accumulation keeps the effective batch."""
    checkpoint_steps: int = 1000
    compile: bool = False
    """`torch.compile` the model (Trainer's ``torch_compile``): faster steps after a
    compilation of tens of seconds, worth it for long phases on a GPU."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass instead of keeping them: about a third
    more compute for a fraction of the activation memory (long QA sequences on large models)."""
    callbacks: tuple[TrainerCallback, ...] = ()
