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
from dataclasses import dataclass
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
Series = dict[str, tuple[list[int], list[float], list[float]]]


@dataclass(frozen=True)
class Robustness:
    """A cell's mean zero-shot score and gain over the target alone, and how they spread."""

    seeds: int
    score: float
    gain: float
    spread_languages: float
    """Std of the scores over (language, seed)."""
    spread_families: float | None
    """Std of the family means of the scores (None: one family)."""
    seed_gains: tuple[float, ...]
    """Each seed's mean gain over languages."""
    seed_scores: tuple[float, ...]
    baseline: float
    """The mean score of the target alone, over the same seeds and languages."""

    @classmethod
    def of(cls, cell: Sequence[Gain]) -> Robustness:
        seeds: dict[int, list[Gain]] = defaultdict(list)
        families: dict[str, list[float]] = defaultdict(list)
        for g in cell:
            seeds[g.seed].append(g)
            families[family_of(g.language)].append(g.score)
        by_family = [fmean(values) for values in families.values()]
        return cls(
            seeds=len(seeds),
            score=fmean(g.score for g in cell),
            gain=fmean(g.gain for g in cell),
            spread_languages=pstdev(g.score for g in cell),
            spread_families=pstdev(by_family) if len(by_family) > 1 else None,
            seed_gains=tuple(fmean(g.gain for g in gs) for _, gs in sorted(seeds.items())),
            seed_scores=tuple(fmean(g.score for g in gs) for _, gs in sorted(seeds.items())),
            baseline=fmean(g.baseline for g in cell),
        )

    def cells(self) -> tuple[Cell, ...]:
        """The table's robustness columns (`ROBUSTNESS`)."""
        spread_seeds = mean_std(list(self.seed_gains))[1]
        return (self.seeds, self.score, self.gain, self.spread_languages,
                self.spread_families, spread_seeds)  # fmt: skip

    @property
    def band(self) -> float:
        """The figure's band: the std of each seed's mean score (0 with one seed)."""
        return mean_std(list(self.seed_scores))[1] or 0.0


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
    size_rows, findings, size_panel = _sizes(by_size)
    group_rows, group_findings, group_panel = _diversity(by_groups)
    findings += group_findings + notes
    panels = [panel for panel in (size_panel, group_panel) if panel.series]
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


def _panel(title: str, x_label: str, series: Series, baselines: dict[str, float],
           *, log_x: bool = False) -> plots.Panel:  # fmt: skip
    return plots.Panel(
        series, f"{title} (dashed: the target alone)", x_label,
        "zero-shot score (± std over seeds)", log_x=log_x, references=baselines,
    )  # fmt: skip


def _sizes(cells: dict[Sweep, list[Gain]]) -> tuple[list, list[str], plots.Panel]:
    """The size table's rows, each sweep's trend and the figure's panel."""
    rows, findings, series, baselines = [], [], {}, {}
    for task, target in sorted({(t, g) for t, g, _ in cells}):
        sizes = sorted(size for t, g, size in cells if (t, g) == (task, target))
        points, measured = [], [Robustness.of(cells[(task, target, size)]) for size in sizes]
        for size, r in zip(sizes, measured, strict=True):
            rows.append((task, target, size, *r.cells()))
            points += [(size, gain) for gain in r.seed_gains]
        name = f"{task} → {target}"
        series[name] = (sizes, [r.score for r in measured], [r.band for r in measured])
        baselines[name] = fmean(r.baseline for r in measured)
        findings.append(_trend(name, ("size", "sizes"), points, len(sizes), {
            1: "the gain grows with intermediate data size",
            -1: "the gain shrinks as intermediate data grows",
            0: "no evidence that the gain depends on intermediate data size",
        }))  # fmt: skip
    panel = _panel("zero-shot score by intermediate data size", "intermediate training rows",
                   series, baselines, log_x=True)  # fmt: skip
    return rows, findings, panel


def _diversity(cells: dict[Sweep, dict[int, list[Gain]]]) -> tuple[list, list[str], plots.Panel]:
    """The diversity table's rows, each fixed-size sweep's trend and the figure's panel."""
    rows, findings, series, baselines = [], [], {}, {}
    for (task, target, size), by_count in sorted(cells.items()):
        counts = sorted(by_count)
        points, measured = [], [Robustness.of(by_count[count]) for count in counts]
        for count, r in zip(counts, measured, strict=True):
            chosen = sorted({"+".join(_groups(g.run)) for g in by_count[count]})
            rows.append((task, target, size, count, "; ".join(chosen), *r.cells()))
            # Each (choice of groups, seed) is one point: choices of one size are replicates.
            per_run: dict[Path, list[float]] = defaultdict(list)
            for g in by_count[count]:
                per_run[g.run.path].append(g.gain)
            points += [(count, fmean(values)) for values in per_run.values()]
        name = f"{task} → {target} at {size} rows"
        series[name] = (counts, [r.score for r in measured], [r.band for r in measured])
        baselines[name] = fmean(r.baseline for r in measured)
        findings.append(_trend(name, ("number of groups", "group counts"), points, len(counts), {
            1: "more diverse intermediate data helps more at the same size",
            -1: "more diverse intermediate data helps less at the same size",
            0: "no evidence that the number of groups matters at this size",
        }))  # fmt: skip
    panel = _panel("zero-shot score by number of groups at a fixed size", "groups", series,
                   baselines)  # fmt: skip
    return rows, findings, panel


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
