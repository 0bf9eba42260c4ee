"""Question 2: does the resource level of the intermediate-training language matter?

From a grid whose rows train one intermediate task in different languages (its translated
data variant: ``{tasks: [mnli], label: mnli-sw, translate: {mnli: [sw]}}``): each gain over
the target alone, by the resource class (Joshi et al. 2020, 0 to 5, from
`stilts/reports/languages.csv`) of the intermediate-training language and of the target
language.

The unit of analysis is the run: one intermediate training (a row of the grid, with a seed).
What is tested, the intermediate language's class, changes only from one run to the next, and
each run's noise (its initialisation, its data order) is shared by every language it is
scored in; a gain per (run, target language) would count one run's luck once per language.
So each chain gives one number, its mean gain over the target's zero-shot languages, and the
intervals resample runs (a run carries all its targets with it: the targets continue from
the same intermediate model).

Zero-shot means no phase trained in the language. English (the targets train in it) and
every intermediate language that any compared run trained in are left out of every run's
mean, not only of the run that trained in it: a run would otherwise average other languages
than its neighbours, and since the language it leaves out has its own class, the exclusion
alone would correlate with the class. Their gains are shown apart (resource_not_zero_shot).

Targets score in different units (accuracy, F1) and spreads, so runs are pooled over targets
on gains standardised within each target (`stats.standardise`); each target's own trend, on
its raw gains, is always reported beside the pooled one. Whether lower-resource intermediate
languages help more is Spearman's rho between the run's intermediate class and its gain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import fmean

import numpy as np

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, Table, not_zero_shot, table
from stilts.reports.analysis.runs import Gain, Run, gains, read_runs
from stilts.reports.analysis.stats import (
    Estimate,
    TooFewPoints,
    mean_std,
    spearman,
    standardise,
)
from stilts.reports.languages import language
from stilts.reports.tables import Cell

UNIT = (
    "a run (one intermediate training: a grid row and a seed). Each chain's gain is its mean "
    "over the target's zero-shot languages; intervals resample runs, each with all its "
    "targets. Targets are pooled on gains standardised within each target; each target's own "
    "trend is in resource_trends"
)
POOLED = "pooled (standardised)"
Unit = tuple[str, str, int]
"""A run: its grid row, its intermediate language and its seed."""
Scope = int | None
"""The target languages a chain's mean is over: those of one resource class, or all (None)."""
Means = dict[tuple[Unit, str], float]
"""(run, target) -> the chain's mean zero-shot gain."""


def training_language(run: Run) -> str | None:
    """The one language the intermediate phase trained in: its translation when the run
    trained on one, else the task's own; None when it mixed several (not comparable here)."""
    task = run.phases[0]
    translated = run.training_data(0, task).get("languages")
    if translated:
        return translated[0] if len(translated) == 1 else None
    return run.phase_spec(0).get("train_language", "en")


def resource_class(code: str) -> int | None:
    try:
        return language(code).resource_class
    except StiltsError:
        return None


def analyze(path: Path) -> Analysis:
    found, notes = gains(read_runs(path))
    usable = [g for g in found if _source_class(g.run) is not None
              and resource_class(g.language) is not None]  # fmt: skip
    if not usable:
        raise StiltsError(
            f"{path} holds no single-language intermediate phase with its baseline: run a grid "
            "of one task translated into several languages (translate: {task: [LANG]}), with "
            "baselines"
        )
    trained = frozenset().union(*(g.run.trained_languages for g in usable)) & {
        g.language for g in usable
    }
    zero_shot = [g for g in usable if g.language not in trained]
    scopes: list[Scope] = [None, *sorted({_target_class(g) for g in zero_shot})]
    means = {scope: _chain_means(zero_shot, scope) for scope in scopes}
    classes = {unit: _unit_class(unit) for scope_means in means.values()
               for unit, _ in scope_means}  # fmt: skip
    targets = sorted({g.target for g in zero_shot})
    findings, trend_rows = [], []
    for scope in scopes:
        for target in [POOLED, *targets]:
            values = _pooled(means[scope]) if target == POOLED else _of_target(means[scope], target)
            estimate = _correlation([classes[unit] for unit in values], list(values.values()))
            trend_rows.append(_trend_row(scope, target, len(values), estimate))
            if target == POOLED or (scope is None and len(targets) > 1):
                findings.append(_finding(scope, target, len(targets), len(values), estimate))
    findings.append(
        f"left out of every run's zero-shot mean, as some compared run trained in them: "
        f"{', '.join(sorted(trained))} (so every run averages the same languages; the gains "
        "in a run's own training languages are in resource_not_zero_shot)"
    )
    findings += notes
    matrix, row_classes, column_classes = _heatmap(means, classes)

    def figure(out: Path) -> None:
        plots.heatmap(
            out, matrix, [f"class {s}" for s in row_classes],
            [f"class {t}" for t in column_classes],
            title="gain by resource class: intermediate language (rows), target (columns)",
            label="mean gain over runs, standardised within target (sd)", diverging=True,
        )  # fmt: skip

    return Analysis(
        "resource", "Resource level of the intermediate-training language", tuple(findings),
        (_gains_table(zero_shot), _trends_table(trend_rows),
         not_zero_shot("resource", [g for g in usable if not g.zero_shot])),
        figure, unit=UNIT,
    )  # fmt: skip


def _source_class(run: Run) -> int | None:
    """The class of the run's one intermediate language (None: not one such phase)."""
    source = training_language(run) if len(run.phases) == 2 else None
    return None if source is None else resource_class(source)


def _target_class(g: Gain) -> int:
    return resource_class(g.language) or 0  # only classified languages reach here


def _unit(g: Gain) -> Unit:
    return (g.intermediate, training_language(g.run) or "", g.seed)


def _unit_class(unit: Unit) -> int:
    return resource_class(unit[1]) or 0


def _chain_means(zero_shot: Iterable[Gain], scope: Scope) -> Means:
    """Each chain's mean gain over its target languages of class `scope` (None: all)."""
    by_chain: dict[tuple[Unit, str], list[float]] = defaultdict(list)
    for g in zero_shot:
        if scope is None or _target_class(g) == scope:
            by_chain[(_unit(g), g.target)].append(g.gain)
    return {chain: fmean(values) for chain, values in by_chain.items()}


def _of_target(means: Means, target: str) -> dict[Unit, float]:
    return {unit: gain for (unit, t), gain in means.items() if t == target}


def _pooled(means: Means) -> dict[Unit, float]:
    """Each run's gain standardised within each target, averaged over its targets."""
    keys = list(means)
    z = standardise(np.array([means[key] for key in keys]), [target for _, target in keys])
    per_unit: dict[Unit, list[float]] = defaultdict(list)
    for (unit, _), value in zip(keys, z, strict=True):
        per_unit[unit].append(float(value))
    return {unit: fmean(values) for unit, values in per_unit.items()}


def _correlation(classes: Sequence[int], values: Sequence[float]) -> Estimate | TooFewPoints:
    """Spearman between the intermediate class and the gain, one point per run."""
    try:
        return spearman(classes, values, unit="runs")
    except TooFewPoints as error:
        return error


def _scope_text(scope: Scope) -> str:
    return "all target languages" if scope is None else f"target languages of class {scope}"


def _finding(
    scope: Scope, target: str, targets: int, runs: int, rho: Estimate | TooFewPoints
) -> str:
    """The pooled finding starts with its scope alone (``all target languages:``); a
    target's own starts with the scope and the target."""
    where = _scope_text(scope) + ("" if target == POOLED else f", {target} alone")
    if isinstance(rho, TooFewPoints):
        return f"{where}: not computed: {rho}"
    verdict = {
        -1: "lower-resource intermediate languages give larger gains",
        1: "higher-resource intermediate languages give larger gains",
        0: "no evidence that the intermediate language's resource class matters",
    }[rho.sign]
    pooled = (
        f"; {targets} targets pooled, gains standardised within each"
        if target == POOLED and targets > 1
        else ""
    )
    return (
        f"{where}: Spearman rho (intermediate language's resource class, gain) = "
        f"{rho.text()} over {runs} runs (95% bootstrap interval over runs{pooled}): {verdict}"
    )


def _trend_row(
    scope: Scope, target: str, runs: int, rho: Estimate | TooFewPoints
) -> tuple[Cell, ...]:
    shown: tuple[Cell, ...] = (
        (None,) * 4 if isinstance(rho, TooFewPoints) else (rho.value, rho.low, rho.high,
                                                          rho.p_value)
    )  # fmt: skip
    note = f"not computed: {rho}" if isinstance(rho, TooFewPoints) else ""
    return (_scope_text(scope), target, runs, *shown, note)


def _trends_table(rows: Sequence[tuple[Cell, ...]]) -> Table:
    return table("resource_trends", "Spearman's rho between the intermediate language's class "
                 "and the gain, one point per run (95% bootstrap interval over runs): pooled "
                 "over targets on standardised gains, and each target on its own",
                 ("target languages", "target", "runs", "rho", "low", "high", "p", "note"),
                 rows)  # fmt: skip


def _gains_table(zero_shot: Sequence[Gain]) -> Table:
    """Mean zero-shot gain per (intermediate language, target, target class), in the
    target's own units, with its spread over seeds."""
    cells: dict[tuple[str, int, str, int], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    languages: dict[tuple[str, int, str, int], set[str]] = defaultdict(set)
    for g in zero_shot:
        source = training_language(g.run) or ""
        key = (source, _unit_class(_unit(g)), g.target, _target_class(g))
        cells[key][g.seed].append(g.gain)
        languages[key].add(g.language)
    rows = [
        (*key, len(seeds), len(languages[key]),
         *mean_std([fmean(values) for values in seeds.values()]))
        for key, seeds in sorted(cells.items())
    ]  # fmt: skip
    header = ("intermediate language", "its class", "target", "target class", "seeds",
              "languages", "gain", "std over seeds")  # fmt: skip
    return table("gains_by_resource", "zero-shot gain by the resource class of the "
                 "intermediate language and of the target language", header, rows)  # fmt: skip


def _heatmap(
    means: dict[Scope, Means], classes: dict[Unit, int]
) -> tuple[list[list[float]], list[int], list[int]]:
    """Mean standardised run gain per (intermediate class, target class)."""
    rows, columns = sorted(set(classes.values())), sorted(s for s in means if s is not None)
    pooled = {scope: _pooled(means[scope]) for scope in columns}
    matrix = [
        [_mean([v for unit, v in pooled[t].items() if classes[unit] == s]) for t in columns]
        for s in rows
    ]
    return matrix, rows, columns


def _mean(values: list[float]) -> float:
    return fmean(values) if values else float("nan")
