"""Question 2: does the resource level of the intermediate-training language matter?

From a grid whose rows train one intermediate task in different languages (its translated
data variant: ``{tasks: [mnli], label: mnli-sw, translate: {mnli: [sw]}}``): each gain over
the target alone, by the resource class (Joshi et al. 2020, 0 to 5, from
`stilts/reports/languages.csv`) of the intermediate-training language and of the target
language. Whether lower-resource intermediate languages help more is Spearman's rho between
the intermediate language's class and the gain, with a bootstrap interval, overall and for
each target-language class.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, table
from stilts.reports.analysis.runs import Run, gains, read_runs
from stilts.reports.analysis.stats import TooFewPoints, mean_std, spearman
from stilts.reports.languages import language

Point = tuple[str, int, int, int, float]
"""(intermediate language, its class, target language class, seed, gain)."""


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
    points: list[Point] = []
    for g in found:
        source = training_language(g.run) if len(g.run.phases) == 2 else None
        if source is None:
            continue
        source_class, target_class = resource_class(source), resource_class(g.language)
        if source_class is not None and target_class is not None:
            points.append((source, source_class, target_class, g.seed, g.gain))
    if not points:
        raise StiltsError(
            f"{path} holds no single-language intermediate phase with its baseline: run a grid "
            "of one task translated into several languages (translate: {task: [LANG]}), with "
            "baselines"
        )
    rows = []
    by_cell: dict[tuple[str, int, int], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for source, source_class, target_class, seed, gain in points:
        by_cell[(source, source_class, target_class)][seed].append(gain)
    for (source, source_class, target_class), seeds in sorted(by_cell.items()):
        mean, std = mean_std([fmean(values) for values in seeds.values()])
        count = sum(len(values) for values in seeds.values())
        rows.append((source, source_class, target_class, len(seeds), count, mean, std))
    classes = sorted({p[1] for p in points}), sorted({p[2] for p in points})
    matrix = [
        [_mean([p[4] for p in points if p[1] == s and p[2] == t]) for t in classes[1]]
        for s in classes[0]
    ]
    findings = [_trend("all target languages", points)]
    findings += [
        _trend(f"target languages of class {t}", [p for p in points if p[2] == t])
        for t in classes[1]
    ]
    findings += notes

    def figure(out: Path) -> None:
        plots.heatmap(
            out, matrix, [f"class {s}" for s in classes[0]], [f"class {t}" for t in classes[1]],
            title="gain by resource class: intermediate language (rows), target (columns)",
            label="gain over the target alone", diverging=True,
        )  # fmt: skip

    header = ("intermediate language", "its class", "target class", "seeds", "gains", "gain",
              "std over seeds")  # fmt: skip
    return Analysis(
        "resource", "Resource level of the intermediate-training language", tuple(findings),
        (table("gains_by_resource", "gain by the resource class of the intermediate language "
               "and of the target language", header, rows),),
        figure,
    )  # fmt: skip


def _mean(values: list[float]) -> float:
    return fmean(values) if values else float("nan")


def _trend(scope: str, points: list[Point]) -> str:
    """Spearman between the intermediate language's class and the gain (each point one
    (target language, seed) gain)."""
    try:
        rho = spearman([p[1] for p in points], [p[4] for p in points])
    except TooFewPoints as error:
        return f"{scope}: not computed: {error}"
    verdict = {
        -1: "lower-resource intermediate languages give larger gains",
        1: "higher-resource intermediate languages give larger gains",
        0: "no evidence that the intermediate language's resource class matters",
    }[rho.sign]
    return (
        f"{scope}: Spearman rho (intermediate language's resource class, gain) = "
        f"{rho.text()} over {len(points)} gains (95% bootstrap interval): {verdict}"
    )
