"""The similarity question: the correlation logic on synthetic stores with planted gains, the
similarities themselves under the tiny model on the fixture data, and the smoke recipe end to
end."""

from __future__ import annotations

import json
import random

import pytest
from conftest import analyze_cli, run_smoke_recipe, stilts_cli
from lab import build_lab
from synthetic_store import write_run

from stilts.reports.analysis import similarity
from stilts.reports.analysis.runs import gains, read_runs
from stilts.reports.analysis.similarity import Similarity, analyze, correlate, task_similarities
from stilts.runtime import similarity as measurement
from stilts.tasks.data import DataLocator

INTERMEDIATES = ("anli_plus", "mnli", "qqp", "squad", "hellaswag", "cosmosqa")
TARGETS = ("xnli", "pawsx", "udpos")
LANGUAGES = ("de", "fr", "zh")
SEEDS = (1, 2, 3)
FIXTURE_TASKS = ["mnli", "xnli", "anli_plus", "udpos", "panx", "squad"]
SMOKE_TASKS = ["pawsx", "qqp"]
"""The smoke recipe's tasks beyond `FIXTURE_TASKS`: the lab's tokenizer learns their text too."""


def planted(root, gain_of, *, intermediates=INTERMEDIATES, targets=TARGETS, config=None):
    """A store where pair (i, t) gains `gain_of(i, t)` in every language, ± 0.1 per score."""
    rng = random.Random(0)
    for seed in SEEDS:
        for target in targets:
            base = {code: 50 + rng.gauss(0, 1) for code in LANGUAGES}
            write_run(root, [target], seed, base, config=config)
            for task in intermediates:
                scores = {c: s + gain_of(task, target) + rng.gauss(0, 0.1) for c, s in base.items()}
                write_run(root, [task, target], seed, scores, config=config)
    return root


def similarities(rng_seed: int = 1) -> dict[tuple[str, str], Similarity]:
    """Distinct representation similarities per pair; Fisher ones drawn independently."""
    rng = random.Random(rng_seed)
    pairs = [(i, t) for i in INTERMEDIATES for t in TARGETS]
    rep = rng.sample(range(100), len(pairs))
    return {
        pair: Similarity(0.9 + r / 1000, rng.random()) for pair, r in zip(pairs, rep, strict=True)
    }


def finding(analysis, start: str) -> str:
    return next(f for f in analysis.findings if f.startswith(start))


def answer(store, sims):
    found, notes = gains(read_runs(store))
    return correlate(found, sims, notes=notes)


def test_gains_that_follow_similarity_correlate_and_unrelated_ones_do_not(tmp_path):
    sims = similarities()
    analysis = answer(planted(tmp_path, lambda i, t: 100 * sims[i, t].representation - 90), sims)
    follows = finding(analysis, "representation similarity vs gain, all (18 pairs)")
    assert "Spearman rho = 1.00 [1.00, 1.00]" in follows
    assert "a positive correlation (the 95% interval excludes 0)" in follows
    assert "(p = " not in follows  # pairs share tasks: no p-value that assumes them apart
    unrelated = finding(analysis, "fisher similarity vs gain, all (18 pairs)")
    assert "no evidence of a correlation (the 95% interval includes 0)" in unrelated
    rows = {row[1]: row for row in analysis.tables[1].rows if row[0] == "fisher"}
    assert rows["all"][4] < 0 < rows["all"][5]  # low, high
    by_pair = {(row[0], row[1]): row for row in analysis.tables[0].rows}
    _, _, rep, fisher, seeds, gain, std = by_pair["mnli", "xnli"]
    planted_similarity = sims["mnli", "xnli"]
    assert (rep, fisher, seeds) == (f"{planted_similarity.representation:.4f}",
                                    f"{planted_similarity.fisher:.4f}", 3)  # fmt: skip
    assert gain == pytest.approx(100 * planted_similarity.representation - 90, abs=0.1)
    assert std < 0.2
    assert "3 seed(s)" in finding(analysis, "3 seed(s)")


def test_paws_x_apart_from_the_other_targets(tmp_path):
    sims = similarities()

    def gain(i, t):  # the more similar, the more gain; for PAWS-X the less
        return (-1 if t == "pawsx" else 1) * (100 * sims[i, t].representation - 90)

    analysis = answer(planted(tmp_path, gain), sims)
    pawsx = finding(analysis, "representation similarity vs gain, pawsx (6 pairs)")
    assert "Spearman rho = -1.00" in pawsx and "a negative correlation" in pawsx
    others = finding(analysis, "representation similarity vs gain, other targets (12 pairs)")
    assert "Spearman rho = 1.00" in others and "a positive correlation" in others
    versus = finding(analysis, "representation similarity, PAWS-X minus the other targets")
    assert "difference in rho = -2.00 [-2.00, -2.00]: the correlation differs" in versus
    assert "paired: the intermediate tasks drawn once for both sides" in versus
    groups = [row[1] for row in analysis.tables[1].rows if row[0] == "representation"]
    assert groups == ["all", "pawsx", "other targets", "udpos", "xnli"]


def test_pairs_sharing_a_task_do_not_narrow_the_interval_as_if_independent(tmp_path):
    """Each intermediate task has one gain on every target and one similarity to every target
    (what its data is like); across the 6 tasks the two happen to be rank-correlated -0.6, as
    6 draws may. The old analysis took the 36 pairs for 36 independent points: 'a negative
    correlation' with an interval of [-0.76, -0.28]. Resampling the 6 tasks (and the targets)
    gives the interval 6 tasks allow."""
    draw = random.Random(9)
    helps = {task: draw.gauss(0, 1) for task in INTERMEDIATES}
    near = {task: draw.gauss(0, 1) for task in INTERMEDIATES}
    targets = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa")
    sims = {(i, t): Similarity(0.9 + 0.01 * near[i] + draw.gauss(0, 0.0005), draw.random())
            for i in INTERMEDIATES for t in targets}  # fmt: skip
    analysis = answer(planted(tmp_path, lambda i, t: helps[i], targets=targets), sims)
    overall = finding(analysis, "representation similarity vs gain, all (36 pairs)")
    assert "no evidence of a correlation" in overall
    assert "Spearman rho = -0.58 [" in overall
    assert "intermediate tasks and targets resampled (crossed)" in overall


def test_targets_differing_as_a_whole_are_no_correlation(tmp_path):
    """Within each target similarity says nothing of the gain; but UD-POS is more similar to
    every task than XNLI, and gains more from every task. Pooled raw, the old analysis found
    'a positive correlation' (rho 0.86) between two facts about three targets."""
    draw = random.Random(0)
    level = {"xnli": 0, "pawsx": 1, "udpos": 2}
    sims = {(i, t): Similarity(0.9 + 0.02 * level[t] + draw.gauss(0, 0.003), draw.random())
            for i in INTERMEDIATES for t in level}  # fmt: skip
    gain = {(i, t): 2 * level[t] + draw.gauss(0, 0.3) for i in INTERMEDIATES for t in level}
    analysis = answer(planted(tmp_path, lambda i, t: gain[i, t]), sims)
    overall = finding(analysis, "representation similarity vs gain, all (18 pairs)")
    assert "no evidence of a correlation" in overall
    assert "values standardised within each target" in overall


def test_too_few_pairs_is_said_not_computed(tmp_path):
    store = planted(tmp_path, lambda i, t: 1.0, intermediates=("mnli", "qqp"),
                    targets=("xnli", "pawsx"))  # fmt: skip
    analysis = answer(store, similarities())
    assert finding(analysis, "representation similarity vs gain, all (4 pairs)").endswith(
        "not computed: a correlation needs at least 5 pairs (got 4)"
    )
    versus = finding(analysis, "fisher similarity, PAWS-X minus the other targets")
    assert versus.endswith(
        "not computed (pawsx: a correlation needs at least 5 pairs (got 2); other targets: a "
        "correlation needs at least 5 pairs (got 2))"
    )
    assert all(row[3] is None and row[7].startswith("not computed")
               for row in analysis.tables[1].rows)  # fmt: skip
    without_pawsx = answer(planted(tmp_path / "x", lambda i, t: 1.0, targets=("xnli",)),
                           similarities())  # fmt: skip
    assert "no PAWS-X pairs: PAWS-X versus the other targets not computed" in without_pawsx.findings


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tasks = [*FIXTURE_TASKS, *SMOKE_TASKS]
    return build_lab(tmp_path_factory.mktemp("lab"), tasks, {}, vocab_size=1500)


@pytest.fixture(scope="module")
def fixture_similarities(lab):
    return task_similarities(
        str(lab.model), FIXTURE_TASKS, DataLocator(lab.data), examples=32, max_length=64
    )


def test_identical_data_is_similarity_one(fixture_similarities):
    for task in FIXTURE_TASKS:
        same = fixture_similarities[task, task]
        assert same.representation == pytest.approx(1) and same.fisher == pytest.approx(1)
    # XNLI's English training data is MNLI's: the same rows, the same vectors.
    assert fixture_similarities["mnli", "xnli"] == fixture_similarities["mnli", "mnli"]
    assert fixture_similarities["udpos", "squad"] == fixture_similarities["squad", "udpos"]


def test_shared_training_text_is_more_similar_under_both_measures(fixture_similarities):
    # ANLI+ trains on ANLI, SNLI and MNLI together: most of its rows are MNLI's own.
    for measure in similarity.MEASURES:
        shared = fixture_similarities["mnli", "anli_plus"].measure(measure)
        for other in ("udpos", "panx", "squad"):
            assert shared > fixture_similarities["mnli", other].measure(measure), (measure, other)


def test_the_analysis_uses_the_runs_own_model_and_data(
    lab, tmp_path, fixture_similarities, monkeypatch
):
    config = {"model": str(lab.model), "data": str(lab.data)}
    store = planted(tmp_path / "store", lambda i, t: 1.0, intermediates=("mnli", "squad"),
                    targets=("xnli", "udpos", "tatoeba"), config=config)  # fmt: skip
    cache = tmp_path / "cache"
    analysis = analyze(store, examples=32, max_length=64, cache=cache)
    by_pair = {(row[0], row[1]): row[2:4] for row in analysis.tables[0].rows}
    assert set(by_pair) == {("mnli", "xnli"), ("mnli", "udpos"), ("squad", "xnli"),
                            ("squad", "udpos")}  # fmt: skip
    expected = fixture_similarities["squad", "udpos"]
    assert by_pair["squad", "udpos"] == (f"{expected.representation:.4f}",
                                         f"{expected.fisher:.4f}")  # fmt: skip
    assert f"similarities under {lab.model}, data {lab.data}" in finding(analysis, "similarities")
    assert (
        "tatoeba: no training data to compare (scores the encoder); left out" in analysis.findings
    )
    assert "2 pair(s) without a similarity, left out: mnli → tatoeba, squad → tatoeba" in (
        analysis.findings
    )
    assert sorted(path.name.split("-")[0] for path in cache.iterdir()) == [
        "mnli", "squad", "udpos", "xnli"
    ]  # fmt: skip

    written = sorted(path.name for path in analysis.write(tmp_path / "out"))
    assert written == ["similarity.md", "similarity.png", "similarity_by_pair.csv",
                       "similarity_correlation.csv", "similarity_not_zero_shot.csv"]  # fmt: skip

    def computed(*args, **kwargs):
        raise AssertionError("the cached vectors were not used")

    monkeypatch.setattr(measurement, "_compute", computed)
    again = analyze(store, examples=32, max_length=64, cache=cache)
    assert again.tables == analysis.tables


def test_the_bundled_model_is_built_in_the_store_and_one_pair_is_too_few(tmp_path):
    store = planted(tmp_path, lambda i, t: 1.0, intermediates=("mnli",), targets=("xnli",),
                    config={"model": "bundled:tiny-xlmr", "data": None})  # fmt: skip
    analysis = analyze(store, examples=16, max_length=32)
    assert analysis.tables[0].rows[0][:4] == ("mnli", "xnli", "1.0000", "1.0000")
    assert "similarities under bundled:tiny-xlmr, data sample" in finding(analysis, "similar")
    assert finding(analysis, "representation similarity vs gain, all (1 pairs)").endswith(
        "not computed: a correlation needs at least 5 pairs (got 1)"
    )
    assert any((store / "models").iterdir())  # built once, where the runs' chains build it
    done = stilts_cli("analyze", "similarity", str(store), "--examples", "16", "--max-length",
                      "32", "--no-plot", env={"COLUMNS": "300"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "not computed: a correlation needs at least 5 pairs (got 1)" in done.stdout
    assert (store / "analysis" / "similarity_by_pair.csv").is_file()


def test_a_grid_row_labelling_a_variant_is_compared_as_its_task(lab, tmp_path):
    config = {"model": str(lab.model), "data": str(lab.data)}
    store = tmp_path / "store"
    listed = []
    for seed in SEEDS:
        # The 3-phase chain stands for a run read without a grid's label (row: its phases).
        for phases, row in ((("xnli",), "none"), (("mnli", "xnli"), "mnli-1k"),
                            (("mnli", "squad", "xnli"), None)):  # fmt: skip
            run = write_run(store, phases, seed, {"de": 50.0 + len(phases)}, config=config)
            listed.append({"run": f"runs/{run.name}", "row": row, "column": "xnli"})
    grid = store / "grids" / "grid-0"
    grid.mkdir(parents=True)
    (grid / "runs.json").write_text(json.dumps(listed))
    analysis = analyze(grid, examples=16, max_length=64)
    assert [row[:4] for row in analysis.tables[0].rows] == [("mnli-1k", "xnli", "1.0000", "1.0000")]
    assert (
        "mnli-1k: compared as its task mnli (English training rows), whatever the row's own "
        "settings" in analysis.findings
    )
    assert (
        "mnli → squad: no one intermediate task to compare (mnli → squad → xnli); left out"
        in analysis.findings
    )


@pytest.mark.slow
def test_the_smoke_recipe_runs_end_to_end_offline(lab, tmp_path):
    grid = run_smoke_recipe(
        "similarity", tmp_path / "store", f"data={lab.data}", f"model.id={lab.model}"
    )
    printed = analyze_cli("similarity", grid, "--examples", "32", "--max-length", "64",
                          "--no-plot")  # fmt: skip
    analysis = grid / "analysis"
    by_pair = [row.split(",") for row in
               (analysis / "similarity_by_pair.csv").read_text().splitlines()[1:]]  # fmt: skip
    assert [tuple(row[:2]) for row in by_pair] == [
        (intermediate, target) for intermediate in ("mnli", "qqp", "squad")
        for target in ("pawsx", "xnli")
    ]  # fmt: skip
    assert all(row[4] == "1" for row in by_pair)  # one seed each
    assert by_pair[1][2:4] == ["1.0000", "1.0000"]  # XNLI trains on MNLI's rows
    correlation = (analysis / "similarity_correlation.csv").read_text().splitlines()
    for measure in ("representation", "fisher"):
        overall = next(row.split(",") for row in correlation if row.startswith(f"{measure},all,"))
        assert overall[2] == "6" and overall[3] != "" and overall[-1] == "", overall
        assert f"{measure} similarity vs gain, all (6 pairs): Spearman rho = " in printed
        assert (
            f"{measure} similarity vs gain, pawsx (3 pairs): not computed: a correlation needs "
            "at least 5 pairs (got 3)" in printed
        )
