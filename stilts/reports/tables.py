"""Tables as the reports show and store them: Markdown, CSV and a rich table for the terminal.

`stilts report`, the grid's study table and every analysis render their tables here, so one
number or one gap looks the same in all of them. For a reader (Markdown, the terminal) a float
has the table's `digits` decimals and an empty cell is a dash, which cannot be mistaken for a
zero; in CSV a float keeps four decimals, enough to recompute any shown figure, and an empty
cell is an empty field, which spreadsheets and pandas read as missing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from rich.table import Table as RichTable
from rich.text import Text

Cell = str | int | float | None
"""Text, a count, a measured number, or None where there is nothing to show."""

EMPTY = "–"
STORED_DIGITS = 4
DIGITS = 1
"""Decimals shown by default: scores ×100 to a tenth of a point, as XTREME papers print them."""


def shown(value: Cell, digits: int = DIGITS) -> str:
    """A cell as a reader sees it: a float to `digits` decimals, None as a dash."""
    if value is None:
        return EMPTY
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def stored(value: Cell) -> str:
    """A cell as a CSV field: a float to four decimals, None as an empty field."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{STORED_DIGITS}f}"
    return str(value)


@dataclass(frozen=True)
class Table:
    """A header and rows of cells, the cells formatted only when rendered."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    title: str = ""
    """Above the table in the terminal. Markdown leaves it out: a document gives it the heading
    level its place needs."""
    caption: str = ""
    """Below the table, in the terminal and in Markdown."""
    digits: int = DIGITS

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"a row of {len(row)} cells under {len(self.header)} columns")

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table, the caption after it; no final newline."""
        lines = [_markdown_row(self.header), "|" + "|".join("---" for _ in self.header) + "|"]
        lines += [_markdown_row(shown(value, self.digits) for value in row) for row in self.rows]
        if self.caption:
            lines += ["", self.caption]
        return "\n".join(lines)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows([stored(value) for value in row] for row in self.rows)
        return out.getvalue()

    def rich(self) -> RichTable:
        """The terminal view; cells are plain text, so a bracket in a name is not markup."""
        table = RichTable(title=self.title or None, caption=self.caption or None)
        for name in self.header:
            table.add_column(Text(name))
        for row in self.rows:
            table.add_row(*(Text(shown(value, self.digits)) for value in row))
        return table


def _markdown_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cell.replace("|", r"\|") for cell in cells) + " |"
