"""Which number format a phase computes in, decided before it is planned.

Precision changes results (bf16 rounds every activation to 8 bits of mantissa), so the
precision a phase *resolves to* is part of its fingerprint, and the request alone is not:
``auto`` is bf16 on an H100 and fp32 on a laptop, and those are different phases. Resolving
needs the machine's accelerator, which planning must learn without importing torch on
machines that have no GPU (a finished grid reads back in a second there): torch is asked only
where a GPU driver is visible.

The resolved formats, each a set of `transformers.TrainingArguments` (Trainer and accelerate
do the autocasting and the loss scaling; stilts never casts by hand):

* ``fp32``: full precision; what every phase before stilts 0.3 trained in.
* ``tf32``: fp32 weights with TF32 matrix multiplies, on GPUs that have them (Ampere and
  newer); what an explicit ``fp32`` request becomes there.
* ``bf16``: bf16 autocast; ``auto`` on a GPU that supports it.
* ``fp16``: fp16 autocast with dynamic loss scaling; ``auto`` on older GPUs.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stilts.errors import StiltsError

Precision = Literal["auto", "fp32", "bf16", "fp16"]
"""What a user asks for (``--precision``, a recipe's ``precision:``)."""
Resolved = Literal["fp32", "tf32", "bf16", "fp16"]
"""What a phase computes in on a given machine."""

FULL: Resolved = "fp32"
"""The precision whose phases keep the fingerprints they had before precision was chosen."""


@dataclass(frozen=True)
class Accelerator:
    """The device this machine's phases run on, as far as precision depends on it."""

    kind: Literal["cpu", "cuda"]
    name: str = "cpu"
    bf16: bool = False
    """bf16 autocast is supported (CUDA compute capability 8.0 or newer)."""
    tf32: bool = False
    """TF32 matrix multiplies exist (Ampere or newer)."""


CPU = Accelerator("cpu")


def resolve(requested: Precision, accelerator: Accelerator) -> Resolved:
    """The precision `requested` means on `accelerator`; a request it cannot honour is an
    error, never silently another precision (a phase would be fingerprinted as what it is not)."""
    gpu = accelerator.kind == "cuda"
    if requested == "auto":
        if not gpu:
            return "fp32"
        return "bf16" if accelerator.bf16 else "fp16"
    if requested == "fp32":
        return "tf32" if accelerator.tf32 else "fp32"
    if requested == "fp16" and not gpu:
        raise StiltsError(
            "--precision fp16 needs a CUDA GPU (its loss scaling is GPU-only), and this machine "
            "has none; use bf16 or fp32 (auto picks fp32 here)"
        )
    if requested == "bf16" and gpu and not accelerator.bf16:
        raise StiltsError(
            f"--precision bf16: {accelerator.name} does not support bf16 (it needs compute "
            "capability 8.0 or newer); use fp16 or auto"
        )
    return requested


def trainer_precision(resolved: Resolved) -> dict[str, bool]:
    """The TrainingArguments that make Trainer (training and evaluation) compute in `resolved`."""
    return {"fp32": {}, "tf32": {"tf32": True}, "bf16": {"bf16": True}, "fp16": {"fp16": True}}[
        resolved
    ]


@functools.cache
def this_machine() -> Accelerator:
    """This machine's accelerator: the first visible CUDA device, or the CPU.

    Without a visible GPU driver the answer is the CPU and torch is not imported; otherwise
    torch is asked (importing it takes seconds, which a GPU machine is about to spend anyway).
    """
    if not _gpu_driver_visible():
        return CPU
    import torch  # only on a machine with a GPU driver, see above

    if not torch.cuda.is_available():
        return CPU
    major, _ = torch.cuda.get_device_capability()
    return Accelerator(
        "cuda", torch.cuda.get_device_name(), bf16=torch.cuda.is_bf16_supported(), tf32=major >= 8
    )


GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidia0", "/dev/kfd")
"""Files that exist where an NVIDIA (or, /dev/kfd, ROCm) driver is loaded."""


def _gpu_driver_visible() -> bool:
    """An NVIDIA or ROCm driver is loaded and CUDA_VISIBLE_DEVICES does not hide every GPU."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    return any(Path(path).exists() for path in GPU_DRIVER_FILES)
