"""Finished runs as the analyses see them, read from the store (never trained, never rerun).

An analysis is pointed at a store root, a grid directory (`STORE/grids/grid-…`, whose
``runs.json`` names its runs) or a single run directory; it reads each finished run's
``results.json`` and ``manifest.json`` (a run without a manifest is unfinished and skipped)
and pairs every chain with its baseline: the same target trained alone with the same seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.experiment.grid import BASELINE, GRID_RUNS
from stilts.store.files import read_json
from stilts.store.layout import RUN_MANIFEST
from stilts.store.results import RunStart


@dataclass(frozen=True)
class Run:
    """One finished chain: its phases, seed and zero-shot scores (main metric per language)."""

    path: Path
    phases: tuple[str, ...]
    target: str
    metric: str
    seed: int
    split: str
    scores: Mapping[str, float]
    manifest: Mapping[str, Any]
    row: str | None = None
    """The grid row the run fills (a grid labels variants of one task apart); None: not
    read through a grid."""
    train_language: str = "en"
    """The language the target trained in (its scores there are not zero-shot)."""

    @property
    def intermediate(self) -> str:
        """The run's row: its grid label, else the phases before the target."""
        return self.row or " → ".join(self.phases[:-1]) or BASELINE

    def phase_spec(self, index: int) -> Mapping[str, Any]:
        """The fingerprinted spec of phase `index` (0 = the first), as the run recorded it."""
        return self.manifest["phases"][index]["spec"]

    def training_data(self, index: int, task: str) -> Mapping[str, Any]:
        """How phase `index` chose `task`'s training rows (its translations' ``languages``,
        its ``groups``), as fingerprinted; empty: the task's own rows."""
        spec = self.phase_spec(index)
        specs = spec.get("tasks", [spec])
        return next((s.get("training_data", {}) for s in specs if s["task"] == task), {})

    @cached_property
    def trained_languages(self) -> frozenset[str]:
        """Every language a phase of the chain trained in: the target's, and each earlier
        phase task's translations (or, untranslated, its own training language). A score in
        one of them measures in-language learning, not zero-shot transfer."""
        seen = {self.train_language}
        for index in range(len(self.phases) - 1):
            spec = self.phase_spec(index)
            for task_spec in spec.get("tasks", [spec]):
                translated = task_spec.get("training_data", {}).get("languages")
                seen.update(translated or [task_spec.get("train_language", "en")])
        return frozenset(seen)

    @property
    def start(self) -> RunStart:
        return RunStart.of(dict(self.manifest))


@dataclass(frozen=True)
class Gain:
    """One language's score after an intermediate phase against the target alone (one seed)."""

    intermediate: str
    target: str
    language: str
    seed: int
    score: float
    baseline: float
    run: Run = field(compare=False, repr=False)
    """The chain the score is from (its manifest says how its phases trained)."""

    @property
    def gain(self) -> float:
        return self.score - self.baseline

    @property
    def zero_shot(self) -> bool:
        """Whether no phase of the chain trained in this language."""
        return self.language not in self.run.trained_languages


def read_runs(path: Path) -> list[Run]:
    """The finished runs at `path`: a run, a grid, or a whole store."""
    path = Path(path)
    rows: dict[Path, str] = {}
    if (path / RUN_MANIFEST).is_file():
        directories = [path]
    elif (path / GRID_RUNS).is_file():
        rows = _grid_rows(path)
        directories = list(rows)
    elif (path / "runs").is_dir():
        directories = sorted((path / "runs").iterdir())
    else:
        raise StiltsError(
            f"{path} is not a run, a grid or a store directory (expected {RUN_MANIFEST}, "
            f"{GRID_RUNS} or runs/ in it)"
        )
    runs = [read_run(d, rows.get(d)) for d in directories if (d / RUN_MANIFEST).is_file()]
    if not runs:
        raise StiltsError(f"{path} holds no finished runs; run the question's recipe first")
    return runs


def _grid_rows(grid: Path) -> dict[Path, str]:
    """A grid's run directories, each with the row it fills."""
    listed = read_json(grid / GRID_RUNS)
    if not isinstance(listed, list) or not all(
        isinstance(entry, dict) and {"run", "row"} <= set(entry) for entry in listed
    ):
        raise StiltsError(
            f"{grid / GRID_RUNS} is not a grid's run list (an older stilts wrote it?): run the "
            "grid's recipe or command again to rewrite it; its finished runs are read back"
        )
    store = grid.parents[1]
    return {store / entry["run"]: entry["row"] for entry in listed}


def read_run(run_dir: Path, row: str | None = None) -> Run:
    results = read_json(run_dir / "results.json")
    manifest = read_json(run_dir / RUN_MANIFEST)
    metric = results["metric"]
    return Run(
        path=run_dir,
        phases=tuple(results["chain"]),
        target=results["target"],
        metric=metric,
        seed=manifest["seed"],
        split=results.get("split", "test"),
        scores={language: values[metric] for language, values in results["test"].items()},
        manifest=manifest,
        row=row,
        train_language=results.get("train_language", "en"),
    )


def gains(runs: Iterable[Run]) -> tuple[list[Gain], list[str]]:
    """Every (chain, language, seed)'s gain over its baseline, and notes on chains left out
    for want of a baseline (analyses state what they could not use)."""
    runs = list(runs)
    baselines = {(r.target, r.seed, r.split): r for r in runs if r.intermediate == BASELINE}
    found, notes = [], []
    for run in runs:
        if run.intermediate == BASELINE:
            continue
        base = baselines.get((run.target, run.seed, run.split))
        if base is None:
            notes.append(f"{run.path.name}: no {run.target} baseline with seed {run.seed}")
            continue
        for language, score in run.scores.items():
            if language in base.scores:
                found.append(
                    Gain(run.intermediate, run.target, language, run.seed, score,
                         base.scores[language], run)
                )  # fmt: skip
    return found, notes


def split_zero_shot(found: Iterable[Gain]) -> tuple[list[Gain], list[Gain]]:
    """The zero-shot gains, and those in a language a phase of their chain trained in."""
    found = list(found)
    return [g for g in found if g.zero_shot], [g for g in found if not g.zero_shot]
