"""The statistics the research questions need, each with its uncertainty and its limits.

scipy does the arithmetic (rank correlations, their p-values, tie handling); what is written
here is what scipy has no single call for (Kendall's W for several rankings, a percentile
bootstrap over arbitrary units) and the refusals: below a minimum number of points a
statistic is not computed at all, and the analysis says why instead of printing a number.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, kendalltau, rankdata, spearmanr

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95


class TooFewPoints(Exception):
    """A statistic asked of too little data; its message says what is missing."""


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval (None when the resampling is degenerate) and,
    where the statistic has a test, its p-value."""

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


def kendall_w(ranks: np.ndarray) -> tuple[float, float]:
    """Kendall's coefficient of concordance of m rankings (rows) of n items (columns), with
    the p-value of Friedman's chi-square test, m (n - 1) W ~ chi2(n - 1). Ties take average
    ranks; W is not corrected for them (no tie is expected in mean gains)."""
    m, n = ranks.shape
    if m < 2 or n < 3:
        raise TooFewPoints(
            f"agreement needs at least 2 rankings of at least 3 items (got {m} of {n})"
        )
    ranked = np.vstack([rankdata(row) for row in ranks])
    totals = ranked.sum(axis=0)
    spread = ((totals - totals.mean()) ** 2).sum()
    w = float(12 * spread / (m**2 * (n**3 - n)))
    return w, float(chi2.sf(m * (n - 1) * w, n - 1))


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> Estimate:
    if len(a) < 3:
        raise TooFewPoints(f"a rank correlation needs at least 3 pairs (got {len(a)})")
    result = kendalltau(a, b)
    return Estimate(float(result.statistic), p_value=float(result.pvalue))


def spearman(x: Sequence[float], y: Sequence[float], *, minimum: int = 5) -> Estimate:
    """Spearman's rho with a percentile bootstrap interval over the pairs and its p-value."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xs) < minimum:
        raise TooFewPoints(f"a correlation needs at least {minimum} pairs (got {len(xs)})")
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        raise TooFewPoints("a correlation needs values that vary (one side is constant)")
    rho = spearmanr(xs, ys)
    rows = resampled_rows(len(xs))
    interval = percentile_interval(row_spearman(xs[rows], ys[rows]))
    return Estimate(float(rho.statistic), *interval, p_value=float(rho.pvalue))


def resampled_rows(n: int, *, seed: int = 0) -> np.ndarray:
    """`BOOTSTRAP_SAMPLES` resamples of n items, one row of indices each (drawn with
    replacement), for statistics computed on every resample at once."""
    return np.random.default_rng(seed).integers(0, n, (BOOTSTRAP_SAMPLES, n))


def row_spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of `x` with the same row of `y` (ties: average ranks, as
    scipy), NaN where a row is constant: a bootstrap's resamples in one call instead of one
    scipy call each (a hundred times faster)."""
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))


def bootstrap(
    resampled: Callable[[np.random.Generator], float], *, seed: int = 0
) -> tuple[float | None, float | None]:
    """A percentile interval of a statistic over `BOOTSTRAP_SAMPLES` resamples, each drawn
    by `resampled` with the generator given (the caller knows its units: pairs, languages
    within families…)."""
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():  # a resample of equal values: NaN, dropped below
        warnings.simplefilter("ignore")
        return percentile_interval([resampled(rng) for _ in range(BOOTSTRAP_SAMPLES)])


def percentile_interval(values: Sequence[float] | np.ndarray) -> tuple[float | None, float | None]:
    """The `CONFIDENCE` percentile interval of a statistic's bootstrap values. Resamples where
    the statistic is undefined (NaN) are dropped; with too few left the interval is None."""
    finite = np.asarray(values, dtype=float)
    finite = finite[~np.isnan(finite)]
    if len(finite) < BOOTSTRAP_SAMPLES // 2:
        return None, None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for one value: nothing to spread)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else None
