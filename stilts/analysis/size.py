"""Question 3 (size): does more intermediate data help more, and how robustly?

From a grid whose rows train one intermediate task on different amounts of data (rows such
as ``{tasks: [mnli], label: mnli-10k, hyperparameters: {max_train_examples: 10000}}``): per
(intermediate task, target, size), the zero-shot score and gain over the target alone, with
their robustness: the spread over languages, over language families and over seeds. Whether
the gain grows with size is Spearman's rho between size and each seed's mean gain, with a
bootstrap interval. The size is the number of rows the phase trained on, as its manifest
recorded it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean, pstdev

from stilts import plots
from stilts.analysis.families import family_of
from stilts.analysis.report import Analysis, table
from stilts.analysis.runs import Gain, Run, gains, read_runs
from stilts.analysis.stats import TooFewPoints, mean_std, spearman
from stilts.errors import StiltsError

Key = tuple[str, str, int]
"""(intermediate task, target, training rows)."""


def analyze(path: Path) -> Analysis:
    found, notes = gains(read_runs(path))
    cells: dict[Key, list[Gain]] = defaultdict(list)
    for g in found:
        if len(g.run.phases) == 2:  # one intermediate phase: its size is the question
            cells[(g.run.phases[0], g.target, _rows(g.run))].append(g)
    if not cells:
        raise StiltsError(
            f"{path} holds no intermediate → target chain with its baseline (same target and "
            "seed, trained alone): run a size-sweep grid with baselines"
        )
    rows, findings, series = [], [], {}
    for task, target in sorted({(t, g) for t, g, _ in cells}):
        sizes = sorted(size for t, g, size in cells if (t, g) == (task, target))
        points, means, spreads = [], [], []
        for size in sizes:
            cell = cells[(task, target, size)]
            seeds: dict[int, list[float]] = defaultdict(list)
            families: dict[str, list[float]] = defaultdict(list)
            for g in cell:
                seeds[g.seed].append(g.gain)
                families[family_of(g.language)].append(g.score)
            per_seed = [fmean(values) for _, values in sorted(seeds.items())]
            scores = [g.score for g in cell]
            by_family = [fmean(values) for values in families.values()]
            gain, seed_spread = mean_std(per_seed)
            rows.append((
                task, target, size, len(seeds), fmean(scores), gain, pstdev(scores),
                pstdev(by_family) if len(by_family) > 1 else None, seed_spread,
            ))  # fmt: skip
            points += [(size, value) for value in per_seed]
            means.append(gain)
            spreads.append(seed_spread or 0.0)
        series[f"{task} → {target}"] = (sizes, means, spreads)
        findings.append(_trend(task, target, points, len(sizes)))
    findings += notes
    header = ("intermediate", "target", "rows", "seeds", "score", "gain", "spread languages",
              "spread families", "spread seeds")  # fmt: skip

    def figure(out: Path) -> None:
        plots.lines(out, series, title="gain over the target alone by intermediate data size",
                    x_label="intermediate training rows", y_label="gain (± std over seeds)",
                    log_x=True)  # fmt: skip

    return Analysis(
        "size", "Intermediate data size", tuple(findings),
        (table("by_size", "score and gain by intermediate data size (robustness: std over "
               "languages, families and seeds)", header, rows),),
        figure,
    )  # fmt: skip


def _rows(run: Run) -> int:
    """The rows the intermediate phase trained on, as its manifest recorded them."""
    return int(run.manifest["phases"][0]["train_rows"])


def _trend(task: str, target: str, points: list[tuple[int, float]], sizes: int) -> str:
    name = f"{task} → {target}"
    if sizes < 3:
        return f"{name}: size trend not computed: it needs at least 3 sizes (got {sizes})"
    try:
        rho = spearman([size for size, _ in points], [gain for _, gain in points])
    except TooFewPoints as error:
        return f"{name}: size trend not computed: {error}"
    verdict = {
        1: "the gain grows with intermediate data size",
        -1: "the gain shrinks as intermediate data grows",
        0: "no evidence that the gain depends on intermediate data size",
    }[rho.sign]
    return (
        f"{name}: Spearman rho (size, each seed's mean gain) = {rho.text()} over "
        f"{len(points)} points (95% bootstrap interval): {verdict}"
    )
