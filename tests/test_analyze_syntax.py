"""Question 5 on synthetic stores: gains of a syntactic intermediate task planted to fall with
a target language's syntactic distance from English are found to, a semantic task's flat
gains are not, and the two kinds' slopes differ; a store without the effect shows none."""

from __future__ import annotations

import random

import pytest
from conftest import analyze_cli, run_smoke_recipe, stilts_cli
from lab import build_lab
from synthetic_store import write_run

from stilts.reports.analysis.syntax import analyze
from stilts.reports.typology import distance_from_english

LANGUAGES = ("en", "de", "fr", "ru", "el", "hi", "ar", "tr", "th", "vi", "zh", "sw", "ja", "ko")
SEEDS = (1, 2)


def store(root, *, effect: float):
    """udparse's gain is 3 − effect × 10 × distance; mnli's is 2 everywhere (plus noise)."""
    rng = random.Random(0)
    for seed in SEEDS:
        base = {code: 60 + rng.gauss(0, 2) for code in LANGUAGES}
        write_run(root, ["xnli"], seed, base)
        for task in ("udparse", "mnli"):
            scores = {}
            for code, score in base.items():
                gain = 3 - effect * 10 * distance_from_english(code) if task == "udparse" else 2
                scores[code] = score + gain + rng.gauss(0, 0.3)
            write_run(root, [task, "xnli"], seed, scores)
    return root


def test_a_planted_distance_effect_of_syntactic_tasks_is_found(tmp_path):
    findings = analyze(store(tmp_path, effect=1.0)).findings
    assert findings[1].startswith("udparse (syntactic): Spearman rho (distance, gain) = -0.9")
    assert "its gains fall with syntactic distance from English" in findings[1]
    assert "slope -1.0" in findings[1]  # 10 points per unit distance: 1 per 0.1
    assert findings[0].startswith("mnli (semantic)")
    assert "no evidence that its gains depend on syntactic distance" in findings[0]
    assert (
        "syntactic tasks' gains fall off faster with distance than semantic tasks'" in (findings[2])
    )


def test_without_the_effect_no_difference_is_reported(tmp_path):
    findings = analyze(store(tmp_path, effect=0.0)).findings
    assert "no evidence that its gains depend on syntactic distance" in findings[1]
    assert "no evidence that syntactic and semantic tasks differ" in findings[2]


def test_too_few_languages_are_refused(tmp_path):
    for seed in SEEDS:
        write_run(tmp_path, ["xnli"], seed, {"de": 60.0, "fr": 61.0})
        write_run(tmp_path, ["udparse", "xnli"], seed, {"de": 62.0, "fr": 62.5})
    findings = analyze(tmp_path).findings
    assert findings[0] == (
        "udparse (syntactic): not computed: a correlation needs at least 5 pairs (got 2)"
    )
    assert findings[1].startswith("syntactic against semantic tasks not compared")


def test_the_command_writes_the_table_and_the_plot(tmp_path):
    root = store(tmp_path / "store", effect=1.0)
    done = stilts_cli("analyze", "syntax", str(root), "--syntactic", "udparse,ccg")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (root / "analysis").iterdir()) == [
        "gain_by_distance.csv", "syntax.md", "syntax.png",
    ]  # fmt: skip


@pytest.mark.slow
def test_the_smoke_recipe_runs_end_to_end_offline(tmp_path):
    lab = build_lab(tmp_path / "lab", ("udparse", "mnli", "xnli"), {}, vocab_size=1500)
    grid = run_smoke_recipe(
        "syntax", tmp_path / "store", f"data={lab.data}", f"model.id={lab.model}"
    )
    analyze_cli("syntax", grid)
    rows = (grid / "analysis" / "gain_by_distance.csv").read_text().splitlines()[1:]
    assert [row.split(",")[:3] for row in rows] == [
        ["mnli", "semantic", "15"], ["udparse", "syntactic", "15"],
    ]  # fmt: skip
