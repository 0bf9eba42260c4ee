"""The bundled tiny model, built into the store the first time a chain needs it.

Built from a config (2 layers, hidden size 64) with a tokenizer trained on the bundled sample
data's text, once per store and sample (its directory is named by `bundled.key`), atomically
and under a lock, since two runs may need it at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from stilts.experiment.bundled import SAMPLE_DATA, SAMPLE_TASKS, key
from stilts.runtime.tiny_model import build_tiny_model, task_texts
from stilts.store.files import publish_dir
from stilts.store.layout import Store
from stilts.store.lock import directory_lock
from stilts.tasks import registry
from stilts.tasks.data import DataLocator

VOCAB_SIZE = 3000
"""The tokenizer's vocabulary (change `bundled.BUILD_VERSION` with it)."""


def materialize(store: Store, log: Callable[[str], None] = lambda _message: None) -> Path:
    """The bundled model's directory in `store`, built once (atomically) on first use."""
    final = store.model_dir("tiny-xlmr", key())
    if (final / "config.json").is_file():
        return final
    with directory_lock(final, log):  # another run may be building it
        if not (final / "config.json").is_file():
            staging = final.with_name(final.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            tasks = [registry.load(name) for name in SAMPLE_TASKS]
            texts = task_texts(tasks, DataLocator(SAMPLE_DATA))
            build_tiny_model(staging, texts, vocab_size=VOCAB_SIZE, seed=0)
            publish_dir(staging, final)
    return final
