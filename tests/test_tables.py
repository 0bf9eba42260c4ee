"""The one table renderer of the reports: a table's Markdown, CSV and terminal view, and the rule
for numbers and empty cells they share, on a table whose every rendering is written out here."""

from __future__ import annotations

import csv
import io

import pytest
from rich.console import Console

from stilts.reports.tables import Table, shown, stored

TABLE = Table(
    ("task", "n", "score", "note"),
    (("xnli", 15, 71.25, "a, b"), ("[b]pawsx[/b]", 7, None, 'say "no"'), ("a|b", 0, 0.0, "")),
    title="scores",
    caption="mean over languages",
)


def test_a_reader_sees_the_tables_decimals_and_a_dash_where_nothing_is():
    assert [shown(v) for v in (71.25, 71.0, None, 15, "x", "")] == [
        "71.2", "71.0", "–", "15", "x", "",
    ]  # fmt: skip
    assert shown(0.53125, digits=2) == "0.53"


def test_csv_keeps_four_decimals_and_leaves_nothing_empty():
    assert [stored(v) for v in (71.25, 1 / 3, None, 15, "x")] == [
        "71.2500", "0.3333", "", "15", "x",
    ]  # fmt: skip


def test_markdown_escapes_pipes_and_puts_the_caption_below():
    assert TABLE.markdown() == (
        "| task | n | score | note |\n"
        "|---|---|---|---|\n"
        "| xnli | 15 | 71.2 | a, b |\n"
        '| [b]pawsx[/b] | 7 | – | say "no" |\n'
        "| a\\|b | 0 | 0.0 |  |\n"
        "\n"
        "mean over languages"
    )
    assert "scores" not in TABLE.markdown()  # a document gives the title its heading


def test_csv_quotes_what_needs_it_and_reads_back():
    text = TABLE.csv()
    assert text.splitlines() == [
        "task,n,score,note",
        'xnli,15,71.2500,"a, b"',
        '[b]pawsx[/b],7,,"say ""no"""',
        "a|b,0,0.0000,",
    ]
    assert list(csv.reader(io.StringIO(text)))[1] == ["xnli", "15", "71.2500", "a, b"]


def test_the_terminal_shows_cells_as_plain_text_with_title_and_caption():
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(Table(TABLE.header, TABLE.rows, title="scores", caption="mean", digits=2).rich())
    text = console.file.getvalue()
    assert "scores" in text and "mean" in text
    assert "[b]pawsx[/b]" in text  # not taken for markup
    assert "71.25" in text and "–" in text


def test_a_row_must_fill_the_header():
    with pytest.raises(ValueError, match="a row of 2 cells under 3 columns"):
        Table(("a", "b", "c"), (("x", 1),))
