"""`stilts score`: a submission folder in the official XTREME / XTREME-R layout scored against a
labels folder, per language, task, group and benchmark, as google-research/xtreme ``evaluate.py``
``evaluate`` scores it (commit 838c13b, lines 248-321), so a lab can score another system's
predictions, not only stilts' runs.

Both folders hold ``{task}/test-{language}.{suffix}`` (`stilts.eval.official` reads and scores
each pair of files). A task is scored when the predictions have its folder, in every language of
the benchmark's list (`stilts.reports.benchmark`); a task average is, per metric, the plain mean
over those languages, and the task score is the benchmark's metric of it, QA's being the mean of
the exact-match and F1 averages (lines 286-297); groups and the overall score follow
`benchmark_score`, from the same task scores.

Where the official code skips silently, this refuses with one line naming the path: a folder in
the predictions that is no task of either benchmark (a misspelt task), a task folder the labels
lack, a language file missing on either side (the official ``FileNotFoundError``). The other
benchmark's task folders (the official mock suite holds both) and a LAReQA folder (the official
code scores no LAReQA language) are named in a note and left unscored, and a labels folder may
hold more tasks than the predictions: those are reported as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError, did_you_mean
from stilts.eval.official import TASK_FILES
from stilts.eval.qa import qa_score
from stilts.reports.benchmark import (
    BENCHMARKS,
    Benchmark,
    BenchmarkScore,
    BenchmarkTask,
    benchmark,
    benchmark_score,
    official_mean,
)
from stilts.reports.tables import Cell, Table

DIGITS = 2
"""evaluate.py prints every score with two decimals (lines 358 and 365)."""


@dataclass(frozen=True)
class TaskResult:
    """One task's scores in every language of the benchmark's list, in that order."""

    task: str
    metric: str
    """The benchmark's metric for the task (`BenchmarkTask.metric`)."""
    languages: dict[str, dict[str, float]]
    """Language -> every metric the official code reports for it (×100)."""

    @property
    def averages(self) -> dict[str, float]:
        """Metric -> its mean over the languages (evaluate.py's ``avg_{metric}``)."""
        metrics = next(iter(self.languages.values()))
        return {m: official_mean(s[m] for s in self.languages.values()) for m in metrics}

    @property
    def score(self) -> float:
        """evaluate.py's ``avg_metric``: QA's (EM + F1) / 2 of the averages, else the average
        of the benchmark's metric."""
        averages = self.averages
        return qa_score(averages) if self.metric == "em_f1" else averages[self.metric]

    def table(self) -> Table:
        metrics = tuple(next(iter(self.languages.values())))
        rows: list[tuple[Cell, ...]] = [
            (language, *(scores[m] for m in metrics)) for language, scores in self.languages.items()
        ]
        rows.append(("average", *self.averages.values()))
        return Table(("language", *metrics), tuple(rows), title=self.task, digits=DIGITS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "score": self.score,
            "averages": self.averages,
            "languages": self.languages,
        }


@dataclass(frozen=True)
class SubmissionScore:
    """A submission folder's scores under one benchmark."""

    predictions: Path
    labels: Path
    tasks: tuple[TaskResult, ...]
    """The scored tasks, in the benchmark's order."""
    totals: BenchmarkScore
    notes: tuple[str, ...]
    """Task folders found but not scored, and why."""

    def summary(self) -> Table:
        """Task scores, then the groups that are complete, then the overall score."""
        totals = self.totals
        rows: list[tuple[Cell, ...]] = [("task", t.task, t.score) for t in self.tasks]
        rows += [("group", group, value) for group, value in totals.groups.items()]
        rows.append(("overall", totals.benchmark, totals.overall))
        return Table(("", "name", "score"), tuple(rows), title=totals.benchmark, digits=DIGITS)

    @property
    def remarks(self) -> tuple[str, ...]:
        """What was left unscored, and why there is no overall score if there is none."""
        totals = self.totals
        lines = list(self.notes)
        if totals.missing_tasks:
            lines.append(f"tasks without a score: {', '.join(totals.missing_tasks)}")
        if totals.overall is None:
            lines.append(f"no overall score: {totals.no_overall or 'it needs every task'}")
        return tuple(lines)

    def tables(self) -> list[Table]:
        return [*(task.table() for task in self.tasks), self.summary()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "predictions": str(self.predictions),
            "labels": str(self.labels),
            "benchmark": self.totals.as_dict(),
            "tasks": {task.task: task.as_dict() for task in self.tasks},
            "remarks": list(self.remarks),
        }


def score_submission(
    predictions: Path, labels: Path, bench: str | Benchmark = "xtreme"
) -> SubmissionScore:
    """Score every task folder of `predictions` against `labels` under `bench` (the official
    default, XTREME, or XTREME-R)."""
    spec = benchmark(bench)
    found, notes = _task_folders(predictions, spec)
    if not found:
        raise StiltsError(
            f"{predictions}: holds no {spec.name} task folder ({', '.join(spec.task_names)})"
        )
    _folder(labels)
    tasks = []
    for task in spec.tasks:
        if task.name not in found:
            continue
        if not task.official:
            notes.append(
                f"{predictions / task.name}: not scored; the official evaluate.py lists no "
                f"{task.name} languages (XTREME_R_TASK2LANGS, line 171)"
            )
            continue
        if not (labels / task.name).is_dir():
            raise StiltsError(
                f"{labels / task.name}: no such folder; it holds the labels for "
                f"{predictions / task.name}"
            )
        tasks.append(_score_task(task, predictions, labels))
    totals = benchmark_score({t.task: t.score for t in tasks}, spec)
    return SubmissionScore(predictions, labels, tuple(tasks), totals, tuple(notes))


def _folder(path: Path) -> None:
    if not path.exists():
        raise StiltsError(f"{path}: no such folder")
    if not path.is_dir():
        raise StiltsError(f"{path}: not a folder")


def _task_folders(predictions: Path, spec: Benchmark) -> tuple[set[str], list[str]]:
    """The task folders of `predictions`, and a note for each that is the other benchmark's
    (skipped, as evaluate.py skips them). A folder of no benchmark is refused: a misspelt task
    would otherwise be skipped in silence."""
    _folder(predictions)
    found = {path.name for path in predictions.iterdir() if path.is_dir()}
    known = list(dict.fromkeys(t for b in BENCHMARKS.values() for t in b.task_names))
    notes = []
    for name in sorted(found - set(spec.task_names)):
        if name not in known:
            raise StiltsError(
                f"{predictions / name}: not a task folder{did_you_mean(name, known)}; the "
                f"tasks are {', '.join(known)}"
            )
        other = next(b.name for b in BENCHMARKS.values() if name in b.task_names)
        notes.append(
            f"{predictions / name}: not scored, {name} is not in {spec.name} "
            f"(--benchmark {other.lower()} scores it)"
        )
    return found & set(spec.task_names), notes


def _score_task(spec: BenchmarkTask, predictions: Path, labels: Path) -> TaskResult:
    task, languages, files = spec.name, spec.languages, TASK_FILES[spec.name]
    scores = {}
    for language in languages:
        pair = (predictions / task / files.name(language), labels / task / files.name(language))
        for path in pair:
            if not path.is_file():
                raise StiltsError(
                    f"{path}: no such file; {task} is scored in {len(languages)} languages: "
                    f"{', '.join(languages)}"
                )
        scores[language] = files.score(*pair, language)
    return TaskResult(task, spec.metric, scores)
