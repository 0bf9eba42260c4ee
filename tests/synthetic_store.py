"""Stores of finished runs written without training, whose answers are known by construction.

Each run is written the way `stilts.experiment.chain.run` writes one (results.json through
ChainResult, manifest.json last, with the keys the analyses read), so an analysis reading it reads
exactly what it would read from a real grid; only the scores are planted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stilts.store.files import fingerprint, write_json
from stilts.store.layout import RUN_MANIFEST, Store
from stilts.store.results import ChainResult


def write_run(
    store: Path,
    phases: Sequence[str],
    seed: int,
    scores: Mapping[str, float],
    *,
    metric: str = "accuracy",
    specs: Sequence[Mapping[str, Any]] = (),
    config: Mapping[str, Any] | None = None,
    train_rows: int | None = None,
    training: Mapping[str, Any] | None = None,
) -> Path:
    """A finished run of the chain `phases` whose target scored `scores` per language (its
    first phase trained on `train_rows` rows, and on the translations or groups that
    `training` names, as a phase spec's ``training_data`` records them, when given)."""
    phases = tuple(phases)
    specs = [{"task": phase, **spec} for phase, spec in zip(phases, specs or [{}] * len(phases),
                                                             strict=True)]  # fmt: skip
    if training is not None:
        specs[0]["training_data"] = dict(training)
    result = ChainResult(
        phases, phases[-1], metric, "en", {}, {code: {metric: v} for code, v in scores.items()}
    )
    key = fingerprint(
        {"phases": phases, "seed": seed, "specs": specs, "config": config, "rows": train_rows}
    )
    records = [{"task": phase, "spec": spec} for phase, spec in zip(phases, specs, strict=True)]
    if train_rows is not None:
        records[0]["train_rows"] = train_rows
    run_dir = Store(store).run_dir(phases, key)
    result.write(run_dir)
    write_json(
        run_dir / RUN_MANIFEST,
        {
            "seed": seed,
            "config": {"tasks": list(phases), "seed": seed, **(config or {})},
            "phases": records,
            "results": result.as_dict(),
        },
    )
    return run_dir
