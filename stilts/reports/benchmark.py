"""XTREME and XTREME-R as data, and the rules that turn per-language scores into their numbers.

A benchmark number is only comparable with published ones when it averages exactly the official
languages, so this module never averages fewer: a task with a missing language has no score
(the missing languages are named instead), and a benchmark with a missing task has no overall
score (its complete groups still have one). This is the aggregation of the official
``evaluate.py`` of google-research/xtreme (commit 838c13b; ``XTREME_GROUP2TASK`` and
``XTREME_R_GROUP2TASK`` at lines 118-132, ``*_TASK2LANGS`` at 141-176, ``evaluate`` at
248-321), which averages a task over its languages, a group over its tasks, and shows the
overall score only when every task is present. Every mean here is, like every one there, a plain
sum in list order divided by the count (``official_mean``), not a correctly rounded mean, so the
figures match the official ones beyond the printed digits (the official overall sums a set, in
an order that varies with Python's string hashing; here it sums in task order).

Groups are the official ones, member for member (their names are stilts': the official keys
are classification, tagging, qa, retrieval and multi_choice). Two of XTREME-R's are easy to get
wrong: XCOPA is in two groups (classification and multiple choice), and LAReQA is in none
(retrieval is Tatoeba and Mewsli-X), since the official ``XTREME_R_TASK2LANGS`` gives LAReQA no
languages (``'lareqa': []``, line 171). For the same reason the official code never computes an
XTREME-R overall score (with no LAReQA scores it lacks a task; with them, its empty LAReQA
entry has no average), so stilts gives none either and says why (`Benchmark.no_overall`).

Language lists:

* XTREME: the lists of ``evaluate.py`` ``TASK2LANGS``. The built-in task plugins hold the same
  lists for the tasks stilts implements (Tatoeba's by ISO 639-1 code, as XTREME's evaluate.py
  writes them), and a benchmark task reads its list through the task registry when asked, so
  a plugin and its benchmark cannot drift apart, and reports reach tasks only through the
  registry: importing this module imports no plugin.
* XTREME-R: XTREME's lists plus the languages it adds (UD-POS + lt pl uk wo ro, PAN-X + qu pl
  uk az lt pa gu ro, XQuAD + ro, Tatoeba + az lt pl uk ro), XCOPA's 11 languages, and Mewsli-X
  and LAReQA (XQuAD-R) as the XTREME repository's Mewsli-X test files
  (``mock_test_data/labels/mewslix``) and the LAReQA data (google-research-datasets/lareqa,
  ``xquad-r/``) have them; LAReQA's is stilts' own, as the official list is empty (above), so
  its score is stilts' and enters no official group or total. PAWS-X and BUCC are not part of
  XTREME-R.

Metrics are the keys stilts' tasks report (×100): ``accuracy``; ``f1`` for UD-POS, PAN-X and
BUCC; ``em_f1`` (the mean of exact match and F1, XTREME's QA number) for XQuAD, MLQA and
TyDiQA-GoldP; ``map@20`` for Mewsli-X and LAReQA.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stilts.errors import StiltsError, did_you_mean
from stilts.tasks import registry

Scores = Mapping[str, Mapping[str, float]]
"""Per-language scores as a run's results.json holds them: {language: {metric: value}}."""


XTREME_R_ADDED = {
    "udpos": ("lt", "pl", "uk", "wo", "ro"),
    "panx": ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"),
    "xquad": ("ro",),
    "tatoeba": ("az", "lt", "pl", "uk", "ro"),
}
"""The languages XTREME-R adds to tasks it shares with XTREME."""


def official_mean(values: Iterable[float]) -> float:
    """The mean as evaluate.py takes every one (lines 288, 312-313, 318-319): a left-to-right
    sum over the list's order, divided by the count. A correctly rounded mean (fmean) can differ
    from it in the last bit."""
    values = list(values)
    return sum(values) / len(values)


@dataclass(frozen=True)
class BenchmarkTask:
    """One task of a benchmark: the metric its score averages and its official languages."""

    name: str
    metric: str
    added: tuple[str, ...] = ()
    """Languages the benchmark adds to the task's own (XTREME-R's to the tasks it shares)."""
    official: bool = True
    """False where the official evaluate.py lists no languages for the task (XTREME-R's
    LAReQA): it scores no file of it, and stilts' score over its own list is in no group."""

    @property
    def languages(self) -> tuple[str, ...]:
        """The installed task's languages (its plugin is imported now, once per process), then
        `added`."""
        return tuple(registry.load(self.name).languages) + self.added


@dataclass(frozen=True)
class Benchmark:
    """A benchmark: its tasks (in the order its paper lists them) and its official groups."""

    name: str
    tasks: tuple[BenchmarkTask, ...]
    official_groups: tuple[tuple[str, tuple[str, ...]], ...]
    """(group, its tasks) as the official GROUP2TASK lists them, members in its order; a task
    may be in two groups or in none."""

    def __post_init__(self) -> None:
        strays = [t for _, tasks in self.official_groups for t in tasks if t not in self.task_names]
        if strays:
            raise ValueError(f"{self.name} groups name tasks it lacks: {', '.join(strays)}")

    def task(self, name: str) -> BenchmarkTask:
        for task in self.tasks:
            if task.name == name:
                return task
        names = [task.name for task in self.tasks]
        raise StiltsError(
            f"{self.name} has no task {name!r}{did_you_mean(name, names)}; "
            f"its tasks are {', '.join(names)}"
        )

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(task.name for task in self.tasks)

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Group name -> its tasks, both in the official order."""
        return dict(self.official_groups)

    @property
    def no_overall(self) -> str:
        """Why the official code can never give this benchmark an overall score, or ''."""
        unlisted = [task.name for task in self.tasks if not task.official]
        if not unlisted:
            return ""
        return (
            f"the official evaluate.py lists no {' or '.join(unlisted)} languages, so it never "
            f"computes an overall {self.name} score"
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language of every task, in first-seen order."""
        return tuple(dict.fromkeys(lang for task in self.tasks for lang in task.languages))


CLASSIFICATION = "classification"
STRUCTURED = "structured prediction"
QA = "question answering"
RETRIEVAL = "retrieval"
MULTIPLE_CHOICE = "multiple choice"

XTREME = Benchmark(
    name="XTREME",
    tasks=(
        BenchmarkTask("xnli", "accuracy"),
        BenchmarkTask("pawsx", "accuracy"),
        BenchmarkTask("udpos", "f1"),
        BenchmarkTask("panx", "f1"),
        BenchmarkTask("xquad", "em_f1"),
        BenchmarkTask("mlqa", "em_f1"),
        BenchmarkTask("tydiqa", "em_f1"),
        BenchmarkTask("bucc2018", "f1"),
        BenchmarkTask("tatoeba", "accuracy"),
    ),
    # evaluate.py XTREME_GROUP2TASK, lines 118-123.
    official_groups=(
        (CLASSIFICATION, ("pawsx", "xnli")),
        (STRUCTURED, ("udpos", "panx")),
        (QA, ("xquad", "mlqa", "tydiqa")),
        (RETRIEVAL, ("bucc2018", "tatoeba")),
    ),
)

XTREME_R = Benchmark(
    name="XTREME-R",
    tasks=(
        BenchmarkTask("xnli", "accuracy"),
        BenchmarkTask("xcopa", "accuracy"),
        BenchmarkTask("udpos", "f1", XTREME_R_ADDED["udpos"]),
        BenchmarkTask("panx", "f1", XTREME_R_ADDED["panx"]),
        BenchmarkTask("xquad", "em_f1", XTREME_R_ADDED["xquad"]),
        BenchmarkTask("mlqa", "em_f1"),
        BenchmarkTask("tydiqa", "em_f1"),
        BenchmarkTask("tatoeba", "accuracy", XTREME_R_ADDED["tatoeba"]),
        BenchmarkTask("mewslix", "map@20"),
        BenchmarkTask("lareqa", "map@20", official=False),
    ),
    # evaluate.py XTREME_R_GROUP2TASK, lines 126-132: XCOPA twice, LAReQA nowhere.
    official_groups=(
        (CLASSIFICATION, ("xnli", "xcopa")),
        (STRUCTURED, ("udpos", "panx")),
        (QA, ("xquad", "mlqa", "tydiqa")),
        (RETRIEVAL, ("tatoeba", "mewslix")),
        (MULTIPLE_CHOICE, ("xcopa",)),
    ),
)

BENCHMARKS: dict[str, Benchmark] = {"xtreme": XTREME, "xtreme-r": XTREME_R}


def benchmark(name: str | Benchmark) -> Benchmark:
    """The benchmark called `name` (case-insensitive: 'xtreme', 'XTREME-R'), or an error."""
    if isinstance(name, Benchmark):
        return name
    key = name.strip().lower()
    if key not in BENCHMARKS:
        raise StiltsError(
            f"unknown benchmark {name!r}{did_you_mean(key, BENCHMARKS)}; "
            f"known: {', '.join(b.name for b in BENCHMARKS.values())}"
        )
    return BENCHMARKS[key]


def benchmarks_with(task: str) -> tuple[Benchmark, ...]:
    """The benchmarks that include `task` (e.g. panx: XTREME and XTREME-R; xcopa: XTREME-R)."""
    return tuple(b for b in BENCHMARKS.values() if task in b.task_names)


@dataclass(frozen=True)
class TaskScore:
    """A task's score over a benchmark's official language list.

    `score` is the unweighted mean of `metric` over `languages` (English included where the
    list has it), or None when any official language is missing: those are in `missing`, so a
    partial run is never reported as if it covered the task. Scores for languages outside the
    list are ignored and named in `extra`.
    """

    benchmark: str
    task: str
    metric: str
    languages: tuple[str, ...]
    values: dict[str, float]
    """The official languages that have a score, in list order."""
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def score(self) -> float | None:
        return official_mean(self.values.values()) if self.complete else None

    def require(self) -> float:
        """The score, or a StiltsError naming the missing languages."""
        if self.score is None:
            raise StiltsError(self.describe_missing())
        return self.score

    def describe_missing(self) -> str:
        return (
            f"{self.benchmark} {self.task} needs all {len(self.languages)} official languages; "
            f"missing {len(self.missing)}: {', '.join(self.missing)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "task": self.task,
            "metric": self.metric,
            "score": self.score,
            "languages": list(self.languages),
            "missing": list(self.missing),
            "extra": list(self.extra),
        }


def task_score(task: str, scores: Scores, bench: str | Benchmark = XTREME) -> TaskScore:
    """`task`'s score under `bench` from per-language scores ({language: {metric: value}}).

    A language present without the task's metric is an error (the scores are of another kind,
    e.g. token accuracy given for UD-POS), not a missing language.
    """
    official = benchmark(bench)
    spec = official.task(task)
    languages = spec.languages
    values: dict[str, float] = {}
    for language in languages:
        if language not in scores:
            continue
        table = scores[language]
        if spec.metric not in table:
            raise StiltsError(
                f"{task} scores for {language!r} have no {spec.metric!r} (they have "
                f"{', '.join(table) or 'nothing'}); {official.name} scores {task} by "
                f"{spec.metric}"
            )
        values[language] = float(table[spec.metric])
    return TaskScore(
        benchmark=official.name,
        task=task,
        metric=spec.metric,
        languages=languages,
        values=values,
        missing=tuple(lang for lang in languages if lang not in values),
        extra=tuple(lang for lang in scores if lang not in languages),
    )


@dataclass(frozen=True)
class BenchmarkScore:
    """A benchmark's numbers from whatever task scores are at hand.

    `overall` (the unweighted mean of the task scores) exists only when every task is complete
    and the benchmark can have one at all (`no_overall` says why not), and a group's score only
    when all of its tasks are; everything absent is named in `missing_tasks` (no scores at all)
    and `missing_languages` (a task with some languages).
    """

    benchmark: str
    tasks: dict[str, float]
    """The complete tasks' scores, in benchmark order."""
    groups: dict[str, float]
    overall: float | None
    missing_tasks: tuple[str, ...]
    missing_languages: dict[str, tuple[str, ...]]
    ignored_tasks: tuple[str, ...]
    """Tasks given that are not part of this benchmark."""
    no_overall: str = ""
    """Why this benchmark never has an overall score (`Benchmark.no_overall`), or ''."""

    @property
    def complete(self) -> bool:
        return self.overall is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "overall": self.overall,
            "no_overall": self.no_overall,
            "groups": self.groups,
            "tasks": self.tasks,
            "missing_tasks": list(self.missing_tasks),
            "missing_languages": {t: list(langs) for t, langs in self.missing_languages.items()},
            "ignored_tasks": list(self.ignored_tasks),
        }


def benchmark_score(
    task_scores: Mapping[str, TaskScore | float], bench: str | Benchmark = XTREME
) -> BenchmarkScore:
    """The benchmark's group and overall scores from {task: TaskScore or task score}.

    A plain float is taken as the complete task score (e.g. a published number); a TaskScore
    must have been computed for this same benchmark, since the language lists differ.
    """
    spec = benchmark(bench)
    complete: dict[str, float] = {}
    missing_languages: dict[str, tuple[str, ...]] = {}
    for task in spec.task_names:
        if task not in task_scores:
            continue
        given = task_scores[task]
        if isinstance(given, TaskScore):
            if given.benchmark != spec.name:
                raise StiltsError(
                    f"the {task} score was computed over {given.benchmark}'s language list, "
                    f"not {spec.name}'s; compute it with task_score(..., {spec.name!r})"
                )
            if given.score is None:
                missing_languages[task] = given.missing
                continue
            complete[task] = given.score
        else:
            complete[task] = float(given)
    missing_tasks = tuple(
        t for t in spec.task_names if t not in complete and t not in missing_languages
    )
    groups = {
        group: official_mean(complete[t] for t in tasks)
        for group, tasks in spec.groups.items()
        if all(t in complete for t in tasks)
    }
    every_task = len(complete) == len(spec.tasks) and not spec.no_overall
    return BenchmarkScore(
        benchmark=spec.name,
        tasks=complete,
        groups=groups,
        overall=official_mean(complete.values()) if every_task else None,
        missing_tasks=missing_tasks,
        missing_languages=missing_languages,
        ignored_tasks=tuple(t for t in task_scores if t not in spec.task_names),
        no_overall=spec.no_overall,
    )
