"""Question 3 (size and diversity) on synthetic stores: a planted monotone size effect, and a
planted effect of the number of groups at a fixed size, are found; stores without them are
reported as showing none, and too few levels are refused."""

from __future__ import annotations

import math
import random
import shutil

import pytest
from conftest import analyze_cli, run_smoke_recipe, stilts_cli
from synthetic_store import write_run

from stilts.reports.analysis.size import analyze

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
    assert trend.startswith("mnli → xnli: Spearman rho (size, each run's mean gain) = 0.9")
    assert "the gain grows with intermediate data size" in trend
    rows = analysis.tables[0].rows
    assert [row[2] for row in rows] == list(SIZES)
    gains = [row[5] for row in rows]
    assert gains == sorted(gains) and gains[0] == pytest.approx(3, abs=0.3)
    assert all(row[3] == 3 and row[8] is not None for row in rows)  # three seeds, their spread


def test_without_a_size_effect_none_is_reported(tmp_path):
    analysis = analyze(sweep(tmp_path, effect=0.0))
    assert "no evidence that the gain depends on intermediate data size" in analysis.findings[0]


def test_english_is_not_counted_as_zero_shot(tmp_path):
    """The target trains in English, so its English score says nothing of transfer: planted
    to gain 10 points more there, the old analysis reported every size's gain 1.7 points too
    high. The zero-shot gain is each size's planted one; English's is shown apart."""
    rng = random.Random(0)
    for seed in SEEDS:
        base = {code: 60 + rng.gauss(0, 2) for code in LANGUAGES}
        write_run(tmp_path, ["xnli"], seed, base)
        for rows in SIZES:
            scores = {code: v + 1 + (10 if code == "en" else 0) + rng.gauss(0, 0.1)
                      for code, v in base.items()}  # fmt: skip
            write_run(tmp_path, ["mnli", "xnli"], seed, scores, train_rows=rows)
    by_size, apart = analyze(tmp_path).tables
    assert [round(row[5], 1) for row in by_size.rows] == [1.0] * len(SIZES)
    assert [(row[2], row[3], round(row[4])) for row in apart.rows] == [("en", 3, 11)]


def test_two_sizes_are_too_few_for_a_trend(tmp_path):
    analysis = analyze(sweep(tmp_path, effect=1.0, sizes=SIZES[:2]))
    assert analysis.findings == (
        "mnli → xnli: size trend not computed: it needs at least 3 sizes (got 2)",
    )


GENRES = ("fiction", "government", "slate", "telephone", "travel")
CHOICES = (GENRES[:1], GENRES[1:2], GENRES[:2], GENRES[2:4], GENRES[:3], GENRES)
"""Two choices of one genre and of two, one of three and of five: 6 runs per seed."""


def diversity(root, *, effect: float, rows: int = 1200):
    """mnli on each choice of genres (`rows` rows in all), then xnli; the gain is `effect` ×
    the number of genres plus noise."""
    rng = random.Random(1)
    for seed in SEEDS:
        base = {code: 60 + rng.gauss(0, 2) for code in LANGUAGES}
        write_run(root, ["xnli"], seed, base)
        for genres in CHOICES:
            gain = effect * len(genres)
            scores = {code: v + gain + rng.gauss(0, 0.5) for code, v in base.items()}
            write_run(root, ["mnli", "xnli"], seed, scores, train_rows=rows,
                      training={"groups": list(genres)})  # fmt: skip
    return root


def test_a_planted_diversity_effect_is_found_apart_from_size(tmp_path):
    sweep(tmp_path, effect=0.0)
    analysis = analyze(diversity(tmp_path, effect=1.0))
    size, groups = analysis.findings
    assert "no evidence that the gain depends on intermediate data size" in size
    assert groups.startswith("mnli → xnli at 1200 rows: Spearman rho (number of groups, each "
                             "run's mean gain) = 0.9")  # fmt: skip
    assert groups.endswith("over 18 runs (95% bootstrap interval over runs): more diverse "
                           "intermediate data helps more at the same size")  # fmt: skip
    by_size, by_groups, _ = analysis.tables
    assert [row[2] for row in by_size.rows] == list(SIZES)  # the genre runs are not sizes
    assert [row[3:5] for row in by_groups.rows] == [
        (1, "fiction; government"), (2, "fiction+government; slate+telephone"),
        (3, "fiction+government+slate"), (5, "+".join(GENRES)),
    ]  # fmt: skip
    assert [round(row[7]) for row in by_groups.rows] == [1, 2, 3, 5]  # the planted gains
    assert all(row[5] == 3 for row in by_groups.rows)  # three seeds


def test_without_a_diversity_effect_none_is_reported(tmp_path):
    analysis = analyze(diversity(tmp_path, effect=0.0))
    assert analysis.findings[0].endswith("no evidence that the number of groups matters at "
                                         "this size")  # fmt: skip


def test_two_group_counts_are_too_few_for_a_trend(tmp_path):
    for seed in SEEDS:
        write_run(tmp_path, ["xnli"], seed, {"de": 50.0})
        for genres in CHOICES[:4]:
            write_run(tmp_path, ["mnli", "xnli"], seed, {"de": 51.0}, train_rows=1200,
                      training={"groups": list(genres)})  # fmt: skip
    assert analyze(tmp_path).findings == (
        "mnli → xnli at 1200 rows: number of groups trend not computed: it needs at least 3 "
        "group counts (got 2)",
    )


def test_the_command_writes_the_tables_and_the_plot(tmp_path):
    store = diversity(sweep(tmp_path / "store", effect=1.0), effect=1.0)
    done = stilts_cli("analyze", "size", str(store), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "by_groups.csv", "by_size.csv", "size.md", "size.png", "size_not_zero_shot.csv",
    ]  # fmt: skip
    assert "Unit of analysis: a run" in done.stdout


@pytest.mark.slow
def test_the_smoke_recipe_runs_end_to_end_offline(mnli_xnli, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)  # mnli-all → xnli (seed 42) is there already
    grid = run_smoke_recipe("size", store)
    printed = analyze_cli("size", grid)
    assert "size trend not computed: a correlation needs at least 5 runs (got 3)" in printed
    rows = (grid / "analysis" / "by_size.csv").read_text().splitlines()[1:]
    assert [row.split(",")[2] for row in rows] == ["300", "1000", "2400"]
