"""The bundled default: a tiny model and sample data, so `stilts chain mnli xnli` runs offline.

The sample data (``stilts/sample_data``) is synthetic text in the exact hub layout and schema
of the datasets it stands in for; the tiny model is built from a config, with a tokenizer
trained on that text, the first time it is needed, and kept in the store
(`stilts.runtime.bundled_model`). What identifies it, for fingerprints, is here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stilts.experiment.specs import Selection
from stilts.tasks.task import AnyTask, Hyperparameters

MODEL = "bundled:tiny-xlmr"
SAMPLE_DATA = Path(__file__).parents[1] / "sample_data"
SAMPLE_TASKS = ("mnli", "xnli")
"""The tasks the sample data covers; the bundled tokenizer is trained on their text."""
BUILD_VERSION = 2
"""Bump when `stilts.runtime.bundled_model` builds the model differently."""

SMOKE_HYPERPARAMETERS: dict[str, Any] = {
    # A tiny model trained from scratch needs a far larger step size than a pretrained
    # XLM-R; the study's values (lr 1e-5) would leave it at chance in a CPU minute.
    "learning_rate": 1e-3,
    "epochs": 3.0,
    "max_length": 64,
    "batch_size": 32,
    "warmup_ratio": 0.1,
}
STUDY = Hyperparameters()
"""The study's values, which `Hyperparameters` defaults to."""


def preset(defaults: Hyperparameters, own: Iterable[str] = ()) -> dict[str, Any]:
    """The part of `SMOKE_HYPERPARAMETERS` that a task's `defaults` leave to the bundled model.

    A task keeps every value it sets differently from the study's (a plugin's
    ``Hyperparameters(epochs=8)``) and every value named in `own` (what a declared task's
    ``hyperparameters:`` gives, even where it equals the study's): a plugin author who chose
    8 epochs and found 3 trained would blame the task. The rest are the study's values, fit
    for a pretrained XLM-R and not for the tiny model, so the preset replaces them. The
    built-in tasks' defaults that only restate the study's (mnli's and xnli's 2 epochs) are
    replaced as before, so the demo trains, and is fingerprinted, as it always was.
    """
    own = set(own)
    return {
        name: value
        for name, value in SMOKE_HYPERPARAMETERS.items()
        if name not in own and getattr(defaults, name) == getattr(STUDY, name)
    }


SELECTION = Selection(kind="best", every=25)
"""The study's selection at the sample's scale: a phase of the demo lasts 225 steps, so the
study's 1,000 would evaluate it once, at its end, and select nothing."""


def is_bundled(model: str) -> bool:
    return model == MODEL


def covers(task: AnyTask) -> bool:
    """Whether the sample data holds files for every source of `task`."""
    return all(any((SAMPLE_DATA / s.repo).glob(s.pattern("*"))) for s in task.sources)


@functools.cache
def key() -> str:
    """Identifies the bundled model: its build recipe and the sample data it is trained on
    (package data, read once per process)."""
    return hashlib.sha256(f"{BUILD_VERSION}:{_sample_hash()}".encode()).hexdigest()


def _sample_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SAMPLE_DATA.rglob("*.parquet")):
        digest.update(path.relative_to(SAMPLE_DATA).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
