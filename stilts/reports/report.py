"""Reports on finished runs: per-language scores with language metadata, task and benchmark
scores, and the same scores grouped by language family and resource class.

A run directory (``runs/<tasks>-<fp>/``) holds the chain's results.json: per-language scores
and nothing about the languages themselves. Cross-lingual transfer is read along genealogy and
resources (does a chain help the low-resource languages, or only the Indo-European ones?), so a
report joins the scores with ``stilts.reports.languages`` and aggregates them by family and by
Joshi et al. (2020) class. Task scores follow the benchmarks' official language lists
(``stilts.reports.benchmark``): a run that lacks an official language gets no benchmark task
score, it gets the list of what is missing.

Several run directories (one per target task, e.g. xnli, panx, xquad after the same
intermediate task) make one report: each run's tables, one table across targets, and the
XTREME / XTREME-R scores those targets add up to (the overall score only when every task of
the benchmark is there).

Everything is computed from the files alone, with no model and no heavy imports, so a report
can be rebuilt at any time from a store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from stilts.errors import StiltsError
from stilts.reports.benchmark import (
    BenchmarkScore,
    TaskScore,
    benchmark,
    benchmark_score,
    benchmarks_with,
)
from stilts.reports.benchmark import task_score as benchmark_task_score
from stilts.reports.languages import Language, language
from stilts.reports.tables import Cell, Table, shown
from stilts.store.files import write_json, write_text
from stilts.store.layout import RUN_MANIFEST
from stilts.store.results import RunStart

RESULTS = "results.json"
UNKNOWN = "(unknown)"
FILES = ("report.json", "report.csv", "report.md")


@dataclass(frozen=True)
class LanguageScore:
    """One language's test score beside its metadata (UNKNOWN where the table lacks it)."""

    code: str
    name: str
    family: str
    genus: str
    script: str
    resource_class: int | None
    value: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "language": self.code,
            "name": self.name,
            "family": self.family,
            "genus": self.genus,
            "script": self.script,
            "resource_class": self.resource_class,
            "value": self.value,
        }


@dataclass(frozen=True)
class GroupScore:
    """The unweighted mean score of the languages that share a family or a resource class."""

    group: str
    languages: tuple[str, ...]
    mean: float

    @property
    def count(self) -> int:
        return len(self.languages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "mean": self.mean,
            "languages": list(self.languages),
        }


@dataclass(frozen=True)
class RunReport:
    """One run's report: scores of its target task in every test language."""

    run: str
    """The run directory's name (`<tasks>-<fingerprint>`)."""
    path: Path
    chain: tuple[str, ...]
    target: str
    metric: str
    train_language: str
    model: str | None
    dev: float | None
    """The main metric on the training language's dev set (model selection); None when the
    target has no training phase."""
    languages: tuple[LanguageScore, ...]
    task_scores: tuple[TaskScore, ...]
    """The target's score under each benchmark that includes it (official language lists)."""

    @property
    def average(self) -> float:
        """The mean over the run's own test languages (the task's list in stilts)."""
        return fmean(row.value for row in self.languages)

    @property
    def families(self) -> tuple[GroupScore, ...]:
        """Mean score per language family, families in alphabetical order."""
        return _grouped(self.languages, lambda row: row.family)

    @property
    def resource_classes(self) -> tuple[GroupScore, ...]:
        """Mean score per Joshi et al. class, best-resourced class first."""
        groups = _grouped(self.languages, lambda row: _class_label(row.resource_class))
        return tuple(sorted(groups, key=lambda group: group.group, reverse=True))

    def values(self) -> dict[str, float]:
        return {row.code: row.value for row in self.languages}

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "path": str(self.path),
            "chain": list(self.chain),
            "target": self.target,
            "metric": self.metric,
            "train_language": self.train_language,
            "model": self.model,
            "dev": {"language": self.train_language, "value": self.dev},
            "average": self.average,
            "test": [row.as_dict() for row in self.languages],
            "task_scores": [score.as_dict() for score in self.task_scores],
            "families": [group.as_dict() for group in self.families],
            "resource_classes": [group.as_dict() for group in self.resource_classes],
        }


@dataclass(frozen=True)
class Report:
    """The report on one or more runs; `write` turns it into report.json, .csv and .md."""

    runs: tuple[RunReport, ...]
    benchmarks: tuple[BenchmarkScore, ...]
    """XTREME / XTREME-R scores from the runs' targets (one run per target task)."""
    notes: tuple[str, ...] = ()

    def labels(self) -> tuple[str, ...]:
        """A column name per run: its target, or its directory name when targets repeat."""
        targets = [run.target for run in self.runs]
        if len(set(targets)) == len(targets):
            return tuple(targets)
        return tuple(run.run for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": [run.as_dict() for run in self.runs],
            "benchmarks": [score.as_dict() for score in self.benchmarks],
            "notes": list(self.notes),
        }

    def csv(self) -> str:
        """One row per run, split and language; aggregates are in report.json and report.md."""
        header = ("run", "target", "metric", "split", "language", "name", "family", "genus",
                  "script", "resource_class", "value")  # fmt: skip
        rows: list[tuple[Cell, ...]] = []
        for run in self.runs:
            head = (run.run, run.target, run.metric)
            if run.dev is not None:
                meta = _meta_cells(_metadata(run.train_language))
                rows.append((*head, "dev", run.train_language, *meta, run.dev))
            for row in run.languages:
                cells = (row.name, row.family, row.genus, row.script, row.resource_class)
                rows.append((*head, "test", row.code, *cells, row.value))
        return Table(header, tuple(rows)).csv()

    def markdown(self) -> str:
        lines = ["# stilts report", ""]
        for run in self.runs:
            lines += _run_markdown(run)
        if len(self.runs) > 1:
            lines += self._across_runs()
        for score in self.benchmarks:
            lines += _benchmark_markdown(score)
        if self.notes:
            lines += ["## Notes", "", *(f"- {note}" for note in self.notes), ""]
        return "\n".join(lines).rstrip("\n") + "\n"

    def _across_runs(self) -> list[str]:
        labels = self.labels()
        codes = list(dict.fromkeys(row.code for run in self.runs for row in run.languages))
        by_code = {row.code: row for run in self.runs for row in run.languages}
        rows = [
            (code, by_code[code].name, by_code[code].family,
             *(run.values().get(code) for run in self.runs))
            for code in codes
        ]  # fmt: skip
        rows.append(("", "**average**", "", *(run.average for run in self.runs)))
        table = Table(("code", "language", "family", *labels), tuple(rows))
        return [
            "## All runs",
            "",
            "Test scores, each target in its own main metric.",
            "",
            table.markdown(),
            "",
        ]


def report(run_dir: Path | str | Iterable[Path | str]) -> Report:
    """The report on one run directory, or on several (one table across their targets).

    Benchmark scores are computed when each target task appears once; with two runs of the
    same target (e.g. two chains ending in xnli) the runs are reported side by side, without
    benchmark scores, and a note says why.
    """
    dirs = [Path(run_dir)] if isinstance(run_dir, str | Path) else [Path(d) for d in run_dir]
    if not dirs:
        raise StiltsError("name at least one run directory (runs/<tasks>-<fingerprint>/)")
    runs = tuple(_run_report(path) for path in dirs)
    targets = [run.target for run in runs]
    repeated = sorted({t for t in targets if targets.count(t) > 1})
    notes: list[str] = []
    benchmarks: list[BenchmarkScore] = []
    if repeated:
        notes.append(
            f"no benchmark scores: more than one run targets {', '.join(repeated)}, and a "
            "benchmark score takes one run per task"
        )
    else:
        names = list(dict.fromkeys(b.name for run in runs for b in benchmarks_with(run.target)))
        for name in names:
            scores = {
                run.target: score
                for run in runs
                for score in run.task_scores
                if score.benchmark == name
            }
            benchmarks.append(benchmark_score(scores, name))
    return Report(runs=runs, benchmarks=tuple(benchmarks), notes=tuple(notes))


def write(report: Report, out_dir: Path) -> tuple[Path, ...]:
    """Write report.json, report.csv and report.md into `out_dir`, each atomically."""
    json_path, csv_path, md_path = (out_dir / name for name in FILES)
    write_json(json_path, report.as_dict())
    write_text(csv_path, report.csv())
    write_text(md_path, report.markdown())
    return json_path, csv_path, md_path


def _run_report(run_dir: Path) -> RunReport:
    results = _read(run_dir, RESULTS, required=True)
    where = run_dir / RESULTS
    missing = [key for key in ("chain", "target", "metric", "test") if key not in results]
    if missing:
        raise StiltsError(f"{where} has no {', '.join(missing)}: not a stilts results file")
    metric, target = results["metric"], results["target"]
    test: Mapping[str, Mapping[str, float]] = results["test"]
    if not test:
        raise StiltsError(f"{where} has no test scores")
    rows = []
    for code, scores in test.items():
        if metric not in scores:
            raise StiltsError(f"{where}: test scores for {code!r} have no {metric!r}")
        rows.append(_language_score(code, float(scores[metric])))
    train_language = results.get("train_language", "en")
    dev_scores = results.get("dev", {}).get(train_language, {})
    manifest = _read(run_dir, RUN_MANIFEST, required=False)
    return RunReport(
        run=run_dir.name,
        path=run_dir,
        chain=tuple(results["chain"]),
        target=target,
        metric=metric,
        train_language=train_language,
        model=RunStart.of(manifest).model if manifest.get("config", {}).get("model") else None,
        dev=float(dev_scores[metric]) if metric in dev_scores else None,
        languages=tuple(rows),
        task_scores=tuple(
            benchmark_task_score(target, test, bench) for bench in benchmarks_with(target)
        ),
    )


def _read(run_dir: Path, name: str, *, required: bool) -> dict[str, Any]:
    path = run_dir / name
    if not path.is_file():
        if required:
            raise StiltsError(
                f"{path} does not exist: pass a run directory (runs/<tasks>-<fingerprint>/ in "
                "the store) that a finished `stilts chain` wrote"
            )
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise StiltsError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise StiltsError(f"{path} must hold a JSON object")
    return data


def _metadata(code: str) -> Language | None:
    try:
        return language(code)
    except StiltsError:
        return None  # a third-party task's language: reported, just without metadata


def _meta_cells(meta: Language | None) -> tuple[str, str, str, str, int | None]:
    if meta is None:
        return UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, None
    return meta.name, meta.family, meta.genus, meta.script, meta.resource_class


def _language_score(code: str, value: float) -> LanguageScore:
    name, family, genus, script, resource_class = _meta_cells(_metadata(code))
    return LanguageScore(code, name, family, genus, script, resource_class, value)


def _class_label(resource_class: int | None) -> str:
    return UNKNOWN if resource_class is None else str(resource_class)


def _grouped(rows: Sequence[LanguageScore], key: Any) -> tuple[GroupScore, ...]:
    groups: dict[str, list[LanguageScore]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return tuple(
        GroupScore(group, tuple(r.code for r in members), fmean(r.value for r in members))
        for group, members in sorted(groups.items())
    )


def _run_markdown(run: RunReport) -> list[str]:
    lines = [f"## {run.target}: {' → '.join(run.chain)}", ""]
    if run.model:
        lines.append(f"- model: {run.model}")
    lines += [
        f"- run: `{run.run}`",
        f"- metric: {run.metric} (×100)",
        f"- dev ({run.train_language}, model selection): {shown(run.dev)}",
        f"- test average over this run's {len(run.languages)} languages: {shown(run.average)}",
    ]
    for score in run.task_scores:
        official = benchmark(score.benchmark).task(score.task).official
        listed = f"{len(score.languages)} {'official ' if official else ''}languages"
        if score.complete:
            unlisted = "" if official else "; the official evaluate.py lists none"
            lines.append(
                f"- {score.benchmark} {score.task} score ({listed}{unlisted}): {shown(score.score)}"
            )
        else:
            lines.append(
                f"- {score.benchmark} {score.task} score: none, {len(score.missing)} of its "
                f"{listed} missing ({', '.join(score.missing)})"
            )
    per_language = Table(
        ("code", "language", "family", "genus", "script", "class", run.metric),
        tuple(
            (row.code, row.name, row.family, row.genus, row.script,
             _class_label(row.resource_class), row.value)
            for row in run.languages
        ),
    )  # fmt: skip
    lines += ["", "### Per language", "", per_language.markdown()]
    lines += ["", "### By family (WALS)", "", _groups_table("family", run.metric, run.families)]
    lines += ["", "### By resource class (Joshi et al. 2020)", ""]
    lines += [_groups_table("class", run.metric, run.resource_classes)]
    return [*lines, ""]


def _groups_table(kind: str, metric: str, groups: Sequence[GroupScore]) -> str:
    rows = tuple((g.group, g.count, g.mean, " ".join(g.languages)) for g in groups)
    return Table((kind, "n", f"mean {metric}", "languages"), rows).markdown()


def _benchmark_markdown(score: BenchmarkScore) -> list[str]:
    if score.no_overall:
        overall = f"none: {score.no_overall}"
    else:
        overall = shown(score.overall) if score.complete else "none until every task is complete"
    lines = [f"## {score.benchmark}", "", f"- overall: {overall}"]
    if score.missing_tasks:
        lines.append(f"- tasks without a run: {', '.join(score.missing_tasks)}")
    for task, missing in score.missing_languages.items():
        lines.append(f"- {task} lacks {len(missing)} official languages: {', '.join(missing)}")
    if score.groups:
        lines += ["", Table(("group", "score"), tuple(score.groups.items())).markdown()]
    if score.tasks:
        lines += ["", Table(("task", "score"), tuple(score.tasks.items())).markdown()]
    return [*lines, ""]
