"""An analysis's answer: its tables, its findings in words, and its figure.

Every analysis returns one `Analysis`; this module renders it the same way for all of them:
a rich view for the terminal, ``<name>.md`` (its unit of analysis, findings, then every
table), one CSV per table and a PNG. Findings are sentences that state their uncertainty, or
say why a statistic was not computed (too few points), so a reader never meets a bare number.
The unit comes first because it says what an interval is an interval over: what was drawn
again in each resample, and so what the finding generalises over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from rich.console import Group
from rich.text import Text

from stilts.reports import tables
from stilts.reports.analysis.runs import Gain
from stilts.reports.analysis.stats import mean_std
from stilts.reports.tables import Cell
from stilts.store.files import write_text

DIGITS = 2
"""Decimals shown: gains and correlations need two."""


@dataclass(frozen=True, kw_only=True)
class Table(tables.Table):
    """A table of an analysis, written to its own CSV."""

    name: str
    """File stem of its CSV, e.g. ``gains_by_family``."""


@dataclass(frozen=True)
class Analysis:
    name: str
    """The question's name (`stilts analyze NAME`), the stem of its files."""
    title: str
    findings: tuple[str, ...]
    tables: tuple[Table, ...]
    figure: Callable[[Path], None] | None = field(default=None, compare=False)
    """Draws the analysis's PNG at the path given (None: nothing to draw)."""
    unit: str = field(kw_only=True)
    """The unit of analysis, what the intervals resample, and what is pooled, in words."""

    def markdown(self) -> str:
        parts = [f"## {self.title}", "", f"Unit of analysis: {self.unit}", "",
                 *(f"- {finding}" for finding in self.findings), ""]  # fmt: skip
        shown = [table for table in self.tables if table.rows]
        parts += [f"### {table.title}\n\n{table.markdown()}\n" for table in shown]
        return "\n".join(parts)

    def rich(self) -> Group:
        findings = [Text(f"• {finding}") for finding in self.findings]
        unit = Text(f"Unit of analysis: {self.unit}", style="italic")
        return Group(Text(self.title, style="bold"), unit, *findings,
                     *(table.rich() for table in self.tables if table.rows))  # fmt: skip

    def write(self, out: Path, *, plot: bool = True) -> list[Path]:
        """<name>.md, a CSV per table and (with `plot`) <name>.png, each atomically."""
        written = [out / f"{self.name}.md"]
        write_text(written[0], self.markdown())
        for table in self.tables:
            write_text(out / f"{table.name}.csv", table.csv())
            written.append(out / f"{table.name}.csv")
        if plot and self.figure is not None:
            self.figure(out / f"{self.name}.png")
            written.append(out / f"{self.name}.png")
        return written


def table(name: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
    return Table(header=tuple(header), rows=tuple(tuple(row) for row in rows), title=title,
                 digits=DIGITS, name=name)  # fmt: skip


def not_zero_shot(name: str, seen: Sequence[Gain]) -> Table:
    """`<name>_not_zero_shot`: the gains in languages a phase of the chain trained in (English,
    the target's training language; a translated intermediate phase's own language), which
    the analysis leaves out of its zero-shot gains and shows here instead. Gains there measure
    in-language learning, larger and on another footing than transfer, so pooling them would
    let one kind of gain pass for the other."""
    per_seed: dict[tuple[str, str, str], dict[int, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for g in seen:
        per_seed[(g.intermediate, g.target, g.language)][g.seed].append(g.gain)
    rows = [
        (*key, len(seeds), *mean_std([fmean(values) for values in seeds.values()]))
        for key, seeds in sorted(per_seed.items())
    ]
    return table(f"{name}_not_zero_shot", "gains in a language a phase trained in (not "
                 "zero-shot: left out of the analysis above)", ("intermediate", "target",
                 "language", "seeds", "gain", "std over seeds"), rows)  # fmt: skip
