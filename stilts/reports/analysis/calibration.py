"""How often each analysis finds an effect that is not there, and how often its intervals hold
the value they estimate: measured on simulated grids (`stilts.reports.analysis.simulate`).

For each question a claim is what its analysis concludes from one number: a correlation or
a slope whose 95 % interval excludes 0; families differ at permutation p < 0.05, with an
interval for Kendall's W of their rankings. Two rates:

- false positives: over grids drawn with nothing planted, each from a design of its own (the
  structure every experiment has, tasks' and languages' effects included, drawn anew, then
  the noise of training), how often a claim is called significant. A calibrated analysis
  says so 5 % of the time; one that resamples the wrong unit (a language where the run is
  what varies, a pair where tasks are) says so more often.
- coverage: over grids drawn from a few designs with an effect planted, how often the
  claim's 95 % interval holds the true value. The true value is what the analysis estimates:
  its own statistic on the same design with so many seeds that the noise of three no longer
  matters (a rank correlation of noisy points keeps its noise in the estimand; a mean's noise
  averages away). Computing it with the analysis itself keeps it right whatever the analysis
  pools or standardises. A design fixes its languages and tasks, so only the noise of
  training varies between its grids: an interval meant for a population of languages or
  tasks is wider than this needs, and coverage fails only where an interval leaves too little
  room for the runs' own luck, or sits off its statistic.

Each analysis is run as a user runs it, on a grid written to disk (the analyses read only
stores), and its claims are read off its findings and tables: each `Question`'s `answer`,
which must follow the findings' wording when an analysis changes it (a finding it cannot
read raises `UnreadableFinding`, never counts as no finding).

The bootstrap size is the analyses' own (`stats.BOOTSTRAP_SAMPLES`) unless a caller asks for
fewer (`bootstrap`): a percentile interval from 100 resamples has noisier endpoints, not
biased ones, so rates measured with few resamples are close to the analysis's own.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from stilts.reports.analysis import families, resource, similarity, simulate, size, stats, syntax
from stilts.reports.analysis.findings import Analysis
from stilts.reports.analysis.runs import gains, read_runs

LEVEL = 0.05
"""A finding at the 5 % level: an interval excluding 0, or a p-value below this."""
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
"""Where simulated grids are written and removed: memory, where the system offers it (a
grid of hundreds of small files is written for every replicate)."""


@dataclass(frozen=True)
class Claim:
    """One conclusion of an analysis: its statistic, its interval, and whether the analysis
    reports it as a finding at the 5 % level."""

    name: str
    value: float
    low: float | None
    high: float | None
    significant: bool

    def covers(self, truth: float) -> bool | None:
        """Whether the interval holds `truth`; None: no interval (not computed)."""
        if self.low is None or self.high is None:
            return None
        return self.low <= truth <= self.high


Answer = Callable[[Path, simulate.Design], list[Claim]]
"""Runs a question's analysis on the grid at the path (drawn from the design) and reads its
claims."""
Design = Callable[[np.random.Generator, float], simulate.Design]
"""Draws a question's design with an effect of the size given (0: none)."""


@dataclass(frozen=True)
class Question:
    name: str
    claim: str
    """The claims calibrated, in words (the bench's table)."""
    design: Design
    effect: float
    """The effect planted for coverage (units of gain; see each design)."""
    answer: Answer
    small: Design
    """The design cut down for quick runs (the tests, `--quick`): fewer intermediate tasks or
    targets, the same structure (targets of different scales and coverage, shared noise)."""

    def smaller(self) -> Question:
        return replace(self, design=self.small)


@dataclass(frozen=True)
class Rate:
    """How many claims had the property out of how many could have it; `missing` claims were
    not computed or had no interval (the analysis refused), and count in neither."""

    hits: int
    claims: int
    missing: int = 0

    @property
    def value(self) -> float:
        return self.hits / self.claims if self.claims else math.nan


@dataclass(frozen=True)
class Calibration:
    """A question's two rates and how many grids each came from."""

    question: Question
    false_positives: Rate
    coverage: Rate
    null_stores: int
    planted_stores: int


@contextmanager
def bootstrap_samples(count: int | None) -> Iterator[None]:
    """The analyses' bootstrap size set to `count` for the block (None: leave it). stats
    reads `BOOTSTRAP_SAMPLES` when it resamples, so every analysis follows."""
    if count is None:
        yield
        return
    kept = stats.BOOTSTRAP_SAMPLES
    stats.BOOTSTRAP_SAMPLES = count
    try:
        yield
    finally:
        stats.BOOTSTRAP_SAMPLES = kept


def answer(question: Question, design: simulate.Design, seeds: Sequence[int],
           rng: np.random.Generator) -> list[Claim]:  # fmt: skip
    """One replicate: the design's grid drawn with `seeds`, written to scratch, analysed."""
    runs = simulate.simulate(design, seeds, rng)
    with tempfile.TemporaryDirectory(prefix="stilts-calibration-", dir=SCRATCH) as scratch:
        return question.answer(simulate.write_grid(runs, Path(scratch)), design)


def null_replicate(question: Question, index: int, *, seed: int = 0,
                   bootstrap: int | None = None) -> list[Claim]:  # fmt: skip
    """The claims on the `index`-th grid with nothing planted (a design of its own)."""
    rng = np.random.default_rng([seed, 0, index])
    with bootstrap_samples(bootstrap):
        return answer(question, question.design(rng, 0.0), simulate.SEEDS, rng)


def planted_design(question: Question, index: int, *, seed: int = 0) -> simulate.Design:
    """The `index`-th design with the question's effect planted."""
    return question.design(np.random.default_rng([seed, 1, index]), question.effect)


def truth(question: Question, index: int, *, seeds: int, seed: int = 0) -> dict[str, float]:
    """What the analysis estimates on planted design `index`: its statistics on `seeds`
    seeds (the interval is not wanted: few resamples)."""
    rng = np.random.default_rng([seed, 2, index])
    with bootstrap_samples(20):
        claims = answer(question, planted_design(question, index, seed=seed),
                        range(1000, 1000 + seeds), rng)  # fmt: skip
    return {claim.name: claim.value for claim in claims}


def planted_replicate(question: Question, design: int, index: int, *, seed: int = 0,
                      bootstrap: int | None = None) -> list[Claim]:  # fmt: skip
    """The claims on the `index`-th grid drawn from planted design `design`."""
    rng = np.random.default_rng([seed, 3, design, index])
    with bootstrap_samples(bootstrap):
        return answer(question, planted_design(question, design, seed=seed), simulate.SEEDS,
                      rng)  # fmt: skip


def false_positive_rate(claims: Iterable[Claim]) -> Rate:
    found = list(claims)
    computed = [c for c in found if not math.isnan(c.value)]
    return Rate(sum(c.significant for c in computed), len(computed), len(found) - len(computed))


def coverage_rate(claims: Iterable[tuple[Claim, float]]) -> Rate:
    """Of claims paired with their true value, how many intervals hold it."""
    held = [claim.covers(value) for claim, value in claims]
    known = [h for h in held if h is not None]
    return Rate(sum(known), len(known), len(held) - len(known))


Mapper = Callable[[Callable[[int], list[Claim]], Iterable[int]], Iterable[list[Claim]]]


def calibrate(
    question: Question,
    *,
    stores: int,
    designs: int,
    truth_seeds: int,
    bootstrap: int | None = None,
    seed: int = 0,
    mapper: Mapper = map,
) -> Calibration:
    """Both rates for `question`: `stores` null grids, and `stores` planted grids spread over
    `designs` designs (each design's truth from `truth_seeds` seeds). `mapper` runs the
    replicates (a process pool's map runs them side by side)."""
    nulls = mapper(_Null(question, seed, bootstrap), range(stores))
    truths = [truth(question, k, seeds=truth_seeds, seed=seed) for k in range(designs)]
    per_design = [stores // designs + (k < stores % designs) for k in range(designs)]
    planted: list[tuple[Claim, float]] = []
    for k, count in enumerate(per_design):
        for claims in mapper(_Planted(question, k, seed, bootstrap), range(count)):
            planted += [(claim, truths[k][claim.name]) for claim in claims]
    return Calibration(question, false_positive_rate(c for cs in nulls for c in cs),
                       coverage_rate(planted), stores, sum(per_design))  # fmt: skip


@dataclass(frozen=True)
class _Null:
    """A null replicate by index, picklable for a process pool."""

    question: Question
    seed: int
    bootstrap: int | None

    def __call__(self, index: int) -> list[Claim]:
        return null_replicate(self.question, index, seed=self.seed, bootstrap=self.bootstrap)


@dataclass(frozen=True)
class _Planted:
    """A planted replicate of one design by index, picklable for a process pool."""

    question: Question
    design: int
    seed: int
    bootstrap: int | None

    def __call__(self, index: int) -> list[Claim]:
        return planted_replicate(self.question, self.design, index, seed=self.seed,
                                 bootstrap=self.bootstrap)  # fmt: skip


# Reading each analysis's claims off what it prints. The patterns follow the findings'
# wording; an analysis that changes it must change its reader here.

NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|inf)"
INTERVAL = rf"({NUMBER})(?: \[({NUMBER}), ({NUMBER})\])?"


class UnreadableFinding(Exception):
    """An analysis's finding no longer reads as its calibration expects."""


def _finding(analysis: Analysis, *starts: str) -> str:
    """The one finding that starts with one of `starts` (its statement, or its refusal)."""
    found = [f for f in analysis.findings if f.startswith(starts)]
    if len(found) != 1:
        raise UnreadableFinding(
            f"{analysis.name}: expected one finding starting {' or '.join(starts)}, got "
            f"{len(found)}: {analysis.findings}"
        )
    return found[0]


def _interval_claim(name: str, text: str, before: str) -> Claim:
    """The claim `text` states after `before` as ``value [low, high]`` (the interval may be
    missing); significant when the interval excludes 0. Not computed: value NaN."""
    if "not computed" in text or "not compared" in text:
        return Claim(name, math.nan, None, None, False)
    match = re.search(re.escape(before) + INTERVAL, text)
    if match is None:
        raise UnreadableFinding(f"no '{before}value [low, high]' in: {text}")
    low, high = (float(g) if g is not None else None for g in match.groups()[1:])
    return Claim(name, float(match.group(1)), low, high, _excludes_zero(low, high))


def _excludes_zero(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and (low > 0 or high < 0)


def _resource(grid: Path, design: simulate.Design) -> list[Claim]:
    text = _finding(resource.analyze(grid), "all target languages:")
    return [_interval_claim("all target languages", text, "gain) = ")]


def _families(grid: Path, design: simulate.Design) -> list[Claim]:
    analysis = families.analyze(grid)
    text = _finding(analysis, "Kendall's W", "agreement between families not computed")
    claim = _interval_claim("Kendall's W", text, "Kendall's W = ")
    if math.isnan(claim.value):
        return [claim]
    p_value = re.search(rf"permutation p = ({NUMBER})", text)
    if p_value is None:
        raise UnreadableFinding(f"no permutation p in: {text}")
    return [Claim(claim.name, claim.value, claim.low, claim.high,
                  float(p_value.group(1)) < LEVEL)]  # fmt: skip


def _syntax(grid: Path, design: simulate.Design) -> list[Claim]:
    analysis = syntax.analyze(grid)
    text = _finding(
        analysis,
        "slope of syntactic minus semantic tasks:",
        "syntactic against semantic tasks not compared",
    )
    return [_interval_claim("syntactic minus semantic slope", text, "semantic tasks: ")]


def _similarity(grid: Path, design: simulate.Design) -> list[Claim]:
    found, notes = gains(read_runs(grid))
    planted = {pair: similarity.Similarity(*values)
               for pair, values in design.similarities.items()}  # fmt: skip
    analysis = similarity.correlate(found, planted, notes=notes)
    (table,) = [t for t in analysis.tables if t.name == "similarity_correlation"]
    claims = []
    for measure, group, _, rho, low, high, *_ in table.rows:
        if group != "all":
            continue
        value = float(rho) if isinstance(rho, int | float) else math.nan
        low, high = (float(b) if isinstance(b, int | float) else None for b in (low, high))
        claims.append(Claim(f"{measure}, all pairs", value, low, high, _excludes_zero(low, high)))
    return claims


def _size(grid: Path, design: simulate.Design) -> list[Claim]:
    analysis = size.analyze(grid)
    claims = []
    for text in analysis.findings:
        sweep, _, rest = text.partition(": ")
        if rest.startswith("Spearman rho (size,") or rest.startswith("size trend not computed"):
            claims.append(_interval_claim(sweep, text, "mean gain) = "))
    if not claims:
        raise UnreadableFinding(f"size: no size trend among {analysis.findings}")
    return claims


def _small_families(rng: np.random.Generator, effect: float) -> simulate.Design:
    return simulate.families(rng, effect, tasks=simulate.FAMILY_TASKS[:4],
                             targets=("xnli", "udpos", "tatoeba"))  # fmt: skip


def _small_similarity(rng: np.random.Generator, effect: float) -> simulate.Design:
    return simulate.similarity(rng, effect, tasks=simulate.FAMILY_TASKS[:5],
                               targets=("xnli", "pawsx", "udpos", "xquad", "tatoeba"))  # fmt: skip


def _small_syntax(rng: np.random.Generator, effect: float) -> simulate.Design:
    return simulate.syntax(rng, effect, tasks=("udparse", "ccg", "mnli", "squad"))


def _small_resource(rng: np.random.Generator, effect: float) -> simulate.Design:
    return simulate.resource(rng, effect, targets=("xnli", "panx"))


def rates(found: Sequence[Calibration]) -> str:
    """The table the bench prints: each question's rates, with their counts."""
    lines = [f"{'analysis':<11} {'false positives':>22} {'coverage (95 %)':>22}  claim"]
    for c in found:
        lines.append(f"{c.question.name:<11} {_shown(c.false_positives):>22} "
                     f"{_shown(c.coverage):>22}  {c.question.claim}")  # fmt: skip
    return "\n".join(lines)


def _shown(rate: Rate) -> str:
    missing = f" ({rate.missing} n/c)" if rate.missing else ""
    return f"{rate.hits}/{rate.claims} = {100 * rate.value:.1f} %{missing}"


QUESTIONS = {
    q.name: q
    for q in (
        Question("resource", "Spearman rho (intermediate language's class, gain), all target "
                 "languages", simulate.resource, 0.3, _resource, _small_resource),
        Question("families", "families differ (permutation p); Kendall's W interval",
                 simulate.families, 1.0, _families, _small_families),
        Question("syntax", "slope of syntactic minus semantic tasks' gains on distance",
                 simulate.syntax, 2.0, _syntax, _small_syntax),
        Question("similarity", "Spearman rho (similarity, gain), all pairs, each measure",
                 simulate.similarity, 0.3, _similarity, _small_similarity),
        Question("size", "Spearman rho (size, each run's mean gain), each target",
                 simulate.size, 0.5, _size, simulate.size),
    )
}  # fmt: skip
"""The five questions, each with its design, its planted effect and its claims' reader."""
