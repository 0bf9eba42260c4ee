"""What a user asks for, as data: a chain of phases, each phase one object with its settings.

A `PhaseConfig` is a recipe's phase entry, a grid's row or column and a command line's phase
alike: its tasks, and what it alone sets (label, sampler, adapter, dev aggregate, translations,
groups of rows, hyperparameters). A `ChainConfig` is phases in training order plus the `Settings`
every chain of an experiment shares (model, data, hyperparameters, evaluation…). Both are
strict pydantic models: what can be checked without looking anything up (names, shapes,
numbers) is checked here, with one-line errors that name a recipe path; what needs the
installed tasks (task names, languages, groups) is checked by planning
(`stilts.experiment.plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from stilts.experiment import bundled
from stilts.experiment.precision import Precision
from stilts.experiment.specs import STUDY_SELECTION, Adapter, DevAggregate, Sampler, Selection
from stilts.schema import Strict, takes_short_form
from stilts.tasks.declarative import NAME, TaskDeclaration
from stilts.tasks.hyperparameters import HyperparameterSettings, Seed

PHASE_JOIN = "+"
"""Joins the tasks of one multi-task phase: `stilts chain mnli+squad xnli`."""


def phase_mapping(short: str) -> dict[str, Any]:
    """The mapping a phase's short form (``mnli``, ``mnli+squad``) stands for: what validation
    reads it as, and what `--set phases.N.…` amends."""
    return {"tasks": [name.strip() for name in short.split(PHASE_JOIN)]}


class PhaseConfig(Strict):
    """One phase: its tasks (several share one encoder, multi-task) and its own settings.

    In a recipe, ``- mnli+squad`` is short for ``- tasks: [mnli, squad]``.
    """

    model_config = ConfigDict(json_schema_extra=takes_short_form)
    EXAMPLES: ClassVar[tuple[str, ...]] = ("mnli", "mnli+squad")

    tasks: list[str] = Field(min_length=1)
    """The installed or declared tasks the phase trains, sharing one encoder."""
    label: str | None = Field(default=None, min_length=1)
    """A grid row's or column's name, to tell variants of one task apart (default: its name)."""
    sampler: Sampler | None = None
    """A multi-task phase's task sampler (None: proportional)."""
    adapter: Adapter | None = None
    """A PEFT adapter the phase trains instead of the whole encoder."""
    dev_aggregate: DevAggregate | None = None
    """A multi-task phase's one dev figure from its tasks' (None: the chain's, `Settings`)."""
    select: Selection | None = None
    """Which weights the phase keeps (None: the chain's, `Settings`)."""
    translate: dict[str, list[str]] = Field(default_factory=dict)
    """Task -> the languages of the translated data it trains on (its own: original rows)."""
    groups: dict[str, list[str]] = Field(default_factory=dict)
    """Task -> the named groups of its training rows it trains on (`Task.groups`)."""
    hyperparameters: HyperparameterSettings = HyperparameterSettings()
    """This phase's hyperparameters, over the chain's and each task's defaults."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            return phase_mapping(value)
        if not isinstance(value, Mapping):
            raise ValueError(
                f"a phase is a task name (mnli, or mnli+squad for one multi-task phase) or a "
                f"mapping with tasks: [...], not {value!r}"
            )
        return value

    @field_validator("tasks")
    @classmethod
    def _names(cls, tasks: list[str]) -> list[str]:
        if not all(tasks) or any(PHASE_JOIN in name for name in tasks):
            raise ValueError(
                f"join the tasks of a multi-task phase with {PHASE_JOIN!r} and no empty names, "
                "e.g. mnli+squad+hellaswag"
            )
        repeated = sorted({name for name in tasks if tasks.count(name) > 1})
        if repeated:
            raise ValueError(f"the phase names {', '.join(repeated)} more than once")
        return tasks

    @model_validator(mode="after")
    def _settings_fit_the_tasks(self) -> Self:
        for key, keyed in (("translate", self.translate), ("groups", self.groups)):
            for task in keyed:
                if task not in self.tasks:
                    raise ValueError(
                        f"{key} names {task}, which the phase {self.name} does not train"
                    )
        for key, spec in (("sampler", self.sampler), ("dev_aggregate", self.dev_aggregate)):
            if spec is None:
                continue
            if len(self.tasks) == 1:
                raise ValueError(
                    f"{key} is for a multi-task phase, and {self.name} is one task; join tasks "
                    f"with {PHASE_JOIN!r}, e.g. mnli+squad"
                )
            spec.check(self.tasks)
        return self

    @property
    def name(self) -> str:
        return PHASE_JOIN.join(self.tasks)

    @property
    def title(self) -> str:
        """How a table names the phase: its label, else its name."""
        return self.label or self.name

    @property
    def multitask(self) -> bool:
        return len(self.tasks) > 1


class ModelSpec(Strict):
    """The pretrained encoder every chain starts from."""

    id: str = Field(min_length=1)
    """A hub id, a local directory written by save_pretrained, or the bundled tiny model."""
    revision: str | None = None
    """A hub model's commit, best 40 hex digits (a branch or tag is pinned to the commit it
    names when the chain is planned); None: main."""
    trust_remote_code: bool = False
    """Run the model repo's own code (transformers' `trust_remote_code`)."""


class EvaluationSpec(Strict):
    """What the last phase of each chain is scored on, zero-shot."""

    languages: list[str] | None = Field(default=None, min_length=1)
    """A subset of the target's languages; None: all of them (its official list)."""
    split: Literal["test", "dev"] = "test"
    """The target's split scored in each language: test (the zero-shot result) or dev."""


class Settings(Strict):
    """What every chain of an experiment shares."""

    model_config = ConfigDict(validate_by_name=True)  # `declared_tasks`, or `tasks` in a file

    model: ModelSpec = ModelSpec(id=bundled.MODEL)
    """The encoder (default: the bundled tiny model, which runs offline)."""
    data: str | list[str] | None = None
    """'sample', 'hub', or a local mirror directory; None: sample for the bundled model, else
    hub. Several (``[DIR, sample]``): each source is read from the first that holds its files
    (`stilts.tasks.data.DataLocator`), so a plugin's own data and the bundled sample serve one
    chain; 'hub' holds every source, so it can only come last. One in a list is that one."""
    hyperparameters: HyperparameterSettings = HyperparameterSettings()
    """Hyperparameters of every phase (over each task's defaults; a phase's own win)."""
    evaluation: EvaluationSpec = EvaluationSpec()
    """The languages and split each chain's last phase is scored on."""
    dev_aggregate: DevAggregate = DevAggregate()
    """How a multi-task phase's per-task dev scores make one, for every multi-task phase that
    does not say (in its fingerprint only where it selects the weights the phase keeps)."""
    select: Selection | None = None
    """Which weights every phase keeps that does not say: None is the study's selection
    (`STUDY_SELECTION`), or a smaller one fitted to the bundled sample (`bundled.SELECTION`)."""
    precision: Precision = "auto"
    """The number format phases train and evaluate in: auto (bf16 where the GPU supports it,
    fp16 on older GPUs, fp32 on CPU), fp32, bf16 or fp16; fingerprinted as it resolves on the
    machine (`stilts.experiment.precision`)."""
    group_by_length: bool = False
    """Train single-task phases on batches of similar lengths (Trainer's length-grouped
    sampler): less padding, other batches, so fingerprinted."""
    report_to: list[str] = Field(default_factory=lambda: ["none"])
    """Experiment trackers every phase logs to, as Trainer's ``report_to`` takes them
    (tensorboard, wandb, trackio, mlflow…; none); how a phase is watched, not fingerprinted."""
    translated_data: str | None = None
    """A user's translated copies: DIR/<language>/<org>/<dataset>/…; None: the task's own."""
    declared_tasks: dict[str, TaskDeclaration] = Field(default_factory=dict, alias="tasks")
    """Tasks declared as data (a standard-format dataset; no plugin), usable by name."""

    @field_validator("report_to")
    @classmethod
    def _trackers(cls, names: list[str]) -> list[str]:
        names = [name.strip().lower() for name in names]
        if not names or not all(names):
            raise ValueError("name the trackers (tensorboard, wandb…) or none")
        if "none" in names and len(names) > 1:
            raise ValueError("none means no tracker, so it goes alone")
        return names

    @property
    def tracked(self) -> bool:
        """Whether any tracker is on."""
        return self.report_to != ["none"]

    @field_validator("data")
    @classmethod
    def _data_roots(cls, data: str | list[str] | None) -> str | list[str] | None:
        if not isinstance(data, list):
            return data
        if not data:
            raise ValueError("lists no data root: give 'sample', 'hub' or a directory")
        if len(data) == 1:  # as written alone: one recipe, one spelling
            return data[0]
        if "hub" in data[:-1]:
            raise ValueError(
                "'hub' holds every source, so no root after it is ever read: put it last"
            )
        repeated = sorted({root for root in data if data.count(root) > 1})
        if repeated:
            raise ValueError(f"names {', '.join(repeated)} more than once")
        return data

    @field_validator("declared_tasks")
    @classmethod
    def _declared_names(cls, declared: dict[str, TaskDeclaration]) -> dict[str, TaskDeclaration]:
        for name in declared:
            if not NAME.fullmatch(name):  # it names store directories; `+` joins tasks
                raise ValueError(
                    f"declared task {name!r}: name it with letters, digits, '_', '.' and '-' only"
                )
        return declared

    def settings(self) -> dict[str, Any]:
        """These settings as given (for another model sharing them)."""
        return {name: getattr(self, name) for name in Settings.model_fields}


class ChainConfig(Settings):
    """One chain: phases in training order (the last one is evaluated zero-shot) and a seed."""

    phases: list[PhaseConfig] = Field(min_length=1)
    seed: Seed = 42

    @model_validator(mode="after")
    def _a_single_target(self) -> Self:
        last = self.phases[-1]
        if last.multitask:
            raise ValueError(
                f"the last phase is evaluated zero-shot, so it is one task, not {last.name}: "
                f"e.g. `stilts chain {last.name} xnli`"
            )
        multitask = [phase for phase in self.phases if phase.multitask]
        if self.dev_aggregate.weights is not None and not multitask:
            raise ValueError(
                "dev_aggregate weighs the tasks of a multi-task phase, and this chain has none; "
                f"join tasks with {PHASE_JOIN!r}, e.g. mnli+squad"
            )
        for phase in multitask:
            if phase.dev_aggregate is None:
                self.dev_aggregate.check(phase.tasks)
        return self

    def aggregate(self, phase: PhaseConfig) -> DevAggregate | None:
        """The dev aggregate of `phase`: its own, else the chain's; None for one task."""
        if not phase.multitask:
            return None
        return phase.dev_aggregate or self.dev_aggregate

    def selection(self, phase: PhaseConfig) -> Selection:
        """Which weights `phase` keeps: its own choice, else the chain's, else the default."""
        default = bundled.SELECTION if self.bundled else STUDY_SELECTION
        return phase.select or self.select or default

    @property
    def names(self) -> tuple[str, ...]:
        """Each phase's name, in order: how runs are named in the store."""
        return tuple(phase.name for phase in self.phases)

    @property
    def bundled(self) -> bool:
        return bundled.is_bundled(self.model.id)

    @property
    def data_roots(self) -> tuple[str, ...]:
        """Where the chain reads data, in order: 'sample' (the default for the bundled model),
        'hub' (for any other) or mirror directories."""
        if isinstance(self.data, list):
            return tuple(self.data)
        return (self.data or ("sample" if self.bundled else "hub"),)
