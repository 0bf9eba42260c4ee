"""An analysis's answer: its tables, its findings in words, and its figure.

Every analysis returns one `Analysis`; this module renders it the same way for all of them:
a rich view for the terminal, ``<name>.md`` (findings, then every table), one CSV per table
and a PNG. Findings are sentences that state their uncertainty, or say why a statistic was
not computed (too few points), so a reader never meets a bare number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.text import Text

from stilts.reports import tables
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

    def markdown(self) -> str:
        parts = [f"## {self.title}", "", *(f"- {finding}" for finding in self.findings), ""]
        shown = [table for table in self.tables if table.rows]
        parts += [f"### {table.title}\n\n{table.markdown()}\n" for table in shown]
        return "\n".join(parts)

    def rich(self) -> Group:
        findings = [Text(f"• {finding}") for finding in self.findings]
        return Group(Text(self.title, style="bold"), *findings,
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
