"""The analyses are calibrated: a finding at the 5 % level appears in at most 7 % of grids
where nothing was planted, and 95 % intervals hold the value they estimate in at least 90 %
of grids where something was (issue 15). Simulated grids come from
`stilts.reports.analysis.simulate`; the first tests check that they are what a grid writes
and carry the structure that misleads a naive analysis.

The rates here come from few grids (`STORES`, on the questions' cut-down designs), so each
assertion allows for sampling noise: it fails only when the observed count is implausible
(one-sided binomial p < 0.01) for an analysis that just meets the target (7 % false
positives, 90 % coverage). With 30 grids that is 7 false positives or 8 misses: an analysis
at the nominal 5 % and 95 % fails with probability below 0.1 %, so a rewrite that keeps an
analysis calibrated, and draws other numbers, does not break the test by chance; one at 30 %
false positives or 70 % coverage is caught with probability 0.84 and 0.72. Claims of one
grid share its noise (size makes one per target), so a rate counts as if each grid made one
claim. These tests catch gross miscalibration in the test tier's time (the analyses cost
most of it, their bootstraps cut to `BOOTSTRAP` resamples); a marginal one, 11 % where 7 %
is the target, needs hundreds of grids: `bench/calibration.py` measures the rates themselves,
on 200 grids each.

Before issue 15's fixes, resource and families failed both rates here (one run's luck counted
once per language; Friedman's test reading the runs' shared luck as agreement); the "before"
rates are in the message of the commit that added the bench (`git log bench/calibration.py`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from stilts.reports.analysis import calibration, simulate
from stilts.reports.analysis.calibration import Question, Rate
from stilts.reports.analysis.resource import training_language
from stilts.reports.analysis.runs import read_runs
from stilts.tasks import registry

STORES = 30
"""Grids per rate: 30 null grids, 30 planted ones over `DESIGNS` designs."""
DESIGNS = 2
TRUTH_SEEDS = 40
"""Seeds of the truth's grid: its sampling error is a fourth of a 3-seed estimate's, which
costs a calibrated interval about a point of coverage."""
BOOTSTRAP = 100
"""Resamples per interval: coarser endpoints than the analyses' 2,000, not biased ones."""
EVIDENCE = 0.01
"""How improbable the count must be, for an analysis just meeting the target, to fail."""


def test_the_targets_are_the_installed_tasks():
    for name, target in simulate.TARGETS.items():
        task = registry.load(name)
        assert (target.languages, target.metric) == (task.languages, task.main_metric), name


def test_a_simulated_grid_reads_back_as_the_analyses_read_a_grid(tmp_path):
    """Rows, seeds, metrics, scores, translated training languages and sizes, as written."""
    rng = np.random.default_rng(0)
    for design in (simulate.resource(rng, 0.3), simulate.size(rng, 0.5)):
        runs = simulate.simulate(design, simulate.SEEDS, rng)
        root = tmp_path / design.rows[0].label
        read = read_runs(simulate.write_grid(runs, root))
        by_key = {(r.intermediate, r.target, r.seed): r for r in read}
        assert len(by_key) == len(runs)
        for run in runs:
            label = run.row.label if run.row else "none"
            back = by_key[label, run.target.name, run.seed]
            assert (back.metric, dict(back.scores)) == (run.target.metric, run.scores)
            if run.row is not None:
                languages = (run.row.training or {}).get("languages", ["en"])
                assert training_language(back) == languages[0]
                assert back.manifest["phases"][0].get("train_rows") == run.row.train_rows


def test_a_runs_luck_is_shared_by_its_languages_and_a_phases_by_its_targets():
    """The noise an analysis must not count once per language (or per target)."""
    rng = np.random.default_rng(1)
    design = simulate.resource(rng, 0.0)

    def deviations(noise: simulate.Noise) -> dict[tuple[str, str, int], np.ndarray]:
        drawn = simulate.simulate(simulate.Design(design.rows, design.targets, design.expected,
                                                  design.levels, noise), (1, 2), rng)  # fmt: skip
        found = {}
        for run in drawn:
            expected = design.levels[run.target.name].copy()
            if run.row is not None:
                expected += run.target.scale * design.expected[run.row.label, run.target.name]
            label = run.row.label if run.row else "none"
            scores = np.array(list(run.scores.values()))
            found[label, run.target.name, run.seed] = (scores - expected) / run.target.scale
        return found

    for shift in deviations(simulate.Noise(phase=0.0, run=1.0, score=0.0)).values():
        assert np.ptp(shift) < 1e-9 and abs(shift[0]) > 0  # one draw for all its languages
    by_phase = deviations(simulate.Noise(phase=1.0, run=0.0, score=0.0))
    for row in design.rows:
        shifts = {round(float(by_phase[row.label, t.name, 1][0]), 9) for t in design.targets}
        assert len(shifts) == 1  # one draw for every target after the phase
    assert all(np.ptp(by_phase["none", t.name, 1]) == 0 for t in design.targets)


def test_targets_differ_in_scale_and_coverage():
    """Retrieval gains outweigh tagging gains; Yoruba is only in UD-POS and PAN-X."""
    scales = {name: target.scale for name, target in simulate.TARGETS.items()}
    assert scales["tatoeba"] > 10 * scales["udpos"]
    assert {n for n, t in simulate.TARGETS.items() if "yo" in t.languages} == {"udpos", "panx"}
    design = simulate.resource(np.random.default_rng(2), 0.0)
    german = design.expected["mnli-de", "xnli"][simulate.TARGETS["xnli"].languages.index("de")]
    english = design.expected["mnli-en", "xnli"][simulate.TARGETS["xnli"].languages.index("de")]
    assert german - english > simulate.SAME_LANGUAGE / 2  # MNLI in German helps German most


def implausible(hits: int, claims: int, target: float) -> bool:
    """Whether `hits` of `claims` is too many (p < `EVIDENCE`) for a rate of `target`,
    counting the claims as `STORES` grids' worth (see the module's docstring)."""
    count = math.ceil(hits / claims * STORES - 1e-9)
    return bool(binom.sf(count - 1, STORES, target) < EVIDENCE)


def false_positives(question: Question) -> Rate:
    found = [calibration.null_replicate(question, index, bootstrap=BOOTSTRAP)
             for index in range(STORES)]  # fmt: skip
    return calibration.false_positive_rate(c for claims in found for c in claims)


def coverage(question: Question) -> Rate:
    pairs = []
    for design in range(DESIGNS):
        truth = calibration.truth(question, design, seeds=TRUTH_SEEDS)
        for index in range(STORES // DESIGNS):
            claims = calibration.planted_replicate(question, design, index, bootstrap=BOOTSTRAP)
            pairs += [(claim, truth[claim.name]) for claim in claims]
    return calibration.coverage_rate(pairs)


@pytest.mark.parametrize("name", calibration.QUESTIONS)
def test_false_positives_are_at_most_7_percent(name):
    rate = false_positives(calibration.QUESTIONS[name].smaller())
    assert rate.claims >= STORES // 2, rate  # the analysis computed its claims
    assert not implausible(rate.hits, rate.claims, 0.07), f"false positives {rate}"


@pytest.mark.parametrize("name", calibration.QUESTIONS)
def test_intervals_cover_the_truth_at_least_90_percent(name):
    rate = coverage(calibration.QUESTIONS[name].smaller())
    assert rate.claims >= STORES // 2, rate
    misses = rate.claims - rate.hits
    assert not implausible(misses, rate.claims, 0.10), f"coverage {rate}"
