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
process computes the same one without communicating. The sampler itself, as a user writes it,
is `stilts.experiment.specs.Sampler`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from stilts.errors import StiltsError
from stilts.experiment.specs import Sampler, short_number


def _whole(value: object) -> bool:
    """Whether `value` is a whole number (a numpy integer too) and not a bool.

    A function rather than an inline `isinstance(value, numbers.Integral)`: typeshed does not
    register `int` as an `Integral`, so mypy would take that test to exclude every `int`."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_sizes(sizes: Mapping[str, int]) -> dict[str, int]:
    if len(sizes) == 0:
        raise StiltsError("a multi-task phase needs at least one task")
    checked: dict[str, int] = {}
    for task, size in sizes.items():
        if not _whole(size):
            raise StiltsError(f"task {task!r} has a non-integer size {size!r}")
        if size < 1:
            raise StiltsError(
                f"task {task!r} has {size} training examples; every task of a multi-task "
                "phase needs at least one"
            )
        checked[task] = int(size)
    return checked


def capped_sizes(config: Sampler, sizes: Mapping[str, int]) -> dict[str, int]:
    """min(n, cap) per task, ordered as `sizes`: the sizes that weighting and epochs use.

    jiant's `cap_examples` (nyu-mll/jiant, jiant/proj/main/scripts/configurator.py).
    """
    checked = _checked_sizes(sizes)
    if config.cap is None:
        return checked
    return {task: min(size, config.cap) for task, size in checked.items()}


def task_probabilities(config: Sampler, sizes: Mapping[str, int]) -> dict[str, float]:
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
        exponent = config.exponent
        weights = {task: float(size) ** exponent for task, size in capped.items()}
    else:
        assert config.probabilities is not None
        try:
            config.check(capped)
        except ValueError as error:
            raise StiltsError(str(error)) from None
        weights = {task: config.probabilities[task] for task in capped}
    total = math.fsum(weights.values())
    return {task: weight / total for task, weight in weights.items()}


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
    def draw(cls, config: Sampler, sizes: Mapping[str, int], steps: int, seed: int) -> TaskSchedule:
        if not _whole(steps) or steps < 0:
            raise StiltsError(f"a task schedule needs a whole number of steps >= 0, got {steps!r}")
        if not _whole(seed) or seed < 0:
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


def schedule(config: Sampler, sizes: Mapping[str, int], steps: int, seed: int) -> list[str]:
    """The task of each of `steps` optimiser steps; see `TaskSchedule` for the guarantees."""
    return list(TaskSchedule.draw(config, sizes, steps, seed).tasks)


def epoch_steps(config: Sampler, sizes: Mapping[str, int], batch_size: int) -> int:
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
    if not _whole(batch_size):
        raise StiltsError(f"batch size must be a whole number, got {batch_size!r}")
    if batch_size < 1:
        raise StiltsError(f"batch size must be at least 1, got {batch_size!r}")
    return sum(-(-size // batch_size) for size in capped_sizes(config, sizes).values())


def describe(config: Sampler, sizes: Mapping[str, int] | None = None) -> str:
    """One line for logs and `stilts` output; with `sizes`, the resulting probabilities too."""
    n = "examples" if config.cap is None else f"min(examples, {config.cap})"
    if config.kind == "uniform":
        text = "uniform task sampling (every task equally likely)"
    elif config.kind == "proportional":
        text = f"proportional task sampling (p ∝ {n})"
    elif config.kind == "temperature":
        assert config.temperature is not None
        text = f"temperature task sampling, T={short_number(config.temperature)} (p ∝ {n}^(1/T))"
    else:
        assert config.probabilities is not None
        total = math.fsum(config.probabilities.values())
        given = ", ".join(f"{t} {w / total:.3g}" for t, w in config.probabilities.items())
        text = f"fixed task probabilities ({given})"
    if sizes is None or config.kind == "probabilities":
        return text
    shares = task_probabilities(config, sizes)
    return text + ": " + ", ".join(f"{task} {p:.1%}" for task, p in shares.items())
