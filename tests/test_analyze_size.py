"""Question 3 (size) on synthetic stores: a planted monotone size effect is found, a store
without one is reported as showing none, and too few sizes are refused."""

from __future__ import annotations

import math
import random
import shutil

import pytest
from conftest import REPO, stilts_cli
from synthetic_store import write_run

from stilts.analysis.size import analyze

LANGUAGES = ("en", "de", "fr", "zh", "ar", "sw")
SIZES = (1000, 10_000, 100_000, 392_702)
SEEDS = (1, 2, 3)


def sweep(root, *, effect: float, sizes=SIZES):
    """mnli at each size, then xnli; the gain is `effect` × log10(rows) plus noise."""
    rng = random.Random(0)
    for seed in SEEDS:
        base = {code: 60 + rng.gauss(0, 2) for code in LANGUAGES}
        write_run(root, ["xnli"], seed, base)
        for rows in sizes:
            gain = effect * math.log10(rows)
            scores = {code: v + gain + rng.gauss(0, 0.5) for code, v in base.items()}
            write_run(root, ["mnli", "xnli"], seed, scores, train_rows=rows)
    return root


def test_a_planted_size_effect_is_found(tmp_path):
    analysis = analyze(sweep(tmp_path, effect=1.0))
    (trend,) = analysis.findings
    assert trend.startswith("mnli → xnli: Spearman rho (size, each seed's mean gain) = 0.9")
    assert "the gain grows with intermediate data size" in trend
    rows = analysis.tables[0].rows
    assert [row[2] for row in rows] == list(SIZES)
    gains = [row[5] for row in rows]
    assert gains == sorted(gains) and gains[0] == pytest.approx(3, abs=0.3)
    assert all(row[3] == 3 and row[8] is not None for row in rows)  # three seeds, their spread


def test_without_a_size_effect_none_is_reported(tmp_path):
    analysis = analyze(sweep(tmp_path, effect=0.0))
    assert "no evidence that the gain depends on intermediate data size" in analysis.findings[0]


def test_two_sizes_are_too_few_for_a_trend(tmp_path):
    analysis = analyze(sweep(tmp_path, effect=1.0, sizes=SIZES[:2]))
    assert analysis.findings == (
        "mnli → xnli: size trend not computed: it needs at least 3 sizes (got 2)",
    )


def test_the_command_writes_the_table_and_the_plot(tmp_path):
    store = sweep(tmp_path / "store", effect=1.0)
    done = stilts_cli("analyze", "size", str(store), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "by_size.csv", "size.md", "size.png",
    ]  # fmt: skip


def test_the_smoke_recipe_runs_end_to_end_offline(mnli_xnli, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)  # mnli-all → xnli (seed 42) is there already
    ran = stilts_cli("run", str(REPO / "recipes" / "smoke" / "size.yaml"), "--store",
                     str(store), "--no-plot")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (grid,) = (store / "grids").iterdir()
    done = stilts_cli("analyze", "size", str(grid), env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    assert "size trend not computed: a correlation needs at least 5 pairs (got 3)" in done.stdout
    rows = (grid / "analysis" / "by_size.csv").read_text().splitlines()[1:]
    assert [row.split(",")[2] for row in rows] == ["300", "1000", "2400"]
