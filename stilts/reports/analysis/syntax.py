"""Question 5: do syntactic intermediate tasks transfer differently with typological distance?

From a grid whose rows include syntactic intermediate tasks (dependency parsing, `udparse`;
CCG supertagging, `ccg`) beside semantic ones (MNLI, SQuAD…): each target language's gain,
averaged over seeds, against the language's syntactic distance from English (URIEL through
lang2vec, `stilts.reports.typology`). Per intermediate task, Spearman's rho between distance and
gain with a bootstrap interval, and the least-squares slope (gain per 0.1 of distance); then
the syntactic tasks' slope against the semantic tasks' slope, with a bootstrap interval over
the (target, language) pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from statistics import fmean

import numpy as np

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, table
from stilts.reports.analysis.runs import gains, read_runs
from stilts.reports.analysis.stats import Estimate, TooFewPoints, bootstrap, spearman
from stilts.reports.typology import distance_from_english

SYNTACTIC = ("udparse", "ccg")
"""The syntactic intermediate tasks stilts ships; `analyze(syntactic=...)` names others."""
MINIMUM = 5
"""Fewest (target, language) points a slope or a correlation is computed from."""

UNIT = "a (target, language) pair; intervals resample the pairs as independent"
Point = tuple[str, str, float, float]
"""(target, language, syntactic distance from English, gain averaged over seeds)."""


def analyze(path: Path, syntactic: Iterable[str] = SYNTACTIC) -> Analysis:
    syntactic = set(syntactic)
    found, notes = gains(read_runs(path))
    per_seed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for g in found:
        per_seed[(g.intermediate, g.target, g.language)].append(g.gain)
    points: dict[str, list[Point]] = defaultdict(list)
    unplaced = set()
    for (task, target, code), values in sorted(per_seed.items()):
        distance = _distance(code)
        if distance is None:
            unplaced.add(code)
            continue
        points[task].append((target, code, distance, fmean(values)))
    if not points:
        raise StiltsError(
            f"{path} holds no chain with a baseline in a language URIEL places: run a grid "
            "with baselines"
        )
    rows, findings = [], []
    for task in sorted(points):
        kind = "syntactic" if _is_syntactic(task, syntactic) else "semantic"
        rho = _correlation(points[task])  # one bootstrap per task: the table's and finding's
        shown = (None,) * 3 if isinstance(rho, TooFewPoints) else (rho.value, rho.low, rho.high)
        rows.append((task, kind, len(points[task]), *shown, _slope(points[task])))
        findings.append(_finding(task, kind, points[task], rho))
    findings.append(_comparison(points, syntactic))
    if unplaced:
        findings.append(f"languages without a URIEL syntactic distance, left out: "
                        f"{', '.join(sorted(unplaced))}")  # fmt: skip
    findings += notes
    header = ("intermediate", "kind", "points", "spearman rho", "low", "high",
              "slope per 0.1 distance")  # fmt: skip

    def figure(out: Path) -> None:
        series = {
            task: ([p[2] for p in group], [p[3] for p in group])
            for task, group in sorted(points.items())
        }
        plots.scatter(out, series, title="gain by syntactic distance from English",
                      x_label="URIEL syntactic distance from English",
                      y_label="gain over the target alone")  # fmt: skip

    return Analysis(
        "syntax", "Syntactic intermediate tasks and typological distance", tuple(findings),
        (table("gain_by_distance", "gain against syntactic distance from English, per "
               "intermediate task", header, rows),),
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


def _slope(points: list[Point]) -> float:
    """Least-squares gain change per 0.1 of syntactic distance."""
    x = np.array([p[2] for p in points])
    y = np.array([p[3] for p in points])
    if np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0] / 10)


def _correlation(points: list[Point]) -> Estimate | TooFewPoints:
    """Spearman's rho between distance and gain, or why it cannot be computed."""
    try:
        return spearman([p[2] for p in points], [p[3] for p in points], minimum=MINIMUM)
    except TooFewPoints as error:
        return error


def _finding(task: str, kind: str, points: list[Point], rho: Estimate | TooFewPoints) -> str:
    if isinstance(rho, TooFewPoints):
        return f"{task} ({kind}): not computed: {rho}"
    verdict = {
        -1: "its gains fall with syntactic distance from English",
        1: "its gains grow with syntactic distance from English",
        0: "no evidence that its gains depend on syntactic distance",
    }[rho.sign]
    return (
        f"{task} ({kind}): Spearman rho (distance, gain) = {rho.text()} over {len(points)} "
        f"(target, language) pairs, slope {_slope(points):+.2f} per 0.1 distance: {verdict}"
    )


def _comparison(points: dict[str, list[Point]], syntactic: set[str]) -> str:
    """Syntactic tasks' slope minus semantic tasks' slope, resampling each group's points."""
    groups: dict[bool, list[Point]] = {True: [], False: []}
    for task, group in points.items():
        groups[_is_syntactic(task, syntactic)].extend(group)
    if len(groups[True]) < MINIMUM or len(groups[False]) < MINIMUM:
        return (
            "syntactic against semantic tasks not compared: each kind needs at least "
            f"{MINIMUM} (target, language) points (got {len(groups[True])} syntactic, "
            f"{len(groups[False])} semantic)"
        )
    syn, sem = (np.array(groups[kind], dtype=object) for kind in (True, False))
    difference = _slope(groups[True]) - _slope(groups[False])

    def resampled(rng: np.random.Generator) -> float:
        a = syn[rng.integers(0, len(syn), len(syn))]
        b = sem[rng.integers(0, len(sem), len(sem))]
        return _slope(list(map(tuple, a))) - _slope(list(map(tuple, b)))

    low, high = bootstrap(resampled)
    if low is not None and high is not None and (low > 0 or high < 0):
        verdict = (
            "syntactic tasks' gains hold up better with distance than semantic tasks'"
            if low > 0
            else "syntactic tasks' gains fall off faster with distance than semantic tasks'"
        )
    else:
        verdict = "no evidence that syntactic and semantic tasks differ in this"
    interval = f" [{low:+.2f}, {high:+.2f}]" if low is not None else ""
    return (
        f"slope of syntactic minus semantic tasks: {difference:+.2f}{interval} per 0.1 "
        f"distance (95% bootstrap interval over the points): {verdict}"
    )
