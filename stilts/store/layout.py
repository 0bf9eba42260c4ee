"""The run store: where phases and runs live on disk, and how they are written safely.

Layout under the store root::

    models/<name>-<key>/        materialised starting models (the bundled tiny model)
    phases/<task>-<fp>/         one trained phase, addressed by its fingerprint
        checkpoints/            Trainer checkpoints while it trains (resume point)
        model/                  the trained model + tokenizer (safetensors), published atomically
        phase.json              the phase manifest; written last, so it marks the phase complete
    runs/<tasks>-<fp>/          one chain's results: results.json, results.csv, manifest.json

Beside each phase or model directory, ``.<name>.lock`` is the lock its writer holds while it
writes (`stilts.store.lock`): a second run needing the same phase waits for it and then reuses
it. Files are written atomically (`stilts.store.files`).

Anything not marked complete is never read as a result: a killed run leaves only partial
directories that the next run resumes or replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PHASE_MANIFEST = "phase.json"
RUN_MANIFEST = "manifest.json"
"""A run's manifest: written last, so it marks the run whole (its results may be read)."""


class Store:
    """A store root and the naming of what lives in it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def model_dir(self, name: str, key: str) -> Path:
        return self.root / "models" / f"{name}-{key[:12]}"

    def phase_dir(self, task: str, phase_fingerprint: str) -> Path:
        return self.root / "phases" / f"{task}-{phase_fingerprint[:12]}"

    def run_dir(self, tasks: Iterable[str], run_fingerprint: str) -> Path:
        return self.root / "runs" / f"{'-'.join(tasks)}-{run_fingerprint[:12]}"

    @staticmethod
    def is_complete(phase_dir: Path) -> bool:
        return (phase_dir / PHASE_MANIFEST).is_file()
