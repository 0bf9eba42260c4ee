"""Simulated grids: finished runs written as a grid writes them, their scores drawn from a
model of how real gains vary, so that what an analysis concludes can be checked against what
was planted.

A question's analysis is only as good as its false-positive rate and the coverage of its
intervals, and neither can be read off one real grid. `bench/calibration.py` and
`tests/test_calibration.py` measure both over many simulated grids; a user can do the same
for a grid shaped like their own (`Design`, `simulate`, `write_grid`).

Real grids are not a pile of independent scores, and the model keeps the structure that makes
a naive analysis overconfident:

- an intermediate phase (row, seed) is trained once and reused by every target after it, so
  its luck is shared by all of them (`Noise.phase`);
- a run's luck (row, target, seed) is shared by every language it is scored in (`Noise.run`);
  so is its baseline's, and every chain of a (target, seed) is paired with the same baseline;
- targets are on different scales: a retrieval gain is worth many tagging gains
  (`Target.scale`: points of the target's metric per unit of gain), and the metrics differ;
- coverage is uneven: each target has its own languages (Yoruba only in UD-POS and PAN-X,
  no English in Tatoeba or BUCC), and its languages gain differently from any intermediate
  phase (`Structure.language`);
- an intermediate task helps some targets more than others (`Structure.pair`) and some of a
  target's languages more than others (`Structure.interaction`);
- an intermediate phase trained in a language helps that language most (the resource
  question's translated rows), and English, the baseline's own training language, is not
  zero-shot at all (the syntax question gives it its own gain).

Everything is drawn in units of gain and multiplied by the target's scale; a `Design` holds
what one experiment fixes (which rows, targets and languages, each expected gain), `simulate`
draws one replicate of the grid's runs from it (the noise), and `write_grid` writes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stilts.experiment.grid import BASELINE, GRID_RUNS
from stilts.reports.languages import language
from stilts.reports.typology import distance_from_english
from stilts.store.files import fingerprint
from stilts.store.layout import RUN_MANIFEST, Store
from stilts.store.results import ChainResult

SEEDS = (1, 2, 3)
"""The question recipes' seeds."""


@dataclass(frozen=True)
class Target:
    """A target task as a grid sees it: the metric its results name, its test languages in
    the task's order, and how many points of that metric one unit of gain is."""

    name: str
    metric: str
    languages: tuple[str, ...]
    scale: float
    level: float
    """A typical score (points); each language's baseline is drawn around it."""


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TARGETS = {
    target.name: target
    for target in (
        Target("xnli", "accuracy",
               _codes("ar bg de el en es fr hi ru sw th tr ur vi zh"), 1.0, 79.0),
        Target("pawsx", "accuracy", _codes("de en es fr ja ko zh"), 1.0, 86.0),
        Target("udpos", "f1", _codes(
            "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th "
            "tl tr ur vi yo zh"), 0.5, 75.0),
        Target("panx", "f1", _codes(
            "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru "
            "ja ka ko th sw yo my zh kk tr et fi hu"), 1.5, 65.0),
        Target("xquad", "em_f1", _codes("en es de el ru tr ar vi th zh hi"), 1.5, 76.0),
        Target("mlqa", "em_f1", _codes("en es de ar hi vi zh"), 1.5, 66.0),
        Target("tydiqa", "em_f1", _codes("en ar bn fi id ko ru sw te"), 2.0, 60.0),
        Target("bucc2018", "f1", _codes("de fr ru zh"), 6.0, 75.0),
        Target("tatoeba", "accuracy", _codes(
            "ar he vi id jv tl eu ml ta te af nl de el bn hi mr ur fa fr it pt es bg ru ja ka "
            "ko th sw zh kk tr et fi hu"), 8.0, 60.0),
    )
}  # fmt: skip
"""XTREME's targets, their languages as stilts' tasks list them (tests/test_calibration.py
checks them against the installed tasks). Scales: tagging gains are fractions of a point,
classification and QA gains a point or two, retrieval gains ten or more."""


@dataclass(frozen=True)
class Row:
    """A grid row: one intermediate phase, as its run's manifest records it."""

    label: str
    task: str
    training: Mapping[str, Any] | None = None
    """The phase's ``training_data`` (translated ``languages``, ``groups``); None: its own."""
    train_rows: int | None = None
    train_language: str = "en"


@dataclass(frozen=True)
class Noise:
    """Standard deviations (units of gain) of what differs between replicates of a grid."""

    phase: float = 0.3
    """An intermediate phase (row, seed), shared by every target trained after it."""
    run: float = 0.4
    """A run (row or baseline, target, seed), shared by every language it is scored in."""
    score: float = 0.6
    """One language's score in one run."""


@dataclass(frozen=True)
class Structure:
    """Standard deviations (units of gain) of what one experiment fixes and a question does
    not ask about; a `Design` draws them once. A language's effects hold on every target it
    is tested in: the same language counted in three targets is not three languages."""

    mean: float = 0.5
    """The average gain of an intermediate phase."""
    task: float = 0.5
    """Intermediate task: some tasks help every target, some hurt every target."""
    target: float = 0.5
    """Target: some targets gain more from any intermediate phase."""
    pair: float = 0.5
    """Intermediate task × target: MNLI helps XNLI more than it helps UD-POS."""
    language: float = 0.4
    """Target language: some languages gain more from any intermediate phase, anywhere."""
    interaction: float = 0.3
    """Intermediate task × target language, on every target: parsing helps Japanese more."""


@dataclass(frozen=True)
class Design:
    """One experiment: its rows and targets, each (row, target, language)'s expected gain in
    units, each language's baseline score, and the noise of a replicate."""

    rows: tuple[Row, ...]
    targets: tuple[Target, ...]
    expected: Mapping[tuple[str, str], np.ndarray]
    """(row label, target name) -> expected gain per target language (the target's order)."""
    levels: Mapping[str, np.ndarray]
    """Target name -> each language's expected baseline score (points)."""
    noise: Noise = Noise()
    similarities: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    """(intermediate task, target) -> (representation, Fisher) similarity, where planted."""


@dataclass(frozen=True)
class SimulatedRun:
    """One finished run of a simulated grid: a row's chain, or the target alone (row None)."""

    row: Row | None
    target: Target
    seed: int
    scores: Mapping[str, float]


def structured_gains(
    rng: np.random.Generator,
    rows: Sequence[Row],
    targets: Sequence[Target],
    structure: Structure = Structure(),
    *,
    by_row: bool = False,
) -> dict[tuple[str, str], np.ndarray]:
    """Expected gains with the structure every question has and none asks about (units; see
    `Structure`). Rows of one task share its effects (a task is one task in any row) unless
    `by_row`: then each row's language effects are its own (MNLI in Hindi helps Urdu more)."""
    codes = sorted({code for target in targets for code in target.languages})
    tasks = sorted({row.task for row in rows})
    keys = [row.label for row in rows] if by_row else tasks
    language = dict(zip(codes, rng.normal(0, structure.language, len(codes)), strict=True))
    task = dict(zip(tasks, rng.normal(0, structure.task, len(tasks)), strict=True))
    drawn = rng.normal(0, structure.interaction, (len(keys), len(codes)))
    interaction = {(key, code): drawn[i, j] for i, key in enumerate(keys)
                   for j, code in enumerate(codes)}  # fmt: skip
    expected = {}
    for target in targets:
        shift = structure.mean + rng.normal(0, structure.target)
        pair = dict(zip(tasks, rng.normal(0, structure.pair, len(tasks)), strict=True))
        for row in rows:
            key = row.label if by_row else row.task
            per_language = [language[c] + interaction[key, c] for c in target.languages]
            expected[row.label, target.name] = (
                shift + task[row.task] + pair[row.task] + np.array(per_language)
            )
    return expected


def baseline_levels(rng: np.random.Generator, targets: Sequence[Target]) -> dict[str, np.ndarray]:
    """Each target language's baseline score: the target's level ± 5 points."""
    return {t.name: t.level + rng.normal(0, 5, len(t.languages)) for t in targets}


def simulate(design: Design, seeds: Sequence[int], rng: np.random.Generator) -> list[SimulatedRun]:
    """One replicate of the grid: every row's chain and every baseline, for every target and
    seed, each score its expected value plus the noise the runs share (see `Noise`)."""
    noise, found = design.noise, []
    for seed in seeds:
        phase = {row.label: rng.normal(0, noise.phase) for row in design.rows}
        for target in design.targets:
            n = len(target.languages)
            level = design.levels[target.name]
            draws = rng.normal(0, [[noise.run], [noise.score]], (len(design.rows) + 1, 2, n))
            alone = level + target.scale * (draws[0, 0, 0] + draws[0, 1])
            found.append(SimulatedRun(None, target, seed, _scores(target, alone)))
            for row, (run, scores) in zip(design.rows, draws[1:], strict=True):
                gain = design.expected[row.label, target.name] + phase[row.label] + run[0]
                chain = level + target.scale * (gain + scores)
                found.append(SimulatedRun(row, target, seed, _scores(target, chain)))
    return found


def _scores(target: Target, values: np.ndarray) -> dict[str, float]:
    return {code: float(v) for code, v in zip(target.languages, values, strict=True)}


def write_grid(runs: Sequence[SimulatedRun], store: Path) -> Path:
    """Write `runs` into `store` as a grid writes them (each run's results and manifest, the
    grid's ``runs.json`` naming each run's row and column); the grid's directory."""
    listed = []
    for run in runs:
        row = run.row
        phases = (row.task, run.target.name) if row else (run.target.name,)
        spec: dict[str, Any] = {}
        if row is not None:
            spec = {"train_language": row.train_language}
            if row.training is not None:
                spec["training_data"] = dict(row.training)
        label = row.label if row else BASELINE
        directory = write_run(
            store, phases, run.seed, run.scores, metric=run.target.metric,
            specs=[spec, {}] if row else [{}], train_rows=row.train_rows if row else None,
            config={"label": label},
        )  # fmt: skip
        listed.append({"run": str(directory.relative_to(store)), "row": label,
                       "column": run.target.name})  # fmt: skip
    grid = store / "grids" / f"grid-{fingerprint({'runs': listed})[:12]}"
    _write(grid / GRID_RUNS, json.dumps(listed) + "\n")
    return grid


def write_run(
    store: Path,
    phases: Sequence[str],
    seed: int,
    scores: Mapping[str, float],
    *,
    metric: str = "accuracy",
    specs: Sequence[Mapping[str, Any]] = (),
    config: Mapping[str, Any] | None = None,
    train_rows: int | None = None,
    training: Mapping[str, Any] | None = None,
) -> Path:
    """A finished run of the chain `phases` whose target scored `scores` per language, written
    as `stilts.experiment.chain.run` writes one (ChainResult's results.json and results.csv,
    manifest.json last, with the keys the analyses read): its first phase trained on
    `train_rows` rows, and on the translations or groups that `training` names, as a phase
    spec's ``training_data`` records them, when given. Compact JSON, not synced to disk: a
    simulated store is scratch, and thousands are written."""
    phases = tuple(phases)
    written: list[dict[str, Any]] = [
        {"task": phase, **spec}
        for phase, spec in zip(phases, specs or [{}] * len(phases), strict=True)
    ]
    if training is not None:
        written[0]["training_data"] = dict(training)
    result = ChainResult(
        phases, phases[-1], metric, "en", {}, {code: {metric: v} for code, v in scores.items()}
    )
    key = fingerprint(
        {"phases": phases, "seed": seed, "specs": written, "config": config, "rows": train_rows}
    )
    records: list[dict[str, Any]] = [
        {"task": phase, "spec": spec} for phase, spec in zip(phases, written, strict=True)
    ]
    if train_rows is not None:
        records[0]["train_rows"] = train_rows
    run_dir = Store(store).run_dir(phases, key)
    manifest = {
        "seed": seed,
        "config": {"tasks": list(phases), "seed": seed, **(config or {})},
        "phases": records,
        "results": result.as_dict(),
    }
    _write(run_dir / "results.json", json.dumps(result.as_dict()) + "\n")
    _write(run_dir / "results.csv", result.csv())
    _write(run_dir / RUN_MANIFEST, json.dumps(manifest) + "\n")
    return run_dir


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# The question recipes' designs (recipes/questions/*.yaml), each with an effect of chosen size
# planted where its question looks, and nothing planted where `effect` is 0.

RESOURCE_LANGUAGES = ("en", "de", "fr", "hi", "th", "ur", "sw")
"""MNLI's training languages in recipes/questions/resource.yaml: classes 5, 5, 5, 4, 3, 3, 2."""
SAME_LANGUAGE = 2.0
"""How much more a phase trained in a language helps that language (units)."""


def resource(
    rng: np.random.Generator,
    effect: float,
    *,
    targets: Sequence[str] = ("xnli", "pawsx", "panx"),
    sources: Sequence[str] = RESOURCE_LANGUAGES,
    noise: Noise = Noise(),
) -> Design:
    """MNLI trained in each of `sources`, then each target: a phase trained in a language of
    resource class c gains `effect` × (5 − c) more, everywhere, and helps its own language
    `SAME_LANGUAGE` more."""
    rows = tuple(
        Row(f"mnli-{code}", "mnli", {"languages": [code]} if code != "en" else None)
        for code in sources
    )
    chosen = tuple(TARGETS[name] for name in targets)
    expected = structured_gains(rng, rows, chosen, by_row=True)
    for row, code in zip(rows, sources, strict=True):
        for target in chosen:
            own = np.array([lang == code and code != "en" for lang in target.languages])
            expected[row.label, target.name] = (
                expected[row.label, target.name]
                + effect * (5 - language(code).resource_class)
                + SAME_LANGUAGE * own
            )
    return Design(rows, chosen, expected, baseline_levels(rng, chosen), noise)


FAMILY_TASKS = ("anli_plus", "mnli", "qqp", "squad", "squad_v2", "hellaswag", "ccg", "cosmosqa",
                "commonsenseqa")  # fmt: skip
"""recipes/questions/families.yaml's intermediate tasks and targets (`TARGETS`)."""


def families(
    rng: np.random.Generator,
    effect: float,
    *,
    tasks: Sequence[str] = FAMILY_TASKS,
    targets: Sequence[str] = tuple(TARGETS),
    noise: Noise = Noise(),
) -> Design:
    """Every intermediate task then every target. With `effect` 0 no task helps more than
    another anywhere, on any target (the question's null: no ranking to agree on; languages
    still gain differently, and a task each language differently, by chance); otherwise each
    task has its own gain (`effect` × a standard normal) and its own on each target, and each
    family's departs from the task's by half as much again, so families rank the tasks alike
    only in part."""
    rows = tuple(Row(task, task) for task in tasks)
    chosen = tuple(TARGETS[name] for name in targets)
    structure = Structure() if effect else Structure(task=0.0, pair=0.0)
    expected = structured_gains(rng, rows, chosen, structure)
    task_gain = rng.normal(0, effect, len(rows))
    by_family: dict[str, np.ndarray] = {}
    for target in chosen:
        for code_index, code in enumerate(target.languages):
            family = language(code).family
            if family not in by_family:
                by_family[family] = rng.normal(0, effect / 2, len(rows))
            for index, row in enumerate(rows):
                expected[row.label, target.name][code_index] += (
                    task_gain[index] + by_family[family][index]
                )
    return Design(rows, chosen, expected, baseline_levels(rng, chosen), noise)


SYNTACTIC_TASKS = ("udparse", "ccg")
SEMANTIC_TASKS = ("mnli", "squad", "hellaswag")
DISTANCE_SLOPE = -3.0
"""How a zero-shot gain changes per unit of syntactic distance from English, for every
intermediate task (units): transfer fades with distance."""
ENGLISH = 1.0
"""The spread (units) of each task's gain in English, which is not zero-shot: the target's own
training language, where a syntactic task's English training text helps most or least."""


def syntax(
    rng: np.random.Generator,
    effect: float,
    *,
    tasks: Sequence[str] = (*SYNTACTIC_TASKS, *SEMANTIC_TASKS),
    targets: Sequence[str] = ("xnli", "udpos", "panx"),
    noise: Noise = Noise(),
) -> Design:
    """recipes/questions/syntax.yaml's grid: every task's zero-shot gain falls by
    `DISTANCE_SLOPE` per unit of distance, a syntactic task's (`SYNTACTIC_TASKS`) by `effect`
    more (units per unit of distance); English has a gain of its own per task."""
    rows = tuple(Row(task, task) for task in tasks)
    chosen = tuple(TARGETS[name] for name in targets)
    expected = structured_gains(rng, rows, chosen)
    english = {row.task: rng.normal(0, ENGLISH) for row in rows}
    for target in chosen:
        distance = np.array([distance_from_english(code) or 0.0 for code in target.languages])
        is_english = np.array([code == "en" for code in target.languages])
        for row in rows:
            slope = DISTANCE_SLOPE + (effect if row.task in SYNTACTIC_TASKS else 0.0)
            gains = expected[row.label, target.name] + slope * distance
            expected[row.label, target.name] = np.where(is_english, english[row.task], gains)
    return Design(rows, chosen, expected, baseline_levels(rng, chosen), noise)


SIMILARITY_TARGETS = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018",
                      "tatoeba")  # fmt: skip
SHARED = 2.0
"""How much of a task's embedding all tasks share: representation similarities crowd near
1, as contextual embeddings' do."""
TYPICALITY = 0.5
"""Spread (log scale) of how far a task's text is from what all tasks share: generic text is
near every other task, specialised text far from all, under both measures (a task effect)."""
TRAINS_ON = {"xnli": "mnli", "pawsx": "qqp", "udpos": "ccg", "panx": "ccg",
             "xquad": "squad", "mlqa": "squad", "tydiqa": "squad"}  # fmt: skip
"""Which intermediate task's text each target's English training text most resembles (XNLI
trains on MNLI's rows: similarity 1)."""
NO_TRAINING_DATA = ("bucc2018", "tatoeba")
"""Targets that score the encoder: no training text, no similarity (the analysis says so)."""


def similarity(
    rng: np.random.Generator,
    effect: float,
    *,
    tasks: Sequence[str] = FAMILY_TASKS,
    targets: Sequence[str] = SIMILARITY_TARGETS,
    noise: Noise = Noise(),
) -> Design:
    """recipes/questions/similarity.yaml's grid, with each task an embedding (shared part plus
    its own; a target's leans on the task whose text it resembles) and a Fisher profile drawn
    apart; a pair's gain grows by `effect` per standard deviation of its representation
    similarity. Both similarities have task effects (a task near every other), as the gains do:
    the pairs are crossed, not independent."""
    rows = tuple(Row(task, task) for task in tasks)
    chosen = tuple(TARGETS[name] for name in targets)
    expected = structured_gains(rng, rows, chosen)
    representation = _task_vectors(rng, tasks, chosen, SHARED)
    fisher = _task_vectors(rng, tasks, chosen, 1.0)
    similarities = {
        (task, t.name): (_cosine(representation[task], representation[t.name]),
                         _cosine(fisher[task], fisher[t.name]))
        for task in tasks for t in chosen if t.name not in NO_TRAINING_DATA
    }  # fmt: skip
    values = np.array([rep for rep, _ in similarities.values()])
    centre, spread = values.mean(), values.std() or 1.0
    for (task, target), (rep, _) in similarities.items():
        expected[task, target] = expected[task, target] + effect * (rep - centre) / spread
    return Design(rows, chosen, expected, baseline_levels(rng, chosen), noise, similarities)


def _task_vectors(
    rng: np.random.Generator, tasks: Sequence[str], targets: Sequence[Target], shared: float
) -> dict[str, np.ndarray]:
    """Each task's embedding: the part all tasks share plus its own, whose length is the
    task's atypicality (`TYPICALITY`); a target's own part leans on the task it resembles."""
    dimensions = 8
    common = shared * rng.normal(0, 1, dimensions)

    def own() -> np.ndarray:
        return float(np.exp(rng.normal(0, TYPICALITY))) * rng.normal(0, 1, dimensions)

    vectors = {task: common + own() for task in tasks}
    for target in targets:
        resembles = TRAINS_ON.get(target.name)
        if resembles == "mnli" and resembles in vectors:
            vectors[target.name] = vectors[resembles]  # the same rows
        elif resembles in vectors:
            vectors[target.name] = (vectors[resembles] + common + own()) / 2
        else:
            vectors[target.name] = common + own()
    return vectors


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


SIZES = (1000, 10_000, 100_000, 392_702)
"""recipes/questions/size.yaml's MNLI sizes."""


def size(
    rng: np.random.Generator,
    effect: float,
    *,
    targets: Sequence[str] = ("xnli", "pawsx", "panx"),
    sizes: Sequence[int] = SIZES,
    noise: Noise = Noise(),
) -> Design:
    """MNLI at each size, then each target: the gain grows by `effect` per tenfold rows."""
    rows = tuple(Row(f"mnli-{rows}", "mnli", train_rows=rows) for rows in sizes)
    chosen = tuple(TARGETS[name] for name in targets)
    expected = structured_gains(rng, rows, chosen)
    for row, rows_trained in zip(rows, sizes, strict=True):
        for target in chosen:
            expected[row.label, target.name] = expected[
                row.label, target.name
            ] + effect * math.log10(rows_trained / sizes[0])
    return Design(rows, chosen, expected, baseline_levels(rng, chosen), noise)
