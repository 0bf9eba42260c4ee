"""Question: does an intermediate task help a target more, the more similar the two tasks are?

Similarity is read off the pretrained encoder the grid started from; nothing is trained. Each
task is represented by `examples` model inputs (sequences) built from its English training
rows, by the task's own tokenisation (`Task.tokenize`), so every head kind counts as the model
sees it in training: sentence pairs joined, one sequence per choice of a multiple-choice row,
one per window of a QA context. Two measures compare every two tasks:

- representation similarity: the cosine between the tasks' centroids, each the mean of its
  sequences' embeddings (the last layer's hidden states averaged over the non-padding tokens,
  special tokens included, then L2-normalised: the retrieval tasks' sentence embedding, taken
  at the last layer). It compares what the texts look like to the encoder.
- Fisher similarity, after Task2Vec (Achille et al., ICCV 2019): each task's diagonal
  empirical Fisher information of the pretrained masked-LM loss with respect to the parameters
  of the encoder's top `fisher_layers` transformer layers (every weight and bias of those
  layers; not the embeddings, not the LM head: what a phase hands on is the encoder, and
  fine-tuning changes its top layers most, as Merchant et al. (2020) found). A sequence's loss
  is its masked-LM loss with 15 % of its non-special tokens masked (BERT's 80/10/10, one
  seeded generator per task); the Fisher is the mean over sequences of the squared gradient,
  averaged per output unit (each row of a weight matrix, each element of a bias or norm
  vector), as Task2Vec averages per filter. Tasks compare by Task2Vec's symmetric measure,
  cos(Fa / (Fa + Fb), Fb / (Fa + Fb)), which keeps parameters with a large Fisher from
  dominating. It compares which weights the tasks' text makes the model sensitive to. The
  masked-LM loss needs no head and no labels, so every task is measured the same way; the
  price is that labels play no part.

Both are 1 for identical data (XNLI trains on MNLI: their similarity is 1 by construction). Each
(intermediate, target) pair is one point, its gain the mean over the target's zero-shot
languages (English, which the target trains in, is shown apart) and the seeds; Spearman's rho
between similarity and gain is reported over all pairs, for PAWS-X and the other targets
apart, and per target.

The unit of analysis is the task. Pairs are not independent: the nine pairs of one
intermediate task share that task's data, its similarity to everything (a task near every
other) and its help to every target, and the pairs of one target share the target. So the
intervals resample tasks: within one target, its intermediate tasks; pooled over targets,
intermediate tasks and targets both, crossed (`stats.crossed_weights`). Resampling the pairs
would count one intermediate task's luck once per target and give intervals too narrow.
Pooled over targets, gains and similarities are first standardised within each target:
targets score in different units, and a target's overall similarity to the intermediate tasks
has nothing to do with its overall gain but would correlate with it by the few targets'
chance, so the pooled rho is the within-target relation the per-target rows show, on one
scale. PAWS-X against the other targets is the difference of their rhos, paired: the same
intermediate tasks on both sides, drawn once for both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING

import numpy as np

from stilts.errors import StiltsError
from stilts.experiment import bundled
from stilts.experiment.config import PHASE_JOIN, ChainConfig
from stilts.experiment.plan import locator
from stilts.reports import plots
from stilts.reports.analysis.findings import Analysis, not_zero_shot, table
from stilts.reports.analysis.runs import Gain, Run, gains, read_runs, split_zero_shot
from stilts.reports.analysis.stats import (
    Estimate,
    TooFewPoints,
    cluster_weights,
    crossed_weights,
    mean_std,
    observed,
    percentile_interval,
    spearman,
    standardise,
    weighted_spearman,
)
from stilts.reports.tables import Cell
from stilts.store.layout import Store
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.task import Task

if TYPE_CHECKING:
    from stilts.runtime.similarity import TaskVectors
    from stilts.runtime.training import ModelSource

EXAMPLES = 256
MAX_LENGTH = 128
FISHER_LAYERS = 1
"""The measurement's defaults: sequences per task, their length, and Fisher layers."""

Pair = tuple[str, str]
"""(intermediate, target)."""


@dataclass(frozen=True)
class Similarity:
    representation: float
    fisher: float

    def measure(self, name: str) -> float:
        return getattr(self, name)


def representation_similarity(a: TaskVectors, b: TaskVectors) -> float:
    return _cosine(a.centroid, b.centroid)


def fisher_similarity(a: TaskVectors, b: TaskVectors) -> float:
    """Task2Vec's symmetric comparison: each unit's share of the two tasks' summed Fisher."""
    total = a.fisher + b.fisher
    used = total > 0  # a unit neither task moves says nothing about either
    return _cosine(a.fisher[used] / total[used], b.fisher[used] / total[used])


def task_similarities(
    model: str,
    tasks: Sequence[str],
    data: DataLocator,
    *,
    examples: int = EXAMPLES,
    max_length: int = MAX_LENGTH,
    fisher_layers: int = FISHER_LAYERS,
    revision: str | None = None,
    trust_remote_code: bool = False,
    cache: Path | None = None,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[Pair, Similarity]:
    """Both similarities of every two of `tasks` (both orders, and each task with itself),
    under the masked-LM checkpoint `model` (a hub id or a local directory)."""
    from stilts.runtime.similarity import task_vectors  # torch: only to compute
    from stilts.runtime.training import ModelSource

    source = ModelSource(model, revision, trust_remote_code)
    bound = [registry.load(name).bound(data) for name in tasks]
    return similarities_between(task_vectors(
        source, bound, data, examples=examples, max_length=max_length,
        fisher_layers=fisher_layers, cache=cache, log=log,
    ))  # fmt: skip


def similarities_between(vectors: Mapping[str, TaskVectors]) -> dict[Pair, Similarity]:
    """Both similarities of every two tasks of `vectors` (both orders, each with itself)."""
    return {
        (a, b): Similarity(
            representation_similarity(vectors[a], vectors[b]),
            fisher_similarity(vectors[a], vectors[b]),
        )
        for a in vectors
        for b in vectors
    }


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


UNIT = (
    "a task: each (intermediate, target) pair is a point (its gain a mean over the target's "
    "zero-shot languages and the seeds), but intervals resample tasks: intermediate tasks "
    "within one target; intermediate tasks and targets, crossed, when pooled over targets, "
    "where gains and similarities are standardised within each target"
)
PAWSX = "pawsx"
OTHERS = "other targets"
HEADLINE = ("all", PAWSX, OTHERS)
"""The groups of pairs the findings state; each other target's is in the table only."""
MEASURES = ("representation", "fisher")


def analyze(
    path: Path,
    *,
    model: str | None = None,
    revision: str | None = None,
    data: str | list[str] | None = None,
    examples: int = EXAMPLES,
    max_length: int = MAX_LENGTH,
    fisher_layers: int = FISHER_LAYERS,
    cache: Path | None = None,
    log: Callable[[str], None] = lambda _message: None,
) -> Analysis:
    """The similarity question for the runs at `path`, the similarities computed under the
    runs' own starting model and data unless `model` / `data` say otherwise."""
    runs = read_runs(path)
    found, notes = gains(runs)
    if not found:
        raise StiltsError(
            f"{path} holds no chain with a baseline (the target trained alone, same seed): "
            "run a grid with baselines"
        )
    from stilts.runtime.similarity import task_vectors  # torch: only to compute

    source, locator, start = _start(runs, model, revision, data)
    task_of, row_notes = _row_tasks(found)
    tasks, task_notes = _comparable(sorted({*task_of.values(), *(g.target for g in found)}),
                                  locator)  # fmt: skip
    vectors = task_vectors(
        source, tasks, locator, examples=examples, max_length=max_length,
        fisher_layers=fisher_layers, cache=cache, log=log,
    )  # fmt: skip
    task_notes += [f"{name}: {v.sequences} sequences, all its training rows give (fewer than "
                   f"{examples}: a noisier Fisher)" for name, v in vectors.items()
                   if v.sequences < examples]  # fmt: skip
    by_task = similarities_between(vectors)
    similarities = {}
    for row, target in {(g.intermediate, g.target) for g in found}:
        if (task_of.get(row), target) in by_task:
            similarities[row, target] = by_task[task_of[row], target]
    setting = (
        f"similarities under {start}, from {examples} sequences per task (English training "
        f"rows, max length {max_length}); Fisher over the top {fisher_layers} layer(s)"
    )
    return correlate(found, similarities, notes=[setting, *row_notes, *task_notes, *notes])


def correlate(
    found: Sequence[Gain], similarities: Mapping[Pair, Similarity], *, notes: Sequence[str] = ()
) -> Analysis:
    """The answer from gains and precomputed similarities: per pair, per group of targets."""
    zero_shot, seen = split_zero_shot(found)
    per_seed = _per_seed(zero_shot)
    pairs = sorted(pair for pair in per_seed if pair in similarities)
    missing = sorted(pair for pair in per_seed if pair not in similarities)
    gain = {pair: fmean(per_seed[pair]) for pair in pairs}
    seeds = sorted({g.seed for g in found})
    rows = []
    for pair in pairs:
        mean, std = mean_std(per_seed[pair])
        sim = similarities[pair]
        # Four decimals: representation similarities crowd near 1 (contextual embeddings
        # share a few large directions), where two decimals would hide their order.
        shown = f"{sim.representation:.4f}", f"{sim.fisher:.4f}"
        rows.append((*pair, *shown, len(per_seed[pair]), mean, std))
    groups = _groups(pairs)
    estimates = {
        (measure, group): _correlation(_points(members, measure, similarities, gain))
        for measure in MEASURES
        for group, members in groups.items()
    }
    findings = [_finding(measure, group, groups[group], estimates[measure, group])
                for measure in MEASURES for group in groups if group in HEADLINE]  # fmt: skip
    findings += _pawsx_versus_others(similarities, gain, groups, estimates)
    findings.append(
        f"{len(seeds)} seed(s); a pair's gain is its mean over the target's zero-shot languages "
        "and the seeds (std: over the seeds' means)"
    )
    if missing:
        findings.append(
            f"{len(missing)} pair(s) without a similarity, left out: "
            + ", ".join(f"{i} → {t}" for i, t in missing)
        )
    findings += notes
    correlation_rows = []
    for (measure, group), estimate in estimates.items():
        cells: tuple[Cell, ...]
        if isinstance(estimate, Estimate):
            cells = (estimate.value, estimate.low, estimate.high, estimate.p_value, "")
        else:
            cells = (None, None, None, None, f"not computed: {estimate}")
        correlation_rows.append((measure, group, len(groups[group]), *cells))
    tables = (
        table("similarity_by_pair", "task similarity and mean gain per pair (± std over seeds)",
              ("intermediate", "target", "representation", "fisher", "seeds", "gain", "std"),
              rows),
        table("similarity_correlation",
              "Spearman's rho between similarity and gain (95% bootstrap interval over tasks: "
              "a target's intermediate tasks; pooled, intermediate tasks and targets crossed, "
              "on values standardised within each target; p only where pairs are independent)",
              ("measure", "targets", "pairs", "rho", "low", "high", "p", "note"),
              correlation_rows),
        not_zero_shot("similarity", seen),
    )  # fmt: skip

    def figure(out: Path) -> None:
        _scatter(out, pairs, similarities, gain, estimates)

    return Analysis("similarity", "Task similarity and transfer gain", tuple(findings), tables,
                    figure if pairs else None, unit=UNIT)  # fmt: skip


@dataclass(frozen=True)
class Points:
    """A group's pairs as points: similarity and gain (standardised within each target when
    the group spans several), with each pair's intermediate task and target."""

    similarity: np.ndarray
    gain: np.ndarray
    intermediates: tuple[str, ...]
    targets: tuple[str, ...]

    @property
    def pooled(self) -> bool:
        return len(set(self.targets)) > 1

    def resamples(self) -> np.ndarray | None:
        """The bootstrap's weights: pooled, intermediate tasks and targets crossed; None for
        one target, whose pairs are its intermediate tasks, one each: the ordinary bootstrap,
        with its p-value."""
        return crossed_weights(self.intermediates, self.targets) if self.pooled else None

    def paired(self, intermediates: np.ndarray) -> np.ndarray:
        """The weights given the intermediate tasks' draws (shared with another group's),
        crossed, when pooled, with the targets'."""
        if not self.pooled:
            return intermediates
        return intermediates * cluster_weights(self.targets, seed=1)


def _points(
    members: Sequence[Pair],
    measure: str,
    similarities: Mapping[Pair, Similarity],
    gain: Mapping[Pair, float],
) -> Points:
    targets = tuple(t for _, t in members)
    x = np.array([similarities[p].measure(measure) for p in members])
    y = np.array([gain[p] for p in members])
    if len(set(targets)) > 1:
        x, y = standardise(x, targets), standardise(y, targets)
    return Points(x, y, tuple(i for i, _ in members), targets)


def _correlation(points: Points) -> Estimate | str:
    try:
        return spearman(points.similarity, points.gain, resamples=points.resamples())
    except TooFewPoints as error:
        return str(error)


def _per_seed(found: Sequence[Gain]) -> dict[Pair, list[float]]:
    """Each pair's gain per seed (the mean over the target's languages), in seed order."""
    grouped: dict[Pair, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for g in found:
        grouped[g.intermediate, g.target][g.seed].append(g.gain)
    return {pair: [fmean(v) for _, v in sorted(seeds.items())] for pair, seeds in grouped.items()}


def _groups(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    """All pairs; PAWS-X's and the other targets' (when PAWS-X is among them); each other
    target's alone (the pooled correlation mixes targets whose gains differ in scale)."""
    groups = {"all": list(pairs)}
    if any(t == PAWSX for _, t in pairs):
        groups[PAWSX] = [p for p in pairs if p[1] == PAWSX]
        groups[OTHERS] = [p for p in pairs if p[1] != PAWSX]
    for target in sorted({t for _, t in pairs} - {PAWSX}):
        groups[target] = [p for p in pairs if p[1] == target]
    return groups


def _finding(measure: str, group: str, members: Sequence[Pair], estimate: Estimate | str) -> str:
    subject = f"{measure} similarity vs gain, {group} ({len(members)} pairs)"
    if isinstance(estimate, str):
        return f"{subject}: not computed: {estimate}"
    shown = f"Spearman rho = {estimate.text()}"
    if estimate.low is None or estimate.high is None:
        return f"{subject}: {shown}; no bootstrap interval (degenerate resamples): no conclusion"
    verdict = {
        1: "a positive correlation (the 95% interval excludes 0)",
        -1: "a negative correlation (the 95% interval excludes 0)",
        0: "no evidence of a correlation (the 95% interval includes 0)",
    }[estimate.sign]
    over = (
        "intermediate tasks and targets resampled (crossed), values standardised within each target"
        if len({t for _, t in members}) > 1
        else "intermediate tasks resampled"
    )
    return f"{subject}: {shown}, 95% bootstrap interval, {over}: {verdict}"


def _pawsx_versus_others(
    similarities: Mapping[Pair, Similarity],
    gain: Mapping[Pair, float],
    groups: Mapping[str, list[Pair]],
    estimates: Mapping[tuple[str, str], Estimate | str],
) -> list[str]:
    """Whether the correlation differs for PAWS-X: rho(PAWS-X) - rho(other targets), computed
    only where both sides' own correlations were."""
    if PAWSX not in groups:
        return ["no PAWS-X pairs: PAWS-X versus the other targets not computed"]
    found = []
    for measure in MEASURES:
        sides = (PAWSX, OTHERS)
        refused = [f"{side}: {estimates[measure, side]}" for side in sides
                   if isinstance(estimates[measure, side], str)]  # fmt: skip
        subject = f"{measure} similarity, PAWS-X minus the other targets"
        if refused:
            found.append(f"{subject}: not computed ({'; '.join(refused)})")
            continue
        pawsx, others = (_points(groups[side], measure, similarities, gain) for side in sides)
        difference, low, high = _rho_difference(pawsx, others)
        if low is None or high is None:
            verdict = "no bootstrap interval (degenerate resamples): no conclusion"
        elif low > 0 or high < 0:
            verdict = f"[{low:.2f}, {high:.2f}]: the correlation differs for PAWS-X"
        else:
            verdict = f"[{low:.2f}, {high:.2f}]: no evidence that it differs for PAWS-X"
        found.append(
            f"{subject}: difference in rho = {difference:+.2f} {verdict} (95% bootstrap "
            "interval, paired: the intermediate tasks drawn once for both sides, the other "
            "targets resampled too)"
        )
    return found


def _rho_difference(a: Points, b: Points) -> tuple[float, float | None, float | None]:
    """rho(a) - rho(b) and its bootstrap interval, each resample drawing the intermediate
    tasks once for both sides (what a task brings to every target cancels)."""
    names = sorted({*a.intermediates, *b.intermediates})
    drawn = cluster_weights(names)
    index = {name: k for k, name in enumerate(names)}
    a_draws = drawn[:, [index[i] for i in a.intermediates]]
    b_draws = drawn[:, [index[i] for i in b.intermediates]]
    difference = _rho(a, observed(len(a.gain))) - _rho(b, observed(len(b.gain)))
    resampled = _rho(a, a.paired(a_draws)) - _rho(b, b.paired(b_draws))
    return float(difference[0]), *percentile_interval(resampled)


def _rho(points: Points, weights: np.ndarray) -> np.ndarray:
    return weighted_spearman(points.similarity, points.gain, weights)


def _scatter(
    out: Path,
    pairs: Sequence[Pair],
    similarities: Mapping[Pair, Similarity],
    gain: Mapping[Pair, float],
    estimates: Mapping[tuple[str, str], Estimate | str],
) -> None:
    """One panel per measure: each pair's similarity against its mean gain, PAWS-X apart."""
    drawing = plots.figure(10.0, 4.2)
    for index, measure in enumerate(MEASURES):
        axes = drawing.add_subplot(1, len(MEASURES), index + 1)
        for is_pawsx, style in ((False, {"color": "tab:blue", "marker": "o"}),
                                (True, {"color": "tab:red", "marker": "^"})):  # fmt: skip
            chosen = [p for p in pairs if (p[1] == PAWSX) == is_pawsx]
            if chosen:
                axes.scatter([similarities[p].measure(measure) for p in chosen],
                             [gain[p] for p in chosen], s=18, alpha=0.8,
                             label="PAWS-X" if is_pawsx else "other targets", **style)  # fmt: skip
        axes.axhline(0.0, color="grey", linewidth=0.6)
        overall = estimates[measure, "all"]
        rho = overall.text() if isinstance(overall, Estimate) else "not computed"
        axes.set_title(f"{measure} similarity (all pairs: rho = {rho})", fontsize=8)
        axes.set_xlabel(f"{measure} similarity")
        axes.set_ylabel("mean gain over no intermediate task")
        axes.legend(fontsize=7)
    plots.save(drawing, out)


def _start(
    runs: Sequence[Run], model: str | None, revision: str | None, data: str | list[str] | None
) -> tuple[ModelSource, DataLocator, str]:
    """The model and data the similarities are computed with (the runs' own unless given),
    and the two in words."""
    from stilts.runtime.bundled_model import materialize
    from stilts.runtime.training import ModelSource

    starts = [run.start for run in runs]
    if model is None:
        models = {(start.model, start.revision, start.trust_remote_code) for start in starts}
        if len(models) > 1:
            names = ", ".join(sorted(str(name) for name, _, _ in models))
            raise StiltsError(
                f"the runs start from several models ({names}): analyze one grid's directory, "
                "or pass --model"
            )
        ((model, revision, trust_remote_code),) = models
    else:
        trust_remote_code = False
    if data is None:
        choices = {str(start.data): start.data for start in starts}  # a list is no set member
        if len(choices) > 1:
            raise StiltsError(
                f"the runs read different data ({', '.join(sorted(choices))}): pass --data"
            )
        (data,) = choices.values()
    config = ChainConfig(phases=("mnli",), model={"id": model, "revision": revision}, data=data)
    shown = f"{model}{f' ({revision})' if revision else ''}, data {', '.join(config.data_roots)}"
    if bundled.is_bundled(model):
        store = Store(runs[0].path.parents[1])  # STORE/runs/<run>: the model is built there
        return ModelSource(str(materialize(store))), locator(config), shown
    return ModelSource(model, revision, trust_remote_code), locator(config), shown


def _row_tasks(found: Sequence[Gain]) -> tuple[dict[str, str], list[str]]:
    """Each grid row's intermediate task (a row may label a variant of one: mnli-10k), and a
    note on each row with no one task to compare (several phases, a multi-task phase)."""
    task_of, notes = {}, []
    for row, phases in sorted({(g.intermediate, g.run.phases) for g in found}):
        if len(phases) != 2 or PHASE_JOIN in phases[0]:
            notes.append(f"{row}: no one intermediate task to compare ({' → '.join(phases)}); "
                         "left out")  # fmt: skip
            continue
        task_of[row] = phases[0]
        if row != phases[0]:
            notes.append(f"{row}: compared as its task {phases[0]} (English training rows), "
                         "whatever the row's own settings")  # fmt: skip
    return task_of, notes


def _comparable(names: Sequence[str], data: DataLocator) -> tuple[list[Task], list[str]]:
    """The tasks whose similarity can be computed, and a note on each that cannot."""
    usable, notes = [], []
    for name in names:
        try:
            task = registry.load(name).bound(data)
        except StiltsError as error:
            notes.append(f"{name}: left out ({error})")
            continue
        if not isinstance(task, Task):
            notes.append(f"{name}: no training data to compare (scores the encoder); left out")
            continue
        usable.append(task)
    return usable, notes
