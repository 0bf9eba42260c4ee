"""Question 1: which intermediate tasks help most, and is the ranking the same in every
language family?

From a grid's runs: each (intermediate, target, language, seed)'s gain over the target trained
alone, grouped by the language's WALS family (`stilts.reports.languages`). Per family, the
intermediate tasks are ranked by their mean gain; the families' rankings are compared with
Kendall's W (one statistic for all families, Friedman's test for its p-value, a bootstrap
interval over each family's (target, language) pairs) and pairwise Kendall tau.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from statistics import fmean

import numpy as np

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, table
from stilts.reports.analysis.runs import Gain, gains, read_runs
from stilts.reports.analysis.stats import TooFewPoints, bootstrap, kendall_tau, kendall_w, mean_std
from stilts.reports.languages import language

UNIT = "a (target, language) pair of a family; intervals resample each family's pairs"
Unit = tuple[str, str]
"""A (target, language) pair: what a family's mean gain averages over."""


def family_of(code: str) -> str:
    try:
        return language(code).family
    except StiltsError:
        return "(unknown)"


def analyze(path: Path) -> Analysis:
    found, notes = gains(read_runs(path))
    if not found:
        raise StiltsError(
            f"{path} holds no chain with a baseline (the target trained alone, same seed): "
            "run a grid with baselines"
        )
    tasks = sorted({g.intermediate for g in found})
    seeds = sorted({g.seed for g in found})
    by_family = _by_family(found)
    # One gain per (family, unit, task): the mean over seeds. The seeds' spread is reported
    # from the per-seed family means.
    means = {
        family: {unit: {task: fmean(v) for task, v in per_task.items()}
                 for unit, per_task in units.items()}
        for family, units in by_family.items()
    }  # fmt: skip
    rows, ranking = [], {}
    for family in sorted(means):
        for task in tasks:
            per_seed = _per_seed(found, family, task)
            if not per_seed:
                continue
            mean, std = mean_std(per_seed)
            units = sum(task in gains_of for gains_of in means[family].values())
            rows.append((task, family, units, len(per_seed), mean, std))
        known = {t: m for t in tasks if (m := _family_mean(means[family], t)) is not None}
        ranking[family] = sorted(known, key=lambda t: -known[t])
    overall = sorted(tasks, key=lambda t: -fmean(g.gain for g in found if g.intermediate == t))
    findings = [
        "intermediate tasks by mean gain over every target and language: "
        + ", ".join(
            f"{t} ({fmean(g.gain for g in found if g.intermediate == t):+.2f})" for t in overall
        ),
        _seeds_note(seeds),
        *_agreement(means, tasks),
        *notes,
    ]
    rank_rows = [(family, len(means[family]), " > ".join(ranking[family])) for family in ranking]
    pairs = _pairwise(means, tasks)
    tables = (
        table("gains_by_family", "mean gain by language family (mean ± std over seeds)",
              ("intermediate", "family", "pairs", "seeds", "gain", "std"), rows),
        table("ranking_by_family", "intermediate tasks ranked by mean gain, per family",
              ("family", "pairs", "ranking"), rank_rows),
        table("family_agreement", "pairwise agreement of the families' rankings",
              ("family", "other family", "kendall tau", "p"), pairs),
    )  # fmt: skip
    families = sorted(means)

    def figure(out: Path) -> None:
        values = [[_family_mean(means[f], t) or float("nan") for f in families] for t in tasks]
        plots.heatmap(
            out, values, tasks, families, title="mean gain by language family",
            label="gain over no intermediate task", diverging=True,
        )  # fmt: skip

    return Analysis("families", "Task hierarchy across language families", tuple(findings),
                    tables, figure, unit=UNIT)  # fmt: skip


def _by_family(found: Sequence[Gain]) -> dict[str, dict[Unit, dict[str, list[float]]]]:
    grouped: dict[str, dict[Unit, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for g in found:
        grouped[family_of(g.language)][(g.target, g.language)][g.intermediate].append(g.gain)
    return grouped


def _per_seed(found: Sequence[Gain], family: str, task: str) -> list[float]:
    """The family's mean gain for `task`, one value per seed."""
    seeds: dict[int, list[float]] = defaultdict(list)
    for g in found:
        if g.intermediate == task and family_of(g.language) == family:
            seeds[g.seed].append(g.gain)
    return [fmean(values) for _, values in sorted(seeds.items())]


def _family_mean(units: dict[Unit, dict[str, float]], task: str) -> float | None:
    values = [per_task[task] for per_task in units.values() if task in per_task]
    return fmean(values) if values else None


def _complete(
    means: dict[str, dict[Unit, dict[str, float]]], tasks: list[str]
) -> dict[str, list[list[float]]]:
    """Each family's units that have every task (the rankings compare like with like)."""
    return {
        family: [[per_task[t] for t in tasks] for per_task in units.values()
                 if all(t in per_task for t in tasks)]
        for family, units in means.items()
    }  # fmt: skip


def _agreement(means: dict[str, dict[Unit, dict[str, float]]], tasks: list[str]) -> list[str]:
    families = {f: np.array(u) for f, u in _complete(means, tasks).items() if u}
    matrix = np.array([units.mean(axis=0) for units in families.values()])
    try:
        w, p = kendall_w(matrix)
    except TooFewPoints as error:
        return [f"agreement between families not computed: {error}"]

    def resampled(rng: np.random.Generator) -> float:
        rows = [units[rng.integers(0, len(units), len(units))].mean(axis=0)
                for units in families.values()]  # fmt: skip
        return kendall_w(np.array(rows))[0]

    low, high = bootstrap(resampled)
    interval = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
    verdict = (
        "the families rank the intermediate tasks alike"
        if p < 0.05
        else "no significant agreement between the families' rankings (see each family's "
        "ranking; with few families the test has little power)"
    )
    thin = [f for f, units in families.items() if len(units) < 2]
    caveat = f"; one (target, language) pair only in {', '.join(thin)}" if thin else ""
    return [
        f"Kendall's W = {w:.2f}{interval} over {len(families)} families and {len(tasks)} tasks "
        f"(Friedman p = {p:.3g}; 95% bootstrap interval over each family's (target, language) "
        f"pairs): {verdict}{caveat}"
    ]


def _pairwise(
    means: dict[str, dict[Unit, dict[str, float]]], tasks: list[str]
) -> list[tuple[str, str, float, float | None]]:
    families = {f: np.array(u).mean(axis=0) for f, u in _complete(means, tasks).items() if u}
    rows = []
    for a, b in combinations(sorted(families), 2):
        try:
            tau = kendall_tau(families[a], families[b])
        except TooFewPoints:
            return []
        rows.append((a, b, tau.value, tau.p_value))
    return rows


def _seeds_note(seeds: list[int]) -> str:
    if len(seeds) < 2:
        return "one seed: the spread over seeds is unknown (run the grid with --seeds 3)"
    return f"{len(seeds)} seeds: gains are means over seeds, std their spread"
