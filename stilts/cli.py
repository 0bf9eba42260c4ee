"""The `stilts` command line.

Imports only typer, rich and stilts' light modules at the top: `stilts --help` and
`stilts tasks` must answer without loading torch or transformers. Training code is imported
inside the commands that need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stilts import __version__
from stilts.errors import StiltsError
from stilts.experiment import bundled
from stilts.experiment.training_data import parse_groups, parse_translations
from stilts.runtime.adapters import parse_phase_adapters
from stilts.tasks import registry

if TYPE_CHECKING:
    from stilts.experiment.chain import ChainConfig
    from stilts.experiment.grid import GridCell
    from stilts.store.results import ChainResult

app = typer.Typer(
    help="Intermediate-task transfer experiments for zero-shot cross-lingual NLP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console()
errors = Console(stderr=True)


DEBUG = "STILTS_DEBUG"
"""Environment variable: when set (to anything but 0), errors come with their tracebacks."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Report a StiltsError as one line on stderr and exit with code 2; under --debug, with
    the traceback of what caused it (a plugin's own import error, say)."""
    try:
        yield
    except StiltsError as error:
        report_error(error)
        raise typer.Exit(2) from None


def report_error(error: StiltsError) -> None:
    """The error's one line on stderr, after its traceback (and its cause's) under --debug."""
    if os.environ.get(DEBUG, "0") != "0":
        from rich.traceback import Traceback  # not at start-up: it costs a tenth of --help

        errors.print(Traceback.from_exception(type(error), error, error.__traceback__))
    errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help=f"Show the traceback behind an error (or set {DEBUG}=1)."),
    ] = False,
) -> None:
    if version:
        console.print(f"stilts {__version__}")
        raise typer.Exit()
    if debug:
        os.environ[DEBUG] = "1"


@app.command("tasks")
def list_tasks() -> None:
    """List the installed task plugins (entry point group `stilts.tasks`)."""
    table = Table(title="installed tasks")
    table.add_column("task", no_wrap=True)
    table.add_column("head")
    table.add_column("languages")
    table.add_column("package", no_wrap=True)
    table.add_column("summary")
    failures: list[StiltsError] = []
    with user_errors():
        for name, entry in sorted(registry.entries().items()):
            try:
                task = registry.load_entry(entry)
            except StiltsError as error:
                failures.append(error)
                continue
            languages = f"{len(task.languages)}: {' '.join(task.languages)}"
            table.add_row(name, task.head.describe(), languages, entry.provider, task.summary)
    console.print(table)
    for failure in failures:
        report_error(failure)
    if failures:
        raise typer.Exit(2)


Model = Annotated[str, typer.Option(help="Hub id or local directory of the starting encoder.")]
Revision = Annotated[str | None, typer.Option(help="Hub revision of --model.")]
Data = Annotated[
    str | None,
    typer.Option(
        help="'sample' (bundled), 'hub', or a local mirror root holding <org>/<dataset> "
        "copies of the hub repos. Default: sample with the bundled model, else hub."
    ),
]
StoreRoot = Annotated[
    Path, typer.Option(envvar="STILTS_STORE", help="Where phases and runs are kept.")
]
Seed = Annotated[int, typer.Option(help="Random seed of every phase.")]
LearningRate = Annotated[float | None, typer.Option("--lr")]
Epochs = Annotated[float | None, typer.Option()]
BatchSize = Annotated[int | None, typer.Option(help="Effective batch size.")]
MaxLength = Annotated[int | None, typer.Option()]
MaxTrain = Annotated[int | None, typer.Option()]
MaxEval = Annotated[int | None, typer.Option()]
Layer = Annotated[
    int | None,
    typer.Option(help="Retrieval: hidden layer to pool (default: 14/24 of the depth)."),
]
PerDevice = Annotated[
    int | None, typer.Option(help="Lower it to fit memory; accumulation keeps the batch.")
]
Translate = Annotated[
    list[str] | None,
    typer.Option(
        help="Train TASK on translated data: TASK=LANG[,LANG…]; list the task's own "
        "language (en) too to keep its original rows. Repeatable."
    ),
]
TranslatedData = Annotated[
    str | None,
    typer.Option(
        help="Your translated copies of the tasks' files: DIR/<lang>/<org>/<dataset>/…; "
        "default: the task's own translations (mnli, xnli: facebook/xnli)."
    ),
]
Groups = Annotated[
    list[str] | None,
    typer.Option(
        help="Train TASK on some named groups of its rows: TASK=GROUP[,GROUP…] (anli_plus: "
        "anli_r1…3, snli, mnli; mnli: its genres); with --max-train-examples, an equal share "
        "from each. Repeatable."
    ),
]
Sampler = Annotated[
    str | None,
    typer.Option(
        help="Multi-task phases: which task each step trains. uniform, proportional[:cap=N],"
        " temperature:T=2[,cap=N] or probabilities:TASK=P,… (default: proportional)."
    ),
]
DevAggregate = Annotated[
    str,
    typer.Option(
        help="Multi-task phases: one dev figure from their tasks' main metrics, mean or "
        "weighted:TASK=W,… (recorded in phase.json; not fingerprinted)."
    ),
]
Adapter = Annotated[
    list[str] | None,
    typer.Option(
        help="Train a PEFT adapter instead of the whole encoder: KIND[:option=value,…] "
        "for every intermediate phase, or PHASE=KIND… for one (kinds: lora, ia3, loha, "
        "lokr; options: handoff=merge|stack, r, alpha, dropout, target_modules=a+b), "
        "e.g. lora or mnli+mlm=lora:handoff=stack. Repeatable."
    ),
]
Languages = Annotated[
    str | None,
    typer.Option(help="Score the target in these languages only: CODE,CODE… (default: all)."),
]
Split = Annotated[str, typer.Option(help="The target's split scored per language: test, or dev.")]
TrustRemoteCode = Annotated[bool, typer.Option(help="Allow the model repo to run its own code.")]
Force = Annotated[bool, typer.Option(help="Retrain phases found in the store.")]
Plot = Annotated[
    bool, typer.Option(help="Draw the figure (PNG; needs matplotlib: pip install 'stilts[plot]').")
]
PrintRecipe = Annotated[bool, typer.Option(help="Print this as a recipe (YAML) and run nothing.")]


@app.command()
def chain(
    tasks: Annotated[
        list[str],
        typer.Argument(
            help="Phases in training order; the last is evaluated. TASK+TASK… is one "
            "multi-task phase (a shared encoder, one head per task)."
        ),
    ],
    model: Model = bundled.MODEL,
    revision: Revision = None,
    data: Data = None,
    store: StoreRoot = Path("stilts-runs"),
    seed: Seed = 42,
    learning_rate: LearningRate = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    max_train_examples: MaxTrain = None,
    max_eval_examples: MaxEval = None,
    layer: Layer = None,
    per_device_batch_size: PerDevice = None,
    translate: Translate = None,
    translated_data: TranslatedData = None,
    groups: Groups = None,
    sampler: Sampler = None,
    dev_aggregate: DevAggregate = "mean",
    adapter: Adapter = None,
    languages: Languages = None,
    split: Split = "test",
    trust_remote_code: TrustRemoteCode = False,
    force: Force = False,
    print_recipe: PrintRecipe = False,
) -> None:
    """Train TASKS one after another, then evaluate the last zero-shot on all its languages.

    `stilts chain mnli xnli` trains on MNLI, then on XNLI's English training data, and tests
    on the 15 XNLI languages. With no --model it runs offline on the bundled tiny model and
    sample data; `--model xlm-roberta-large` runs the real experiment from the hub.
    """
    with user_errors():
        from stilts.experiment import chain as chains

        config = _chain_config(tuple(tasks), locals())
        if print_recipe:
            from stilts.experiment.recipe import Recipe

            chains.plan(config)  # a recipe that would not run is not printed
            typer.echo(Recipe.from_config(config).to_yaml(), nl=False)
            return
        _run_chain(config, store, per_device_batch_size, force)


@app.command()
def grid(
    intermediate: Annotated[
        str,
        typer.Option(
            help="Intermediate phases, comma-separated: each starts one row of the table "
            "(TASK+TASK… is one multi-task phase), e.g. mnli,squad,hellaswag."
        ),
    ],
    target: Annotated[
        str, typer.Option(help="Target tasks, comma-separated: the columns, e.g. xnli,pawsx.")
    ],
    seeds: Annotated[
        int, typer.Option(min=1, help="Run every chain with seeds SEED, SEED+1, …")
    ] = 1,
    baselines: Annotated[
        bool, typer.Option(help="Also train each target alone: the gains' reference row.")
    ] = True,
    plot: Plot = True,
    model: Model = bundled.MODEL,
    revision: Revision = None,
    data: Data = None,
    store: StoreRoot = Path("stilts-runs"),
    seed: Seed = 42,
    learning_rate: LearningRate = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    max_length: MaxLength = None,
    max_train_examples: MaxTrain = None,
    max_eval_examples: MaxEval = None,
    layer: Layer = None,
    per_device_batch_size: PerDevice = None,
    translate: Translate = None,
    translated_data: TranslatedData = None,
    groups: Groups = None,
    sampler: Sampler = None,
    dev_aggregate: DevAggregate = "mean",
    adapter: Adapter = None,
    languages: Languages = None,
    split: Split = "test",
    trust_remote_code: TrustRemoteCode = False,
    force: Force = False,
    print_recipe: PrintRecipe = False,
) -> None:
    """Every intermediate → target chain, and each target alone, as the study's table.

    `stilts grid --intermediate mnli,squad --target xnli,pawsx --seeds 3` trains each
    intermediate phase once per seed, then every target after each of them and alone; the
    table's cells are scores (mean ± std over seeds) and their change against the target alone.
    """
    with user_errors():
        from stilts.experiment.grid import grid_chains

        base = _chain_config((), locals())
        rows, columns = _names(intermediate), _names(target)
        seed_list = [seed + offset for offset in range(seeds)]
        cells = grid_chains(base, rows, columns, seed_list, baselines=baselines)
        if print_recipe:
            from stilts.experiment.grid import plan_all
            from stilts.experiment.recipe import Recipe

            plan_all(cell.config for cell in cells)  # a recipe that would not run isn't printed
            recipe = Recipe.from_config(base, seeds=seed_list, grid=(rows, columns, baselines))
            typer.echo(recipe.to_yaml(), nl=False)
            return
        _run_grid(cells, store, per_device_batch_size, force, plot=plot)


@app.command("run")
def run_recipe(
    recipe: Annotated[Path, typer.Argument(help="A recipe file (YAML), e.g. recipes/….yaml.")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Change one recipe value: PATH=VALUE (read as YAML), e.g. seed=3 or "
            "phases.0.adapter=lora.",
        ),
    ] = None,
    store: StoreRoot = Path("stilts-runs"),
    per_device_batch_size: PerDevice = None,
    force: Force = False,
    plot: Plot = True,
) -> None:
    """Run the experiment a recipe describes (see `stilts chain --print-recipe`).

    A recipe of one chain prints its per-language table; a grid, or several seeds, prints
    the study's table and writes it (Markdown, CSV, heatmap) beside the runs.
    """
    with user_errors():
        from stilts.experiment.recipe import load_recipe

        loaded = load_recipe(recipe, set_ or [])
        cells = loaded.chains()
        if loaded.grid is None and len(cells) == 1:
            _run_chain(cells[0].config, store, per_device_batch_size, force)
        else:
            _run_grid(cells, store, per_device_batch_size, force, plot=plot)


def _chain_config(tasks: tuple[str, ...], options: dict[str, Any]) -> ChainConfig:
    """The ChainConfig of a command's options (`chain`'s and `grid`'s are the same)."""
    from stilts.experiment.chain import ChainConfig

    return ChainConfig(
        tasks=tasks,
        model=options["model"],
        revision=options["revision"],
        data=options["data"],
        seed=options["seed"],
        overrides={
            "learning_rate": options["learning_rate"],
            "epochs": options["epochs"],
            "batch_size": options["batch_size"],
            "max_length": options["max_length"],
            "max_train_examples": options["max_train_examples"],
            "max_eval_examples": options["max_eval_examples"],
            "embedding_layer": options["layer"],
        },
        trust_remote_code=options["trust_remote_code"],
        translations=parse_translations(options["translate"] or []),
        translated_data=options["translated_data"],
        groups=parse_groups(options["groups"] or []),
        sampler=options["sampler"],
        dev_aggregate=options["dev_aggregate"],
        adapters=parse_phase_adapters(options["adapter"] or []),
        languages=tuple(_names(options["languages"] or "")),
        split=options["split"],
    )


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _run_chain(
    config: ChainConfig, store: Path, per_device_batch_size: int | None, force: bool
) -> None:
    """Plan `config`, run it in `store`, print its table."""
    from stilts.experiment import chain as chains
    from stilts.store.layout import Store

    plan = chains.plan(config)
    runs = Store(store)
    result = None if force else chains.finished(plan, runs, _say)
    if result is None:  # not run before: train what the store lacks (torch imports here)
        _quiet_libraries()
        from stilts.runtime.progress import RichProgress

        options = _run_options(per_device_batch_size, RichProgress(console))
        result = chains.run(plan, runs, options, force=force, log=_say)
    console.print(_results_table(result))
    run_dir = runs.run_dir(plan.config.tasks, plan.run_fingerprint)
    _say(f"results, manifest: {run_dir}")


def _run_grid(
    cells: Sequence[GridCell],
    store: Path,
    per_device_batch_size: int | None,
    force: bool,
    *,
    plot: bool,
) -> None:
    """Plan every chain, run them (shared phases once) with a progress display, print and
    write the study's table."""
    from stilts.experiment import chain as chains
    from stilts.experiment.grid import phase_counts, plan_all, read_back, record, run_all
    from stilts.reports.study_table import StudyTable
    from stilts.store.layout import Store

    plans = plan_all(cell.config for cell in cells)
    runs = Store(store)
    done = None if force else read_back(plans, runs)
    if done is None:  # something to train or score (torch imports here)
        _quiet_libraries()
        from stilts.runtime.progress import GridProgress

        names = [f"{' → '.join(p.config.tasks)} (seed {p.config.seed})" for p in plans]
        with GridProgress(console, names, lambda: phase_counts(plans, runs)) as progress:
            options = _run_options(per_device_batch_size, progress.trainer_bar())
            done = run_all(
                plans, runs, lambda p: chains.run(p, runs, options, log=_say),
                force=force, log=_say, on_chain=lambda index, _p: progress.chain_starting(index),
            )  # fmt: skip
    table = StudyTable.from_results(
        (cell.row, cell.column, run.result) for cell, run in zip(cells, done, strict=True)
    )
    console.print(table.rich())
    reused = sum(run.reused for run in done)
    _say(f"{len(done)} chains: {len(done) - reused} run now, {reused} read back from the store")
    written = table.write(record(runs, plans, cells), plot=plot)
    _say(f"study table: {', '.join(str(path) for path in written)}")


def _run_options(per_device_batch_size: int | None, progress: Any) -> Any:
    from stilts.runtime.arguments import RunOptions

    return RunOptions(per_device_batch_size=per_device_batch_size, callbacks=(progress,))


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

        out = out or path / "analysis"
        _quiet_libraries()
        analysis = analyze(
            path, model=model, revision=revision, data=data, examples=examples,
            max_length=max_length, fisher_layers=fisher_layers, cache=out / "task_vectors",
            log=_say,
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

        _show(analyze(path, _names(syntactic)), out or path / "analysis", plot=plot)


def _show(analysis: Any, out: Path, *, plot: bool) -> None:
    console.print(analysis.rich())
    written = analysis.write(out, plot=plot)
    _say(f"{analysis.name}: {', '.join(str(path) for path in written)}")


@app.command("eval")
def evaluate(
    model: Annotated[
        str,
        typer.Argument(help="A run or phase directory, a local checkpoint, or a hub model id."),
    ],
    task: Annotated[str, typer.Argument(help="The task to score it on, in all its languages.")],
    revision: Annotated[str | None, typer.Option(help="Hub revision of MODEL.")] = None,
    data: Annotated[
        str | None, typer.Option(help="'sample', 'hub', or a local mirror root (as in chain).")
    ] = None,
    store: Annotated[
        Path, typer.Option(envvar="STILTS_STORE", help="Results go to STORE/evals.")
    ] = Path("stilts-runs"),
    max_length: Annotated[int | None, typer.Option()] = None,
    max_eval_examples: Annotated[int | None, typer.Option()] = None,
    layer: Annotated[
        int | None,
        typer.Option(help="Retrieval: hidden layer to pool (default: 14/24 of the depth)."),
    ] = None,
    trust_remote_code: Annotated[
        bool, typer.Option(help="Allow the model repo to run its own code.")
    ] = False,
) -> None:
    """Score MODEL on TASK without training: `stilts eval xlm-roberta-large tatoeba`.

    Tasks without training data (tatoeba, bucc2018) evaluate the encoder; other tasks need a
    model trained on them, e.g. a `stilts chain` run directory.
    """
    with user_errors():
        from stilts.runtime.evaluate import evaluate as score

        _quiet_libraries()
        from stilts.store.layout import Store

        result, out = score(
            task, model, Store(store), revision=revision, data=data,
            overrides={
                "max_length": max_length,
                "max_eval_examples": max_eval_examples,
                "embedding_layer": layer,
            },
            trust_remote_code=trust_remote_code,
        )  # fmt: skip
        console.print(_results_table(result))
        _say(f"results, predictions: {out}")


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
        _say(f"report: {', '.join(str(path) for path in written)}")


def _say(message: str) -> None:
    console.print(f"[dim]·[/] {escape(message)}", highlight=False)


def _quiet_libraries() -> None:
    """Keep the terminal to stilts' own progress; library warnings stay available in logs."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def _results_table(result: ChainResult) -> Table:
    metric = result.metric
    dev = result.dev.get(result.train_language)
    caption = "★ training language" + (
        f"; {result.train_language} dev {metric}: {dev[metric]:.1f}" if dev else ""
    )
    table = Table(
        "language",
        f"{metric} (test)",
        title=f"{' → '.join(result.tasks)} · zero-shot {result.target}",
        caption=caption,
        min_width=48,
    )
    for language, scores in result.test.items():
        label = f"★ {language}" if language == result.train_language else language
        table.add_row(label, f"{scores[metric]:.1f}")
    table.add_section()
    table.add_row("[bold]average", f"[bold]{result.average:.1f}")
    return table


def main() -> None:
    app()
