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
        adapter: lora:handoff=stack      # or {kind: lora, handoff: stack}
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

Each entry of `phases` and of a grid is a `PhaseConfig`, the same object from the file to the
planned phase. A recipe is read with `yaml.safe_load` (it never runs code) and checked whole
before anything runs: an unknown key, a wrong type or a value out of range is one line naming
its path (``phases[0].adapterr``) and what is allowed. `chains` gives every chain of the
recipe; `stilts chain … --print-recipe` writes a command line as a recipe (`to_yaml`).

The same model gives the recipe's JSON Schema (`json_schema`, `stilts recipe-schema`): each
shipped recipe names the copy committed as schema/recipe.schema.json in its first line,
``# yaml-language-server: $schema=…``, so an editor checks and completes a recipe as it is
typed. It checks shapes only; what needs the installed tasks is still checked by planning.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import Field, ValidationError, model_validator
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from stilts.errors import StiltsError
from stilts.experiment.config import PHASE_JOIN, ChainConfig, PhaseConfig, Settings, phase_mapping
from stilts.experiment.grid import BASELINE, GridCell, grid_chains
from stilts.experiment.launcher import Launcher
from stilts.schema import Strict, describe
from stilts.tasks.hyperparameters import Seed

FORMAT = 1

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema version pydantic writes (its `$defs`), said in the schema for editors."""


class GridSpec(Strict):
    """Every intermediate × target chain, each a cell of the study's table."""

    intermediate: list[PhaseConfig] = Field(default_factory=list)
    """The table's rows: the phases trained before each target."""
    target: list[PhaseConfig] = Field(min_length=1)
    """The table's columns: the phases trained last and evaluated zero-shot (one task each)."""
    baselines: bool = True
    """Also run each target with no intermediate phase (the gains' reference)."""


class Recipe(Settings):
    """A whole experiment: one chain (`phases`) or a grid, the settings its chains share."""

    stilts: Literal[1]
    """The recipe format's version."""
    seed: Seed = 42
    """The random seed of every chain."""
    seeds: list[Seed] | None = Field(default=None, min_length=1)
    """Run the experiment once per seed (instead of `seed`)."""
    phases: list[PhaseConfig] | None = Field(default=None, min_length=1)
    """One chain, in training order; the last phase is evaluated zero-shot (or `grid`)."""
    grid: GridSpec | None = None
    """A grid of chains instead of `phases`."""
    requires: dict[str, str] = Field(default_factory=dict)
    """Plugin distributions the recipe needs -> a version specifier (``">=0.2"``)."""
    launcher: Launcher | None = None
    """Where the jobs run (`stilts.experiment.launcher`); None: one after another, here."""

    @model_validator(mode="after")
    def _one_experiment(self) -> Self:
        if (self.phases is None) == (self.grid is None):
            raise ValueError("give phases (one chain) or grid (intermediate × target), not both")
        if self.seeds is not None and "seed" in self.model_fields_set:
            raise ValueError("give seed (one) or seeds (a list), not both")
        try:  # what only a whole chain can check (its last phase, its dev aggregate)
            self.chains()
        except ValidationError as error:
            raise ValueError(describe(error, ChainConfig)) from None
        return self

    @classmethod
    def of_chain(cls, config: ChainConfig) -> Recipe:
        """The recipe that runs exactly the chain `config` (a run's manifest holds it)."""
        return cls(stilts=FORMAT, **config.settings(), phases=config.phases, seed=config.seed)

    def chains(self) -> tuple[GridCell, ...]:
        """Every chain the recipe runs (its chain, or its grid's, once per seed), each with
        the table row and column it fills."""
        seeds = self.seeds or [self.seed]
        if self.grid is None:
            assert self.phases is not None
            row = " → ".join(phase.name for phase in self.phases[:-1]) or BASELINE
            return tuple(
                GridCell(
                    ChainConfig(**self.settings(), phases=self.phases, seed=seed),
                    row,
                    self.phases[-1].name,
                )
                for seed in seeds
            )
        return grid_chains(
            self.settings(),
            self.grid.intermediate,
            self.grid.target,
            seeds,
            baselines=self.grid.baselines,
        )

    def to_config(self) -> ChainConfig:
        """The one chain of a recipe with `phases` and one seed."""
        cells = self.chains()
        if len(cells) != 1:
            raise StiltsError(f"the recipe runs {len(cells)} chains, not one")
        return cells[0].config

    def dump(self) -> dict[str, Any]:
        """The recipe as data: what differs from the defaults, phases that only name tasks in
        short (a YAML file's content)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        phase_lists = [data.get("phases"), *data.get("grid", {}).values()]
        for entries in phase_lists:
            if isinstance(entries, list):
                entries[:] = [_short(entry) for entry in entries]
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.dump(), sort_keys=False, allow_unicode=True,
                              default_flow_style=None)  # fmt: skip


def json_schema() -> dict[str, Any]:
    """The recipe's JSON Schema: every key with its type, default and docstring, the short
    forms included (`stilts.schema.takes_short_form`)."""
    return {"$schema": SCHEMA_DIALECT, **Recipe.model_json_schema(schema_generator=_Schema)}


class _Schema(GenerateJsonSchema):
    """pydantic's JSON Schema writer, stating a default that a factory makes (``{}``, ``[]``)
    too: pydantic leaves it out, and a key without a default reads as one without a value."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)


def _short(phase: dict[str, Any]) -> dict[str, Any] | str:
    return PHASE_JOIN.join(phase["tasks"]) if set(phase) == {"tasks"} else phase


def load_recipe(path: Path, settings: Sequence[str] = ()) -> Recipe:
    """Read, amend (`--set path=value`) and check the recipe at `path`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StiltsError(f"cannot read recipe {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise StiltsError(
            f"recipe {path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
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
                    node[int(key)] = phase_mapping(node[int(key)])
                node = node[int(key)]
            else:
                node = node.setdefault(key, {})
        except (ValueError, IndexError, AttributeError):
            raise StiltsError(
                f"--set {setting!r}: {'.'.join(keys[: depth + 1])} is not in the recipe"
            ) from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not YAML"
        raise StiltsError(
            f"--set {setting!r}: the value is not YAML ({problem}); quote text, e.g. "
            f"{path}='\"…\"', or write a list as [a, b]"
        ) from None
    if isinstance(node, list):
        try:
            node[int(keys[-1])] = value
        except (ValueError, IndexError):
            raise StiltsError(f"--set {setting!r}: {path} is not in the recipe") from None
    elif isinstance(node, dict):
        node[keys[-1]] = value
    else:
        raise StiltsError(f"--set {setting!r}: {'.'.join(keys[:-1])} holds no keys")
