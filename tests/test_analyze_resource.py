"""Question 2 on synthetic stores: a planted resource effect (lower-resource intermediate
languages help more) is found, and a store without one is reported as showing none."""

from __future__ import annotations

import random

import pytest
from conftest import analyze_cli, run_smoke_recipe
from fixtures.nli import write_translated_sample
from synthetic_store import write_run

from stilts.reports.analysis.resource import analyze, training_language
from stilts.reports.analysis.runs import read_run

SOURCES = {"en": 5, "de": 5, "hi": 4, "sw": 2, "yo": 2}  # resource classes (languages.csv)
TARGETS = ("en", "de", "zh", "ar", "sw", "ur")
SEEDS = (1, 2)


def store(root, *, effect: float):
    """mnli trained in each source language, then xnli; gain = effect × (5 − class) + 1."""
    rng = random.Random(0)
    for seed in SEEDS:
        base = {code: 60 + rng.gauss(0, 2) for code in TARGETS}
        write_run(root, ["xnli"], seed, base)
        for source, level in SOURCES.items():
            gain = 1 + effect * (5 - level)
            scores = {code: v + gain + rng.gauss(0, 0.5) for code, v in base.items()}
            write_run(
                root,
                ["mnli", "xnli"],
                seed,
                scores,
                training={"languages": [source]} if source != "en" else None,
                specs=[{"task": "mnli", "train_language": "en"}, {"task": "xnli"}],
            )
    return root


def test_the_training_language_is_the_translation_or_the_tasks_own(tmp_path):
    german = write_run(tmp_path, ["mnli", "xnli"], 1, {"de": 1.0},
                       training={"languages": ["de"]})  # fmt: skip
    mixed = write_run(tmp_path, ["mnli", "xnli"], 1, {"de": 1.0},
                      training={"languages": ["en", "de"]})  # fmt: skip
    english = write_run(tmp_path, ["mnli", "xnli"], 2, {"de": 1.0},
                        specs=[{"train_language": "en"}, {}])  # fmt: skip
    assert training_language(read_run(german)) == "de"
    assert training_language(read_run(mixed)) is None
    assert training_language(read_run(english)) == "en"


def test_a_planted_resource_effect_is_found(tmp_path):
    analysis = analyze(store(tmp_path, effect=1.0))
    overall = analysis.findings[0]
    assert overall.startswith("all target languages: Spearman rho (intermediate language's")
    assert "lower-resource intermediate languages give larger gains" in overall
    gains = {(row[0], row[2]): row[5] for row in analysis.tables[0].rows}
    assert round(gains[("sw", 2)]) == 4 and round(gains[("en", 5)]) == 1


def test_without_a_resource_effect_none_is_reported(tmp_path):
    analysis = analyze(store(tmp_path, effect=0.0))
    assert (
        "no evidence that the intermediate language's resource class matters"
        in (analysis.findings[0])
    )


@pytest.mark.slow
def test_the_smoke_recipe_runs_end_to_end_offline(tmp_path):
    mirror = write_translated_sample(tmp_path / "mirror", ("de", "sw"))
    grid = run_smoke_recipe("resource", tmp_path / "store", f"data={mirror}")
    printed = analyze_cli("resource", grid)
    rows = (grid / "analysis" / "gains_by_resource.csv").read_text().splitlines()[1:]
    assert {tuple(row.split(",")[:2]) for row in rows} == {("de", "5"), ("sw", "2")}
    assert "all target languages: Spearman rho" in printed  # 30 gains: a correlation


def test_the_command_writes_its_table_and_figure(tmp_path):
    """`stilts analyze resource` as a user runs it, in the fast tier (the smoke recipe, which
    also runs it, is in the slow one): its finding, table, report and heatmap."""
    root = store(tmp_path / "store", effect=1.0)
    printed = analyze_cli("resource", root)
    assert "lower-resource intermediate languages give larger gains" in printed
    out = root / "analysis"
    assert sorted(p.name for p in out.iterdir()) == [
        "gains_by_resource.csv", "resource.md", "resource.png",
    ]  # fmt: skip
    assert (out / "resource.png").read_bytes()[:4] == b"\x89PNG"
    rows = (out / "gains_by_resource.csv").read_text().splitlines()[1:]
    assert {tuple(row.split(",")[:2]) for row in rows} == {
        (code, str(level)) for code, level in SOURCES.items()
    }
