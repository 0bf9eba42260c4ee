"""Question 5: do syntactic intermediate tasks transfer differently with typological distance?

From a grid whose rows include syntactic intermediate tasks (dependency parsing, `udparse`;
CCG supertagging, `ccg`) beside semantic ones (MNLI, SQuAD…): each target language's gain,
averaged over seeds, against the language's syntactic distance from English (URIEL through
lang2vec, `stilts.reports.typology`).

The unit of analysis is the language: distance is a property of the language, and a
language scored in XNLI, UD-POS and PAN-X is one observation of what its distance does, not
three. So each task gives one point per language, and intervals resample languages. English
is the targets' training language (distance 0, and not zero-shot): it is left out and its
gains shown apart (syntax_not_zero_shot).

A language's point is the mean over the targets it is scored in of its gain there, each
gain first centred on its (task, target) mean and divided by the target's standard deviation
over all its gains. Dividing puts targets on one scale (an F1 point is not an accuracy point)
while keeping the tasks of one target comparable; centring takes out how much a task helps a
target as a whole, which would otherwise follow a language around: languages are scored in
different targets (Yoruba only in UD-POS and PAN-X), and a task's level on those targets
would pass for an effect of their languages' distance. Each target's own figures, in its
units, are always reported beside the pooled ones.

Per intermediate task: Spearman's rho between distance and the language's point, and the
least-squares slope (per 0.1 of distance). Then the syntactic tasks' slope minus the semantic
tasks', as the slope of each language's syntactic-minus-semantic difference: both kinds are
measured on the same languages, so the difference is paired, and what a language brings to
every task (its script, its data in pretraining) cancels in it instead of widening the
interval as two independent resamples of the kinds would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

import numpy as np

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, not_zero_shot, table
from stilts.reports.analysis.runs import gains, read_runs, split_zero_shot
from stilts.reports.analysis.stats import (
    Estimate,
    TooFewPoints,
    cluster_weights,
    observed,
    percentile_interval,
    spearman,
    weighted_slope,
)
from stilts.reports.tables import Cell
from stilts.reports.typology import distance_from_english

SYNTACTIC = ("udparse", "ccg")
"""The syntactic intermediate tasks stilts ships; `analyze(syntactic=...)` names others."""
MINIMUM = 5
"""Fewest languages a slope or a correlation is computed from."""
POOLED = "pooled (standardised)"
UNIT = (
    "a language (zero-shot; English, the targets' training language, is shown apart). Per "
    "task, a language's point is its gain averaged over seeds and over the targets it is "
    "scored in, each target's gains centred per task and divided by the target's sd; "
    "intervals resample languages; the syntactic-minus-semantic slope is paired (both kinds "
    "on the same resampled languages)"
)


@dataclass(frozen=True)
class Points:
    """One task's points on one scope (a target, or all pooled): per language, its
    distance and its gain (the target's units, or standardised when pooled)."""

    languages: tuple[str, ...]
    distance: np.ndarray
    gain: np.ndarray

    def slope(self) -> float:
        """Gain change per 0.1 of syntactic distance (NaN: distance does not vary)."""
        return float(weighted_slope(self.distance, self.gain, observed(len(self.gain)))[0] / 10)


def analyze(path: Path, syntactic: Iterable[str] = SYNTACTIC) -> Analysis:
    syntactic = set(syntactic)
    found, notes = gains(read_runs(path))
    zero_shot, seen = split_zero_shot(found)
    per_seed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for g in zero_shot:
        per_seed[(g.intermediate, g.target, g.language)].append(g.gain)
    distances = {code: _distance(code) for _, _, code in per_seed}
    unplaced = sorted(code for code, d in distances.items() if d is None)
    cells = {key: fmean(v) for key, v in per_seed.items() if distances[key[2]] is not None}
    if not cells:
        raise StiltsError(
            f"{path} holds no chain with a baseline in a language URIEL places: run a grid "
            "with baselines"
        )
    placed = {code: d for code, d in distances.items() if d is not None}
    pooled = _pooled(cells, placed)
    by_target = _by_target(cells, placed)
    tasks = sorted(pooled)
    targets = sorted({t for t, _ in by_target})
    rows, findings = [], []
    for task in tasks:
        kind = "syntactic" if _is_syntactic(task, syntactic) else "semantic"
        rho = _correlation(pooled[task])  # one bootstrap: the table's and the finding's
        rows.append(_row(task, kind, POOLED, pooled[task], rho))
        rows += [_row(task, kind, target, by_target[target, task],
                      _correlation(by_target[target, task]))
                 for target in targets if (target, task) in by_target]  # fmt: skip
        findings.append(_finding(task, kind, pooled[task], rho, len(targets)))
    difference_rows = _differences(pooled, by_target, targets, syntactic)
    findings.append(_comparison(difference_rows[0]))
    if unplaced:
        findings.append(f"languages without a URIEL syntactic distance, left out: "
                        f"{', '.join(unplaced)}")  # fmt: skip
    findings += notes
    header = ("intermediate", "kind", "target", "languages", "spearman rho", "low", "high",
              "slope per 0.1 distance")  # fmt: skip

    def figure(out: Path) -> None:
        series = {task: (list(pooled[task].distance), list(pooled[task].gain)) for task in tasks}
        plots.scatter(out, series, title="gain by syntactic distance from English",
                      x_label="URIEL syntactic distance from English",
                      y_label="gain, standardised within target (sd)")  # fmt: skip

    return Analysis(
        "syntax", "Syntactic intermediate tasks and typological distance", tuple(findings),
        (table("gain_by_distance", "gain against syntactic distance from English, per "
               "intermediate task: pooled over targets (standardised, slope in sd) and per "
               "target (its units); one point per language, 95% bootstrap interval over "
               "languages", header, rows),
         table("slope_difference", "slope of syntactic minus semantic tasks per 0.1 "
               "distance (paired over languages; 95% bootstrap interval over languages)",
               ("target", "languages", "difference", "low", "high", "note"), difference_rows),
         not_zero_shot("syntax", seen)),
        figure, unit=UNIT,
    )  # fmt: skip


def _distance(code: str) -> float | None:
    """The language's syntactic distance from English; None where URIEL has none or the
    language table does not list the code."""
    try:
        return distance_from_english(code)
    except StiltsError:
        return None


def _is_syntactic(task: str, syntactic: set[str]) -> bool:
    """A row is syntactic when its (first) phase's tasks are all syntactic."""
    return all(name in syntactic for name in task.split(" → ")[0].split("+"))


def _by_target(
    cells: dict[tuple[str, str, str], float], distances: dict[str, float]
) -> dict[tuple[str, str], Points]:
    """Each (target, task)'s points in the target's units."""
    grouped: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (task, target, code), gain in sorted(cells.items()):
        grouped[target, task][code] = gain
    return {key: _points(values, distances) for key, values in grouped.items()}


def _pooled(
    cells: dict[tuple[str, str, str], float], distances: dict[str, float]
) -> dict[str, Points]:
    """Each task's points pooled over targets: per language, the mean over its targets of
    its gain centred on the (task, target) mean, in sd of the target's gains."""
    by_target: dict[str, list[float]] = defaultdict(list)
    by_pair: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (task, target, _), gain in cells.items():
        by_target[target].append(gain)
        by_pair[task, target].append(gain)
    spread = {target: float(np.std(values)) for target, values in by_target.items()}
    centre = {pair: fmean(values) for pair, values in by_pair.items()}
    per_language: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (task, target, code), gain in cells.items():
        scaled = (gain - centre[task, target]) / spread[target] if spread[target] else 0.0
        per_language[task][code].append(scaled)
    return {
        task: _points({code: fmean(v) for code, v in values.items()}, distances)
        for task, values in per_language.items()
    }


def _points(gain: dict[str, float], distances: dict[str, float]) -> Points:
    languages = tuple(sorted(gain))
    return Points(languages, np.array([distances[c] for c in languages]),
                  np.array([gain[c] for c in languages]))  # fmt: skip


def _correlation(points: Points) -> Estimate | TooFewPoints:
    """Spearman's rho between distance and gain, or why it cannot be computed."""
    try:
        return spearman(points.distance, points.gain, minimum=MINIMUM, unit="languages")
    except TooFewPoints as error:
        return error


def _row(
    task: str, kind: str, target: str, points: Points, rho: Estimate | TooFewPoints
) -> tuple[Cell, ...]:
    shown = (None,) * 3 if isinstance(rho, TooFewPoints) else (rho.value, rho.low, rho.high)
    return (task, kind, target, len(points.languages), *shown, points.slope())


def _finding(
    task: str, kind: str, points: Points, rho: Estimate | TooFewPoints, targets: int
) -> str:
    if isinstance(rho, TooFewPoints):
        return f"{task} ({kind}): not computed: {rho}"
    verdict = {
        -1: "its gains fall with syntactic distance from English",
        1: "its gains grow with syntactic distance from English",
        0: "no evidence that its gains depend on syntactic distance",
    }[rho.sign]
    pooled = f"{targets} targets pooled, " if targets > 1 else ""
    return (
        f"{task} ({kind}): Spearman rho (distance, gain) = {rho.text()} over "
        f"{len(points.languages)} languages (95% bootstrap interval over languages; "
        f"{pooled}gains standardised within each target), slope {points.slope():+.2f} sd per "
        f"0.1 distance: {verdict}"
    )


def _differences(
    pooled: dict[str, Points],
    by_target: dict[tuple[str, str], Points],
    targets: Sequence[str],
    syntactic: set[str],
) -> list[tuple[Cell, ...]]:
    """The paired slope difference, pooled (first) and on each target alone."""
    rows = [(POOLED, *_difference(pooled, syntactic))]
    for target in targets:
        on_target = {task: p for (t, task), p in by_target.items() if t == target}
        rows.append((target, *_difference(on_target, syntactic)))
    return rows


def _difference(points: dict[str, Points], syntactic: set[str]) -> tuple[Cell, ...]:
    """(languages, difference, low, high, note): the slope of each language's mean gain
    from the syntactic tasks minus its mean gain from the semantic ones, over the languages
    both kinds are scored in, with its bootstrap interval over languages."""
    kinds: dict[bool, dict[str, list[float]]] = {True: defaultdict(list), False: defaultdict(list)}
    distance: dict[str, float] = {}
    for task, p in points.items():
        for code, d, gain in zip(p.languages, p.distance, p.gain, strict=True):
            kinds[_is_syntactic(task, syntactic)][code].append(float(gain))
            distance[code] = float(d)
    both = sorted(set(kinds[True]) & set(kinds[False]))
    if len(both) < MINIMUM:
        return (len(both), None, None, None, f"not compared: each kind needs at least "
                f"{MINIMUM} languages scored in both (got {len(both)})")  # fmt: skip
    x = np.array([distance[c] for c in both])
    y = np.array([fmean(kinds[True][c]) - fmean(kinds[False][c]) for c in both])
    value = float(weighted_slope(x, y, observed(len(x)))[0] / 10)
    low, high = percentile_interval(weighted_slope(x, y, cluster_weights(both)) / 10)
    return (len(both), value, low, high, "")


def _comparison(pooled: tuple[Cell, ...]) -> str:
    """The finding on the pooled slope difference."""
    _, languages, difference, low, high, note = pooled
    if not isinstance(difference, float):
        return f"syntactic against semantic tasks not compared: {note}"
    if isinstance(low, float) and isinstance(high, float) and (low > 0 or high < 0):
        verdict = (
            "syntactic tasks' gains hold up better with distance than semantic tasks'"
            if low > 0
            else "syntactic tasks' gains fall off faster with distance than semantic tasks'"
        )
    else:
        verdict = "no evidence that syntactic and semantic tasks differ in this"
    interval = f" [{low:+.2f}, {high:+.2f}]" if isinstance(low, float) else ""
    return (
        f"slope of syntactic minus semantic tasks: {difference:+.2f}{interval} sd per 0.1 "
        f"distance over {languages} languages (95% bootstrap interval over languages, both "
        f"kinds on the same languages): {verdict}"
    )
