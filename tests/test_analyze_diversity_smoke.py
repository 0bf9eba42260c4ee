"""Question 3's diversity smoke recipe end to end (its own file, so that it and the size smoke
recipe run on different test workers)."""

from __future__ import annotations

import shutil

import pytest
from conftest import analyze_cli, run_smoke_recipe
from fixtures.nli import write_multi_nli

from stilts.experiment.bundled import SAMPLE_DATA


@pytest.mark.slow
def test_the_diversity_smoke_recipe_runs_end_to_end_offline(tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(SAMPLE_DATA, mirror)
    write_multi_nli(mirror)
    grid = run_smoke_recipe("diversity", tmp_path / "store", f"data={mirror}")
    printed = analyze_cli("size", grid)
    assert "mnli → xnli at 450 rows: Spearman rho (number of groups" in printed
    table = (grid / "analysis" / "by_groups.csv").read_text()
    rows = [row.split(",") for row in table.splitlines()]
    assert [(row[2], row[3], row[4]) for row in rows[1:]] == [
        ("450", "1", "fiction; slate"), ("450", "2", "fiction+slate"),
        ("450", "3", "fiction+slate+travel"),
        ("450", "5", "fiction+government+slate+telephone+travel"),
    ]  # fmt: skip
    assert not (grid / "analysis" / "by_size.csv").exists()  # no size sweep in this grid
