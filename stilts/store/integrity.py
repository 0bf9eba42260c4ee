"""What a finished artefact records of its files, and how damage to them is found.

The store is a cache: every phase, run and starting model in it can be built again from what
names it. So a damaged one (a file cut short by a full disk or a copy, a disk fault, a hand
edit) is treated exactly as an unfinished one: never trusted, never a crash, built again by
the next run that needs it, which says which file was damaged. That needs no one's decision
(a grid goes on), and rebuilds only what is damaged, where ``--force`` would retrain a whole
chain.

Each finished artefact lists, in its manifest under ``"files"``, every file it published with
its size and sha256, computed as it is published (`recorded`). Damage is found two ways:

* cheaply, by size (a stat per file), whenever a run would reuse the artefact (`check_files`);
* fully, by hash (every byte read), by ``stilts store verify`` (`check_files(full=True)`).

A manifest that is not a JSON object with the keys its kind needs is damage too
(`finished`). What an artefact's manifest does not record (one written by stilts 0.2.0 or
earlier) is checked by what explains itself: a safetensors file states its own length in its
header (`check_safetensors`), so a cut-off weights file is found all the same.

Every check raises `Damaged`, which names the file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.store.files import read_json

FILES = "files"
"""The manifest key of an artefact's recorded files: {relative path: {"bytes", "sha256"}}."""
CHUNK = 1 << 20
META = "__metadata__"
"""The one entry of a safetensors header that is not a tensor."""


class Damaged(StiltsError):
    """A finished artefact of the store whose file `path` is not what it should be.

    Whoever would have reused the artefact treats it as unfinished and builds it again; the
    message, where it reaches the user as an error, says what else they can do.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path} is damaged: {problem} (a run that needs it builds it again; `stilts store "
            "verify` lists every damaged file)"
        )
        self.path = path
        self.problem = problem
        self.problem = problem

    @property
    def short(self) -> str:
        """The damage alone, without the advice: ``PATH: PROBLEM``."""
        return f"{self.path}: {self.problem}"


def files_under(directory: Path) -> list[Path]:
    """Every regular file below `directory`, in a stable order."""
    return sorted(path for path in directory.rglob("*") if path.is_file())


def recorded(root: Path, paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """What a manifest records of `paths` (files below `root`): each one's size and sha256,
    keyed by its path relative to `root`."""
    return {
        path.relative_to(root).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256(path)}
        for path in sorted(paths)
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_files(root: Path, files: Mapping[str, Any], *, full: bool = False) -> None:
    """Each recorded file below `root` is there with its recorded size (and, `full`, hash)."""
    for name, record in files.items():
        path = root / name
        if not path.is_file():
            raise Damaged(path, "missing")
        size = path.stat().st_size
        if size != record["bytes"]:
            raise Damaged(path, f"{size} bytes, its manifest records {record['bytes']}")
        if full and sha256(path) != record["sha256"]:
            raise Damaged(path, "its sha256 differs from the one its manifest records")


def check_safetensors(path: Path) -> None:
    """A safetensors file is whole by its own account: 8 bytes giving the header's length, the
    JSON header giving each tensor's byte range, then the tensors, ending where the last ends."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        if size < 8 or 8 + length > size:
            raise Damaged(path, f"{size} bytes, too short for its safetensors header")
        try:
            header = json.loads(handle.read(length))
            ends = [entry["data_offsets"][1] for name, entry in header.items() if name != META]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise Damaged(path, "its safetensors header is not readable") from None
    expected = 8 + length + max(ends, default=0)
    if size != expected:
        raise Damaged(path, f"{size} bytes, its safetensors header describes {expected}")


def read_manifest(path: Path, keys: Sequence[str]) -> dict[str, Any]:
    """A manifest: a JSON object holding `keys`, its recorded files (if any) well formed."""
    try:
        manifest = read_json(path)
    except UnicodeDecodeError:
        raise Damaged(path, "not UTF-8 text") from None
    except ValueError:
        raise Damaged(path, "not JSON") from None
    if not isinstance(manifest, dict):
        raise Damaged(path, f"a JSON {type(manifest).__name__}, not an object")
    missing = [key for key in keys if key not in manifest]
    if missing:
        raise Damaged(path, f"it lacks {', '.join(repr(key) for key in missing)}")
    files = manifest.get(FILES, {})
    if not isinstance(files, dict) or not all(_is_record(entry) for entry in files.values()):
        raise Damaged(path, f"its {FILES!r} are not a list of sizes and hashes")
    return manifest


def _is_record(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("bytes"), int)
        and isinstance(entry.get("sha256"), str)
    )


def finished(
    directory: Path, manifest: str, keys: Sequence[str] = (), *, full: bool = False
) -> dict[str, Any] | None:
    """The manifest of the finished artefact at `directory`, once its files are checked; None
    while it is unfinished (no manifest yet). Raises `Damaged`.

    Recorded files are checked by size, or with `full` by hash too; an artefact that records
    none (an earlier stilts wrote it) has each of its safetensors files checked by its header.
    """
    path = directory / manifest
    if not path.is_file():
        return None
    record = read_manifest(path, keys)
    if FILES in record:
        check_files(directory, record[FILES], full=full)
    else:
        for weights in sorted(directory.rglob("*.safetensors")):
            check_safetensors(weights)
    return record
