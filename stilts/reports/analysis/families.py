"""Question 1: which intermediate tasks help most, and is the ranking the same in every language
family?

From a grid's runs: each (intermediate, target, language)'s gain over the target trained
alone, averaged over seeds, the language grouped by its WALS family
(`stilts.reports.languages`).

The unit of analysis is the language. The question is about families, and a family is known
only through its languages: a family's ten (target, language) gains from two languages are
two observations, not ten, since a language carries its own response to every target. So
intervals resample languages, each with all its targets (a cluster bootstrap), within each
family (stratified: a family stays itself and keeps its size). The rankings also rest on
runs: an intermediate training's luck (one task, one seed) reaches every target and language
after it, so every family sees it alike, and with three seeds it can order the tasks as much
as the tasks do. Each resample therefore also draws each run's noise again (a wild bootstrap
over runs: `Gains.resampled`), with the same languages resampled for every statistic.

W and tau are rank agreements that noise pushes about: down near complete agreement (noise
reorders some families' tasks), up where the runs' shared noise orders every family alike.
Their intervals are normal bootstrap intervals (the estimate ± 1.96 bootstrap standard
deviations, `stats.normal_interval`), which take the resamples' spread and not their shifted
location; on simulated grids (the calibration's, issue 15) W's held its 40-seed value in
about 92 % of three-seed grids, where resampling languages alone held it in half of them.

Targets score in different units and spreads (BUCC's F1 gains run ten times XNLI's accuracy
gains), so gains are standardised within each target (`stats.standardise`) before any mean
over targets; each target's own figures are shown beside the pooled ones. Families are
covered by different targets (Yoruba only by UD-POS and PAN-X), and tasks rank differently
on different targets, so families covered by different targets would disagree for that alone:
the families are compared on the targets that cover them all (a family covered by too few is
left out of the comparison, and the findings say which), and a family's score for a task is
the mean over those targets of its languages' mean there, so every family averages the same
targets. English, which the targets train in, is not zero-shot: its gains are shown apart.

Kendall's W measures how alike the families rank the tasks (0: unrelated, 1: identical),
with its interval. Whether the families differ is tested by permuting family labels over the
languages: under the hypothesis that family does not matter, a family's languages are as good
as any others drawn from the same languages. The statistic is the spread of the families'
task profiles, each centred on its own mean (a family that gains more from every task ranks
them no differently), weighted by the family's number of languages: the between-family sum of
squares of a permutational MANOVA. W itself would not do as the statistic: random groupings
of languages that disagree average into flat profiles whose rankings agree by chance no more
than the real families', so W does not grow with the difference. The permutation replaces
Friedman's test, which assumes the families' rankings independent: they are measured on the
same runs, whose noise every family shares, so it found agreement in that noise. Pairwise
Kendall tau compares every two families, with the same resampled languages (paired).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from statistics import fmean

import numpy as np

from stilts.errors import StiltsError
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, Table, not_zero_shot, table
from stilts.reports.analysis.runs import Gain, gains, read_runs, split_zero_shot
from stilts.reports.analysis.stats import (
    TooFewPoints,
    cluster_weights,
    kendall_tau,
    kendall_w,
    mean_std,
    normal_interval,
    percentile_interval,
    permutation_p,
    permutations,
    sign_flips,
    standardise,
)
from stilts.reports.languages import language
from stilts.reports.tables import Cell

UNIT = (
    "a language, with every target it is scored in. Gains are means over seeds, standardised "
    "within each target; a family's score for a task is the mean over the compared targets "
    "of its languages' mean there. Intervals resample each family's languages and draw each "
    "run's noise again; whether families differ is a permutation of family labels over "
    "languages"
)
UNKNOWN = "(unknown)"
Cell3 = tuple[str, str, str]
"""(intermediate task, target, language)."""


def family_of(code: str) -> str:
    try:
        return language(code).family
    except StiltsError:
        return UNKNOWN


@dataclass(frozen=True)
class Gains:
    """The standardised zero-shot gains as arrays: languages × targets × tasks × seeds (NaN
    where a language is not scored in a target, or a seed is missing)."""

    languages: tuple[str, ...]
    targets: tuple[str, ...]
    tasks: tuple[str, ...]
    seeds: np.ndarray
    """Per seed, the gain plus its seed's deviation from the seeds' mean widened by
    sqrt(n / (n - 1)): the mean over seeds is the gain, and flipping the deviations' signs
    varies that mean as much as drawing n new seeds would (the raw deviations of 3 seeds
    would understate it by a third)."""

    @property
    def z(self) -> np.ndarray:
        """Each (language, target, task)'s standardised gain: the mean over its seeds."""
        with warnings.catch_warnings():  # a language a target does not score: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanmean(self.seeds, axis=-1))

    def subset(self, languages: Sequence[str], targets: Sequence[str]) -> Gains:
        rows = [self.languages.index(code) for code in languages]
        columns = [self.targets.index(target) for target in targets]
        return Gains(tuple(languages), tuple(targets), self.tasks,
                     self.seeds[np.ix_(rows, columns)])  # fmt: skip

    def resampled(self) -> np.ndarray:
        """(resample, language, target, task): the gains with each run's noise drawn again.
        A run (one intermediate training: task and seed) passes its luck to every target and
        language after it, and that luck decides rankings as much as the tasks do, so each
        resample keeps or reverses each run's deviation from the seeds' mean, whole, across
        all its targets and languages (`stats.sign_flips`)."""
        tasks, seeds = self.seeds.shape[-2:]
        signs = sign_flips(tasks * seeds).reshape(-1, tasks, seeds)
        present = ~np.isnan(self.seeds)
        deviation = np.where(present, self.seeds - self.z[..., None], 0.0)
        flipped = np.einsum("bks,ltks->bltk", signs, deviation)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.z[None] + flipped / present.sum(axis=-1)[None])

    def profiles(self, membership: np.ndarray, gains: np.ndarray | None = None) -> np.ndarray:
        """Each group's score per task, (..., groups, tasks), from `membership` (..., groups,
        languages): how much each language weighs in each group (a resample's counts, a
        permutation's 0/1), on `gains` (default: the mean over seeds; or `resampled`'s, one
        per resample). A group's score is the mean over targets of its languages' weighted
        mean there, over the targets its weighted languages are scored in."""
        cells = self.z if gains is None else gains
        scored = ~np.isnan(cells)
        total = np.einsum("...gl,...ltk->...gtk", membership, np.where(scored, cells, 0.0))
        count = np.einsum("...gl,...ltk->...gtk", membership, scored.astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            per_target = total / count
        present = ~np.isnan(per_target)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(present, per_target, 0).sum(axis=-2) / present.sum(axis=-2))


def analyze(path: Path) -> Analysis:
    found, notes = gains(read_runs(path))
    if not found:
        raise StiltsError(
            f"{path} holds no chain with a baseline (the target trained alone, same seed): "
            "run a grid with baselines"
        )
    zero_shot, seen = split_zero_shot(found)
    unplaced = sorted({g.language for g in zero_shot if family_of(g.language) == UNKNOWN})
    zero_shot = [g for g in zero_shot if family_of(g.language) != UNKNOWN]
    per_seed = _per_seed(zero_shot)
    cells = _standardised(per_seed)
    families = _families(cells.languages)
    coverage = _coverage(cells, families)
    compared, shared, left_out = _compared(coverage, cells, families)
    findings = [
        _overall(cells),
        _seeds_note(sorted({g.seed for g in zero_shot})),
        _comparison_note(compared, shared, left_out, coverage),
    ]
    agreed, agreement_rows, pairs = _agreements(cells, families, compared, shared)
    findings += agreed
    if unplaced:
        findings.append(f"languages without a family in the language table, left out: "
                        f"{', '.join(unplaced)}")  # fmt: skip
    findings += notes
    pooled = _pooled_profiles(cells, families, coverage, compared, shared)
    tables = (
        _gains_table(per_seed, cells, families, pooled),
        _ranking_table(pooled, cells, families, coverage, compared, shared),
        table("family_agreement", "pairwise agreement of the families' rankings on the "
              "compared targets (Kendall tau, 95% normal bootstrap interval over each family's "
              "languages and the runs)", ("family", "other family", "kendall tau", "low",
              "high"), pairs),
        table("agreement_by_target", "Kendall's W of the families' rankings, on the compared "
              "targets and on each target alone (interval: each family's languages and the "
              "runs resampled; p: family labels permuted over languages)",
              ("targets", "families", "languages", "kendall w", "low", "high",
               "permutation p", "note"), agreement_rows),
        not_zero_shot("families", seen),
    )  # fmt: skip
    names = sorted(pooled)

    def figure(out: Path) -> None:
        values = [[pooled[f][1][k] for f in names] for k in range(len(cells.tasks))]
        plots.heatmap(
            out, values, list(cells.tasks), names,
            title="gain by language family (compared targets; a family left out: its own)",
            label="gain standardised within target (sd)", diverging=True,
        )  # fmt: skip

    return Analysis("families", "Task hierarchy across language families", tuple(findings),
                    tables, figure, unit=UNIT)  # fmt: skip


def _per_seed(zero_shot: Sequence[Gain]) -> dict[Cell3, dict[int, float]]:
    """Each (task, target, language)'s gain per seed."""
    grouped: dict[Cell3, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for g in zero_shot:
        grouped[(g.intermediate, g.target, g.language)][g.seed].append(g.gain)
    return {cell: {seed: fmean(v) for seed, v in seeds.items()}
            for cell, seeds in grouped.items()}  # fmt: skip


def _standardised(per_seed: dict[Cell3, dict[int, float]]) -> Gains:
    """The gains standardised within each target (on their means over seeds), per seed."""
    keys = sorted(per_seed)
    tasks = tuple(sorted({k[0] for k in keys}))
    targets = tuple(sorted({k[1] for k in keys}))
    languages = tuple(sorted({k[2] for k in keys}))
    seeds = sorted({seed for values in per_seed.values() for seed in values})
    means = np.array([fmean(per_seed[k].values()) for k in keys])
    groups = [k[1] for k in keys]
    z = standardise(means, groups)
    scale = {t: means[[g == t for g in groups]].std() or 1.0 for t in targets}
    per_seed_z = np.full((len(languages), len(targets), len(tasks), len(seeds)), np.nan)
    for key, mean, value in zip(keys, means, z, strict=True):
        task, target, code = key
        n = len(per_seed[key])
        widen = np.sqrt(n / (n - 1)) if n > 1 else 1.0
        for seed, gain in per_seed[key].items():
            deviation = widen * (gain - mean) / scale[target]
            per_seed_z[languages.index(code), targets.index(target), tasks.index(task),
                       seeds.index(seed)] = value + deviation  # fmt: skip
    return Gains(languages, targets, tasks, per_seed_z)


def _families(languages: Sequence[str]) -> dict[str, str]:
    return {code: family_of(code) for code in languages}


def _scored(cells: Gains, code: str, target: str) -> bool:
    index = cells.languages.index(code), cells.targets.index(target)
    return bool((~np.isnan(cells.z[index])).any())


def _coverage(cells: Gains, families: dict[str, str]) -> dict[str, set[str]]:
    """Each family's targets: those scoring at least one of its languages."""
    covered: dict[str, set[str]] = defaultdict(set)
    for code in cells.languages:
        covered[families[code]].update(t for t in cells.targets if _scored(cells, code, t))
    return dict(covered)


def _compared(
    coverage: dict[str, set[str]], cells: Gains, families: dict[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """The families compared, the targets that cover them all, and the families left out.
    The compared families are those of the target that covers the most families (on a tie,
    the most languages): every family then has at least that target in common, and as many
    families as any one target allows are compared; the comparison uses every target that
    covers all of them."""
    targets = sorted({t for covered in coverage.values() for t in covered})
    if not targets:
        return [], [], sorted(coverage)

    def reach(target: str) -> tuple[int, int]:
        scored = [c for c in cells.languages if _scored(cells, c, target)]
        return len({families[c] for c in scored}), len(scored)

    widest = max(targets, key=reach)
    compared = sorted(f for f, covered in coverage.items() if widest in covered)
    shared = sorted(set.intersection(*(coverage[f] for f in compared)))
    return compared, shared, sorted(set(coverage) - set(compared))


def _overall(cells: Gains) -> str:
    """The tasks by mean standardised gain over every target and zero-shot language, with
    an interval over languages."""
    one_group = np.ones((1, len(cells.languages)))
    value = cells.profiles(one_group)[0]
    languages = cluster_weights(cells.languages)[:, None, :]
    resampled = cells.profiles(languages, cells.resampled())[:, 0, :]
    order = np.argsort(-value, kind="stable")
    shown = []
    for k in order:
        low, high = percentile_interval(resampled[:, k])
        interval = f" [{low:+.2f}, {high:+.2f}]" if low is not None else ""
        shown.append(f"{cells.tasks[k]} ({value[k]:+.2f}{interval})")
    return (
        "intermediate tasks by mean gain, standardised within each target, over every target "
        "and zero-shot language (sd units; 95% bootstrap interval over languages and runs): "
        + ", ".join(shown)
    )


def _agreements(
    cells: Gains, families: dict[str, str], compared: list[str], shared: list[str]
) -> tuple[list[str], list[tuple[Cell, ...]], list[tuple[Cell, ...]]]:
    """The families' agreement on the compared targets, then on each target alone: the
    findings (a target's own starts with its name, so the pooled one alone starts with
    Kendall's W), the table's rows, and the compared families' pairwise taus."""
    findings, rows = [], []
    pairs: list[tuple[Cell, ...]] = []
    if compared:
        languages = [c for c in cells.languages if families[c] in compared
                     and any(_scored(cells, c, t) for t in shared)]  # fmt: skip
        comparison = cells.subset(languages, shared)
        finding, row, pairs = _agreement(comparison, families, "compared: " + ", ".join(shared))
        findings.append(finding)
        rows.append(row)
    for target in cells.targets:
        in_target = [c for c in cells.languages if _scored(cells, c, target)]
        finding, row, _ = _agreement(cells.subset(in_target, [target]), families, target)
        rows.append(row)
        if len(cells.targets) > 1:
            findings.append(f"on {target} alone: {finding}")
    return findings, rows, pairs


def _seeds_note(seeds: list[int]) -> str:
    if len(seeds) < 2:
        return "one seed: the spread over seeds is unknown (run the grid with --seeds 3)"
    return f"{len(seeds)} seeds: gains are means over seeds, std their spread"


def _comparison_note(
    compared: list[str], shared: list[str], left_out: list[str], coverage: dict[str, set[str]]
) -> str:
    note = (
        f"{len(compared)} families compared on the targets that cover them all: {', '.join(shared)}"
    )
    if left_out:
        note += "; left out of the comparison (not in those targets): " + ", ".join(
            f"{f} (only {', '.join(sorted(coverage[f]))})" for f in left_out
        )
    return note


def _membership(labels: Sequence[str], groups: Sequence[str]) -> np.ndarray:
    """One row per group, one column per language: 1 where the language is the group's."""
    return np.array([[float(label == group) for label in labels] for group in groups])


def _permuted(labels: Sequence[str], groups: Sequence[str]) -> np.ndarray:
    """Memberships (permutation, group, language) with the labels shuffled over languages."""
    shuffled = np.array(list(dict.fromkeys(labels)))[permutations(labels)]
    return (shuffled[:, None, :] == np.array(groups)[None, :, None]).astype(float)


def _agreement(
    cells: Gains, families: dict[str, str], scope: str
) -> tuple[str, tuple[Cell, ...], list[tuple[Cell, ...]]]:
    """Kendall's W of the families' rankings on `cells`, its interval over each family's
    languages and its permutation p-value; the finding, the table row, and the pairwise taus
    (their intervals from the same resamples: paired)."""
    labels = [families[code] for code in cells.languages]
    groups = sorted(set(labels))
    try:
        observed = cells.profiles(_membership(labels, groups))
        w = float(kendall_w(observed))
    except TooFewPoints as error:
        return (f"agreement between families not computed ({scope}): {error}",
                (scope, len(groups), len(labels), None, None, None, None,
                 f"not computed: {error}"), [])  # fmt: skip
    draws = cluster_weights(cells.languages, strata=labels)
    membership = draws[:, None, :] * _membership(labels, groups)[None]
    resampled = cells.profiles(membership, cells.resampled())
    low, high = normal_interval(w, kendall_w(resampled), bounds=(0.0, 1.0))
    sizes = np.array([labels.count(g) for g in groups], dtype=float)
    permuted = _permuted(labels, groups)
    spread = float(_spread(observed, sizes))
    p = permutation_p(spread, _spread(cells.profiles(permuted), sizes), larger=True)
    verdict = (
        "the families rank the tasks differently (their task profiles differ more than "
        "random groupings of the same languages' do)"
        if p < 0.05
        else "no evidence that the families rank the tasks differently"
    )
    interval = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
    thin = [g for g in groups if labels.count(g) == 1]
    caveat = f"; one language only in {', '.join(thin)} (nothing to resample there)" if thin else ""
    finding = (
        f"Kendall's W = {w:.2f}{interval} over {len(groups)} families and {len(cells.tasks)} "
        f"tasks ({scope}; 95% bootstrap interval over each family's languages and the runs), "
        "permutation "
        f"p = {p:.3g}: {verdict}{caveat}"
    )

    row = (scope, len(groups), len(labels), w, low, high, p, "")
    return finding, row, _pairwise(groups, observed, resampled)


def _spread(profiles: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """How far the families' task profiles (..., families, tasks) lie apart, each centred
    over its tasks: the sum over families of size × squared distance from the size-weighted
    mean profile."""
    centred = profiles - profiles.mean(axis=-1, keepdims=True)
    common = (sizes[:, None] * centred).sum(axis=-2, keepdims=True) / sizes.sum()
    return np.asarray((sizes[:, None] * (centred - common) ** 2).sum(axis=(-2, -1)))


def _pairwise(
    groups: list[str], observed: np.ndarray, resampled: np.ndarray
) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = []
    for a, b in combinations(range(len(groups)), 2):
        tau = float(kendall_tau(observed[a], observed[b]))
        between = kendall_tau(resampled[:, a], resampled[:, b])
        low, high = normal_interval(tau, between, bounds=(-1.0, 1.0))
        rows.append((groups[a], groups[b], tau, low, high))
    return rows


def _pooled_profiles(
    cells: Gains,
    families: dict[str, str],
    coverage: dict[str, set[str]],
    compared: list[str],
    shared: list[str],
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each family's targets and its standardised score per task there: the compared
    targets for a compared family, its own for one left out."""
    pooled = {}
    for family in sorted(coverage):
        targets = shared if family in compared else sorted(coverage[family])
        members = [c for c in cells.languages if families[c] == family]
        profile = cells.subset(members, targets).profiles(np.ones((1, len(members))))[0]
        pooled[family] = (targets, profile)
    return pooled


def _gains_table(
    per_seed: dict[Cell3, dict[int, float]],
    cells: Gains,
    families: dict[str, str],
    pooled: dict[str, tuple[list[str], np.ndarray]],
) -> Table:
    """Per (task, family): each target's mean gain in its own units (± std over seeds) and
    standardised, then the family's pooled standardised score."""
    grouped: dict[tuple[str, str, str], dict[str, dict[int, float]]] = defaultdict(dict)
    for (task, target, code), seeds in per_seed.items():
        grouped[(task, families[code], target)][code] = seeds
    rows: list[tuple[Cell, ...]] = []
    for k, task in enumerate(cells.tasks):
        for family, (targets, profile) in sorted(pooled.items()):
            for target in cells.targets:
                by_language = grouped.get((task, family, target))
                if by_language:
                    rows.append(_target_row(task, family, target, by_language, cells))
            languages = sum(families[c] == family for c in cells.languages)
            rows.append((task, family, "pooled: " + ", ".join(targets), languages, None, None,
                         None, float(profile[k])))  # fmt: skip
    return table("gains_by_family", "mean zero-shot gain by language family: per target in "
                 "its units (± std over seeds) and standardised within the target; pooled "
                 "over the compared targets, standardised",
                 ("intermediate", "family", "target", "languages", "seeds", "gain", "std",
                  "standardised"), rows)  # fmt: skip


def _target_row(
    task: str, family: str, target: str, by_language: dict[str, dict[int, float]], cells: Gains
) -> tuple[Cell, ...]:
    seeds = sorted({seed for values in by_language.values() for seed in values})
    per_seed = [fmean(v[s] for v in by_language.values() if s in v) for s in seeds]
    mean, std = mean_std(per_seed)
    t, k = cells.targets.index(target), cells.tasks.index(task)
    z = fmean(float(cells.z[cells.languages.index(code), t, k]) for code in by_language)
    return (task, family, target, len(by_language), len(seeds), mean, std, z)


def _ranking_table(
    pooled: dict[str, tuple[list[str], np.ndarray]],
    cells: Gains,
    families: dict[str, str],
    coverage: dict[str, set[str]],
    compared: list[str],
    shared: list[str],
) -> Table:
    rows = []
    for family, (targets, profile) in pooled.items():
        order = np.argsort(-profile, kind="stable")
        languages = sum(families[c] == family for c in cells.languages)
        where = ", ".join(targets) if family in compared else "own: " + ", ".join(targets)
        rows.append((family, languages, where, " > ".join(cells.tasks[k] for k in order)))
    return table("ranking_by_family", "intermediate tasks ranked by standardised gain, per "
                 "family, on the compared targets (a family left out of the comparison: on "
                 "its own targets)", ("family", "languages", "targets", "ranking"),
                 rows)  # fmt: skip
