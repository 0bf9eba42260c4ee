"""A damaged data file is one line naming it (and the column and row where one applies), found
by the pre-flight that loads every table before anything trains: exit 2, nothing written.

Each case damages one file of a mirror of the bundled sample (MNLI and XNLI in their hub
layout) the way real copies get damaged, and runs the demo chain on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import stilts_cli

from stilts.experiment import bundled

MNLI_TRAIN = Path("nyu-mll/glue/mnli/train-00000-of-00001.parquet")
XNLI_TEST = Path("google/xtreme/XNLI/test-00000-of-00001.parquet")


def cut_in_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00\x13 not parquet at all \xff" * 40)


def csv_renamed(path: Path) -> None:
    table = pq.read_table(path).slice(0, 20)
    lines = [",".join(table.column_names)]
    lines += [",".join(str(v) for v in row.values()) for row in table.to_pylist()]
    path.write_text("\n".join(lines))


def no_rows(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 0), path)


def set_cell(column: str, row: int, value: object) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        table = pq.read_table(path)
        cells = table[column].to_pylist()
        cells[row] = value
        index = table.schema.get_field_index(column)
        field = table.schema.field(column)
        pq.write_table(table.set_column(index, field, pa.array(cells, field.type)), path)

    return damage


CASES = {
    "truncated": (MNLI_TRAIN, cut_in_half, "is not a readable parquet file"),
    "zero bytes": (MNLI_TRAIN, emptied, "is not a readable parquet file"),
    "garbage": (XNLI_TEST, garbage, "is not a readable parquet file"),
    "csv as parquet": (XNLI_TEST, csv_renamed, "is not a readable parquet file"),
    "empty table": (MNLI_TRAIN, no_rows, "train-00000-of-00001.parquet holds no rows"),
    "null text": (MNLI_TRAIN, set_cell("premise", 5, None), "column 'premise' is empty (null) "
                  "in row 5"),
    "label name": (XNLI_TEST, set_cell("gold_label", 3, "maybe"), "label 'maybe' is not one of "
                   "entailment, neutral, contradiction (row 3)"),
    "label id": (MNLI_TRAIN, set_cell("label", 7, 7), "mnli train rows: label 7 in row 7 is "
                 "outside the 3 classes of its head"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_damaged_file_is_one_line_naming_it_before_anything_is_written(tmp_path, case):
    damaged, damage, says = CASES[case]
    mirror = tmp_path / "mirror"
    shutil.copytree(bundled.SAMPLE_DATA, mirror)
    damage(mirror / damaged)
    store = tmp_path / "store"
    done = stilts_cli("chain", "mnli", "xnli", "--data", str(mirror), "--store", str(store))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says in lines[0]
    if "parquet" in says:
        assert str(mirror / damaged) in lines[0]
    else:
        assert str(mirror / damaged.parts[0]) in lines[0] or "rows: label" in lines[0]
    assert not store.exists()
