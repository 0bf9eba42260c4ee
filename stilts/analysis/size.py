"""Question 3 (size and diversity): does more intermediate data help more, does more diverse
data help more at the same size, and how robustly?

From a grid whose rows train one intermediate task on different amounts of data (rows such
as ``{tasks: [mnli], label: mnli-10k, hyperparameters: {max_train_examples: 10000}}``) or on
different numbers of its named groups at one size (``groups: {mnli: [fiction, slate]}``, an
equal share from each): per (intermediate task, target, size) and per (intermediate task,
target, size, number of groups), the zero-shot score and gain over the target alone, with
their robustness: the spread over languages, over language families and over seeds. Whether
the gain grows with size, or with the number of groups at a fixed size, is Spearman's rho
with a bootstrap interval. The size is the number of rows the phase trained on, as its
manifest recorded it; the groups are those its configuration named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import fmean, pstdev

from stilts import plots
from stilts.analysis.families import family_of
from stilts.analysis.report import Analysis, Cell, table
from stilts.analysis.runs import Gain, Run, gains, read_runs
from stilts.analysis.stats import TooFewPoints, mean_std, spearman
from stilts.errors import StiltsError

Sweep = tuple[str, str, int]
"""(intermediate task, target, training rows)."""
ROBUSTNESS = ("seeds", "score", "gain", "spread languages", "spread families", "spread seeds")


def analyze(path: Path) -> Analysis:
    found, notes = gains(read_runs(path))
    by_size: dict[Sweep, list[Gain]] = defaultdict(list)
    by_groups: dict[Sweep, dict[int, list[Gain]]] = defaultdict(lambda: defaultdict(list))
    for g in found:
        if len(g.run.phases) != 2:  # one intermediate phase: its data is the question
            continue
        sweep = (g.run.phases[0], g.target, _rows(g.run))
        chosen = _groups(g.run)
        if chosen:
            by_groups[sweep][len(chosen)].append(g)
        else:
            by_size[sweep].append(g)
    if not by_size and not by_groups:
        raise StiltsError(
            f"{path} holds no intermediate → target chain with its baseline (same target and "
            "seed, trained alone): run a size or diversity grid with baselines"
        )
    size_rows, findings, size_series = _sizes(by_size)
    group_rows, group_findings, group_series = _diversity(by_groups)
    findings += group_findings + notes
    panels = [
        plots.Panel(series, title, x_label, "gain (± std over seeds)", log_x=log_x)
        for series, title, x_label, log_x in (
            (size_series, "gain over the target alone by intermediate data size",
             "intermediate training rows", True),
            (group_series, "gain by number of groups at a fixed size", "groups", False),
        )
        if series
    ]  # fmt: skip
    tables = (
        table("by_size", "score and gain by intermediate data size (robustness: std over "
              "languages, families and seeds)", ("intermediate", "target", "rows", *ROBUSTNESS),
              size_rows),
        table("by_groups", "score and gain by number of groups at a fixed size (an equal "
              "share of the rows from each)", ("intermediate", "target", "rows", "groups",
              "chosen", *ROBUSTNESS), group_rows),
    )  # fmt: skip
    return Analysis(
        "size", "Intermediate data size and diversity", tuple(findings),
        tuple(t for t in tables if t.rows),
        lambda out: plots.lines(out, *panels),
    )  # fmt: skip


def _sizes(cells: dict[Sweep, list[Gain]]) -> tuple[list, list[str], dict]:
    """The size table's rows, each sweep's trend and the figure's series."""
    rows, findings, series = [], [], {}
    for task, target in sorted({(t, g) for t, g, _ in cells}):
        sizes = sorted(size for t, g, size in cells if (t, g) == (task, target))
        points, means, spreads = [], [], []
        for size in sizes:
            stats, per_seed = _robustness(cells[(task, target, size)])
            rows.append((task, target, size, *stats))
            points += [(size, value) for value in per_seed]
            means.append(stats[2])
            spreads.append(stats[5] or 0.0)
        series[f"{task} → {target}"] = (sizes, means, spreads)
        findings.append(_trend(f"{task} → {target}", ("size", "sizes"), points, len(sizes), {
            1: "the gain grows with intermediate data size",
            -1: "the gain shrinks as intermediate data grows",
            0: "no evidence that the gain depends on intermediate data size",
        }))  # fmt: skip
    return rows, findings, series


def _diversity(cells: dict[Sweep, dict[int, list[Gain]]]) -> tuple[list, list[str], dict]:
    """The diversity table's rows, each fixed-size sweep's trend and the figure's series."""
    rows, findings, series = [], [], {}
    for (task, target, size), by_count in sorted(cells.items()):
        counts = sorted(by_count)
        points, means, spreads = [], [], []
        for count in counts:
            cell = by_count[count]
            stats, _ = _robustness(cell)
            chosen = sorted({"+".join(_groups(g.run)) for g in cell})
            rows.append((task, target, size, count, "; ".join(chosen), *stats))
            # Each (choice of groups, seed) is one point: choices of one size are replicates.
            per_run: dict[Path, list[float]] = defaultdict(list)
            for g in cell:
                per_run[g.run.path].append(g.gain)
            points += [(count, fmean(values)) for values in per_run.values()]
            means.append(stats[2])
            spreads.append(stats[5] or 0.0)
        name = f"{task} → {target} at {size} rows"
        series[name] = (counts, means, spreads)
        findings.append(_trend(name, ("number of groups", "group counts"), points, len(counts), {
            1: "more diverse intermediate data helps more at the same size",
            -1: "more diverse intermediate data helps less at the same size",
            0: "no evidence that the number of groups matters at this size",
        }))  # fmt: skip
    return rows, findings, series


def _robustness(cell: Sequence[Gain]) -> tuple[tuple[Cell, ...], list[float]]:
    """(seeds, mean score, mean gain, std over languages, over families, over seeds) of a
    cell, and each seed's mean gain."""
    seeds: dict[int, list[float]] = defaultdict(list)
    families: dict[str, list[float]] = defaultdict(list)
    for g in cell:
        seeds[g.seed].append(g.gain)
        families[family_of(g.language)].append(g.score)
    per_seed = [fmean(values) for _, values in sorted(seeds.items())]
    scores = [g.score for g in cell]
    by_family = [fmean(values) for values in families.values()]
    gain, seed_spread = mean_std(per_seed)
    stats = (
        len(seeds), fmean(scores), gain, pstdev(scores),
        pstdev(by_family) if len(by_family) > 1 else None, seed_spread,
    )  # fmt: skip
    return stats, per_seed


def _rows(run: Run) -> int:
    """The rows the intermediate phase trained on, as its manifest recorded them."""
    return int(run.manifest["phases"][0]["train_rows"])


def _groups(run: Run) -> tuple[str, ...]:
    """The named groups the intermediate phase's task trained on (none: all its rows)."""
    return tuple(run.manifest["config"].get("groups", {}).get(run.phases[0], ()))


def _trend(
    name: str,
    what: tuple[str, str],
    points: list[tuple[int, float]],
    levels: int,
    verdicts: dict[int, str],
) -> str:
    """Spearman's rho between `what` (its name, and its levels' name: size, sizes) and each
    run's mean gain."""
    if levels < 3:
        return f"{name}: {what[0]} trend not computed: it needs at least 3 {what[1]} (got {levels})"
    try:
        rho = spearman([level for level, _ in points], [gain for _, gain in points])
    except TooFewPoints as error:
        return f"{name}: {what[0]} trend not computed: {error}"
    return (
        f"{name}: Spearman rho ({what[0]}, each run's mean gain) = {rho.text()} over "
        f"{len(points)} points (95% bootstrap interval): {verdicts[rho.sign]}"
    )
