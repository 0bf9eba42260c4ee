"""The study's table: intermediate tasks × target tasks, each cell a score and its gain.

As in Phang et al. (2020): rows are intermediate tasks (the first, "none", is the target
trained alone), columns are target tasks, a cell is the target's task score (its main metric
averaged over its languages, as XTREME defines it) as mean ± std over seeds, and its change
against the baseline of the same target and seeds. Rendered as a rich table, Markdown and CSV,
and as a heatmap with matplotlib when that optional extra is installed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, stdev

from rich.table import Table as RichTable

from stilts.errors import StiltsError
from stilts.experiment.grid import BASELINE
from stilts.reports import plots
from stilts.reports.tables import Table
from stilts.store.files import write_text
from stilts.store.results import ChainResult

AVERAGE = "average"
FILES = ("study.md", "study.csv")
HEATMAP = "study.png"


@dataclass(frozen=True)
class Cell:
    """One intermediate → target pair over its seeds, beside the target's baseline."""

    scores: tuple[float, ...]
    """The chain's task score, one per seed."""
    baseline: tuple[float, ...] = ()
    """The target's baseline task scores (no intermediate phase); empty if not run."""

    @property
    def mean(self) -> float:
        return fmean(self.scores)

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds; None with one seed (nothing to spread)."""
        return stdev(self.scores) if len(self.scores) > 1 else None

    @property
    def delta(self) -> float | None:
        return self.mean - fmean(self.baseline) if self.baseline else None

    def text(self) -> str:
        shown = f"{self.mean:.1f}"
        if self.std is not None:
            shown += f" ± {self.std:.1f}"
        if self.delta is not None:
            shown += f" ({self.delta:+.1f})"
        return shown


@dataclass(frozen=True)
class StudyTable:
    rows: tuple[str, ...]
    """Intermediate phases in the order run; `BASELINE` first when baselines ran."""
    columns: tuple[str, ...]
    metrics: dict[str, str]
    """Target -> the main metric its score averages."""
    cells: dict[tuple[str, str], Cell]

    @classmethod
    def from_results(cls, results: Iterable[tuple[str, str, ChainResult]]) -> StudyTable:
        """Group (row, column, result) triples; the results of one cell are its seeds."""
        scores: dict[tuple[str, str], list[float]] = defaultdict(list)
        metrics: dict[str, str] = {}
        for row, column, result in results:
            scores[(row, column)].append(result.average)
            metrics[column] = result.metric
        if not scores:
            raise StiltsError("no finished runs to tabulate")
        rows = tuple(dict.fromkeys(row for row, _ in scores))
        columns = tuple(dict.fromkeys(column for _, column in scores))
        if BASELINE in rows:
            rows = (BASELINE, *(row for row in rows if row != BASELINE))
        cells = {
            (row, column): Cell(
                tuple(values),
                tuple(scores.get((BASELINE, column), ())) if row != BASELINE else (),
            )
            for (row, column), values in scores.items()
        }
        return cls(rows, columns, metrics, cells)

    @property
    def seeds(self) -> int:
        return max(len(cell.scores) for cell in self.cells.values())

    def row_average(self, row: str) -> Cell | None:
        """The row's mean over every target (as the study's "Avg." column); None if the row
        lacks a target. Each seed's scores are averaged across targets first."""
        cells = [self.cells[row, column] for column in self.columns if (row, column) in self.cells]
        if len(self.columns) < 2 or len(cells) < len(self.columns):
            return None
        seeds, baselines = [c.scores for c in cells], [c.baseline for c in cells]
        if len({len(s) for s in seeds}) > 1:  # a seed missing somewhere: no fair average
            return None
        per_seed = [fmean(values) for values in zip(*seeds, strict=True)]
        even = all(baselines) and len({len(b) for b in baselines}) == 1
        baseline = [fmean(values) for values in zip(*baselines, strict=True)] if even else []
        return Cell(tuple(per_seed), tuple(baseline))

    def grid(self) -> Table:
        """The table as shown: a row per intermediate task, a column per target, a cell's text."""
        average = any(self.row_average(row) for row in self.rows)
        header = ("intermediate", *(f"{c} ({self.metrics[c]})" for c in self.columns))
        rows = []
        for row in self.rows:
            cells = [self.cells.get((row, column)) for column in self.columns]
            if average:
                cells.append(self.row_average(row))
            rows.append((row, *(cell.text() if cell else None for cell in cells)))
        return Table(
            header + ((AVERAGE,) if average else ()),
            tuple(rows),
            title="intermediate × target",
            caption=self.caption(),
        )

    def caption(self) -> str:
        seeds = f"mean ± std over {self.seeds} seeds" if self.seeds > 1 else "one seed"
        gain = " (change versus none)" if BASELINE in self.rows else ""
        return f"test score averaged over each target's languages, {seeds}{gain}"

    def markdown(self) -> str:
        return self.grid().markdown() + "\n"

    def csv(self) -> str:
        """One row per cell, in numbers: mean, std, baseline and gain."""
        header = ("intermediate", "target", "metric", "seeds", "mean", "std", "baseline", "delta")
        rows = tuple(
            (row, column, self.metrics[column], len(cell.scores), cell.mean, cell.std,
             fmean(cell.baseline) if cell.baseline else None, cell.delta)
            for row in self.rows
            for column in self.columns
            if (cell := self.cells.get((row, column))) is not None
        )  # fmt: skip
        return Table(header, rows).csv()

    def rich(self) -> RichTable:
        return self.grid().rich()

    def write(self, out: Path, *, plot: bool = True) -> list[Path]:
        """study.md, study.csv and (with matplotlib, when asked) study.png, each atomically."""
        written = []
        for name, text in zip(FILES, (self.markdown(), self.csv()), strict=True):
            write_text(out / name, text)
            written.append(out / name)
        if plot:
            self.heatmap(out / HEATMAP)
            written.append(out / HEATMAP)
        return written

    def heatmap(self, path: Path) -> None:
        """Gains (or scores, without baselines) as a colour grid."""
        rows = [row for row in self.rows if row != BASELINE]
        gains = bool(rows) and all(self.cells[row, column].delta is not None
                                   for row, column in self.cells if row != BASELINE)  # fmt: skip
        rows = rows or list(self.rows)
        seeds = f"mean of {self.seeds} seeds" if self.seeds > 1 else "one seed"
        values = [[_value(self.cells.get((r, c)), gains) for c in self.columns] for r in rows]
        plots.heatmap(
            path,
            values,
            rows,
            self.columns,
            title=f"{'gain over no intermediate task' if gains else 'test score'} ({seeds})",
            label="gain over none" if gains else "score",
            diverging=gains,
        )


def _value(cell: Cell | None, gains: bool) -> float:
    if cell is None:
        return float("nan")
    return cell.delta if gains and cell.delta is not None else cell.mean
