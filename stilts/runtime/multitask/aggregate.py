"""One number for a multi-task phase: its tasks' dev scores, aggregated for model selection.

Each task contributes its main metric on its English dev set (accuracy, F1, EM+F1 / 2…, all
on a 0-100 scale). jiant compares multi-task models by the plain mean of its tasks' scores
(`EqualMetricAggregator`) or a weighted mean (`WeightedMetricAggregator`); stilts offers the
same two:

* ``mean``                      every task counts equally (default)
* ``weighted:mnli=2,squad=1``   a weighted mean; every task of the phase needs a weight

The aggregate only reads dev scores, so it is not part of a phase's fingerprint: a finished
phase is re-scored, never retrained, when the aggregate changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stilts.errors import StiltsError, did_you_mean

KINDS = ("mean", "weighted")


@dataclass(frozen=True)
class Aggregate:
    """A mean of tasks' main dev metrics, weighted by `weights` (None: equally)."""

    weights: Mapping[str, float] | None = None

    def describe(self) -> str:
        if self.weights is None:
            return "mean"
        return "weighted:" + ",".join(f"{task}={w:g}" for task, w in self.weights.items())

    def check(self, tasks: Iterable[str]) -> None:
        """Refuse weights that do not name exactly `tasks`."""
        if self.weights is None:
            return
        tasks = list(tasks)
        for name in self.weights:
            if name not in tasks:
                raise StiltsError(
                    f"the dev aggregate weighs {name!r}, which the phase does not train"
                    f"{did_you_mean(name, tasks)}; its tasks: {', '.join(tasks)}"
                )
        missing = [task for task in tasks if task not in self.weights]
        if missing:
            raise StiltsError(
                f"the dev aggregate gives no weight to {', '.join(missing)}: weigh every task "
                f"of the phase, e.g. weighted:{','.join(f'{t}=1' for t in tasks)}"
            )

    def __call__(self, scores: Mapping[str, float]) -> float:
        """The aggregate of per-task main scores."""
        weights = self.weights or dict.fromkeys(scores, 1.0)
        total = sum(weights[task] for task in scores)
        return sum(weights[task] * score for task, score in scores.items()) / total

    def record(self, scores: Mapping[str, float]) -> dict[str, Any]:
        """What a phase record holds: the aggregate, how it was taken, and its inputs."""
        return {"aggregate": self.describe(), "value": self(scores), "main_metrics": dict(scores)}


def parse_aggregate(text: str) -> Aggregate:
    """``mean`` or ``weighted:TASK=W,…`` (positive weights)."""
    kind, _, rest = text.strip().partition(":")
    if kind not in KINDS:
        raise StiltsError(
            f"unknown dev aggregate {kind!r}{did_you_mean(kind, KINDS)}; write mean or "
            "weighted:TASK=W,… e.g. weighted:mnli=2,squad=1"
        )
    if kind == "mean":
        if rest:
            raise StiltsError(f"the mean dev aggregate takes no options, got {text!r}")
        return Aggregate()
    weights: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        task, _, value = (s.strip() for s in item.partition("="))
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not task or not math.isfinite(weight) or weight <= 0:
            raise StiltsError(f"dev aggregate {text!r}: {item!r} is not TASK=W with W > 0")
        weights[task] = weight
    if not weights:
        raise StiltsError(f"dev aggregate {text!r} weighs no task: weighted:mnli=2,squad=1")
    return Aggregate(weights)
