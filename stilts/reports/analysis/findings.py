"""An analysis's answer: its tables, its findings in words, and its figure.

Every analysis returns one `Analysis`; this module renders it the same way for all of them:
a rich view for the terminal, ``<name>.md`` (findings, then every table), one CSV per table
and a PNG. Findings are sentences that state their uncertainty, or say why a statistic was
not computed (too few points), so a reader never meets a bare number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text

from stilts.store.files import write_text

Cell = str | float | int | None


@dataclass(frozen=True)
class Table:
    name: str
    """File stem of its CSV, e.g. ``gains_by_family``."""
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        for row in self.rows:
            writer.writerow(["" if v is None else f"{v:.4f}" if isinstance(v, float) else v
                             for v in row])  # fmt: skip
        return out.getvalue()

    def shown(self) -> list[list[str]]:
        return [[_short(value) for value in row] for row in self.rows]

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |"]
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.shown()]
        return "\n".join(lines) + "\n"

    def rich(self) -> RichTable:
        table = RichTable(*self.header, title=self.title)
        for row in self.shown():
            table.add_row(*row)
        return table


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
        parts += [table.markdown() for table in self.tables if table.rows]
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


def _short(value: Cell) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(name: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
    return Table(name, title, tuple(header), tuple(tuple(row) for row in rows))
