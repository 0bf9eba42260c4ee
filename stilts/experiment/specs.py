"""A phase's settings that a command line writes as ``KIND[:key=value,…]``: the multi-task
sampler, the PEFT adapter, the dev aggregate and the model selection.

A recipe may give the same short string or a mapping (``{kind: temperature, T: 2}``). One
tokenizer (`spec_items`) reads every short form into such a mapping; pydantic models do all
the checking, so a command-line option, a recipe string and a recipe mapping obey the same
rules and fail with the same one-line message, which names the recipe path where there is
one (``phases[0].sampler.T``). Each model writes itself back in its canonical short form
(`ShortSpec.short`), which is what recipes print and what fingerprints hold.

Short-form values are read as numbers where they parse as Python numbers (``2``,
``1e-07``, ``100_000``) and kept as text otherwise, so the models' strict number fields refuse
text (``T=hot``) and YAML booleans alike, and a number never depends on YAML's spelling rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, get_args

import pydantic
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from stilts.errors import StiltsError, did_you_mean
from stilts.schema import Strict, describe, takes_short_form

M = TypeVar("M", bound=pydantic.BaseModel)

ListItems = "+"
"""Joins the items of one list value: ``target_modules=query+value`` (commas part options)."""


def spec_items(text: str, *, free: Mapping[str, str] = MappingProxyType({})) -> dict[str, Any]:
    """``KIND[:key=value,…]`` as ``{"kind": KIND, key: value, …}``; for a kind in `free`, the
    pairs (task names and their numbers) go into one mapping under the key it names."""
    spec = text.strip()
    if not spec:
        raise ValueError("the spec is empty")
    head, colon, rest = spec.partition(":")
    items: dict[str, Any] = {}
    if colon:
        if not rest.strip():
            raise ValueError(f"nothing after ':' in {spec!r}")
        for item in rest.split(","):
            key, equals, value = (part.strip() for part in item.partition("="))
            if not equals or not key or not value:
                raise ValueError(f"{item.strip()!r} is not key=value")
            if key in items:
                raise ValueError(f"{key!r} is given twice")
            items[key] = _scalar(value)
    kind = head.strip().lower()
    return {"kind": kind, free[kind]: items} if kind in free and items else {"kind": kind, **items}


def _scalar(text: str) -> Any:
    """`text` as an int or float where Python reads it as one, else as it is."""
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def short_number(value: float) -> str:
    """Shortest text that reads back as exactly `value`: '2' for 2.0, '0.3' for 0.3."""
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def check_weighs_tasks(weights: Mapping[str, float], tasks: list[str], what: str) -> None:
    """Refuse weights (a sampler's, a dev aggregate's) that do not name exactly a phase's
    `tasks`: a weight for a task the phase lacks is a typo, and a task without one has no
    share to take."""
    listed = ", ".join(tasks)
    unknown = [task for task in weights if task not in tasks]
    if unknown:
        first = unknown[0]
        others = f" (and {', '.join(repr(t) for t in unknown[1:])})" if unknown[1:] else ""
        raise ValueError(
            f"{what} name {first!r}{did_you_mean(first, tasks)}{others}, which is not a task "
            f"of this phase; its tasks are {listed}"
        )
    missing = [task for task in tasks if task not in weights]
    if missing:
        raise ValueError(
            f"{what} leave out {', '.join(missing)}; give every task of the phase one, e.g. "
            f"{','.join(f'{t}=1' for t in tasks)}"
        )


StrictNumber = Annotated[float, pydantic.Strict()]
"""A number, never text or a YAML boolean read as one."""


def parsed(
    model: type[M], value: str | Mapping[str, Any], option: str, examples: Iterable[str]
) -> M:
    """`value` (short text, or a mapping) as `model`, or one line saying what is wrong with
    it and how `option` is written."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        problem = describe(error, model)
    except ValueError as error:
        problem = str(error)
    shown_examples = "" if "e.g." in problem else f"; e.g. {', '.join(examples)}"
    shown = value.strip() if isinstance(value, str) else dict(value)
    raise StiltsError(f"{option} {shown!r}: {problem}{shown_examples}")


class ShortSpec(Strict):
    """A spec a user may write as ``KIND[:key=value,…]`` or as a mapping."""

    FREE: ClassVar[Mapping[str, str]] = {}
    """Kind -> the field that takes its short form's pairs as a name -> number mapping."""
    WHAT: ClassVar[str]
    """What the spec is, in words, for errors."""
    EXAMPLES: ClassVar[tuple[str, ...]]

    model_config = ConfigDict(validate_by_name=True, json_schema_extra=takes_short_form)

    kind: str

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """The short form as a mapping; then `_prepared` (one hook: pydantic's order of
        several before-validators across a class hierarchy is not what a reader expects)."""
        if isinstance(value, str):
            value = spec_items(value, free=cls.FREE)
        if isinstance(value, Mapping) and isinstance(value.get("kind"), str):
            return cls._prepared({**value, "kind": value["kind"].strip().lower()})
        return value

    @classmethod
    def _prepared(cls, value: dict[str, Any]) -> dict[str, Any]:
        """The mapping to validate, given with a known-form kind (subclasses amend it)."""
        return value

    @classmethod
    def parse(cls, value: str | Mapping[str, Any], *, option: str) -> Self:
        """The spec `option` gives (short text, or a mapping), or one line saying what is
        wrong with it and how it is written."""
        return parsed(cls, value, option, cls.EXAMPLES[:3])

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.short()))

    def short(self) -> str:
        """The canonical short form: `parse(x.short()) == x`."""
        raise NotImplementedError

    @model_serializer
    def _as_short(self) -> str:
        """Dumped (into recipes, manifests) in the short form a user writes."""
        return self.short()

    def __str__(self) -> str:
        return self.short()


class Sampler(ShortSpec):
    """How a multi-task phase picks the task of each optimiser step (jiant's samplers; see
    `stilts.runtime.multitask.sampling` for the semantics and the draw).

    ``T`` is the temperature of the ``temperature`` kind (p ∝ min(n, cap) ** (1/T)); ``cap``
    caps the task sizes the ``proportional`` and ``temperature`` kinds weigh by; the
    ``probabilities`` kind weighs tasks as given (positive numbers, normalised when used) and
    must name exactly its phase's tasks.
    """

    FREE: ClassVar[Mapping[str, str]] = {"probabilities": "probabilities"}
    WHAT: ClassVar[str] = "task sampler"
    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "uniform",
        "proportional",
        "proportional:cap=50000",
        "temperature:T=2,cap=100000",
        "probabilities:mnli=0.5,squad=0.3,hellaswag=0.2",
    )
    KINDS: ClassVar[tuple[str, ...]] = ("uniform", "proportional", "temperature", "probabilities")

    kind: Literal["uniform", "proportional", "temperature", "probabilities"]
    """How the task of each step is drawn: alike, by size, by size tempered, as given."""
    temperature: float | None = Field(default=None, alias="T", gt=0, allow_inf_nan=False,
                                      strict=True)  # fmt: skip
    """temperature: T, the temperature."""
    cap: int | None = Field(default=None, ge=1, strict=True)
    """proportional, temperature: the most rows a task's size counts as."""
    probabilities: dict[str, StrictNumber] | None = None
    """probabilities: task -> its weight, for every task of the phase."""

    @classmethod
    def _prepared(cls, value: dict[str, Any]) -> dict[str, Any]:
        """``t=2`` reads as ``T=2``: the temperature is the one parameter with a capital."""
        if "t" in value:
            if "T" in value:
                raise ValueError("'T' is given twice")
            value = {("T" if key == "t" else key): item for key, item in value.items()}
        return value

    @field_validator("probabilities")
    @classmethod
    def _weights(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        for task, weight in (weights or {}).items():
            if not task:
                raise ValueError("task probabilities need task names as keys")
            if isinstance(weight, bool) or not math.isfinite(weight) or weight <= 0:
                raise ValueError(
                    f"the probability of {task!r} must be a finite number > 0, got {weight!r} "
                    "(drop a task from the phase rather than giving it 0)"
                )
        return None if weights is None else {task: float(w) for task, w in weights.items()}

    @model_validator(mode="after")
    def _parameters_of_the_kind(self) -> Self:
        given = {name for name in ("temperature", "cap", "probabilities") if getattr(self, name)
                 is not None}  # fmt: skip
        allowed = {
            "uniform": set(),
            "proportional": {"cap"},
            "temperature": {"temperature", "cap"},
            "probabilities": {"probabilities"},
        }[self.kind]
        for name in sorted(given - allowed):
            shown = "T" if name == "temperature" else name
            takes = ", ".join("T" if a == "temperature" else a for a in sorted(allowed))
            raise ValueError(
                f"{self.kind} sampling takes {'only ' + takes if takes else 'no parameters'}, "
                f"not {shown}"
            )
        if self.kind == "temperature" and self.temperature is None:
            raise ValueError("temperature sampling needs T, e.g. temperature:T=2")
        if self.kind == "probabilities" and not self.probabilities:
            raise ValueError(
                "probabilities sampling needs a probability for every task, e.g. "
                "probabilities:mnli=0.5,squad=0.5"
            )
        return self

    @property
    def exponent(self) -> float:
        """1/T of the temperature kind: the power each (capped) task size is raised to."""
        return 1 / (self.temperature or 1.0)

    def check(self, tasks: Iterable[str]) -> None:
        """Refuse (ValueError, as the model's own checks) probabilities that do not name
        exactly the phase's `tasks`."""
        if self.probabilities is not None:
            check_weighs_tasks(self.probabilities, list(tasks), "task probabilities")

    def short(self) -> str:
        if self.probabilities is not None:
            pairs = ",".join(f"{t}={short_number(w)}" for t, w in self.probabilities.items())
            return f"probabilities:{pairs}"
        params = [f"T={short_number(self.temperature)}"] if self.temperature is not None else []
        params += [f"cap={self.cap}"] if self.cap is not None else []
        return self.kind + (":" + ",".join(params) if params else "")


DEFAULT_SAMPLER = Sampler(kind="proportional")
"""Multi-task phases draw each task in proportion to its training data unless told."""


ADAPTER_DEFAULTS: dict[str, dict[str, Any]] = {
    # LoRA on the attention query and value projections (PEFT's XLM-R default targets), with
    # the rank, alpha and dropout of PEFT's sequence-classification example.
    "lora": {"r": 8, "alpha": 16, "dropout": 0.1, "target_modules": ("query", "value")},
    # The IA3 paper rescales keys, values and the feed-forward activations, i.e. the input of
    # the feed-forward output layer, which XLM-R calls `output.dense`. PEFT has no IA3 default
    # for xlm-roberta, and its roberta default also matches `attention.output.dense`, which
    # `stilts.runtime.adapters` therefore excludes.
    "ia3": {"target_modules": ("key", "value", "output.dense")},
    # LyCORIS kinds, at PEFT's default rank and alpha.
    "loha": {"r": 8, "alpha": 8, "target_modules": ("query", "value")},
    "lokr": {"r": 8, "alpha": 8, "target_modules": ("query", "value")},
}
"""Each supported PEFT kind's options and their defaults: the kinds that adapt Linear layers in
place and can merge into them."""


Handoff = Literal["merge", "stack"]
HANDOFFS: tuple[str, ...] = get_args(Handoff)
"""How a phase hands an adapted encoder on: merged into its weights, or stacked frozen."""


class Adapter(ShortSpec):
    """How a phase trains its encoder through a PEFT adapter, and how it hands the encoder on
    (``merge`` into the weights, or ``stack`` it frozen under the next phase; see
    `stilts.runtime.adapters`).

    Options a kind does not take stay None; the others are filled with the kind's defaults, so
    equal settings give equal `fingerprint`s however they were written. ``target_modules`` are
    PEFT module-name suffixes of the encoder (``query``, ``output.dense``…), joined by ``+`` in
    the short form.
    """

    WHAT: ClassVar[str] = "adapter"
    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "lora", "lora:r=8,alpha=16", "ia3:handoff=stack", "lora:handoff=stack,r=4",
    )  # fmt: skip
    KINDS: ClassVar[tuple[str, ...]] = tuple(ADAPTER_DEFAULTS)

    kind: Literal["lora", "ia3", "loha", "lokr"]
    """The PEFT method."""
    handoff: Handoff = "merge"
    """merge: into the encoder's weights; stack: frozen, under the next phase's adapter."""
    r: int | None = Field(default=None, ge=1, strict=True)
    """lora, loha, lokr: the rank (default 8)."""
    alpha: int | None = Field(default=None, ge=1, strict=True)
    """lora, loha, lokr: the scaling numerator (default 16 for lora, 8 otherwise)."""
    dropout: float | None = Field(default=None, ge=0, lt=1, strict=True)
    """lora: dropout on the adapter's input (default 0.1)."""
    target_modules: tuple[str, ...] | None = None
    """The adapted layers, by module-name suffix (default: the kind's)."""

    @classmethod
    def _prepared(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Fill the options the kind takes; refuse those it does not."""
        if value["kind"] not in ADAPTER_DEFAULTS:
            return value
        defaults = ADAPTER_DEFAULTS[value["kind"]]
        for option in value.keys() - {"kind", "handoff"} - defaults.keys():
            if option in cls.model_fields:
                raise ValueError(
                    f"{value['kind']} adapters take no option {option!r}; their options: "
                    f"{', '.join(('handoff', *defaults))}"
                )
        return {**defaults, **value}

    @field_validator("target_modules", mode="before", json_schema_input_type=str | list[str] | None)
    @classmethod
    def _modules(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(ListItems)
        if isinstance(value, list | tuple):
            value = tuple(str(item).strip() for item in value)
            if not value or not all(value):
                raise ValueError(
                    f"expected module names joined by {ListItems!r}, e.g. "
                    f"target_modules=query{ListItems}value"
                )
        return value

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes what the phase computes (part of its fingerprint)."""
        options = {name: getattr(self, name) for name in ADAPTER_DEFAULTS[self.kind]}
        options["target_modules"] = list(self.target_modules or ())
        return {"kind": self.kind, "handoff": self.handoff, **options}

    def short(self) -> str:
        defaults = ADAPTER_DEFAULTS[self.kind]
        options = [f"handoff={self.handoff}"] if self.handoff != "merge" else []
        for name, default in defaults.items():
            value = getattr(self, name)
            if value == default:
                continue
            if name == "target_modules":
                options.append(f"{name}={ListItems.join(value)}")
            else:
                options.append(f"{name}={value if isinstance(value, int) else short_number(value)}")
        return self.kind + (":" + ",".join(options) if options else "")


class DevAggregate(ShortSpec):
    """One number for a multi-task phase: its tasks' main dev metrics (all on a 0-100 scale),
    as jiant compares multi-task models: the plain mean (`EqualMetricAggregator`) or a mean
    weighted per task (`WeightedMetricAggregator`), whose weights must name every task.

    It only reads dev scores, so it is not part of a phase's fingerprint: a finished phase is
    re-scored, never retrained, when the aggregate changes.
    """

    FREE: ClassVar[Mapping[str, str]] = {"weighted": "weights"}
    WHAT: ClassVar[str] = "dev aggregate"
    EXAMPLES: ClassVar[tuple[str, ...]] = ("mean", "weighted:mnli=2,squad=1")

    kind: Literal["mean", "weighted"] = "mean"
    """mean: the plain mean; weighted: a mean weighing each task by `weights`."""
    weights: dict[str, StrictNumber] | None = None
    """weighted: task -> its weight, for every task of the phase."""

    @field_validator("weights")
    @classmethod
    def _positive(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        for task, weight in (weights or {}).items():
            if isinstance(weight, bool) or not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"the weight of {task!r} must be a finite number > 0")
        return weights

    @model_validator(mode="after")
    def _weights_of_the_kind(self) -> Self:
        if self.kind == "mean" and self.weights is not None:
            raise ValueError("the mean dev aggregate takes no weights")
        if self.kind == "weighted" and not self.weights:
            raise ValueError("the weighted dev aggregate weighs its tasks: weighted:mnli=2,squad=1")
        return self

    def check(self, tasks: Iterable[str]) -> None:
        """Refuse (ValueError, as the model's own checks) weights that do not name exactly
        `tasks`."""
        if self.weights is not None:
            check_weighs_tasks(self.weights, list(tasks), "the dev aggregate's weights")

    def __call__(self, scores: Mapping[str, float]) -> float:
        """The aggregate of per-task main scores."""
        weights = self.weights or dict.fromkeys(scores, 1.0)
        total = sum(weights[task] for task in scores)
        return sum(weights[task] * score for task, score in scores.items()) / total

    def record(self, scores: Mapping[str, float]) -> dict[str, Any]:
        """What a phase record holds: the aggregate, how it was taken, and its inputs."""
        return {"aggregate": self.short(), "value": self(scores), "main_metrics": dict(scores)}

    def short(self) -> str:
        if self.weights is None:
            return "mean"
        return "weighted:" + ",".join(f"{t}={short_number(w)}" for t, w in self.weights.items())


class Selection(ShortSpec):
    """Which weights a phase keeps: the ``best`` on its English dev set, or the ``last``.

    ``best`` is how jiant ran the study (`jiant/proj/main/metarunner.py`, `eval_save`): every
    ``every`` optimiser steps (and once more at the end) the phase is scored on the first
    ``rows`` rows of its training task's English dev set, the best-scoring weights are kept,
    and training stops after ``patience`` evaluations without a strict improvement (0: never
    stops early). A multi-task phase is scored by its dev aggregate. The study's values are
    the defaults (`STUDY_SELECTION`: jiant's XTREME scripts pass ``--eval_every_steps 1000
    --no_improvements_for_n_evals 30``, and its ``eval_subset_num`` is 500).

    What is kept changes what a phase computes, so the selection is part of its fingerprint.
    """

    WHAT: ClassVar[str] = "model selection"
    EXAMPLES: ClassVar[tuple[str, ...]] = (
        "best", "last", "best:every=200,rows=500,patience=5",
    )  # fmt: skip
    DEFAULTS: ClassVar[Mapping[str, int]] = MappingProxyType(
        {"every": 1000, "rows": 500, "patience": 30}
    )

    kind: Literal["best", "last"]
    """best: the best-scoring weights on the dev set; last: the final weights."""
    every: int | None = Field(default=None, ge=1, strict=True)
    """Optimiser steps between evaluations."""
    rows: int | None = Field(default=None, ge=1, strict=True)
    """Dev rows scored per evaluation: the first ones, in the dev set's order (jiant's
    subset)."""
    patience: int | None = Field(default=None, ge=0, strict=True)
    """Evaluations without improvement before training stops; 0: it never stops early."""

    @classmethod
    def _prepared(cls, value: dict[str, Any]) -> dict[str, Any]:
        """``best`` takes the study's values for what it does not set; ``last`` takes none."""
        if value["kind"] == "best":
            return {**cls.DEFAULTS, **value}
        if value["kind"] == "last":
            for option in sorted(value.keys() & set(cls.DEFAULTS)):
                raise ValueError(
                    f"last keeps the final weights and evaluates nothing, so it takes no "
                    f"{option}; choose best:{option}=… to select"
                )
        return value

    @property
    def best(self) -> bool:
        return self.kind == "best"

    def short(self) -> str:
        if not self.best:
            return self.kind
        options = [
            f"{name}={getattr(self, name)}"
            for name, default in self.DEFAULTS.items()
            if getattr(self, name) != default
        ]
        return self.kind + (":" + ",".join(options) if options else "")

    def fingerprint(self) -> dict[str, Any]:
        """Everything that decides which weights are kept (part of a phase's fingerprint)."""
        if not self.best:
            return {"kind": self.kind}
        return {"kind": self.kind, **{name: getattr(self, name) for name in self.DEFAULTS}}


STUDY_SELECTION = Selection(kind="best")
"""The study's model selection: best of evaluations on 500 dev rows every 1,000 steps,
stopping after 30 without improvement."""
