"""``stilts store verify``: every finished artefact of a store checked in full.

A run checks only the sizes of what it reuses (`stilts.store.integrity`); this reads every byte
of every recorded file and compares its sha256 with the manifest's, so a file that kept its
size but not its content is found too. It only reads: a read-only store can be verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.store.integrity import FILES, Damaged, finished
from stilts.store.layout import (
    MODEL_MANIFEST,
    PHASE_MANIFEST,
    RUN_MANIFEST,
    model_record,
    phase_record,
)
from stilts.store.results import ChainResult

Check = Callable[[Path], dict[str, Any] | None]
"""An artefact's full check: its manifest, None while it is unfinished; raises `Damaged`."""


def _phase(directory: Path) -> dict[str, Any] | None:
    return phase_record(directory, full=True)


def _run(directory: Path) -> dict[str, Any] | None:
    manifest = finished(directory, RUN_MANIFEST, full=True)
    if manifest is not None:
        ChainResult.read(directory)  # an earlier stilts recorded no files: are they results?
    return manifest


def _model(directory: Path) -> dict[str, Any] | None:
    return model_record(directory, full=True)


KINDS: dict[str, tuple[str, Check]] = {
    "models": (MODEL_MANIFEST, _model),
    "phases": (PHASE_MANIFEST, _phase),
    "runs": (RUN_MANIFEST, _run),
    "evals": (RUN_MANIFEST, _run),
}
"""The store's folders of artefacts: each one's manifest and full check."""


@dataclass
class Verification:
    """What `verify` found, artefact by artefact."""

    root: Path
    whole: list[Path] = field(default_factory=list)
    unrecorded: list[Path] = field(default_factory=list)
    """Whole as far as can be told: written by stilts 0.2.0 or earlier, they record no files,
    so only their manifests, results and safetensors headers were checked."""
    unfinished: list[Path] = field(default_factory=list)
    damaged: list[Damaged] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per damaged artefact: its damaged file (from `root`) and what is wrong."""
        return [f"{self._shown(damage.path)}: {damage.problem}" for damage in self.damaged]

    def summary(self) -> str:
        checked = len(self.whole) + len(self.unrecorded) + len(self.damaged)
        text = f"{self.root}: {checked} finished artefacts, {len(self.damaged)} damaged"
        if self.unrecorded:
            text += (
                f"; {len(self.unrecorded)} written by an earlier stilts record no files, "
                "checked by their manifests and safetensors headers only"
            )
        if self.unfinished:
            text += f"; {len(self.unfinished)} unfinished (the next run that needs one resumes it)"
        return text

    def _shown(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


def verify(path: Path) -> Verification:
    """Check every finished artefact at `path`: a store, or one phase, run or model in it."""
    found = Verification(path)
    for directory, check in _artefacts(path):
        try:
            manifest = check(directory)
        except Damaged as damage:
            found.damaged.append(damage)
            continue
        if manifest is None:
            found.unfinished.append(directory)
        else:
            (found.whole if FILES in manifest else found.unrecorded).append(directory)
    return found


def _artefacts(path: Path) -> Iterator[tuple[Path, Check]]:
    """The artefact directories at `path`, each with its check."""
    for manifest, check in KINDS.values():
        if (path / manifest).is_file():
            yield path, check  # `path` is one artefact
            return
    folders = [path / kind for kind in KINDS if (path / kind).is_dir()]
    if not folders:
        raise StiltsError(
            f"{path} is not a stilts store (no {', '.join(KINDS)} in it) nor a phase, run or "
            "model directory of one: pass the store's path (--store of the runs)"
        )
    for folder in folders:
        for directory in sorted(folder.iterdir()):
            if directory.is_dir() and not directory.name.startswith("."):
                yield directory, KINDS[folder.name][1]
