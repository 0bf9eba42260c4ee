"""The run store: where phases and runs live on disk, and how they are written safely.

Layout under the store root::

    models/<name>-<key>/        materialised starting models (the bundled tiny model)
    phases/<task>-<fp>/         one trained phase, addressed by its fingerprint
        checkpoints/            Trainer checkpoints while it trains (resume point)
        model/                  the trained model + tokenizer (safetensors), published atomically
        phase.json              the phase manifest; written last, so it marks the phase complete
    runs/<tasks>-<fp>/          one chain's results: results.json, results.csv, manifest.json

Beside each phase or model directory, ``.<name>.lock`` is the lock its writer holds while it
writes (`stilts.lock`): a second run needing the same phase waits for it and then reuses it.

Anything not marked complete is never read as a result: a killed run leaves only partial
directories that the next run resumes or replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PHASE_MANIFEST = "phase.json"
RUN_MANIFEST = "manifest.json"
"""A run's manifest: written last, so it marks the run whole (its results may be read)."""


def fingerprint(spec: Mapping[str, Any]) -> str:
    """A stable hash of a JSON-able spec (key order does not matter)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one, never a part."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file atomically (see `write_json`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_dir(staging: Path, final: Path) -> None:
    """Move a fully written directory into place in one rename, replacing a stale one."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


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
