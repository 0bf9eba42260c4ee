"""Question 1 on synthetic stores: a planted family effect is found, and a store where every
family ranks the tasks alike is reported as such."""

from __future__ import annotations

import random
import shutil

import pytest
from conftest import analyze_cli, run_smoke_recipe, stilts_cli
from synthetic_store import write_run

from stilts import StiltsError
from stilts.reports.analysis.families import analyze

TASKS = ("anli", "mnli", "qqp", "squad")
TARGETS = ("xnli", "pawsx")
INDO_EUROPEAN = ("de", "fr", "es", "ru", "hi")
OTHERS = ("zh", "ja", "ko", "ar", "he")  # Sino-Tibetan, Japanese, Korean, Afro-Asiatic × 2
SEEDS = (1, 2, 3)


def planted_store(root, *, family_effect: bool, tasks=TASKS):
    """Indo-European gains rank the tasks anli > mnli > qqp > squad; with `family_effect`
    every other family ranks them the other way round. Noise: 0.3 points per score."""
    rng = random.Random(0)
    for seed in SEEDS:
        for target in TARGETS:
            base = {code: 50 + rng.gauss(0, 1) for code in INDO_EUROPEAN + OTHERS}
            write_run(root, [target], seed, base)
            for rank, task in enumerate(tasks):
                scores = {}
                for code, score in base.items():
                    order = rank if code in INDO_EUROPEAN or not family_effect else 3 - rank
                    scores[code] = score + (4 - order) + rng.gauss(0, 0.3)
                write_run(root, [task, target], seed, scores)
    return root


def finding(analysis, start: str) -> str:
    return next(f for f in analysis.findings if f.startswith(start))


def test_a_planted_family_effect_shows_as_disagreeing_rankings(tmp_path):
    analysis = analyze(planted_store(tmp_path, family_effect=True))
    rankings = {row[0]: row[2] for row in analysis.tables[1].rows}
    assert rankings["Indo-European"] == "anli > mnli > qqp > squad"
    assert rankings["Sino-Tibetan"] == rankings["Japanese"] == "squad > qqp > mnli > anli"
    agreement = finding(analysis, "Kendall's W")
    assert "Kendall's W = 0.36" in agreement and "over 5 families and 4 tasks" in agreement
    assert "no significant agreement between the families' rankings" in agreement
    taus = {(a, b): tau for a, b, tau, _ in analysis.tables[2].rows}
    assert taus[("Indo-European", "Sino-Tibetan")] == pytest.approx(-1)
    assert taus[("Japanese", "Sino-Tibetan")] == pytest.approx(1)
    gains = {(t, f): gain for t, f, _, seeds, gain, _ in analysis.tables[0].rows}
    assert gains[("anli", "Indo-European")] == pytest.approx(4, abs=0.3)
    assert gains[("anli", "Korean")] == pytest.approx(1, abs=0.3)


def test_without_a_family_effect_the_families_agree(tmp_path):
    analysis = analyze(planted_store(tmp_path, family_effect=False))
    agreement = finding(analysis, "Kendall's W")
    assert "Kendall's W = 1.00" in agreement
    assert "the families rank the intermediate tasks alike" in agreement
    assert {row[2] for row in analysis.tables[1].rows} == {"anli > mnli > qqp > squad"}
    assert all(tau == pytest.approx(1) for *_, tau, _ in analysis.tables[2].rows)
    assert "3 seeds" in finding(analysis, "3 seeds")


def test_too_few_tasks_is_said_not_computed(tmp_path):
    analysis = analyze(planted_store(tmp_path, family_effect=True, tasks=TASKS[:2]))
    assert any(
        "agreement between families not computed: agreement needs at least 2 rankings of at "
        "least 3 items (got 5 of 2)" in f
        for f in analysis.findings
    )
    assert analysis.tables[2].rows == ()  # no pairwise tau from two tasks


def test_a_store_without_baselines_is_a_clear_error(tmp_path):
    write_run(tmp_path, ["mnli", "xnli"], 1, {"de": 50.0})
    with pytest.raises(StiltsError, match="no chain with a baseline"):
        analyze(tmp_path)


def test_the_command_writes_its_tables_and_figure(tmp_path):
    store = planted_store(tmp_path / "store", family_effect=True)
    done = stilts_cli("analyze", "families", str(store), env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    assert "no significant agreement" in done.stdout
    out = store / "analysis"
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "families.md", "families.png", "family_agreement.csv", "gains_by_family.csv",
        "ranking_by_family.csv",
    ]  # fmt: skip
    assert (out / "families.png").read_bytes()[:4] == b"\x89PNG"
    missing = stilts_cli("analyze", "families", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "is not a run, a grid or a store" in missing.stderr


@pytest.mark.slow
def test_the_smoke_recipe_runs_end_to_end_offline(mnli_xnli, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)  # seed 42's mnli → xnli is there already
    grid = run_smoke_recipe("families", store)
    printed = analyze_cli("families", grid)
    assert "agreement between families not computed" in printed  # one task: no ranking
    rows = (grid / "analysis" / "gains_by_family.csv").read_text().splitlines()
    assert rows[0] == "intermediate,family,pairs,seeds,gain,std"
    assert {row.split(",")[1] for row in rows[1:]} >= {"Indo-European", "Sino-Tibetan"}
    assert all(row.split(",")[3] == "2" for row in rows[1:])  # both seeds


def test_a_grid_run_list_in_another_format_is_a_clear_error(tmp_path):
    grid = tmp_path / "grids" / "grid-0"
    grid.mkdir(parents=True)
    (grid / "runs.json").write_text('["runs/xnli-0"]')
    with pytest.raises(StiltsError, match=r"is not a grid's run list .* run the grid's recipe"):
        analyze(grid)
