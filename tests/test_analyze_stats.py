"""The analyses' shared statistics: a weighted statistic equals the statistic of the resample
written out, resampling draws units (within strata, or two crossed kinds), and standardising
puts every group on one scale."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, rankdata, spearmanr

from stilts.reports.analysis import stats


@pytest.fixture(autouse=True)
def few_resamples(monkeypatch):
    monkeypatch.setattr(stats, "BOOTSTRAP_SAMPLES", 300)


def written_out(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.repeat(values, weights.astype(int))


def test_weighted_statistics_are_those_of_the_resample_written_out():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, 12).astype(float)  # ties, as resource classes have
    y = rng.normal(size=12)
    weights = stats.cluster_weights(range(12))[:50]
    rho = stats.weighted_spearman(x, y, weights)
    slope = stats.weighted_slope(x, y, weights)
    ranks = stats.weighted_ranks(x, weights)
    for row, w in enumerate(weights):
        xs, ys = written_out(x, w), written_out(y, w)
        assert rho[row] == pytest.approx(spearmanr(xs, ys).statistic)
        assert slope[row] == pytest.approx(np.polyfit(xs, ys, 1)[0])
        assert written_out(ranks[row], w) == pytest.approx(rankdata(xs))


def test_a_resample_with_one_side_constant_has_no_correlation():
    x, y = np.array([1.0, 1.0, 2.0]), np.array([3.0, 1.0, 2.0])
    weights = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    rho = stats.weighted_spearman(x, y, weights)
    assert np.isnan(rho[0]) and rho[1] == pytest.approx(spearmanr(x, y).statistic)
    assert np.isnan(stats.weighted_slope(x, y, weights)[0])


def test_a_cluster_is_drawn_whole_and_strata_keep_their_size():
    clusters = ["de", "de", "fr", "zh", "zh", "zh", "ja"]
    families = ["IE", "IE", "IE", "ST", "ST", "ST", "JP"]
    weights = stats.cluster_weights(clusters, strata=families)
    assert weights.shape == (300, 7)
    assert (weights[:, 0] == weights[:, 1]).all() and (weights[:, 3] == weights[:, 5]).all()
    assert (weights[:, 0] + weights[:, 2] == 2).all()  # two Indo-European languages drawn
    assert (weights[:, 3] == 1).all() and (weights[:, 6] == 1).all()  # one language: itself
    unstratified = stats.cluster_weights(clusters)
    per_cluster = unstratified[:, [0, 2, 3, 6]]
    assert (per_cluster.sum(axis=1) == 4).all() and (per_cluster[:, 3] == 0).any()


def test_crossed_units_weigh_the_product_of_their_draws():
    intermediates = ["mnli", "mnli", "qqp", "qqp"]
    targets = ["xnli", "pawsx", "xnli", "pawsx"]
    weights = stats.crossed_weights(intermediates, targets)
    first = stats.cluster_weights(intermediates)
    second = stats.cluster_weights(targets, seed=1)
    assert weights == pytest.approx(first * second)
    assert (weights[:, 0] * weights[:, 3] == weights[:, 1] * weights[:, 2]).all()


def test_one_point_per_unit_is_the_ordinary_bootstrap():
    """Singleton clusters draw points with replacement: each resample holds n of them, and
    over many resamples each point is drawn once on average."""
    weights = stats.cluster_weights(range(20))
    assert (weights.sum(axis=1) == 20).all()
    assert weights.mean() == pytest.approx(1, abs=0.05)


def test_copying_each_unit_to_many_rows_changes_nothing_when_units_are_resampled():
    """Size's way (one point per run) is the cluster bootstrap: a run scored in 30 languages,
    its mean copied to each, resampled by run, gives the very interval of its one point; the
    same copies resampled as independent rows give a far narrower one."""
    rng = np.random.default_rng(3)
    level, gain = rng.integers(0, 4, 12).astype(float), rng.normal(size=12)
    per_run = stats.spearman(level, gain, unit="runs")
    rows = np.repeat(np.arange(12), 30)
    copied = stats.spearman(level[rows], gain[rows], resamples=stats.cluster_weights(rows))
    assert (copied.value, copied.low, copied.high) == pytest.approx(
        (per_run.value, per_run.low, per_run.high)
    )
    as_rows = stats.spearman(level[rows], gain[rows])
    assert as_rows.high is not None and copied.high is not None
    assert as_rows.high - as_rows.low < (copied.high - copied.low) / 3


def test_a_clustered_spearman_has_no_p_value_and_a_wider_interval():
    """Three units each written out four times: as twelve independent points the interval is
    narrow and a p-value is given; resampled as three units, no p-value (it would assume
    independent points) and an interval that reaches zero."""
    x = np.repeat([1.0, 2.0, 3.0], 4) + np.tile([0.0, 0.1, 0.2, 0.3], 3)
    y = np.repeat([0.0, 2.0, 1.0], 4) + np.tile([0.0, 0.01, 0.02, 0.03], 3)
    pointwise = stats.spearman(x, y)
    clustered = stats.spearman(x, y, resamples=stats.cluster_weights(np.repeat([0, 1, 2], 4)))
    assert pointwise.p_value is not None and clustered.p_value is None
    assert clustered.value == pointwise.value
    assert clustered.low is not None and pointwise.low is not None
    assert clustered.low < pointwise.low


def test_standardising_puts_each_group_on_one_scale():
    values = np.array([1.0, 2.0, 3.0, 10.0, 30.0, 50.0, 7.0, 7.0])
    groups = ["xnli"] * 3 + ["bucc"] * 3 + ["flat"] * 2
    z = stats.standardise(values, groups)
    assert z[:3] == pytest.approx(z[3:6])
    assert z[:3].mean() == pytest.approx(0) and z[:3].std() == pytest.approx(1)
    assert z[6:] == pytest.approx([0, 0])  # nothing to scale


def test_too_few_units_are_refused_naming_the_unit():
    with pytest.raises(stats.TooFewPoints, match="at least 5 runs \\(got 3\\)"):
        stats.spearman([1, 2, 3], [1, 2, 3], unit="runs")


def test_kendall_w_and_tau_for_many_resamples_at_once():
    rng = np.random.default_rng(5)
    profiles = rng.normal(size=(40, 4, 6))  # 40 resamples of 4 rankings of 6 items
    w = stats.kendall_w(profiles)
    for one, value in zip(profiles, w, strict=True):
        ranks = np.vstack([rankdata(row) for row in one])
        spread = ((ranks.sum(axis=0) - ranks.sum(axis=0).mean()) ** 2).sum()
        assert value == pytest.approx(12 * spread / (4**2 * (6**3 - 6)))
    tau = stats.kendall_tau(profiles[:, 0], profiles[:, 1])
    assert tau == pytest.approx([kendalltau(a, b).statistic for a, b in profiles[:, :2]])
    assert stats.kendall_w(np.tile(np.arange(5.0), (3, 1))) == pytest.approx(1)


def test_a_permutation_keeps_the_labels_and_shuffles_their_places():
    labels = ["IE", "IE", "IE", "ST", "JP"]
    shuffled = stats.permutations(labels)
    assert (np.sort(shuffled, axis=1) == [0, 0, 0, 1, 2]).all()
    assert len({tuple(row) for row in shuffled}) == 20  # every arrangement of 5!/3! appears
    assert stats.permutation_p(5.0, np.array([1.0, 2.0, 5.0, 6.0]), larger=True) == 0.6


def test_the_normal_interval_is_the_estimate_plus_or_minus_the_resamples_spread():
    """Resamples that fall below the estimate (as an agreement's do, noise making rankings
    disagree) move the interval no lower: only their spread counts, held within bounds."""
    resamples = np.linspace(0.5, 0.9, 401)
    low, high = stats.normal_interval(0.9, resamples, bounds=(0.0, 1.0))
    assert low == pytest.approx(0.9 - 1.96 * resamples.std(ddof=1), abs=1e-3)
    assert high == 1.0  # held at W's bound
    assert stats.normal_interval(0.5, np.full(10, np.nan), bounds=(0, 1)) == (None, None)


def test_sign_flips_keep_or_reverse_each_unit_whole():
    flips = stats.sign_flips(6)
    assert flips.shape == (300, 6) and set(np.unique(flips)) == {-1.0, 1.0}
    assert abs(flips.mean()) < 0.1  # either sign alike
