"""Planning: a chain's configuration resolved into phases with fingerprints, before anything runs.

Planning resolves every task (installed or declared), every phase's hyperparameters (each
task's defaults, then, on the bundled model, its settings for a tiny model where the task keeps
the study's values, then the chain's, then the phase's own), its training data and its
identity, and checks everything that can be checked without training: task names, languages,
groups and translations, adapters on tasks that train, the data the chain needs. It reads
package metadata, hashes local files and asks the hub which commit a branch names, and imports
no torch, so a whole grid is planned, and every bad input found, before the first phase trains.

A phase's fingerprint covers its starting point (the model's commit or its files' hashes, or
the previous phase's fingerprint), its tasks with their heads, data sources, resolved
hyperparameters and training data, its sampler and adapter, the seed, the precision it
computes in (where not fp32) and `PREPROCESSING_VERSION`: the phase's output is a function of
exactly these, so a phase with a fingerprint the store holds complete is reused, never
retrained. A run's fingerprint adds what its evaluation reads. Nothing is fingerprinted by a
moving ref: planning pins a branch of a hub model or declared dataset to its commit
(`stilts.experiment.revisions`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stilts import __version__
from stilts.errors import StiltsError, did_you_mean
from stilts.experiment import bundled
from stilts.experiment.config import ChainConfig, PhaseConfig
from stilts.experiment.precision import FULL, Accelerator, Resolved, resolve, this_machine
from stilts.experiment.revisions import hub_commit, model_identity
from stilts.experiment.specs import (
    DEFAULT_SAMPLER,
    STUDY_SELECTION,
    Adapter,
    DevAggregate,
    Sampler,
    Selection,
)
from stilts.experiment.training_data import TrainingData
from stilts.schema import describe
from stilts.store.files import fingerprint, read_json
from stilts.store.integrity import read_manifest
from stilts.store.layout import PHASE_MANIFEST, RUN_MANIFEST
from stilts.store.results import RunStart
from stilts.tasks import registry
from stilts.tasks.data import DataLocator, Role
from stilts.tasks.declarative import TaskDeclaration
from stilts.tasks.hyperparameters import HyperparameterSettings, checked
from stilts.tasks.task import AnyTask, EncoderTask, Hyperparameters, Task

PREPROCESSING_VERSION = 2
"""Bump when tokenisation or row selection changes, so old phases are not reused (2: COPA and
XCOPA ask "What was the cause?/effect?" as XTREME-R's run_xcopa.py does)."""


@dataclass(frozen=True)
class PhaseTask:
    """One task of a phase: its own settings (max length, example limits) and training rows."""

    task: AnyTask
    hyperparameters: Hyperparameters
    training: TrainingData = field(default_factory=TrainingData)

    def bound(self, data: DataLocator) -> PhaseTask:
        """This task with its head fixed for `data` (see `Task.bound`)."""
        return replace(self, task=self.task.bound(data))

    @property
    def trained_task(self) -> Task:
        """`task`, in a phase that trains: planning lets a task without training data (an
        `EncoderTask`) only end a chain, alone, where nothing trains (`PlannedPhase.trains`)."""
        assert isinstance(self.task, Task)
        return self.task


@dataclass(frozen=True)
class PlannedPhase:
    """One phase: its tasks (several share one encoder), its settings and its identity."""

    config: PhaseConfig
    members: tuple[PhaseTask, ...]
    hyperparameters: Hyperparameters
    """The optimisation settings (its first task's: one optimiser trains every task)."""
    spec: dict[str, Any]
    """What the fingerprint is the hash of (recorded in phase.json)."""
    fingerprint: str
    aggregate: DevAggregate | None = None
    """A multi-task phase's dev aggregate (fingerprinted where it selects the kept weights)."""
    selection: Selection = STUDY_SELECTION
    """Which weights the phase keeps."""
    group_by_length: bool = False
    """Trainer draws batches of rows of similar lengths (`Settings.group_by_length`)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def sampler(self) -> Sampler | None:
        """How a multi-task phase draws each step's task; None for one task."""
        if not self.config.multitask:
            return None
        return self.config.sampler or DEFAULT_SAMPLER

    @property
    def adapter(self) -> Adapter | None:
        """The PEFT adapter the phase trains instead of the encoder; None: the whole encoder."""
        return self.config.adapter

    @property
    def task(self) -> AnyTask:
        """The phase's task, for a phase of one task (a chain's last phase is one)."""
        if len(self.members) != 1:
            raise ValueError(f"phase {self.name} has several tasks")
        return self.members[0].task

    @property
    def trains(self) -> bool:
        """Whether the phase trains: all do but a chain's last when it scores the encoder as
        it is (an `EncoderTask`), which only names the run."""
        return isinstance(self.members[0].task, Task)


@dataclass(frozen=True)
class ChainPlan:
    config: ChainConfig
    data: DataLocator
    phases: tuple[PlannedPhase, ...]
    run_fingerprint: str
    model_revision: str | None
    """The commit the starting hub model is loaded at, the one its phases are fingerprinted
    by (`config.model.revision` pinned); None for a local directory or the bundled model."""
    precision: Resolved = FULL
    """What every phase trains, and the target is scored, in on this machine."""

    @property
    def target(self) -> PlannedPhase:
        return self.phases[-1]

    @property
    def trained(self) -> tuple[PlannedPhase, ...]:
        """The phases that train, in order (all, unless the target only evaluates)."""
        return tuple(phase for phase in self.phases if phase.trains)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the target is scored in."""
        return tuple(self.config.evaluation.languages or self.target.task.languages)

    @property
    def split(self) -> Role:
        return self.config.evaluation.split

    def label(self, phase: PlannedPhase | None = None) -> str:
        """The chain up to `phase` (default: its last) and its seed, as logs, progress,
        trackers and jobs name it: ``mnli → xnli (seed 42)``."""
        end = self.phases.index(phase) + 1 if phase is not None else len(self.phases)
        return f"{' → '.join(p.name for p in self.phases[:end])} (seed {self.config.seed})"


def plan_all(
    configs: Iterable[ChainConfig], accelerator: Accelerator | None = None
) -> tuple[ChainPlan, ...]:
    """Plan every chain first: an experiment fails on any bad input before training anything."""
    plans = tuple(plan(config, accelerator) for config in configs)
    if not plans:
        raise StiltsError("the experiment has no chains to run")
    return plans


def plan(config: ChainConfig, accelerator: Accelerator | None = None) -> ChainPlan:
    """Resolve tasks, hyperparameters, precision and phase fingerprints; import no torch
    (unless a GPU driver is visible: `stilts.experiment.precision.this_machine`).

    `accelerator`: the machine the chain will run on (default: this one).
    """
    precision = resolve(config.precision, accelerator or this_machine())
    tasks = [[_task(name, config) for name in phase.tasks] for phase in config.phases]
    _check_chain(config, tasks)
    data = locator(config)
    _check_sample_covers(data, [task for phase in tasks for task in phase])
    files = Path(config.translated_data).expanduser() if config.translated_data else None
    start = _start_identity(config)
    revision = start.get("revision")  # a hub model's commit; a local or bundled one has none
    phases = []
    for phase, phase_tasks in zip(config.phases, tasks, strict=True):
        members = tuple(
            _member(phase, task, files, _preset(task, config), config.hyperparameters.given())
            for task in phase_tasks
        )
        spec = {
            "start": start,
            **_phase_spec(members, phase, data, config),
            "seed": config.seed,
            "preprocessing": PREPROCESSING_VERSION,
        }
        if phase.adapter is not None:  # only then: full fine-tuning phases keep their fingerprints
            spec["adapter"] = phase.adapter.fingerprint()
        if precision != FULL:  # only then: fp32 phases keep their fingerprints (the target's
            spec["precision"] = precision  # too, so its run is scored in the same precision)
        aggregate, selection = config.aggregate(phase), config.selection(phase)
        trains = isinstance(phase_tasks[0], Task)
        if trains:
            spec["selection"] = _selection_identity(selection, aggregate)
        grouped = config.group_by_length and trains and not phase.multitask
        if grouped:  # only then: a multi-task phase's task stream has an order of its own
            _check_grouping(phase, selection)
            spec["group_by_length"] = True
        phase_fp = fingerprint(spec)
        hp = members[0].hyperparameters
        phases.append(
            PlannedPhase(phase, members, hp, spec, phase_fp, aggregate, selection, grouped)
        )
        start = {"phase": phase_fp}
    _check_evaluation(config, tasks[-1][0])
    run = _run_fingerprint(config, phases[-1])
    return ChainPlan(config, data, tuple(phases), run, revision, precision)


def plan_evaluation(
    task: str,
    model_or_run: str,
    *,
    revision: str | None = None,
    data: str | list[str] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    precision: str = "auto",
    trust_remote_code: bool = False,
) -> ChainPlan:
    """`stilts eval`: `task` alone on a model that is not trained further: a run's last
    trained phase (read with the run's data unless `data` says otherwise), a phase's model, a
    local checkpoint or a hub model."""
    model, run_data = resolve_model(model_or_run)
    spec = {"id": model, "revision": revision, "trust_remote_code": trust_remote_code}
    try:
        config = ChainConfig.model_validate(
            {"phases": [task], "model": spec, "data": data or run_data,
             "hyperparameters": dict(hyperparameters or {}), "precision": precision}
        )  # fmt: skip
    except ValidationError as error:
        raise StiltsError(describe(error, ChainConfig)) from None
    return plan(config)


def resolve_model(model_or_run: str) -> tuple[str, str | list[str] | None]:
    """The model a name stands for (a run's last trained phase, a phase's model, or itself),
    and the data it was trained with when that is known (a run's ``data``; the one mirror, or
    the sample, a phase read all its tables from)."""
    path = Path(model_or_run).expanduser()
    if (path / RUN_MANIFEST).is_file():
        manifest = read_manifest(path / RUN_MANIFEST, ("phases",))
        if not manifest["phases"]:
            raise StiltsError(f"run {path} trained no phase; evaluate its starting model instead")
        start = RunStart.of(manifest)
        data = start.data or ("sample" if bundled.is_bundled(start.model) else None)
        return str(Path(manifest["phases"][-1]["dir"]) / "model"), data
    if (path / PHASE_MANIFEST).is_file():
        return str(path / "model"), _data_read(read_manifest(path / PHASE_MANIFEST, ()))
    return model_or_run, None


def _data_read(record: Mapping[str, Any]) -> str | None:
    """'hub', 'sample' or the mirror root every table of a phase record was read from; None
    when they came from several (translated copies beside a mirror) or are not recorded."""
    roots = {
        "hub" if table["location"].startswith("hub ") else
        table["location"].removesuffix("/" + table["repo"])
        for table in record.get("data", [])
    }  # fmt: skip
    if len(roots) != 1:
        return None
    (root,) = roots
    return "sample" if Path(root) == bundled.SAMPLE_DATA else root


def locator(config: ChainConfig) -> DataLocator:
    """Where `config` reads its data: the bundled sample, the hub, or a local mirror; or
    several of them, the first that holds a source's files serving it."""
    first, *more = (_root(choice) for choice in config.data_roots)
    return DataLocator(first, more)


def _root(choice: str) -> Path | None:
    """The directory a data root names (None: the hub), checked to be readable."""
    if choice == "sample":
        return bundled.SAMPLE_DATA
    if choice == "hub":
        return None
    root = Path(choice).expanduser()
    if not root.is_dir():
        raise StiltsError(f"--data {choice!r} is neither 'sample', 'hub' nor an existing directory")
    if not os.access(root, os.R_OK | os.X_OK):
        raise StiltsError(f"--data {choice!r} cannot be read (permission denied); check its mode")
    return root.resolve()


def _task(name: str, config: ChainConfig) -> AnyTask:
    """Task `name`: built from its declaration when the chain declares it, else installed.

    A declared name must not shadow an installed task: which of the two a chain (and its
    stored phases) meant would then depend on what happens to be installed.
    """
    installed = registry.entries()
    declaration = _declaration(name, config)
    if declaration is None:
        if name not in installed and config.declared_tasks:
            raise StiltsError(
                f"unknown task {name!r}{did_you_mean(name, [*installed, *config.declared_tasks])}"
                f"; declared tasks: {', '.join(config.declared_tasks)}; `stilts tasks` lists "
                "the installed ones"
            )
        return registry.load(name)
    if name in installed:
        raise StiltsError(
            f"declared task {name!r} has the name of the installed task from "
            f"{installed[name].provider}; rename the declaration"
        )
    return declaration.build(name)


def _declaration(name: str, config: ChainConfig) -> TaskDeclaration | None:
    """The chain's declaration of task `name` (None: it declares none), read from the hub at
    a commit: a branch it names is pinned to the commit it names now. Read from a local copy
    it is not: the copy's files' hashes identify it (`DataLocator.identity`)."""
    declaration = config.declared_tasks.get(name)
    if declaration is None or "hub" not in config.data_roots:
        return declaration
    fix = f"give declared task {name!r} a commit as its revision, or read a mirror (--data DIR)"
    commit = hub_commit(declaration.repo, declaration.revision, "dataset", fix)
    return declaration.model_copy(update={"revision": commit})


def _check_chain(config: ChainConfig, tasks: list[list[AnyTask]]) -> None:
    for phase, phase_tasks in zip(config.phases, tasks, strict=True):
        for task in phase_tasks:
            if isinstance(task, Task):
                continue
            if phase is not config.phases[-1]:
                raise StiltsError(
                    f"{task.name} has no training data, so it can only end a chain, where it "
                    f"evaluates the encoder: e.g. `stilts chain mnli {task.name}`"
                )
            if phase.adapter is not None or phase.translate or phase.groups:
                raise StiltsError(
                    f"{task.name} has no training data, so it trains no adapter and reads no "
                    "translations or groups of rows: it scores the encoder as it is"
                )


def _check_sample_covers(data: DataLocator, tasks: list[AnyTask]) -> None:
    """Where the sample is the only data (beside it, another root may hold what it lacks)."""
    if data.roots != (bundled.SAMPLE_DATA,):
        return
    uncovered = [task.name for task in tasks if not bundled.covers(task)]
    if uncovered:
        raise StiltsError(
            f"the bundled sample data has no {', '.join(uncovered)} (it covers "
            f"{', '.join(bundled.SAMPLE_TASKS)} only); run on real data with --data hub "
            "(or --data DIR, a local mirror) and --model, e.g. FacebookAI/xlm-roberta-large "
            "(in a recipe: `data:` and `model: {id: …}`)"
        )


def _member(
    phase: PhaseConfig,
    task: AnyTask,
    files: Path | None,
    preset: dict[str, Any],
    shared: dict[str, Any],
) -> PhaseTask:
    """One task of `phase`: its resolved hyperparameters and training rows, checked."""
    given = phase.hyperparameters.given()
    try:
        hp = checked(task.defaults.updated(preset).updated(shared).updated(given))
    except ValidationError as error:  # a plugin's own defaults: what the user gave is checked
        raise StiltsError(
            f"task {task.name}'s default hyperparameters: {describe(error, HyperparameterSettings)}"
        ) from None
    if isinstance(task, EncoderTask):  # it reads no training rows
        return PhaseTask(task, hp)
    training = TrainingData(
        tuple(phase.translate.get(task.name, ())), files, tuple(phase.groups.get(task.name, ()))
    )
    training.check(task)
    return PhaseTask(task, hp, training)


def _preset(task: AnyTask, config: ChainConfig) -> dict[str, Any]:
    """The tiny model's settings that come between `task`'s defaults and the user's: none
    on any other model; on the bundled one, those the task leaves at the study's values
    (`bundled.preset`; a declared task's ``hyperparameters:`` are its own, as given)."""
    if not config.bundled:
        return {}
    declaration = config.declared_tasks.get(task.name)
    own = declaration.hyperparameters.given() if declaration is not None else {}
    return bundled.preset(task.defaults, own)


def _phase_spec(
    members: tuple[PhaseTask, ...], phase: PhaseConfig, data: DataLocator, config: ChainConfig
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
        training = member.training.identity(task, data) if isinstance(task, Task) else None
        if training is not None:  # only then: plain phases keep their fingerprints
            spec["training_data"] = training
        declaration = _declaration(task.name, config)
        if declaration is not None:  # only then: installed tasks keep their fingerprints
            spec["declaration"] = declaration.identity()
        specs.append(spec)
    if len(specs) == 1:
        return specs[0]
    return {"tasks": specs, "sampler": (phase.sampler or DEFAULT_SAMPLER).short()}


def _check_grouping(phase: PhaseConfig, selection: Selection) -> None:
    """Refuse length-grouped batches where the phase selects its weights: Trainer's
    length-grouped sampler reorders its evaluation rows too, and selection scores them in
    the order of the dev rows."""
    if selection.best:
        raise StiltsError(
            f"group_by_length and select {selection.short()} cannot go together in phase "
            f"{phase.name}: Trainer's length-grouped sampler also shuffles the dev rows that "
            "selection scores in order; add --select last (in a recipe: select: last)"
        )


def _selection_identity(selection: Selection, aggregate: DevAggregate | None) -> dict[str, Any]:
    """What decides the weights a phase keeps: the selection and, where a multi-task phase
    selects its best, the aggregate it selects by."""
    identity = selection.fingerprint()
    if selection.best and aggregate is not None:
        identity["by"] = aggregate.short()
    return identity


def _start_identity(config: ChainConfig) -> dict[str, Any]:
    """What the first phase starts from: the bundled model's build key, a local directory's
    content (two checkpoints with one config must not share phases) or a hub model's commit."""
    model = config.model
    if config.bundled:
        return {"model": model.id, "key": bundled.key()}
    local = Path(model.id).expanduser()
    if local.is_dir() and not (local / "config.json").is_file():
        raise StiltsError(
            f"--model {model.id!r} is a directory without config.json; pass a directory "
            "written by save_pretrained or `hf download`"
        )
    if local.is_dir() and not model.trust_remote_code:
        _check_no_custom_code(local / "config.json")
    return model_identity(model.id, model.revision)


def _check_no_custom_code(config: Path) -> None:
    """Refuse a model whose config names its own code (``auto_map``) unless the user trusts
    it: transformers would refuse it deep in loading, or, trusted, run it."""
    try:
        auto_map = read_json(config).get("auto_map")
    except (ValueError, AttributeError):
        raise StiltsError(f"{config} is not a JSON config; pass a model directory") from None
    if auto_map:
        raise StiltsError(
            f"{config} names custom code ({', '.join(sorted(auto_map))} in auto_map), which "
            "stilts runs only when told: pass --trust-remote-code (in a recipe: "
            "model.trust_remote_code: true) if you trust its author"
        )


def _check_evaluation(config: ChainConfig, target: AnyTask) -> None:
    if config.evaluation.split != "test" and isinstance(target, EncoderTask):
        raise StiltsError(f"{target.name} scores the encoder on its test data only, not dev")
    for code in config.evaluation.languages or ():
        if code not in target.languages:
            raise StiltsError(
                f"evaluation language {code!r} is not one of {target.name}'s"
                f"{did_you_mean(code, target.languages)}: {', '.join(target.languages)}"
            )


def _run_fingerprint(config: ChainConfig, target: PlannedPhase) -> str:
    """A finished run is reused whole; the stilts version re-scores it after an upgrade (its
    phases are still reused), and a non-default dev aggregate is recomputed into it."""
    spec: dict[str, Any] = {
        "last_phase": target.fingerprint, "evaluate": config.evaluation.split, "stilts": __version__
    }  # fmt: skip
    if config.evaluation.languages:
        spec["languages"] = list(config.evaluation.languages)
    if any(phase.dev_aggregate is not None for phase in config.phases):  # a phase's own
        spec["dev_aggregates"] = {
            p.name: (p.dev_aggregate or config.dev_aggregate).short()
            for p in config.phases
            if p.multitask
        }
    elif config.dev_aggregate != DevAggregate():  # as stilts 0.1 wrote it
        spec["dev_aggregate"] = config.dev_aggregate.short()
    return fingerprint(spec)
