"""`stilts analyze …`, `stilts report` and `stilts score`: what finished runs, or another
system's submission files, say (they never train)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stilts.cli.app import app, console, names, say, user_errors
from stilts.cli.options import Plot, Revision

analyze_app = typer.Typer(
    help="Answer a research question from finished runs in the store (never trains).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(analyze_app, name="analyze")
RunsPath = Annotated[
    Path, typer.Argument(help="A grid directory (STORE/grids/grid-…), a store, or a run.")
]
AnalysisOut = Annotated[
    Path | None, typer.Option(help="Where its files go; default: PATH/analysis.")
]


@analyze_app.command("families")
def analyze_families(path: RunsPath, out: AnalysisOut = None, plot: Plot = True) -> None:
    """Which intermediate tasks help most, and is their ranking the same in every language
    family? Gains by WALS family, each family's ranking, Kendall's W and pairwise tau."""
    with user_errors():
        from stilts.reports.analysis.families import analyze

        _show(analyze(path), out or path / "analysis", plot=plot)


@analyze_app.command("size")
def analyze_size(path: RunsPath, out: AnalysisOut = None, plot: Plot = True) -> None:
    """Does more intermediate data help more? Score and gain by the intermediate phase's
    training rows, their spread over languages, families and seeds, and the size trend."""
    with user_errors():
        from stilts.reports.analysis.size import analyze

        _show(analyze(path), out or path / "analysis", plot=plot)


@analyze_app.command("resource")
def analyze_resource(path: RunsPath, out: AnalysisOut = None, plot: Plot = True) -> None:
    """Does the resource level of the intermediate-training language matter? Gains by the
    resource class of the intermediate language and of the target language."""
    with user_errors():
        from stilts.reports.analysis.resource import analyze

        _show(analyze(path), out or path / "analysis", plot=plot)


@analyze_app.command("similarity")
def analyze_similarity(
    path: RunsPath,
    out: AnalysisOut = None,
    plot: Plot = True,
    model: Annotated[
        str | None,
        typer.Option(help="Masked-LM checkpoint to measure with; default: the runs' start."),
    ] = None,
    revision: Revision = None,
    data: Annotated[
        str | None, typer.Option(help="'sample', 'hub' or a mirror root; default: the runs'.")
    ] = None,
    examples: Annotated[int, typer.Option(help="Sequences per task.")] = 256,
    max_length: Annotated[int, typer.Option()] = 128,
    fisher_layers: Annotated[int, typer.Option(help="Top encoder layers the Fisher covers.")] = 1,
) -> None:
    """Does an intermediate task help a target more, the more similar the two are? Similarity
    of their data under the pretrained encoder (representations, Fisher) against the gain."""
    with user_errors():
        from stilts.reports.analysis.similarity import analyze
        from stilts.runtime.progress import quiet_libraries

        out = out or path / "analysis"
        quiet_libraries()
        analysis = analyze(
            path, model=model, revision=revision, data=data, examples=examples,
            max_length=max_length, fisher_layers=fisher_layers, cache=out / "task_vectors",
            log=say,
        )  # fmt: skip
        _show(analysis, out, plot=plot)


@analyze_app.command("syntax")
def analyze_syntax(
    path: RunsPath,
    syntactic: Annotated[
        str, typer.Option(help="The syntactic intermediate tasks, comma-separated.")
    ] = "udparse,ccg",
    out: AnalysisOut = None,
    plot: Plot = True,
) -> None:
    """Do syntactic intermediate tasks transfer differently with typological distance? Gains
    against each language's URIEL syntactic distance from English, syntactic against
    semantic intermediate tasks."""
    with user_errors():
        from stilts.reports.analysis.syntax import analyze

        _show(analyze(path, names(syntactic)), out or path / "analysis", plot=plot)


def _show(analysis: Any, out: Path, *, plot: bool) -> None:
    console.print(analysis.rich())
    written = analysis.write(out, plot=plot)
    say(f"{analysis.name}: {', '.join(str(path) for path in written)}")


@app.command("report")
def report(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories (runs/<tasks>-<fingerprint>/).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where report.{json,csv,md} go; default: the run dir.")
    ] = None,
) -> None:
    """Per-language scores, task and benchmark scores, and means by language family.

    With several runs (one per target task) it adds the XTREME / XTREME-R benchmark and group
    scores, when every task of a benchmark is there.
    """
    with user_errors():
        from stilts.reports.report import report as build
        from stilts.reports.report import write

        result = build(runs)
        written = write(result, out or runs[0])
        console.print(result.markdown(), highlight=False, markup=False)
        say(f"report: {', '.join(str(path) for path in written)}")


@app.command("score")
def score(
    predictions: Annotated[
        Path, typer.Argument(help="A submission folder: <task>/test-<language>.<tsv|json|jsonl>.")
    ],
    labels: Annotated[Path, typer.Argument(help="The gold labels, in the same layout.")],
    benchmark: Annotated[
        str, typer.Option(help="Whose tasks, languages and groups: xtreme or xtreme-r.")
    ] = "xtreme",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write every score to this JSON file.")
    ] = None,
) -> None:
    """Score a submission folder in the official XTREME / XTREME-R layout against a labels
    folder, per language, task, group and benchmark, as the official evaluate.py does: any
    system's predictions, not only stilts' runs (a run's are in its predictions/ folder)."""
    with user_errors():
        from stilts.reports.scoring import score_submission
        from stilts.store.files import write_json

        result = score_submission(predictions, labels, benchmark)
        for table in result.tables():
            console.print(table.rich())
        for remark in result.remarks:
            say(remark)
        if json_out is not None:
            write_json(json_out, result.as_dict())
            say(f"scores: {json_out}")
