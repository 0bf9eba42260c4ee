"""Recipes: a whole experiment in one YAML file that another lab can run as it is.

A recipe says what `stilts chain` options say, as data::

    stilts: 1                            # the recipe format's version
    model: {id: FacebookAI/xlm-roberta-large, revision: <commit>}
    data: hub                            # or sample, or a local mirror directory
    seed: 42                             # or seeds: [1, 2, 3]: the experiment once per seed
    hyperparameters: {learning_rate: 1.0e-5}   # every phase (each task's defaults otherwise)
    phases:
      - tasks: [mnli, mlm]               # one phase; several tasks share one encoder
        sampler: proportional            # multi-task phases only
        adapter: lora:handoff=stack
        translate: {mnli: [en, de]}      # a task's data variant: training languages
        groups: {anli_plus: [snli, anli_r1]}   # or: some named groups of its training rows
        hyperparameters: {epochs: 2}     # this phase only
      - xnli                             # a phase's short form; the last one is evaluated
    evaluation: {languages: [de, sw], split: test}   # default: every language, test
    requires: {stilts-udparse: ">=0.2"}  # plugin distributions the recipe needs

Instead of `phases`, a grid runs every intermediate × target chain, and each target alone::

    grid:
      intermediate: [mnli, squad, mnli+squad]
      target: [xnli, pawsx]
      baselines: true

It is read with `yaml.safe_load` (a recipe never runs code) and checked whole before anything
runs: an unknown key, a wrong type or a value out of range is one line naming its path
(``phases[0].adapterr``) and what is allowed. `to_config` makes the `ChainConfig` that
`stilts.experiment.chain.plan` checks further (task names, sampler and adapter specs) — `to_configs`
makes every chain of a grid or of several seeds; `from_config` is the way back, so
`stilts chain … --print-recipe` turns a command into a file.

Pydantic does the checking (`stilts.schema`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from stilts.errors import StiltsError
from stilts.experiment import bundled
from stilts.experiment.chain import PHASE_JOIN, ChainConfig
from stilts.experiment.grid import BASELINE, GridCell, GridPhase, grid_chains
from stilts.schema import Strict, describe
from stilts.tasks.declarative import TaskDeclaration

FORMAT = 1


class ModelSpec(Strict):
    id: str = Field(min_length=1)
    revision: str | None = None
    trust_remote_code: bool = False


class PhaseSpec(Strict):
    tasks: list[str] = Field(min_length=1)
    sampler: str | None = None
    adapter: str | None = None
    translate: dict[str, list[str]] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    """Task -> the named groups of its training rows the phase trains on."""
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(default=None, min_length=1)
    """A grid row's or column's name, to tell variants of one task apart (default: the
    phase's name)."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """`- mnli+squad` stands for `- tasks: [mnli, squad]`."""
        if isinstance(value, str):
            return {"tasks": value.split(PHASE_JOIN)}
        if not isinstance(value, dict):
            raise ValueError(
                f"a phase is a task name (mnli, or mnli+squad for one multi-task phase) or a "
                f"mapping with tasks: [...], not {value!r}"
            )
        return value

    @property
    def name(self) -> str:
        return PHASE_JOIN.join(self.tasks)

    def grid_phase(self) -> GridPhase:
        return GridPhase(
            self.name,
            self.label or "",
            self.adapter,
            {task: tuple(codes) for task, codes in self.translate.items()},
            dict(self.hyperparameters),
            self.sampler,
            {task: tuple(names) for task, names in self.groups.items()},
        )


class GridSpec(Strict):
    intermediate: list[PhaseSpec] = Field(default_factory=list)
    target: list[PhaseSpec] = Field(min_length=1)
    baselines: bool = True
    """Also run each target with no intermediate phase (the gains' reference)."""


class EvaluationSpec(Strict):
    languages: list[str] | None = Field(default=None, min_length=1)
    """A subset of the target's languages; None: all of them."""
    split: Literal["test", "dev"] = "test"


class Recipe(Strict):
    stilts: Literal[1]
    model: ModelSpec = ModelSpec(id=bundled.MODEL)
    data: str | None = None
    seed: int = 42
    seeds: list[int] | None = Field(default=None, min_length=1)
    """Run the experiment once per seed (instead of `seed`)."""
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    phases: list[PhaseSpec] | None = Field(default=None, min_length=1)
    grid: GridSpec | None = None
    evaluation: EvaluationSpec = EvaluationSpec()
    dev_aggregate: str = "mean"
    translated_data: str | None = None
    tasks: dict[str, TaskDeclaration] = Field(default_factory=dict)
    """Tasks declared as data (a standard-format dataset), usable by name in phases."""
    requires: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_experiment(self) -> Recipe:
        if (self.phases is None) == (self.grid is None):
            raise ValueError("give phases (one chain) or grid (intermediate × target), not both")
        if self.seeds is not None and "seed" in self.model_fields_set:
            raise ValueError("give seed (one) or seeds (a list), not both")
        return self

    def chains(self) -> tuple[GridCell, ...]:
        """Every chain the recipe runs (its chain, or its grid's, once per seed), each with
        the table row and column it fills."""
        seeds = self.seeds or [self.seed]
        if self.grid is None:
            base = self._base(self.phases)
            row = " → ".join(base.tasks[:-1]) or BASELINE
            return tuple(GridCell(replace(base, seed=s), row, base.tasks[-1]) for s in seeds)
        return grid_chains(
            self._base([]),
            [phase.grid_phase() for phase in self.grid.intermediate],
            [phase.grid_phase() for phase in self.grid.target],
            seeds,
            baselines=self.grid.baselines,
        )

    def to_configs(self) -> tuple[ChainConfig, ...]:
        return tuple(cell.config for cell in self.chains())

    def to_config(self) -> ChainConfig:
        """The one chain of a recipe with `phases` and one seed."""
        configs = self.to_configs()
        if len(configs) != 1:
            raise StiltsError(f"the recipe runs {len(configs)} chains, not one")
        return configs[0]

    def _base(self, phases: Sequence[PhaseSpec]) -> ChainConfig:
        """The settings every chain of the recipe shares, and `phases`' own keyed by phase
        (a grid's phases carry theirs into each chain: `stilts.experiment.grid.chain_for`)."""
        samplers = {phase.sampler for phase in phases if phase.sampler is not None}
        if len(samplers) > 1:
            raise StiltsError(
                "recipe phases name different samplers; stilts runs one sampler per chain for "
                "now: give the same sampler to every multi-task phase"
            )
        translations, groups = {}, {}
        for phase in phases:
            translations.update({task: tuple(codes) for task, codes in phase.translate.items()})
            groups.update({task: tuple(names) for task, names in phase.groups.items()})
        return ChainConfig(
            tasks=tuple(phase.name for phase in phases),
            model=self.model.id,
            revision=self.model.revision,
            data=self.data,
            seed=self.seed,
            overrides=dict(self.hyperparameters),
            phase_overrides={
                phase.name: dict(phase.hyperparameters) for phase in phases if phase.hyperparameters
            },
            trust_remote_code=self.model.trust_remote_code,
            translations=translations,
            translated_data=self.translated_data,
            groups=groups,
            sampler=samplers.pop() if samplers else None,
            dev_aggregate=self.dev_aggregate,
            adapters={phase.name: phase.adapter for phase in phases if phase.adapter is not None},
            languages=tuple(self.evaluation.languages or ()),
            split=self.evaluation.split,
            declared_tasks={
                name: task.model_dump(mode="json", exclude_defaults=True)
                for name, task in self.tasks.items()
            },
        )

    @classmethod
    def from_config(
        cls,
        config: ChainConfig,
        *,
        seeds: Sequence[int] = (),
        grid: tuple[Sequence[str], Sequence[str], bool] | None = None,
    ) -> Recipe:
        """The recipe of a command line (its every option written out): the chain `config`,
        or with `grid` = (intermediates, targets, baselines) the grid sharing its settings."""
        from stilts.runtime.adapters import EVERY_INTERMEDIATE

        def phase(name: str, *, intermediate: bool) -> dict[str, Any]:
            tasks = name.split(PHASE_JOIN)
            default = config.adapters.get(EVERY_INTERMEDIATE) if intermediate else None
            adapter = config.adapters.get(name, default)
            entry: dict[str, Any] = {"tasks": tasks}
            if config.sampler is not None and len(tasks) > 1:
                entry["sampler"] = config.sampler
            if adapter is not None:
                entry["adapter"] = adapter
            translate = {t: list(config.translations[t]) for t in tasks if t in config.translations}
            if translate:
                entry["translate"] = translate
            groups = {t: list(config.groups[t]) for t in tasks if t in config.groups}
            if groups:
                entry["groups"] = groups
            if config.phase_overrides.get(name):
                entry["hyperparameters"] = dict(config.phase_overrides[name])
            return entry

        body: dict[str, Any] = {}
        if grid is None:
            last = len(config.tasks) - 1
            body["phases"] = [
                phase(name, intermediate=index < last) for index, name in enumerate(config.tasks)
            ]
        else:
            intermediates, targets, baselines = grid
            body["grid"] = {
                "intermediate": [phase(name, intermediate=True) for name in intermediates],
                "target": [phase(name, intermediate=False) for name in targets],
                "baselines": baselines,
            }
        if len(seeds) > 1:
            body["seeds"] = list(seeds)
        else:
            body["seed"] = seeds[0] if seeds else config.seed
        model = {"id": config.model, "revision": config.revision}
        if config.trust_remote_code:
            model["trust_remote_code"] = True
        evaluation = {"languages": list(config.languages) or None, "split": config.split}
        return cls(
            stilts=FORMAT,
            model=model,
            data=config.data,
            hyperparameters={k: v for k, v in config.overrides.items() if v is not None},
            evaluation=evaluation,
            dev_aggregate=config.dev_aggregate,
            translated_data=config.translated_data,
            tasks=dict(config.declared_tasks),
            **body,
        )

    def to_yaml(self) -> str:
        """The recipe as YAML, defaults left out and phases that only name tasks in short."""
        data = self.model_dump(exclude_defaults=True, mode="json")
        for entries in (data.get("phases"), *data.get("grid", {}).values()):
            if isinstance(entries, list):
                entries[:] = [_short(entry) for entry in entries]
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


def _short(phase: dict[str, Any]) -> dict[str, Any] | str:
    return PHASE_JOIN.join(phase["tasks"]) if set(phase) == {"tasks"} else phase


def load_recipe(path: Path, settings: list[str] = ()) -> Recipe:
    """Read, amend (`--set path=value`) and check the recipe at `path`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StiltsError(f"cannot read recipe {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(error, "problem", None) or "not YAML"
        raise StiltsError(f"recipe {path}{line}: {problem}") from None
    if not isinstance(data, dict):
        raise StiltsError(f"recipe {path}: expected a mapping of keys, e.g. `stilts: 1`")
    for setting in settings:
        _apply_setting(data, setting)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as error:
        raise StiltsError(f"recipe {path}: {describe(error, Recipe)}") from None
    try:
        check_requirements(recipe.requires)
    except StiltsError as error:
        raise StiltsError(f"recipe {path}: {error}") from None
    return recipe


def check_requirements(requires: Mapping[str, str]) -> None:
    """Refuse to run without the plugin distributions (and versions) a recipe names."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for name, spec in requires.items():
        try:
            specifier = SpecifierSet(spec)
        except InvalidSpecifier:
            raise StiltsError(
                f"requires {name}: {spec!r} is not a version specifier, e.g. '>=1.0'"
            ) from None
        needed = f"{name}{specifier}"
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise StiltsError(
                f"plugin {name} is not installed (recipe needs {needed}); pip install '{needed}'"
            ) from None
        if not specifier.contains(installed, prereleases=True):
            raise StiltsError(
                f"plugin {name} {installed} is installed, but the recipe needs {needed}; "
                f"pip install '{needed}'"
            )


def _apply_setting(data: dict[str, Any], setting: str) -> None:
    """`--set seed=3` or `--set phases.0.adapter=lora`: the value is read as YAML."""
    path, equals, text = setting.partition("=")
    keys = path.strip().split(".")
    if not equals or not all(keys):
        raise StiltsError(f"--set {setting!r}: write PATH=VALUE, e.g. seed=3 or phases.0.epochs=2")
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        try:
            if isinstance(node, list):
                if isinstance(node[int(key)], str):  # a phase's short form, as a mapping
                    node[int(key)] = PhaseSpec._short_form(node[int(key)])
                node = node[int(key)]
            else:
                node = node.setdefault(key, {})
        except (ValueError, IndexError, AttributeError):
            raise StiltsError(
                f"--set {setting!r}: {'.'.join(keys[: depth + 1])} is not in the recipe"
            ) from None
    value = yaml.safe_load(text)
    if isinstance(node, list):
        try:
            node[int(keys[-1])] = value
        except (ValueError, IndexError):
            raise StiltsError(f"--set {setting!r}: {path} is not in the recipe") from None
    elif isinstance(node, dict):
        node[keys[-1]] = value
    else:
        raise StiltsError(f"--set {setting!r}: {'.'.join(keys[:-1])} holds no keys")
