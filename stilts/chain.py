"""The orchestrator: a chain of phases through Trainer, then zero-shot evaluation.

`plan` is cheap (no torch): it resolves tasks, hyperparameters and fingerprints, so every
input error surfaces before any training. `run` trains each phase whose fingerprint is not
already complete in the store, hands the encoder on, evaluates the last task on every one of
its languages, and writes results and a manifest into the run directory.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stilts import __version__, bundled, registry
from stilts.arguments import RunOptions
from stilts.data import DataLocator, sha256_files
from stilts.errors import StiltsError
from stilts.eval.results import ChainResult
from stilts.eval.submission import path_for
from stilts.store import PHASE_MANIFEST, Store, fingerprint, read_json, write_json, write_text
from stilts.task import Hyperparameters, Task
from stilts.translation import TrainingData

PREPROCESSING_VERSION = 1
"""Bump when tokenisation or row selection changes, so old phases are not reused."""


@dataclass(frozen=True)
class ChainConfig:
    """What the user asked for: `stilts chain A B …` in data form."""

    tasks: tuple[str, ...]
    model: str = bundled.MODEL
    revision: str | None = None
    data: str | None = None
    """'sample', 'hub', or a local mirror directory; None: sample for the bundled model."""
    seed: int = 42
    overrides: Mapping[str, Any] = field(default_factory=dict)
    trust_remote_code: bool = False
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Task name -> training languages (its own language keeps the original rows)."""
    translated_data: str | None = None
    """A user's translated copies: DIR/<language>/<org>/<dataset>/…; None: the task's own."""

    def locator(self) -> DataLocator:
        choice = self.data or ("sample" if bundled.is_bundled(self.model) else "hub")
        if choice == "sample":
            return DataLocator(bundled.SAMPLE_DATA)
        if choice == "hub":
            return DataLocator(None)
        root = Path(choice).expanduser()
        if not root.is_dir():
            raise StiltsError(
                f"--data {choice!r} is neither 'sample', 'hub' nor an existing directory"
            )
        return DataLocator(root.resolve())


@dataclass(frozen=True)
class PlannedPhase:
    task: Task
    hyperparameters: Hyperparameters
    spec: dict[str, Any]
    fingerprint: str
    training: TrainingData


@dataclass(frozen=True)
class ChainPlan:
    config: ChainConfig
    data: DataLocator
    phases: tuple[PlannedPhase, ...]
    run_fingerprint: str

    @property
    def target(self) -> PlannedPhase:
        return self.phases[-1]


def plan(config: ChainConfig) -> ChainPlan:
    """Resolve tasks, hyperparameters and phase fingerprints; import no torch."""
    if not config.tasks:
        raise StiltsError("name at least one task, e.g. `stilts chain mnli xnli`")
    tasks = [registry.load(name) for name in config.tasks]
    for task in tasks[:-1]:
        if not task.trains:
            raise StiltsError(
                f"{task.name} has no training data, so it can only end a chain, where it "
                f"evaluates the encoder: e.g. `stilts chain mnli {task.name}`"
            )
    data = config.locator()
    if data.root == bundled.SAMPLE_DATA:
        uncovered = [task.name for task in tasks if not bundled.covers(task)]
        if uncovered:
            raise StiltsError(
                f"the bundled sample data has no {', '.join(uncovered)} (it covers "
                f"{', '.join(bundled.SAMPLE_TASKS)} only); run on real data with --data hub "
                "(or --data DIR, a local mirror) and --model, e.g. FacebookAI/xlm-roberta-large"
            )
    unknown = set(config.translations) - set(config.tasks)
    if unknown:
        raise StiltsError(
            f"--translate names {', '.join(sorted(unknown))}, which the chain does not train"
        )
    files = Path(config.translated_data).expanduser() if config.translated_data else None
    preset = bundled.SMOKE_HYPERPARAMETERS if bundled.is_bundled(config.model) else {}
    start = _start_identity(config)
    phases = []
    for task in tasks:
        try:
            hp = task.defaults.updated(preset).updated(config.overrides)
        except ValueError as error:
            raise StiltsError(str(error)) from None
        spec = {
            "start": start,
            "task": task.name,
            "head": task.head.spec(),
            "train_language": task.train_language,
            "data": [data.identity(source) for source in task.sources],
            "hyperparameters": hp.as_dict(),
            "seed": config.seed,
            "preprocessing": PREPROCESSING_VERSION,
        }
        training = TrainingData(config.translations.get(task.name, ()), files)
        training.check(task)
        if training.languages:  # only then: plain phases keep their fingerprints
            spec["training_data"] = training.identity(task, data)
        phase_fp = fingerprint(spec)
        phases.append(PlannedPhase(task, hp, spec, phase_fp, training))
        start = {"phase": phase_fp}
    run_fp = fingerprint({"last_phase": phases[-1].fingerprint, "evaluate": "test"})
    return ChainPlan(config, data, tuple(phases), run_fp)


def _start_identity(config: ChainConfig) -> dict[str, Any]:
    if bundled.is_bundled(config.model):
        return {"model": config.model, "key": bundled.key()}
    local = Path(config.model).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise StiltsError(
                f"--model {config.model!r} is a directory without config.json; pass a "
                "directory written by save_pretrained or `hf download`"
            )
        # Content, not path: two checkpoints with one config must not share phases.
        files = sorted(path for path in local.rglob("*") if path.is_file())
        return {"model": local.name, "sha256": sha256_files(files)}
    return {"model": config.model, "revision": config.revision or "main"}


Log = Callable[[str], None]


def run(
    chain: ChainPlan,
    store: Store,
    options: RunOptions | None = None,
    *,
    force: bool = False,
    log: Log = lambda _message: None,
) -> ChainResult:
    """Train what is not in the store yet, evaluate the target, write results; return them."""
    from accelerate import PartialState

    from stilts.eval.encoder import evaluate_encoder
    from stilts.eval.predict import evaluate_languages
    from stilts.provenance import hardware, package_versions
    from stilts.training import ModelSource, train_phase

    options = options or RunOptions()
    state = PartialState()
    started = time.perf_counter()
    _preflight(chain)
    source = _start_source(chain.config, store, state)
    phase_records = []
    tasks = [phase.task.bound(chain.data) for phase in chain.phases]
    for phase, task in zip(chain.phases, tasks, strict=True):
        if not task.trains:  # the last task, evaluating the encoder as it is
            break
        phase_dir = store.phase_dir(phase.task.name, phase.fingerprint)
        reused = Store.is_complete(phase_dir) and not force
        if reused:
            log(f"phase {phase.task.name}: reusing {phase_dir}")
            record = read_json(phase_dir / PHASE_MANIFEST)
        else:
            log(f"phase {phase.task.name}: training from {source.name}")
            if state.is_main_process:  # a retrained phase is incomplete until it is rewritten
                (phase_dir / PHASE_MANIFEST).unlink(missing_ok=True)
            training = train_phase(
                task, source, chain.data, phase.hyperparameters,
                chain.config.seed, phase_dir, options, phase.training,
            )  # fmt: skip
            dev = evaluate_languages(
                task, phase_dir / "model", "dev", [task.train_language],
                chain.data, phase.hyperparameters, chain.config.seed, options,
                trust_remote_code=chain.config.trust_remote_code,
            )  # fmt: skip
            record = {
                "task": phase.task.name,
                "fingerprint": phase.fingerprint,
                "spec": phase.spec,
                "started_from": source.name,
                "train_rows": training.train_rows,
                "train_loss": training.train_loss,
                "training_arguments": training.arguments,
                "dev": dev.scores,
                "seconds": {"train": training.seconds, "dev": dev.seconds},
                "data": _records_for(chain.data, phase.task),
                "packages": package_versions(),
                "stilts": __version__,
            }
            if state.is_main_process:
                write_json(phase_dir / PHASE_MANIFEST, record)
                shutil.rmtree(phase_dir / "checkpoints", ignore_errors=True)
        phase_records.append({**record, "dir": str(phase_dir), "reused": reused})
        source = ModelSource(
            str(phase_dir / "model"), trust_remote_code=chain.config.trust_remote_code
        )

    target, languages = tasks[-1], tasks[-1].languages
    log(f"evaluating {target.name} zero-shot on {len(languages)} languages")
    if target.trains:
        test = evaluate_languages(
            target, Path(source.name), "test", languages, chain.data,
            chain.target.hyperparameters, chain.config.seed, options,
            trust_remote_code=chain.config.trust_remote_code,
        )  # fmt: skip
    else:
        test = evaluate_encoder(target, source, languages, chain.data, chain.target.hyperparameters)
    result = ChainResult(
        tasks=chain.config.tasks,
        target=target.name,
        metric=target.main_metric,
        train_language=target.train_language,
        dev=phase_records[-1]["dev"] if target.trains else {},
        test=test.scores,
    )
    run_dir = store.run_dir(chain.config.tasks, chain.run_fingerprint)
    manifest = {
        "stilts": __version__,
        "config": asdict(chain.config),
        "model": {"name": chain.config.model, "start": chain.phases[0].spec["start"]},
        "seed": chain.config.seed,
        "phases": phase_records,
        "data": chain.data.records(),
        "packages": package_versions(),
        "hardware": hardware(),
        "seconds": {"test": test.seconds, "total": time.perf_counter() - started},
    }
    if state.is_main_process:
        for language, (extension, text) in test.submissions.items():
            write_text(run_dir / "predictions" / path_for(target.name, language, extension), text)
        result.write(run_dir)
        write_json(run_dir / "manifest.json", manifest)
    return result


def _preflight(chain: ChainPlan) -> None:
    """Load every table the chain will read, so bad data fails before any training."""
    for phase in chain.phases:
        if phase.task.trains:
            phase.training.rows(phase.task, chain.data)
            phase.task.load("dev", phase.task.train_language, chain.data)
    for language in chain.target.task.languages:
        chain.target.task.load("test", language, chain.data)


def _start_source(config: ChainConfig, store: Store, state: Any) -> Any:
    from stilts.training import ModelSource

    if not bundled.is_bundled(config.model):
        return ModelSource(config.model, config.revision, config.trust_remote_code)
    with state.main_process_first():
        return ModelSource(str(bundled.materialize(store)))


def _records_for(data: DataLocator, task: Task) -> list[dict[str, Any]]:
    repos = {source.repo for source in task.sources}
    return [record for record in data.records() if record["repo"] in repos]
