"""`stilts eval`: score any model on one task, without training.

The model is a hub id, a local checkpoint, a finished phase or a run directory (its last
trained phase). A task without training data (Tatoeba, BUCC) evaluates the encoder; any other
task needs a model that already has that task's head, checked before anything runs, since
transformers would otherwise fill a missing head with random weights and score it.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stilts import __version__
from stilts.errors import StiltsError
from stilts.eval.submission import path_for
from stilts.experiment import bundled
from stilts.experiment.chain import ChainConfig, plan
from stilts.runtime.arguments import RunOptions
from stilts.store.files import read_json, write_json, write_text
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.store.results import ChainResult
from stilts.tasks.task import Task


def resolve_model(model_or_run: str) -> tuple[str, str | None]:
    """The model a name stands for (a run's last trained phase, a phase's model, or itself),
    and the data it was trained with when that is known (a run's `--data`)."""
    path = Path(model_or_run).expanduser()
    if (path / "manifest.json").is_file():
        manifest = read_json(path / "manifest.json")
        if not manifest["phases"]:
            raise StiltsError(f"run {path} trained no phase; evaluate its starting model instead")
        config = manifest["config"]
        data = config["data"] or ("sample" if bundled.is_bundled(config["model"]) else None)
        return str(Path(manifest["phases"][-1]["dir"]) / "model"), data
    if (path / PHASE_MANIFEST).is_file():
        return str(path / "model"), None
    return model_or_run, None


def evaluate(
    task_name: str,
    model_or_run: str,
    store: Store,
    options: RunOptions | None = None,
    *,
    revision: str | None = None,
    data: str | None = None,
    overrides: dict[str, Any] | None = None,
    trust_remote_code: bool = False,
) -> tuple[ChainResult, Path]:
    """Score `model_or_run` on every language of `task_name`; results go under store/evals."""
    from stilts.runtime.encoder import evaluate_encoder
    from stilts.runtime.predict import evaluate_languages
    from stilts.runtime.provenance import hardware, package_versions
    from stilts.runtime.training import ModelSource

    started = time.perf_counter()
    model, run_data = resolve_model(model_or_run)
    config = ChainConfig(
        tasks=(task_name,),
        model=model,
        revision=revision,
        data=data or run_data,
        overrides=overrides or {},
        trust_remote_code=trust_remote_code,
    )
    chain = plan(config)
    task, hp = chain.phases[0].task.bound(chain.data), chain.phases[0].hyperparameters
    if bundled.is_bundled(config.model):
        source = ModelSource(str(bundled.materialize(store)))
    else:
        source = ModelSource(config.model, revision, trust_remote_code)
    if task.trains:
        _check_head(task, source)
        evaluation = evaluate_languages(
            task, Path(source.name), "test", task.languages, chain.data, hp, config.seed,
            options or RunOptions(), trust_remote_code=trust_remote_code,
        )  # fmt: skip
    else:
        evaluation = evaluate_encoder(task, source, task.languages, chain.data, hp)
    result = ChainResult(
        tasks=(task.name,),
        target=task.name,
        metric=task.main_metric,
        train_language=task.train_language,
        dev={},
        test=evaluation.scores,
    )
    out = store.root / "evals" / f"{task.name}-{chain.phases[0].fingerprint[:12]}"
    for language, (extension, text) in evaluation.submissions.items():
        write_text(out / "predictions" / path_for(task.name, language, extension), text)
    result.write(out)
    write_json(
        out / "manifest.json",
        {
            "stilts": __version__,
            "config": asdict(config),
            "model": {"name": model_or_run, "start": chain.phases[0].spec["start"]},
            "data": chain.data.records(),
            "packages": package_versions(),
            "hardware": hardware(),
            "seconds": {"test": evaluation.seconds, "total": time.perf_counter() - started},
        },
    )
    return result, out


def _check_head(task: Task, source: Any) -> None:
    from stilts.runtime.phase_model import trained_architecture

    found = trained_architecture(task, source)
    if not task.head.trained_in(found):
        raise StiltsError(
            f"{source.name} has no trained {task.head.kind} head for {task.name} ({found}), so "
            f"it cannot be scored on it; train one with `stilts chain … {task.name}` and "
            "evaluate that run"
        )
