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

The unit of analysis is the run (one intermediate training at one level, with one seed, then
the target): its level is what varies, its noise is shared by every language it is scored
in, so each run is one point (its mean gain over the target's zero-shot languages) and the
bootstrap resamples runs. The other analyses follow this model. Nothing is pooled over
targets: each (task, target) sweep is its own finding, in the target's own units. English,
which the target trains in, is not zero-shot: its gains are left out of every figure here and
shown apart (size_not_zero_shot).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, pstdev

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.families import family_of
from stilts.reports.analysis.findings import Analysis, not_zero_shot, table
from stilts.reports.analysis.runs import Gain, Run, gains, read_runs, split_zero_shot
from stilts.reports.analysis.stats import TooFewPoints, mean_std, spearman
from stilts.reports.tables import Cell

UNIT = (
    "a run (one intermediate training at one size or choice of groups, one seed, then the "
    "target); a run's gain is its mean over the target's zero-shot languages; intervals "
    "resample runs; each (task, target) sweep is analysed on its own, in the target's units"
)
ROBUSTNESS = ("seeds", "score", "gain", "spread languages", "spread families", "spread seeds")
Sweep = tuple[str, str] | tuple[str, str, int]
"""A sweep's key: the intermediate task and the target; with groups, also the size."""
Cells = dict[Sweep, dict[int, list[Gain]]]
"""A sweep's key -> level -> the gains there."""


@dataclass(frozen=True)
class SweepKind:
    """What a sweep varies, and how its finding and panel say so."""

    name: str
    """The level's name, e.g. size."""
    levels: str
    """Its plural, e.g. sizes."""
    verdicts: dict[int, str]
    """The finding's conclusion by the sign of the rho's interval (1, -1, 0)."""
    title: str
    x_label: str
    log_x: bool = False


SIZE = SweepKind(
    name="size",
    levels="sizes",
    verdicts={
        1: "the gain grows with intermediate data size",
        -1: "the gain shrinks as intermediate data grows",
        0: "no evidence that the gain depends on intermediate data size",
    },
    title="zero-shot score by intermediate data size",
    x_label="intermediate training rows",
    log_x=True,
)
DIVERSITY = SweepKind(
    name="number of groups",
    levels="group counts",
    verdicts={
        1: "more diverse intermediate data helps more at the same size",
        -1: "more diverse intermediate data helps less at the same size",
        0: "no evidence that the number of groups matters at this size",
    },
    title="zero-shot score by number of groups at a fixed size",
    x_label="groups",
)


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
    one_phase = [g for g in found if len(g.run.phases) == 2]  # its data is the question
    zero_shot, seen = split_zero_shot(one_phase)
    by_size: Cells = defaultdict(lambda: defaultdict(list))
    by_groups: Cells = defaultdict(lambda: defaultdict(list))
    for g in zero_shot:
        task, size, chosen = g.run.phases[0], _rows(g.run), _groups(g.run)
        if chosen:
            by_groups[(task, g.target, size)][len(chosen)].append(g)
        else:
            by_size[(task, g.target)][size].append(g)
    if not one_phase:
        raise StiltsError(
            f"{path} holds no intermediate → target chain with its baseline (same target and "
            "seed, trained alone): run a size or diversity grid with baselines"
        )
    size_levels, findings, size_panel = _sweep(SIZE, by_size)
    group_levels, group_findings, group_panel = _sweep(DIVERSITY, by_groups)
    findings += group_findings + notes
    size_rows = [(*key, size, *r.cells()) for key, size, _, r in size_levels]
    group_rows = [
        (*key, count, "; ".join(sorted({"+".join(_groups(g.run)) for g in cell})), *r.cells())
        for key, count, cell, r in group_levels
    ]
    tables = (
        table("by_size", "score and gain by intermediate data size (robustness: std over "
              "languages, families and seeds)", ("intermediate", "target", "rows", *ROBUSTNESS),
              size_rows),
        table("by_groups", "score and gain by number of groups at a fixed size (an equal "
              "share of the rows from each)", ("intermediate", "target", "rows", "groups",
              "chosen", *ROBUSTNESS), group_rows),
    )  # fmt: skip
    panels = [panel for panel in (size_panel, group_panel) if panel.series]
    return Analysis(
        "size", "Intermediate data size and diversity", tuple(findings),
        (*(t for t in tables if t.rows), not_zero_shot("size", seen)),
        lambda out: plots.lines(out, *panels), unit=UNIT,
    )  # fmt: skip


def _sweep(
    kind: SweepKind, cells: Cells
) -> tuple[list[tuple[Sweep, int, list[Gain], Robustness]], list[str], plots.Panel]:
    """Each (sweep, level)'s gains and robustness, each sweep's trend, and the figure's panel:
    one line per sweep of the mean score by level, the target alone dashed."""
    levels, findings, series, baselines = [], [], {}, {}
    for key, by_level in sorted(cells.items()):
        xs = sorted(by_level)
        measured = [Robustness.of(by_level[x]) for x in xs]
        levels += [(key, x, by_level[x], r) for x, r in zip(xs, measured, strict=True)]
        # Each run (one choice of data, one seed) is a point; runs of one level are replicates.
        points = [(x, gain) for x in xs for gain in _run_gains(by_level[x])]
        name = " → ".join(key[:2]) + (f" at {key[2]} rows" if len(key) > 2 else "")
        series[name] = (xs, [r.score for r in measured], [r.band for r in measured])
        baselines[name] = fmean(r.baseline for r in measured)
        findings.append(_trend(kind, name, points, len(xs)))
    panel = plots.Panel(
        series, f"{kind.title} (dashed: the target alone)", kind.x_label,
        "zero-shot score (± std over seeds)", log_x=kind.log_x, references=baselines,
    )  # fmt: skip
    return levels, findings, panel


def _run_gains(cell: Sequence[Gain]) -> list[float]:
    """Each run's mean gain over its languages."""
    per_run: dict[Path, list[float]] = defaultdict(list)
    for g in cell:
        per_run[g.run.path].append(g.gain)
    return [fmean(values) for values in per_run.values()]


def _rows(run: Run) -> int:
    """The rows the intermediate phase trained on, as its manifest recorded them."""
    return int(run.manifest["phases"][0]["train_rows"])


def _groups(run: Run) -> tuple[str, ...]:
    """The named groups the intermediate phase's task trained on (none: all its rows)."""
    return tuple(run.training_data(0, run.phases[0]).get("groups", ()))


def _trend(kind: SweepKind, name: str, points: list[tuple[int, float]], levels: int) -> str:
    """Spearman's rho between the level and each run's mean gain, or why it is not computed."""
    if levels < 3:
        return (
            f"{name}: {kind.name} trend not computed: it needs at least 3 {kind.levels} "
            f"(got {levels})"
        )
    try:
        rho = spearman([level for level, _ in points], [gain for _, gain in points], unit="runs")
    except TooFewPoints as error:
        return f"{name}: {kind.name} trend not computed: {error}"
    return (
        f"{name}: Spearman rho ({kind.name}, each run's mean gain) = {rho.text()} over "
        f"{len(points)} runs (95% bootstrap interval over runs): {kind.verdicts[rho.sign]}"
    )
