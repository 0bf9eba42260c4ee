"""Which task each optimiser step of a multi-task phase trains on.

The semantics are jiant's (nyu-mll/jiant, `jiant/proj/main/components/task_sampler.py` and
`jiant/proj/main/scripts/configurator.py`); with n the training examples of a task and
m = min(n, cap) (m = n without a cap):

* ``uniform``        p ∝ 1                    (jiant: UniformMultiTaskSampler)
* ``proportional``   p ∝ m                    (jiant: ProportionalMultiTaskSampler; with a cap,
  jiant's SimpleAPIMultiTaskConfigurator switches to SpecifiedProbMultiTaskSampler weighted by
  the capped sizes, which is the same p ∝ min(n, cap))
* ``temperature``    p ∝ m ** (1 / T)         (jiant: TemperatureMultiTaskSampler, `examples_cap`)
* ``probabilities``  p ∝ the given weights    (jiant: SpecifiedProbMultiTaskSampler, which
  normalises its "unweighted probs", so weights need not sum to 1)

The cap only shapes the weights (and the length of an epoch, see `epoch_steps`); it does not
truncate a task's data, exactly as in jiant. jiant's TimeDependentProbMultiTaskSampler and
MultiDDSSampler are not offered: the first evaluates user expressions with numexpr and the
second learns its weights during training, and neither gives a schedule fixed by a seed.

A schedule is drawn once per phase, up front, from `numpy.random.default_rng(seed)`, so every
process computes the same one without communicating. This module imports no torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from stilts.errors import StiltsError, did_you_mean

KINDS = ("uniform", "proportional", "temperature", "probabilities")
"""The sampler kinds, in the order the help text lists them."""

EXAMPLES = (
    "uniform",
    "proportional",
    "proportional:cap=50000",
    "temperature:T=2,cap=100000",
    "probabilities:mnli=0.5,squad=0.3,hellaswag=0.2",
)
"""Spec strings `parse_sampler` accepts, for help texts and error messages."""

_CAPPED_KINDS = ("proportional", "temperature")


@dataclass(frozen=True)
class SamplerConfig:
    """How a multi-task phase picks the task of each optimiser step.

    `temperature` is T of the ``temperature`` kind (p ∝ min(n, cap) ** (1/T); T=1 is
    proportional, T → ∞ approaches uniform). `cap` is the per-task example cap that the
    ``proportional`` and ``temperature`` kinds apply to task sizes before weighting.
    `probabilities` are the ``probabilities`` kind's per-task weights: positive, normalised here,
    and they must name exactly the phase's tasks (checked against the sizes when used).

    Invalid values raise `StiltsError` at construction, so a bad recipe fails before training.
    """

    kind: str
    temperature: float = 1.0
    cap: int | None = None
    probabilities: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        kind = self.kind
        if not isinstance(kind, str) or kind not in KINDS:
            raise StiltsError(
                f"unknown task sampler {kind!r}{did_you_mean(str(kind), KINDS)}; "
                f"choose one of {', '.join(KINDS)}"
            )
        object.__setattr__(self, "temperature", _check_temperature(self.temperature, kind))
        object.__setattr__(self, "cap", _check_cap(self.cap, kind))
        object.__setattr__(self, "probabilities", _check_weights(self.probabilities, kind))

    def __hash__(self) -> int:
        weights = None if self.probabilities is None else tuple(self.probabilities.items())
        return hash((self.kind, self.temperature, self.cap, weights))

    def __str__(self) -> str:
        return format_sampler(self)


def _check_temperature(value: object, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise StiltsError(f"sampler temperature must be a number, got {value!r}")
    temperature = float(value)
    if not math.isfinite(temperature) or temperature <= 0:
        raise StiltsError(
            f"sampler temperature must be a finite number > 0, got {value!r} "
            "(T=1 is proportional sampling, larger T flattens towards uniform)"
        )
    if kind != "temperature" and temperature != 1.0:
        raise StiltsError(
            f"a temperature (T={value!r}) only applies to 'temperature' sampling, not {kind!r}; "
            f"write e.g. 'temperature:T={value!r}'"
        )
    return temperature


def _check_cap(value: object, kind: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise StiltsError(f"sampler cap must be a whole number of examples, got {value!r}")
    if value < 1:
        raise StiltsError(f"sampler cap must be at least 1 example, got {value!r}")
    if kind not in _CAPPED_KINDS:
        raise StiltsError(
            f"an example cap only applies to 'proportional' and 'temperature' sampling (it caps "
            f"the task sizes they weight by), not {kind!r}"
        )
    return int(value)


def _check_weights(value: Mapping[str, float] | None, kind: str) -> dict[str, float] | None:
    if kind != "probabilities":
        if value is not None:
            raise StiltsError(
                f"task probabilities were given for {kind!r} sampling; they only apply to "
                "'probabilities' sampling, e.g. 'probabilities:mnli=0.5,squad=0.5'"
            )
        return None
    if value is None or not isinstance(value, Mapping) or len(value) == 0:
        raise StiltsError(
            "'probabilities' sampling needs a probability for every task, "
            "e.g. 'probabilities:mnli=0.5,squad=0.5'"
        )
    weights: dict[str, float] = {}
    for task, weight in value.items():
        if not isinstance(task, str) or not task:
            raise StiltsError(f"task probabilities need task names as keys, got {task!r}")
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise StiltsError(f"the probability of {task!r} must be a number, got {weight!r}")
        if not math.isfinite(weight) or weight <= 0:
            raise StiltsError(
                f"the probability of {task!r} must be a finite number > 0, got {weight!r} "
                "(drop a task from the phase rather than giving it 0)"
            )
        weights[task] = float(weight)
    return weights


def _checked_sizes(sizes: Mapping[str, int]) -> dict[str, int]:
    if len(sizes) == 0:
        raise StiltsError("a multi-task phase needs at least one task")
    checked: dict[str, int] = {}
    for task, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise StiltsError(f"task {task!r} has a non-integer size {size!r}")
        if size < 1:
            raise StiltsError(
                f"task {task!r} has {size} training examples; every task of a multi-task "
                "phase needs at least one"
            )
        checked[task] = int(size)
    return checked


def capped_sizes(config: SamplerConfig, sizes: Mapping[str, int]) -> dict[str, int]:
    """min(n, cap) per task, ordered as `sizes`: the sizes that weighting and epochs use.

    jiant's `cap_examples` (nyu-mll/jiant, jiant/proj/main/scripts/configurator.py).
    """
    checked = _checked_sizes(sizes)
    if config.cap is None:
        return checked
    return {task: min(size, config.cap) for task, size in checked.items()}


def task_probabilities(config: SamplerConfig, sizes: Mapping[str, int]) -> dict[str, float]:
    """The probability of each task at every step, ordered as `sizes`; they sum to 1.

    `sizes` maps each task of the phase to its number of training examples.
    """
    capped = capped_sizes(config, sizes)
    if config.kind == "uniform":
        weights = {task: 1.0 for task in capped}
    elif config.kind == "proportional":
        weights = {task: float(size) for task, size in capped.items()}
    elif config.kind == "temperature":
        # jiant: raw_n = task_num_examples.clip(max=examples_cap) ** (1 / temperature)
        exponent = 1 / config.temperature
        weights = {task: float(size) ** exponent for task, size in capped.items()}
    else:
        assert config.probabilities is not None
        _check_weight_tasks(config.probabilities, capped)
        weights = {task: config.probabilities[task] for task in capped}
    total = math.fsum(weights.values())
    return {task: weight / total for task, weight in weights.items()}


def _check_weight_tasks(weights: Mapping[str, float], tasks: Mapping[str, int]) -> None:
    listed = ", ".join(tasks)
    unknown = [task for task in weights if task not in tasks]
    if unknown:
        first = unknown[0]
        others = f" (and {', '.join(repr(t) for t in unknown[1:])})" if unknown[1:] else ""
        raise StiltsError(
            f"task probabilities name {first!r}{did_you_mean(first, tasks)}{others}, which is not "
            f"a task of this phase; its tasks are {listed}"
        )
    missing = [task for task in tasks if task not in weights]
    if missing:
        raise StiltsError(
            f"task probabilities leave out {', '.join(missing)}; give every task of the phase "
            f"a probability (its tasks are {listed})"
        )


@dataclass(frozen=True)
class TaskSchedule:
    """The task of every optimiser step of one multi-task phase, fixed by a seed.

    Step i trains on `tasks[i]`, and the training loop relies on these guarantees:

    * every micro-batch of one step (gradient accumulation) comes from that step's task, so an
      optimiser update never mixes tasks;
    * every process of a data-parallel (DDP) run uses the same task for the same step: each
      computes this schedule from the same config, sizes, steps and seed, and the draw depends
      on nothing else (no clock, no rank, no global random state), so no process has to tell
      the others which task comes next;
    * resuming at step k continues with `tasks[k:]`: the schedule is drawn up front, not
      consumed from a live generator.

    Tasks are drawn i.i.d. from `task_probabilities` with `numpy.random.default_rng(seed)`,
    exactly as ``Generator.choice(len(tasks), size=steps, p=p)`` draws them (the cumulative
    distribution searched with uniform doubles); the algorithm is spelt out here so the
    schedule depends only on the PCG64 double stream, not on how a numpy version implements
    `choice`. jiant's samplers draw per step from a `np.random.RandomState` instead, so these
    sequences do not match jiant's, only their distribution does.
    """

    tasks: tuple[str, ...]
    seed: int
    probabilities: tuple[tuple[str, float], ...]

    @classmethod
    def draw(
        cls, config: SamplerConfig, sizes: Mapping[str, int], steps: int, seed: int
    ) -> TaskSchedule:
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise StiltsError(f"a task schedule needs a whole number of steps >= 0, got {steps!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise StiltsError(f"a task schedule needs a whole-number seed >= 0, got {seed!r}")
        probabilities = task_probabilities(config, sizes)
        names = list(probabilities)
        cdf = np.cumsum(np.fromiter(probabilities.values(), dtype=np.float64))
        cdf /= cdf[-1]
        uniform = np.random.default_rng(int(seed)).random(int(steps))
        indices = np.searchsorted(cdf, uniform, side="right")
        return cls(
            tasks=tuple(names[i] for i in indices.tolist()),
            seed=int(seed),
            probabilities=tuple(probabilities.items()),
        )

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, step: int) -> str:
        return self.tasks[step]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tasks)

    def counts(self) -> dict[str, int]:
        """Steps per task, every task of the phase included (0 when never drawn)."""
        counts = dict.fromkeys((task for task, _ in self.probabilities), 0)
        for task in self.tasks:
            counts[task] += 1
        return counts


def schedule(config: SamplerConfig, sizes: Mapping[str, int], steps: int, seed: int) -> list[str]:
    """The task of each of `steps` optimiser steps; see `TaskSchedule` for the guarantees."""
    return list(TaskSchedule.draw(config, sizes, steps, seed).tasks)


def epoch_steps(config: SamplerConfig, sizes: Mapping[str, int], batch_size: int) -> int:
    """Optimiser steps in one "epoch" of a multi-task phase.

    jiant's convention (SimpleAPIMultiTaskConfigurator in nyu-mll/jiant,
    jiant/proj/main/scripts/configurator.py): ``max_steps += epochs * ceil(capped_n /
    effective_batch_size)`` per training task, so one epoch is the sum over tasks of
    ceil(min(n, cap) / batch_size), where `batch_size` is the effective batch: examples per
    optimiser step (per-device batch × gradient accumulation × processes). The rounding is per
    task, so this can exceed ceil(sum / batch_size) by up to one step per task.

    Under proportional sampling this makes each task's expected share of the steps cover its
    (capped) data about once; under other kinds the total is the same but the split is not.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise StiltsError(f"batch size must be a whole number, got {batch_size!r}")
    if batch_size < 1:
        raise StiltsError(f"batch size must be at least 1, got {batch_size!r}")
    return sum(-(-size // batch_size) for size in capped_sizes(config, sizes).values())


def describe(config: SamplerConfig, sizes: Mapping[str, int] | None = None) -> str:
    """One line for logs and `stilts` output; with `sizes`, the resulting probabilities too."""
    n = "examples" if config.cap is None else f"min(examples, {config.cap})"
    if config.kind == "uniform":
        text = "uniform task sampling (every task equally likely)"
    elif config.kind == "proportional":
        text = f"proportional task sampling (p ∝ {n})"
    elif config.kind == "temperature":
        text = f"temperature task sampling, T={_number(config.temperature)} (p ∝ {n}^(1/T))"
    else:
        assert config.probabilities is not None
        total = math.fsum(config.probabilities.values())
        given = ", ".join(f"{t} {w / total:.3g}" for t, w in config.probabilities.items())
        text = f"fixed task probabilities ({given})"
    if sizes is None or config.kind == "probabilities":
        return text
    shares = task_probabilities(config, sizes)
    return text + ": " + ", ".join(f"{task} {p:.1%}" for task, p in shares.items())


def format_sampler(config: SamplerConfig) -> str:
    """The canonical spec string: `parse_sampler(format_sampler(c)) == c`."""
    if config.kind == "probabilities":
        assert config.probabilities is not None
        pairs = ",".join(f"{t}={_number(w)}" for t, w in config.probabilities.items())
        return f"probabilities:{pairs}"
    params = []
    if config.kind == "temperature":
        params.append(f"T={_number(config.temperature)}")
    if config.cap is not None:
        params.append(f"cap={config.cap}")
    return config.kind + (":" + ",".join(params) if params else "")


def _number(value: float) -> str:
    """Shortest text that reads back as exactly `value`: '2' for 2.0, '0.3' for 0.3."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


_PARAMETERS = {"uniform": (), "proportional": ("cap",), "temperature": ("T", "cap")}


def parse_sampler(text: str) -> SamplerConfig:
    """A `SamplerConfig` from a spec such as 'temperature:T=2,cap=100000' (see `EXAMPLES`).

    The kind comes first, then ':' and comma-separated key=value pairs: `cap` for proportional,
    `T` and `cap` for temperature, task=weight for probabilities. Every error is one line.
    """
    spec = text.strip()
    try:
        return _parse(spec)
    except StiltsError as error:
        raise StiltsError(f"task sampler {spec!r}: {error}") from None


def _parse(spec: str) -> SamplerConfig:
    if not spec:
        raise StiltsError(f"empty spec; write e.g. {' or '.join(map(repr, EXAMPLES[:4]))}")
    head, colon, rest = spec.partition(":")
    kind = head.strip().lower()
    if kind not in KINDS:
        raise StiltsError(
            f"unknown kind {head.strip()!r}{did_you_mean(kind, KINDS)}; "
            f"choose one of {', '.join(KINDS)}"
        )
    pairs = _pairs(rest, tasks=kind == "probabilities") if colon else {}
    if colon and not pairs:
        raise StiltsError(f"nothing after ':'; write e.g. {_example(kind)!r}")
    if kind == "probabilities":
        if not pairs:
            raise StiltsError(f"give every task a probability, e.g. {_example(kind)!r}")
        weights = {task: _float(value, f"probability of {task!r}") for task, value in pairs.items()}
        return SamplerConfig(kind, probabilities=weights)
    allowed = _PARAMETERS[kind]
    for key in pairs:
        if key not in allowed:
            takes = f"takes only {', '.join(allowed)}" if allowed else "takes no parameters"
            raise StiltsError(
                f"unknown parameter {key!r}{did_you_mean(key, allowed)}; {kind} sampling {takes}"
            )
    cap = _int(pairs["cap"], "cap") if "cap" in pairs else None
    if kind != "temperature":
        return SamplerConfig(kind, cap=cap)
    if "T" not in pairs:
        raise StiltsError(f"temperature sampling needs T, e.g. {_example(kind)!r}")
    return SamplerConfig(kind, temperature=_float(pairs["T"], "T"), cap=cap)


def _pairs(rest: str, tasks: bool) -> dict[str, str]:
    """key=value pairs; keys are task names when `tasks`, else parameters ('t' reads as 'T')."""
    pairs: dict[str, str] = {}
    if not rest.strip():
        return pairs
    for item in rest.split(","):
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not key or not value:
            raise StiltsError(f"{item.strip()!r} is not key=value")
        if key == "t" and not tasks:
            key = "T"
        if key in pairs:
            raise StiltsError(f"{key!r} is given twice")
        pairs[key] = value
    return pairs


def _example(kind: str) -> str:
    return next(example for example in reversed(EXAMPLES) if example.startswith(kind))


def _float(value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise StiltsError(f"{what} must be a number, got {value!r}") from None


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise StiltsError(f"{what} must be a whole number of examples, got {value!r}") from None


DEFAULT_SAMPLER = SamplerConfig("proportional")
"""Multi-task phases draw each task in proportion to its training data unless told."""
