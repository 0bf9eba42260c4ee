"""Writing files so that a reader never sees half of one, and naming content by its hash.

Every finished artefact of the store (a phase's manifest, a run's results, a published model
directory) is written through here: to a temporary name beside it, flushed, then renamed into
place, which POSIX makes atomic. A process killed mid-write leaves the old file or none, plus
at most a stray temporary file, never a truncated file that a later run would trust. Damage
that comes later (a cut-off copy, a disk fault) is found by the sizes and hashes each manifest
records (`stilts.store.integrity`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


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
