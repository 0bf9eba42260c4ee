"""Offline stand-ins for the hub, for stilts' own tests and for plugin authors' tests.

Builds a tiny XLM-R-shaped model whose tokenizer is trained on fixture text
(`stilts.runtime.tiny_model`, which the bundled default model is built with too), and writes
fixture tables where a `HubSource` expects them, so a task's real loading code reads them
through `DataLocator(root)` exactly as it would read a hub mirror; `SAMPLE_DATA`, the bundled
sample's root, can be copied beside them so that one `--data` root also serves mnli and xnli.
A plugin's module imports `stilts.api` (light: `stilts tasks` imports every plugin); its tests
import this module, which loads torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stilts.experiment.bundled import SAMPLE_DATA
from stilts.runtime.tiny_model import (
    SPECIAL_TOKENS,
    TINY_CONFIG,
    build_tiny_model,
    task_texts,
    train_tokenizer,
)
from stilts.tasks.data import HubSource

if TYPE_CHECKING:
    import datasets

__all__ = [
    "SAMPLE_DATA",
    "SPECIAL_TOKENS",
    "TINY_CONFIG",
    "build_tiny_model",
    "task_texts",
    "train_tokenizer",
    "write_table",
]


def write_table(root: Path | str, source: HubSource, split: str, table: datasets.Dataset) -> Path:
    """Write `table` under `root` where `source`'s `split` pattern finds it (one parquet file).

    `root` may be text, as pytest's ``tmpdir`` and a command line give it."""
    path = Path(root) / source.repo / source.pattern(split).replace("*", "00000-of-00001")
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path)
    return path
