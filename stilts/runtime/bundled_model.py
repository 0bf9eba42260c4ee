"""The bundled tiny model, built into the store the first time a chain needs it.

Built from a config (2 layers, hidden size 64) with a tokenizer trained on the bundled sample
data's text, once per store and sample (its directory is named by `bundled.key`), atomically
and under a lock, since two runs may need it at once. Its manifest (``model.json``, published
with it) records its files; a damaged one, or one built by stilts 0.2.0 or earlier without a
manifest, is built again: the build is deterministic, so the same bytes come back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from stilts.experiment.bundled import MODEL, SAMPLE_DATA, SAMPLE_TASKS, key
from stilts.runtime.tiny_model import build_tiny_model, task_texts
from stilts.store.files import publish_dir, write_json
from stilts.store.integrity import FILES, Damaged, files_under, recorded
from stilts.store.layout import MODEL_MANIFEST, Store, model_record
from stilts.store.lock import directory_lock
from stilts.tasks import registry
from stilts.tasks.data import DataLocator

VOCAB_SIZE = 3000
"""The tokenizer's vocabulary (change `bundled.BUILD_VERSION` with it)."""


def _silent(_message: str) -> None:
    pass


def materialize(
    store: Store,
    log: Callable[[str], None] = _silent,
    on_damaged: Callable[[str], None] = _silent,
) -> Path:
    """The bundled model's directory in `store`, built once (atomically) on first use.

    `log` hears that another process is building it (and this one waits), `on_damaged` which
    file of a damaged one is rebuilt."""
    final = store.model_dir("tiny-xlmr", key())
    if _built(final, _silent):
        return final
    with directory_lock(final, log):  # another run may be building it
        if not _built(final, on_damaged):
            staging = final.with_name(final.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            tasks = [registry.load(name) for name in SAMPLE_TASKS]
            texts = task_texts(tasks, DataLocator(SAMPLE_DATA))
            build_tiny_model(staging, texts, vocab_size=VOCAB_SIZE, seed=0)
            files = recorded(staging, files_under(staging))
            write_json(staging / MODEL_MANIFEST, {"model": MODEL, "key": key(), FILES: files})
            publish_dir(staging, final)
    return final


def _built(model_dir: Path, on_damaged: Callable[[str], None]) -> bool:
    try:
        return model_record(model_dir) is not None
    except Damaged as damage:
        on_damaged(damage.short)
        return False
