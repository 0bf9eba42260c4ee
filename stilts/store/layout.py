"""The run store: where phases and runs live on disk, and how they are written safely.

Layout under the store root::

    models/<name>-<key>/        materialised starting models (the bundled tiny model)
        model.json              its manifest (its files); published with the directory
    phases/<task>-<fp>/         one trained phase, addressed by its fingerprint
        checkpoints/            Trainer checkpoints while it trains (resume point)
        model/                  the trained model + tokenizer (safetensors), published atomically
        phase.json              the phase manifest; written last, so it marks the phase complete
    runs/<tasks>-<fp>/          one chain's results: results.json, results.csv, manifest.json
    evals/<task>-<fp>/          `stilts eval`'s scores of a model, laid out as a run

Beside each phase, run or model directory, ``.<name>.lock`` is the lock its writer holds while
it writes (`stilts.store.lock`): a second run needing the same phase (or the same run) waits for
it and then reuses it. Files are written atomically (`stilts.store.files`).

Anything not marked complete is never read as a result: a killed run leaves only partial
directories that the next run resumes or replaces. Anything marked complete is read only once
its files pass the checks of `stilts.store.integrity`: each manifest records the sizes and
hashes of the files it stands for, and a damaged artefact counts as unfinished, so it is built
again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.store.integrity import FILES, Damaged, finished

PHASE_MANIFEST = "phase.json"
PHASE_KEYS = ("fingerprint", "dev")
"""What every phase manifest holds (and the runner reads back), since stilts 0.1."""
RUN_MANIFEST = "manifest.json"
"""A run's manifest: written last, so it marks the run whole (its results may be read)."""
MODEL_MANIFEST = "model.json"
"""A starting model's manifest, inside the directory published whole: it marks it built."""


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
        """Whether the phase is marked complete (whether it is also undamaged: `whole_phase`)."""
        return (phase_dir / PHASE_MANIFEST).is_file()

    def check_writable(self) -> None:
        """Refuse a store that cannot be written (a file, a read-only directory), in one line,
        before anything is trained or scored for it."""
        if self.root.exists() and not self.root.is_dir():
            raise StiltsError(
                f"the store {self.root} is a file, not a directory: pass --store DIR (or set "
                "STILTS_STORE) to a directory"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as error:
            raise StiltsError(
                f"cannot write the store {self.root} ({error.strerror or error}): pass --store "
                "DIR (or set STILTS_STORE) to a directory you can write"
            ) from None


def phase_record(phase_dir: Path, *, full: bool = False) -> dict[str, Any] | None:
    """The manifest of the whole phase at `phase_dir`; None while it is unfinished. Raises
    `stilts.store.integrity.Damaged` (see `stilts.store.integrity.finished`)."""
    return finished(phase_dir, PHASE_MANIFEST, PHASE_KEYS, full=full)


def whole_phase(phase_dir: Path) -> bool:
    """Whether the phase at `phase_dir` is finished and undamaged (what a run reuses)."""
    try:
        return phase_record(phase_dir) is not None
    except Damaged:
        return False


def whole_run(run_dir: Path) -> bool:
    """Whether the run at `run_dir` is finished and undamaged (what a rerun reads back)."""
    try:
        return finished(run_dir, RUN_MANIFEST) is not None
    except Damaged:
        return False


def model_record(model_dir: Path, *, full: bool = False) -> dict[str, Any] | None:
    """The manifest of the whole starting model at `model_dir`; None while it is unbuilt (or
    built by stilts 0.2.0 or earlier, which wrote no manifest: it is built again, the same).
    Raises `stilts.store.integrity.Damaged`."""
    return finished(model_dir, MODEL_MANIFEST, (FILES,), full=full)
