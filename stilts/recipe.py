"""Recipes: a whole experiment in one YAML file that another lab can run as it is.

A recipe says what `stilts chain` options say, as data::

    stilts: 1                            # the recipe format's version
    model: {id: FacebookAI/xlm-roberta-large, revision: <commit>}
    data: hub                            # or sample, or a local mirror directory
    seed: 42
    hyperparameters: {learning_rate: 1.0e-5}   # every phase (each task's defaults otherwise)
    phases:
      - tasks: [mnli, mlm]               # one phase; several tasks share one encoder
        sampler: proportional            # multi-task phases only
        adapter: lora:handoff=stack
        translate: {mnli: [en, de]}      # a task's data variant: training languages
        hyperparameters: {epochs: 2}     # this phase only
      - tasks: [xnli]                    # the last phase: evaluated zero-shot
    requires: {stilts-udparse: ">=0.2"}  # plugin distributions the recipe needs

It is read with `yaml.safe_load` (a recipe never runs code) and checked whole before anything
runs: an unknown key, a wrong type or a value out of range is one line naming its path
(``phases[0].adapterr``) and what is allowed. `to_config` makes the `ChainConfig` that
`stilts.chain.plan` checks further (task names, sampler and adapter specs); `from_config`
is the way back, so `stilts chain … --print-recipe` turns a command into a file.

Pydantic does the checking: its errors carry the path and the expected values, and
``extra="forbid"`` refuses unknown keys instead of dropping them.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stilts import bundled
from stilts.chain import PHASE_JOIN, ChainConfig
from stilts.errors import StiltsError, did_you_mean

FORMAT = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    id: str = Field(min_length=1)
    revision: str | None = None
    trust_remote_code: bool = False


class PhaseSpec(_Strict):
    tasks: list[str] = Field(min_length=1)
    sampler: str | None = None
    adapter: str | None = None
    translate: dict[str, list[str]] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class Recipe(_Strict):
    stilts: Literal[1]
    model: ModelSpec = ModelSpec(id=bundled.MODEL)
    data: str | None = None
    seed: int = 42
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    phases: list[PhaseSpec] = Field(min_length=1)
    dev_aggregate: str = "mean"
    translated_data: str | None = None
    requires: dict[str, str] = Field(default_factory=dict)

    def to_config(self) -> ChainConfig:
        """The chain this recipe describes (checked further by `stilts.chain.plan`)."""
        names = [PHASE_JOIN.join(phase.tasks) for phase in self.phases]
        samplers = {phase.sampler for phase in self.phases if phase.sampler is not None}
        if len(samplers) > 1:
            raise StiltsError(
                "recipe phases name different samplers; stilts runs one sampler per chain for "
                "now: give the same sampler to every multi-task phase"
            )
        translations = {}
        for phase in self.phases:
            translations.update({task: tuple(codes) for task, codes in phase.translate.items()})
        return ChainConfig(
            tasks=tuple(names),
            model=self.model.id,
            revision=self.model.revision,
            data=self.data,
            seed=self.seed,
            overrides=dict(self.hyperparameters),
            phase_overrides={
                name: dict(phase.hyperparameters)
                for name, phase in zip(names, self.phases, strict=True)
                if phase.hyperparameters
            },
            trust_remote_code=self.model.trust_remote_code,
            translations=translations,
            translated_data=self.translated_data,
            sampler=samplers.pop() if samplers else None,
            dev_aggregate=self.dev_aggregate,
            adapters={
                name: phase.adapter
                for name, phase in zip(names, self.phases, strict=True)
                if phase.adapter is not None
            },
        )

    @classmethod
    def from_config(cls, config: ChainConfig) -> Recipe:
        """The recipe of a chain given on the command line (its every option written out)."""
        from stilts.adapters import EVERY_INTERMEDIATE

        phases = []
        for index, name in enumerate(config.tasks):
            tasks = name.split(PHASE_JOIN)
            default = config.adapters.get(EVERY_INTERMEDIATE)
            adapter = config.adapters.get(name, default if index < len(config.tasks) - 1 else None)
            phase: dict[str, Any] = {"tasks": tasks}
            if config.sampler is not None and len(tasks) > 1:
                phase["sampler"] = config.sampler
            if adapter is not None:
                phase["adapter"] = adapter
            translate = {t: list(config.translations[t]) for t in tasks if t in config.translations}
            if translate:
                phase["translate"] = translate
            if config.phase_overrides.get(name):
                phase["hyperparameters"] = dict(config.phase_overrides[name])
            phases.append(phase)
        model = {"id": config.model, "revision": config.revision}
        if config.trust_remote_code:
            model["trust_remote_code"] = True
        return cls(
            stilts=FORMAT,
            model=model,
            data=config.data,
            seed=config.seed,
            hyperparameters={k: v for k, v in config.overrides.items() if v is not None},
            phases=phases,
            dev_aggregate=config.dev_aggregate,
            translated_data=config.translated_data,
        )

    def to_yaml(self) -> str:
        return yaml.safe_dump(
            self.model_dump(exclude_defaults=True, mode="json"),
            sort_keys=False,
            allow_unicode=True,
        )


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
        raise StiltsError(f"recipe {path}: {describe(error)}") from None
    try:
        check_requirements(recipe.requires)
    except StiltsError as error:
        raise StiltsError(f"recipe {path}: {error}") from None
    return recipe


def describe(error: ValidationError) -> str:
    """A validation error in one line: the first problem's path and what is allowed (an
    unknown key first: a misspelt key also makes the key it meant missing)."""
    first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    location = _path(first["loc"])
    if first["type"] == "extra_forbidden":
        allowed = list(_model_at(first["loc"][:-1]).model_fields)
        key = str(first["loc"][-1])
        return (
            f"unknown key {location}{did_you_mean(key, allowed)}; allowed here: "
            f"{', '.join(allowed)}"
        )
    if first["type"] == "missing":
        return f"{location} is missing"
    return f"{location}: {first['msg']} (got {first.get('input')!r})"


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
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
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


def _path(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _model_at(location: tuple[Any, ...]) -> type[BaseModel]:
    """The recipe section (model class) at a validation error's location."""
    model: type[BaseModel] = Recipe
    for part in location:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next(a for a in inner if isinstance(a, type) and issubclass(a, BaseModel))
    return model
