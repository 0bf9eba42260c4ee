"""The statistics the research questions need, each with its uncertainty and its limits.

scipy does the point statistics' arithmetic (rank correlations and their p-values); what is
written here is what scipy has no single call for, done for every resample at once:

- the resampling of an analysis's **unit**, not of its rows. A row (a gain of one language in
  one run) is rarely independent of the next: the languages of one run share that run's noise,
  the targets of one language share that language. Resampling rows as if they were independent
  counts one run or one language many times and gives intervals far too narrow. So a resample
  is drawn as counts of units (`cluster_weights`: each unit drawn with replacement, every row
  of it weighted by how often it was drawn), optionally within strata (the languages of each
  family apart), or over two crossed kinds of unit at once (`crossed_weights`: intermediate
  tasks and target tasks, whose pairs share both). Two statistics computed from one array of
  weights are a **paired** bootstrap: they see the same units in every resample, so what their
  units share cancels in their difference.
- weighted statistics (`weighted_spearman`, `weighted_slope`): a row of weights is a
  resample with each row repeated as often as its weight says, and the weighted statistic
  equals the statistic of that repeated data exactly (average ranks for ties), so a bootstrap
  is a few array operations instead of thousands of scipy calls.
- standardising scores within groups (`standardise`), so that targets on different scales can
  be pooled.
- Kendall's W and tau for many resamples, a wild bootstrap's sign flips (`sign_flips`) for
  noise measured on three seeds, a permutation p-value, and the normal interval for
  agreements whose resamples noise shifts.

And the refusals: below a minimum number of units a statistic is not computed at all, and
the analysis says why instead of printing a number.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata, spearmanr

BOOTSTRAP_SAMPLES = 2000
"""Resamples (and permutations) per statistic; tests lower it to stay fast."""
CONFIDENCE = 0.95


class TooFewPoints(Exception):
    """A statistic asked of too little data; its message says what is missing."""


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval (None when the resampling is degenerate) and,
    where the statistic has a valid test, its p-value."""

    value: float
    low: float | None = None
    high: float | None = None
    p_value: float | None = None

    @property
    def sign(self) -> int:
        """+1 when the interval lies above zero, -1 below it, 0 when it holds zero (or there
        is none): the only signs an analysis may draw a conclusion from."""
        if self.low is not None and self.low > 0:
            return 1
        if self.high is not None and self.high < 0:
            return -1
        return 0

    def text(self, digits: int = 2) -> str:
        shown = f"{self.value:.{digits}f}"
        if self.low is not None and self.high is not None:
            shown += f" [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        if self.p_value is not None:
            shown += f" (p = {self.p_value:.3g})"
        return shown


def cluster_weights(
    clusters: Sequence[Hashable], *, strata: Sequence[Hashable] | None = None, seed: int = 0
) -> np.ndarray:
    """`BOOTSTRAP_SAMPLES` resamples of the units `clusters` names (one label per row), as
    weights: row r of resample b weighs as often as its unit was drawn in b. Units are drawn
    with replacement, as many as there are; all rows of a unit move together (a cluster
    bootstrap; one row per unit is the ordinary bootstrap). With `strata` (one label per row,
    constant within a unit), each stratum's units are drawn from that stratum only, as many
    as it holds: the families of a comparison keep their size and stay themselves. Units are
    drawn in the order they first appear, so one seed gives the same draws to the same units
    however many rows each has."""
    unit_of_row = _codes(clusters)
    stratum_of_row = np.zeros(len(unit_of_row), int) if strata is None else _codes(strata)
    stratum_of_unit = np.zeros(unit_of_row.max(initial=-1) + 1, int)
    stratum_of_unit[unit_of_row] = stratum_of_row
    rng = np.random.default_rng(seed)
    counts = np.zeros((BOOTSTRAP_SAMPLES, len(stratum_of_unit)))
    for stratum in np.unique(stratum_of_unit):
        members = np.flatnonzero(stratum_of_unit == stratum)
        share = np.full(len(members), 1 / len(members))
        counts[:, members] = rng.multinomial(len(members), share, size=BOOTSTRAP_SAMPLES)
    return counts[:, unit_of_row]


def _codes(labels: Sequence[Hashable]) -> np.ndarray:
    """Each label's index in the order labels first appear."""
    index: dict[Hashable, int] = {}
    return np.array([index.setdefault(label, len(index)) for label in labels], dtype=int)


def crossed_weights(
    first: Sequence[Hashable], second: Sequence[Hashable], *, seed: int = 0
) -> np.ndarray:
    """Resample weights for rows that belong to two kinds of unit at once (a row is an
    (intermediate task, target task) pair): both kinds are resampled, independently, and a
    row weighs the product of its two units' counts (Owen's pigeonhole bootstrap, 2007).
    Resampling the pairs instead would treat the nine pairs of one intermediate task as nine
    independent observations of it."""
    return cluster_weights(first, seed=seed) * cluster_weights(second, seed=seed + 1)


def weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's rank within each resample, as `rankdata` ranks the resample written out
    (each row repeated as often as it weighs; tied values share their average rank)."""
    order = np.argsort(values, kind="stable")
    distinct, first = np.unique(values[order], return_index=True)
    group_of_row = np.empty(len(values), int)
    group_of_row[order] = np.searchsorted(distinct, values[order])
    per_group = np.add.reduceat(weights[:, order], first, axis=1)
    below = np.cumsum(per_group, axis=1) - per_group
    return np.asarray((below + (per_group + 1) / 2)[:, group_of_row])


def _pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson's r of each resample; NaN where one side is constant in it."""
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - (weights * x).sum(axis=1, keepdims=True) / total
        dy = y - (weights * y).sum(axis=1, keepdims=True) / total
        covariance = (weights * dx * dy).sum(axis=1)
        spread = np.sqrt((weights * dx**2).sum(axis=1) * (weights * dy**2).sum(axis=1))
        r = covariance / spread
    return np.asarray(np.where(spread > 1e-12, r, np.nan))


def weighted_spearman(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Spearman's rho of each resample (NaN where one side is constant in it)."""
    x_ranks, y_ranks = weighted_ranks(x, weights), weighted_ranks(y, weights)
    return _pearson(x_ranks, y_ranks, weights)


def weighted_slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The least-squares slope of y on x in each resample (NaN where x is constant in it)."""
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - (weights * x).sum(axis=1, keepdims=True) / total
        spread = (weights * dx**2).sum(axis=1)
        slope = (weights * dx * y).sum(axis=1) / spread
    return np.asarray(np.where(spread > 1e-12, slope, np.nan))


def observed(n: int) -> np.ndarray:
    """The data as they are, as one row of weights (every row once)."""
    return np.ones((1, n))


def spearman(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    minimum: int = 5,
    unit: str = "pairs",
    resamples: np.ndarray | None = None,
) -> Estimate:
    """Spearman's rho of the points (x, y) with a percentile bootstrap interval. Each point
    is one independent `unit` unless `resamples` (weights from `cluster_weights` or
    `crossed_weights`) say how the points' units are drawn; the p-value, which assumes
    independent points, is then left out rather than overstated."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) < minimum:
        raise TooFewPoints(f"a correlation needs at least {minimum} {unit} (got {len(xs)})")
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        raise TooFewPoints("a correlation needs values that vary (one side is constant)")
    independent = resamples is None
    weights = cluster_weights(range(len(xs))) if resamples is None else resamples
    interval = percentile_interval(weighted_spearman(xs, ys, weights))
    rho = spearmanr(xs, ys)
    p_value = float(rho.pvalue) if independent else None
    return Estimate(float(rho.statistic), *interval, p_value=p_value)


def standardise(values: np.ndarray, groups: Sequence[Hashable]) -> np.ndarray:
    """Each value as standard deviations from its group's mean (population sd; 0 where a
    group does not vary). Targets score in different units and spreads (an accuracy point on
    XNLI is not an F1 point on BUCC, whose gains run ten times larger), so a mean over
    targets of raw gains is decided by the target with the largest spread; standardised, each
    target counts alike. z-scores rather than ranks within a target: a gain far above the
    target's others counts for more than one just above them, and a mean of z-scores is a
    linear function of the gains, whose bootstrap is smooth, where ranks would make the
    pooled value depend on how many cells each target has."""
    labels = np.unique(np.asarray(groups, dtype=str), return_inverse=True)[1]
    standardised = np.zeros(len(values))
    for group in np.unique(labels):
        members = labels == group
        spread = values[members].std()
        if spread > 0:
            standardised[members] = (values[members] - values[members].mean()) / spread
    return standardised


def kendall_w(profiles: np.ndarray) -> np.ndarray:
    """Kendall's coefficient of concordance of m rankings of n items: `profiles` (..., m, n)
    holds each ranking's scores (higher first), W is computed over the last two axes for
    every leading index (every resample at once). Ties take average ranks; W is not
    corrected for them (no tie is expected in mean gains). NaN where a score is NaN."""
    m, n = profiles.shape[-2:]
    if m < 2 or n < 3:
        raise TooFewPoints(
            f"agreement needs at least 2 rankings of at least 3 items (got {m} of {n})"
        )
    ranks = rankdata(profiles, axis=-1, nan_policy="propagate")
    totals = ranks.sum(axis=-2)
    spread = ((totals - totals.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    return np.asarray(12 * spread / (m**2 * (n**3 - n)))


def kendall_tau(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b (scipy's default) between the last axes of `a` and `b`, for every
    leading index; NaN where one side is constant."""
    if a.shape[-1] < 3:
        raise TooFewPoints(f"a rank correlation needs at least 3 items (got {a.shape[-1]})")
    upper = np.triu_indices(a.shape[-1], 1)
    sa = np.sign(a[..., :, None] - a[..., None, :])[..., upper[0], upper[1]]
    sb = np.sign(b[..., :, None] - b[..., None, :])[..., upper[0], upper[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((sa * sb).sum(axis=-1) / np.sqrt((sa**2).sum(-1) * (sb**2).sum(-1)))


def sign_flips(units: int, *, seed: int = 2) -> np.ndarray:
    """`BOOTSTRAP_SAMPLES` draws of a sign, +1 or -1, for each of `units` (a wild bootstrap:
    each unit's deviation from its mean kept or reversed, whole). With three seeds, resampling
    the seeds gives ten distinct resamples; flipping each run's deviation gives as many as
    the runs allow, with the same variance."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.choice([-1.0, 1.0], size=(BOOTSTRAP_SAMPLES, units)))


def permutations(labels: Sequence[Hashable], *, seed: int = 1) -> np.ndarray:
    """`BOOTSTRAP_SAMPLES` shuffles of `labels` over the rows, as one row of label indices
    (in order of first appearance) each: under the hypothesis that labels do not matter,
    every shuffle is as likely as the labels given."""
    codes = _codes(labels)
    rng = np.random.default_rng(seed)
    return np.asarray(rng.permuted(np.tile(codes, (BOOTSTRAP_SAMPLES, 1)), axis=1))


def permutation_p(value: float, permuted: np.ndarray, *, larger: bool) -> float:
    """The one-sided permutation p-value of `value` among the statistic's `permuted` values:
    the share at least as extreme (larger, or smaller), counting the observed arrangement as
    one of them so that p is never 0."""
    finite = permuted[~np.isnan(permuted)]
    extreme = finite >= value - 1e-12 if larger else finite <= value + 1e-12
    return float((1 + extreme.sum()) / (1 + len(finite)))


def percentile_interval(values: Sequence[float] | np.ndarray) -> tuple[float | None, float | None]:
    """The `CONFIDENCE` percentile interval of a statistic's bootstrap values. Resamples where
    the statistic is undefined (NaN) are dropped; with too few left the interval is None."""
    finite = np.asarray(values, dtype=float)
    total = len(finite)
    finite = finite[~np.isnan(finite)]
    if len(finite) < total // 2 or not len(finite):
        return None, None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def normal_interval(
    value: float, values: np.ndarray, *, bounds: tuple[float, float]
) -> tuple[float | None, float | None]:
    """The estimate ± 1.96 standard deviations of its bootstrap values (the normal bootstrap
    interval), held within the statistic's `bounds`. For an agreement between rankings the
    resamples' spread is what the bootstrap gets right and their location is not: noise pushes
    an agreement down near complete agreement and up where the noise is shared by every
    ranking, so the percentile interval lies beside the truth in the one case and the basic
    (reflected) interval in the other. On simulated grids this interval held Kendall's W's
    many-seed value in 92 % of three-seed grids, the percentile and basic ones in about 80 %."""
    finite = np.asarray(values, dtype=float)
    total = len(finite)
    finite = finite[~np.isnan(finite)]
    if len(finite) < total // 2 or len(finite) < 2:
        return None, None
    half = 1.959964 * float(finite.std(ddof=1))
    return max(bounds[0], value - half), min(bounds[1], value + half)


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for one value: nothing to spread)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else None
