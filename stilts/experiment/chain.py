"""The orchestrator: a chain of phases through Trainer, then zero-shot evaluation.

`plan` is cheap (no torch): it resolves tasks, hyperparameters and fingerprints, so every
input error surfaces before any training. `run` trains each phase whose fingerprint is not
already complete in the store, hands the encoder on, evaluates the last task on every one of
its languages, and writes results and a manifest into the run directory.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stilts import __version__
from stilts.errors import StiltsError, did_you_mean
from stilts.eval.submission import path_for
from stilts.experiment import bundled
from stilts.experiment.training_data import TrainingData
from stilts.runtime.adapters import EVERY_INTERMEDIATE, AdapterConfig, parse_adapter
from stilts.runtime.arguments import RunOptions, process_state
from stilts.runtime.multitask.aggregate import Aggregate, parse_aggregate
from stilts.runtime.multitask.sampling import (
    DEFAULT_SAMPLER,
    SamplerConfig,
    format_sampler,
    parse_sampler,
    task_probabilities,
)
from stilts.runtime.training import PhaseTask
from stilts.store.files import fingerprint, read_json, write_json, write_text
from stilts.store.layout import PHASE_MANIFEST, RUN_MANIFEST, Store
from stilts.store.lock import directory_lock
from stilts.store.results import ChainResult
from stilts.tasks import registry
from stilts.tasks.data import DataLocator, sha256_files
from stilts.tasks.task import Hyperparameters, Task

PHASE_JOIN = "+"
"""Joins the tasks of one multi-task phase: `stilts chain mnli+squad xnli`."""

PREPROCESSING_VERSION = 1
"""Bump when tokenisation or row selection changes, so old phases are not reused."""


@dataclass(frozen=True)
class ChainConfig:
    """What the user asked for: `stilts chain A B …` in data form."""

    tasks: tuple[str, ...]
    """One entry per phase: a task name, or several joined by `PHASE_JOIN` (multi-task)."""
    model: str = bundled.MODEL
    revision: str | None = None
    data: str | None = None
    """'sample', 'hub', or a local mirror directory; None: sample for the bundled model."""
    seed: int = 42
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Hyperparameters for every phase (over each task's defaults)."""
    phase_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Phase name -> hyperparameters for that phase alone (over `overrides`)."""
    trust_remote_code: bool = False
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Task name -> training languages (its own language keeps the original rows)."""
    translated_data: str | None = None
    """A user's translated copies: DIR/<language>/<org>/<dataset>/…; None: the task's own."""
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Task name -> the named groups of its training rows it trains on (`Task.groups`)."""
    sampler: str | None = None
    """Multi-task phases' task sampler (`stilts.runtime.multitask.sampling.parse_sampler`)."""
    dev_aggregate: str = "mean"
    """How multi-task phases' per-task dev scores make one
    (`stilts.runtime.multitask.aggregate`)."""
    adapters: Mapping[str, str] = field(default_factory=dict)
    """Phase name (or `EVERY_INTERMEDIATE`) -> PEFT adapter spec (`parse_adapter`); a phase
    without one fine-tunes the whole encoder."""
    declared_tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Task name -> a task declared as data (`stilts.tasks.declarative.TaskDeclaration`'s keys), a
    standard-format dataset that needs no plugin; its name must not be an installed task's."""
    languages: tuple[str, ...] = ()
    """The target's languages to score; empty: all of them (its official list)."""
    split: str = "test"
    """The target's split scored in each language: test (the zero-shot result) or dev."""

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
    """One phase: its tasks (several share one encoder), its settings and its identity."""

    members: tuple[PhaseTask, ...]
    hyperparameters: Hyperparameters
    """The optimisation settings (its first task's: one optimiser trains every task)."""
    spec: dict[str, Any]
    fingerprint: str
    sampler: SamplerConfig | None = None
    """How a multi-task phase draws each step's task; None for one task."""
    adapter: AdapterConfig | None = None
    """The PEFT adapter the phase trains instead of the encoder; None: the whole encoder."""
    aggregate: Aggregate | None = None
    """A multi-task phase's dev aggregate (not fingerprinted: it only reads dev scores)."""

    @property
    def name(self) -> str:
        return PHASE_JOIN.join(member.task.name for member in self.members)

    @property
    def task(self) -> Task:
        """The phase's task, for a phase of one task (a chain's last phase is one)."""
        if len(self.members) != 1:
            raise ValueError(f"phase {self.name} has several tasks")
        return self.members[0].task


@dataclass(frozen=True)
class ChainPlan:
    config: ChainConfig
    data: DataLocator
    phases: tuple[PlannedPhase, ...]
    run_fingerprint: str

    @property
    def target(self) -> PlannedPhase:
        return self.phases[-1]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the target is scored in."""
        return self.config.languages or self.target.task.languages


def plan(config: ChainConfig) -> ChainPlan:
    """Resolve tasks, hyperparameters and phase fingerprints; import no torch."""
    if not config.tasks:
        raise StiltsError("name at least one task, e.g. `stilts chain mnli xnli`")
    phases_tasks = [_phase_tasks(text, config.declared_tasks) for text in config.tasks]
    if len(phases_tasks[-1]) > 1:
        raise StiltsError(
            f"the last phase is evaluated zero-shot, so it is one task, not "
            f"{config.tasks[-1]}: e.g. `stilts chain {config.tasks[-1]} xnli`"
        )
    tasks = [task for phase in phases_tasks for task in phase]
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
                "(or --data DIR, a local mirror) and --model, e.g. FacebookAI/xlm-roberta-large "
                "(in a recipe: `data:` and `model: {id: …}`)"
            )
    for option, keyed in (("--translate", config.translations), ("--groups", config.groups)):
        unknown = set(keyed) - {task.name for task in tasks}
        if unknown:
            raise StiltsError(
                f"{option} names {', '.join(sorted(unknown))}, which the chain does not train"
            )
    sampler = _sampler(config, phases_tasks)
    aggregate = _aggregate(config, phases_tasks)
    adapters = _adapters(config, phases_tasks)
    files = Path(config.translated_data).expanduser() if config.translated_data else None
    preset = bundled.SMOKE_HYPERPARAMETERS if bundled.is_bundled(config.model) else {}
    start = _start_identity(config)
    phases = []
    _check_phase_names(config.phase_overrides, phases_tasks, "phase hyperparameters")
    for phase_tasks, adapter in zip(phases_tasks, adapters, strict=True):
        members = []
        own = config.phase_overrides.get(PHASE_JOIN.join(task.name for task in phase_tasks), {})
        for task in phase_tasks:
            try:
                hp = task.defaults.updated(preset).updated(config.overrides).updated(own)
            except ValueError as error:
                raise StiltsError(str(error)) from None
            training = TrainingData(
                config.translations.get(task.name, ()), files, config.groups.get(task.name, ())
            )
            training.check(task)
            members.append(PhaseTask(task, hp, training))
        phase_sampler = sampler if len(members) > 1 else None
        spec = {
            "start": start,
            **_phase_spec(members, data, phase_sampler, config.declared_tasks),
            "seed": config.seed,
            "preprocessing": PREPROCESSING_VERSION,
        }
        if adapter is not None:  # only then: full fine-tuning phases keep their fingerprints
            spec["adapter"] = adapter.spec()
        phase_fp = fingerprint(spec)
        hp = members[0].hyperparameters
        phases.append(
            PlannedPhase(
                tuple(members), hp, spec, phase_fp, phase_sampler, adapter,
                aggregate if len(members) > 1 else None,
            )
        )  # fmt: skip
        start = {"phase": phase_fp}
    _check_evaluation(config, tasks[-1])
    # A finished run is reused whole; the stilts version re-scores it after an upgrade (its
    # phases are still reused), and a non-default dev aggregate is recomputed into it.
    run_spec = {
        "last_phase": phases[-1].fingerprint, "evaluate": config.split, "stilts": __version__
    }  # fmt: skip
    if config.languages:
        run_spec["languages"] = list(config.languages)
    if config.dev_aggregate != ChainConfig.dev_aggregate:
        run_spec["dev_aggregate"] = config.dev_aggregate
    run_fp = fingerprint(run_spec)
    return ChainPlan(config, data, tuple(phases), run_fp)


def _check_evaluation(config: ChainConfig, target: Task) -> None:
    if config.split not in ("test", "dev"):
        raise StiltsError(f"evaluation split {config.split!r}: choose test or dev")
    if config.split != "test" and not target.trains:
        raise StiltsError(f"{target.name} scores the encoder on its test data only, not dev")
    for code in config.languages:
        if code not in target.languages:
            raise StiltsError(
                f"evaluation language {code!r} is not one of {target.name}'s"
                f"{did_you_mean(code, target.languages)}: {', '.join(target.languages)}"
            )


def _phase_tasks(text: str, declared: Mapping[str, Mapping[str, Any]]) -> list[Task]:
    names = [name.strip() for name in text.split(PHASE_JOIN)]
    if not all(names):
        raise StiltsError(
            f"phase {text!r}: join the tasks of a multi-task phase with {PHASE_JOIN!r} and no "
            "empty names, e.g. mnli+squad+hellaswag"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise StiltsError(f"phase {text!r} names {', '.join(repeated)} more than once")
    if not declared:  # pydantic, which checks declarations, is imported only when needed
        return [registry.load(name) for name in names]
    from stilts.tasks.declarative import resolve

    return [resolve(name, declared) for name in names]


def _sampler(config: ChainConfig, phases_tasks: list[list[Task]]) -> SamplerConfig | None:
    """The multi-task sampler, checked against every multi-task phase it applies to."""
    multitask = [phase for phase in phases_tasks if len(phase) > 1]
    if config.sampler is None:
        return DEFAULT_SAMPLER if multitask else None
    if not multitask:
        raise StiltsError(
            "--sampler chooses the task of each step of a multi-task phase, and this chain "
            f"has none; join tasks with {PHASE_JOIN!r}, e.g. mnli+squad"
        )
    sampler = parse_sampler(config.sampler)
    for phase in multitask:
        task_probabilities(sampler, {task.name: 1 for task in phase})  # names checked
    return sampler


def _aggregate(config: ChainConfig, phases_tasks: list[list[Task]]) -> Aggregate:
    """The multi-task dev aggregate, its weights checked against every multi-task phase."""
    aggregate = parse_aggregate(config.dev_aggregate)
    multitask = [phase for phase in phases_tasks if len(phase) > 1]
    if aggregate.weights is not None and not multitask:
        raise StiltsError(
            "--dev-aggregate weighs the tasks of a multi-task phase, and this chain has none; "
            f"join tasks with {PHASE_JOIN!r}, e.g. mnli+squad"
        )
    for phase in multitask:
        aggregate.check(task.name for task in phase)
    return aggregate


def _check_phase_names(
    keyed: Mapping[str, Any], phases_tasks: list[list[Task]], what: str, *extra: str
) -> list[str]:
    """The chain's phase names; refuse a key of `keyed` that names none of them."""
    names = [PHASE_JOIN.join(task.name for task in phase) for phase in phases_tasks]
    for name in sorted(set(keyed) - {*names, *extra}):
        raise StiltsError(
            f"{what} names phase {name!r}, which this chain does not have"
            f"{did_you_mean(name, names)}; its phases: {', '.join(names)}"
        )
    return names


def _adapters(config: ChainConfig, phases_tasks: list[list[Task]]) -> list[AdapterConfig | None]:
    """Each phase's adapter: its own (named), else the intermediate phases' default."""
    names = _check_phase_names(config.adapters, phases_tasks, "--adapter", EVERY_INTERMEDIATE)
    default = config.adapters.get(EVERY_INTERMEDIATE)
    if default is not None and len(names) == 1:
        raise StiltsError(
            f"--adapter {default} is for intermediate phases and this chain has none; name the "
            f"phase to train one there: --adapter {names[0]}={default}"
        )
    specs = [config.adapters.get(name, default) for name in names[:-1]]
    specs.append(config.adapters.get(names[-1]))
    if specs[-1] is not None and not phases_tasks[-1][0].trains:
        raise StiltsError(
            f"--adapter {names[-1]}={specs[-1]}: {names[-1]} has no training data, so it "
            "trains no adapter"
        )
    return [parse_adapter(spec) if spec is not None else None for spec in specs]


def _phase_spec(
    members: list[PhaseTask],
    data: DataLocator,
    sampler: SamplerConfig | None,
    declared: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """What a phase trains: one task's spec, or each task's and the sampler's."""
    specs = []
    for member in members:
        task = member.task
        spec = {
            "task": task.name,
            "head": task.head.spec(),
            "train_language": task.train_language,
            "data": [data.identity(source) for source in task.sources],
            "hyperparameters": member.hyperparameters.as_dict(),
        }
        training = member.training.identity(task, data)
        if training is not None:  # only then: plain phases keep their fingerprints
            spec["training_data"] = training
        if task.name in declared:  # only then: installed tasks keep their fingerprints
            from stilts.tasks.declarative import declaration_identity

            spec["declaration"] = declaration_identity(task.name, declared[task.name])
        specs.append(spec)
    if len(specs) == 1:
        return specs[0]
    return {"tasks": specs, "sampler": format_sampler(sampler)}


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


def finished(chain: ChainPlan, store: Store, log: Log) -> ChainResult | None:
    """The results of this very run if it finished before (read without importing torch)."""
    run_dir = store.run_dir(chain.config.tasks, chain.run_fingerprint)
    if not (run_dir / RUN_MANIFEST).is_file():  # written last: the run is whole
        return None
    log(f"run {run_dir.name}: reusing its results (--force reruns it)")
    return ChainResult.read(run_dir)


def run(
    chain: ChainPlan,
    store: Store,
    options: RunOptions | None = None,
    *,
    force: bool = False,
    log: Log = lambda _message: None,
) -> ChainResult:
    """Train what is not in the store yet, evaluate the target, write results; return them."""
    from stilts.experiment.recipe import Recipe
    from stilts.runtime.encoder import evaluate_encoder
    from stilts.runtime.predict import evaluate_languages
    from stilts.runtime.provenance import hardware, package_versions
    from stilts.runtime.training import ModelSource

    if not force and (done := finished(chain, store, log)) is not None:
        return done
    options = options or RunOptions()
    state = process_state()
    run_dir = store.run_dir(chain.config.tasks, chain.run_fingerprint)
    started = time.perf_counter()
    _preflight(chain)
    source = start = _start_source(chain.config, store, state, log)
    phase_records = []
    phases = [
        [replace(m, task=m.task.bound(chain.data)) for m in phase.members] for phase in chain.phases
    ]
    for phase, members in zip(chain.phases, phases, strict=True):
        if not members[0].task.trains:  # the last task, evaluating the encoder as it is
            break
        phase_dir = store.phase_dir(phase.name, phase.fingerprint)
        needed = force or not Store.is_complete(phase_dir)
        with _one_writer(phase_dir, state, log, locked=needed):
            reused = Store.is_complete(phase_dir) and not force
            if reused:
                log(f"phase {phase.name}: reusing {phase_dir}")
                record = read_json(phase_dir / PHASE_MANIFEST)
            else:
                log(f"phase {phase.name}: training from {source.name}")
                record = _train(chain, phase, members, source, start, phase_dir, options, state)
        if reused and phase.aggregate is not None:  # as asked now, from the recorded scores
            record["dev_aggregate"] = _dev_aggregate(phase.aggregate, members, record["dev"])
        phase_records.append({**record, "dir": str(phase_dir), "reused": reused})
        source = ModelSource(
            str(phase_dir / "model"), trust_remote_code=chain.config.trust_remote_code
        )

    target, languages = phases[-1][0].task, chain.languages
    log(f"evaluating {target.name} zero-shot on {len(languages)} languages ({chain.config.split})")
    if target.trains:
        test = evaluate_languages(
            target, Path(source.name), chain.config.split, languages, chain.data,
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
        split=chain.config.split,
    )
    manifest = {
        "stilts": __version__,
        "config": asdict(chain.config),
        "recipe": Recipe.from_config(chain.config).model_dump(mode="json", exclude_defaults=True),
        "model": {"name": chain.config.model, "start": chain.phases[0].spec["start"]},
        "seed": chain.config.seed,
        "phases": phase_records,
        "data": chain.data.records(),
        "packages": package_versions(),
        "hardware": hardware(),
        "seconds": {"test": test.seconds, "total": time.perf_counter() - started},
        "results": result.as_dict(),
    }
    if state.is_main_process:
        for language, (extension, text) in test.submissions.items():
            write_text(run_dir / "predictions" / path_for(target.name, language, extension), text)
        result.write(run_dir)
        write_json(run_dir / RUN_MANIFEST, manifest)
    return result


def _train(
    chain: ChainPlan,
    phase: PlannedPhase,
    members: list[PhaseTask],
    source: Any,
    start: Any,
    phase_dir: Path,
    options: RunOptions,
    state: Any,
) -> dict[str, Any]:
    """Train one phase, score it on its dev sets, write its manifest; return that record."""
    from stilts.runtime.predict import evaluate_languages
    from stilts.runtime.provenance import package_versions
    from stilts.runtime.training import train_phase

    if state.is_main_process:  # a retrained phase is incomplete until it is rewritten
        (phase_dir / PHASE_MANIFEST).unlink(missing_ok=True)
    training = train_phase(
        members, source, chain.data, phase.hyperparameters, chain.config.seed,
        phase_dir, options, sampler=phase.sampler, start=start, adapter=phase.adapter,
    )  # fmt: skip
    dev = {}
    for m in members:
        dev[m.task.name] = evaluate_languages(
            m.task, phase_dir / "model", "dev", [m.task.train_language],
            chain.data, m.hyperparameters, chain.config.seed, options,
            trust_remote_code=chain.config.trust_remote_code,
        )  # fmt: skip
    record = {
        "task": phase.name,
        "fingerprint": phase.fingerprint,
        "spec": phase.spec,
        "started_from": source.name,
        "train_rows": training.train_rows,
        "train_loss": training.train_loss,
        "training_arguments": training.arguments,
        "parameters": training.parameters,
        "dev": _dev_scores(members, {name: e.scores for name, e in dev.items()}),
        "seconds": {
            "train": training.seconds,
            "dev": sum(e.seconds for e in dev.values()),
        },
        "data": _records_for(chain.data, members),
        "packages": package_versions(),
        "stilts": __version__,
    }
    if training.steps_per_task is not None:
        record["steps_per_task"] = training.steps_per_task
    if phase.aggregate is not None:
        record["dev_aggregate"] = _dev_aggregate(phase.aggregate, members, record["dev"])
    if state.is_main_process:
        write_json(phase_dir / PHASE_MANIFEST, record)
        shutil.rmtree(phase_dir / "checkpoints", ignore_errors=True)
    return record


@contextmanager
def _one_writer(directory: Path, state: Any, log: Log, *, locked: bool) -> Iterator[None]:
    """The block during which `directory` may be written: the main process holds its lock
    (waiting for another run that holds it), then every process looks at the store again."""
    with directory_lock(directory, log) if locked and state.is_main_process else nullcontext():
        state.wait_for_everyone()  # the others wait with it; then all see what it sees
        yield


def _preflight(chain: ChainPlan) -> None:
    """Load every table the chain will read, so bad data fails before any training."""
    for phase in chain.phases:
        for member in phase.members:
            if member.task.trains:
                member.training.rows(member.task, chain.data)
                member.task.load("dev", member.task.train_language, chain.data)
    for language in chain.languages:
        chain.target.task.load(chain.config.split, language, chain.data)


def _start_source(config: ChainConfig, store: Store, state: Any, log: Log) -> Any:
    from stilts.runtime.training import ModelSource

    if not bundled.is_bundled(config.model):
        return ModelSource(config.model, config.revision, config.trust_remote_code)
    with state.main_process_first():
        return ModelSource(str(bundled.materialize(store, log)))


def _records_for(data: DataLocator, members: list[PhaseTask]) -> list[dict[str, Any]]:
    repos = {source.repo for m in members for source in m.training.sources(m.task)}
    return [record for record in data.records() if record["repo"] in repos]


def _dev_scores(
    members: list[PhaseTask], scores: dict[str, dict[str, dict[str, float]]]
) -> dict[str, Any]:
    """A phase's English dev scores: per language for one task; per task for several."""
    return scores[members[0].task.name] if len(members) == 1 else scores


def _dev_aggregate(
    aggregate: Aggregate, members: list[PhaseTask], dev: dict[str, Any]
) -> dict[str, Any]:
    """A multi-task phase's dev aggregate over its tasks' main metrics."""
    main = {
        m.task.name: dev[m.task.name][m.task.train_language][m.task.main_metric] for m in members
    }
    return aggregate.record(main)
