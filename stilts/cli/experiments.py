"""`stilts chain`, `stilts grid`, `stilts run` and `stilts eval`: experiments, run.

`chain` and `grid` turn their options into a recipe (`stilts.experiment.options`), which
``--print-recipe`` prints and which otherwise runs exactly as `stilts run` runs a recipe
file: planned whole first, then through the one `Runner`. The runtime (torch) is imported
only when something is left to train or score: a finished experiment reads back in a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from stilts.cli.app import app, console, names, say, user_errors
from stilts.cli.options import (
    AdapterOption,
    BatchSize,
    Data,
    DevAggregateOption,
    Epochs,
    Force,
    Groups,
    Languages,
    Layer,
    LearningRate,
    MaxEval,
    MaxLength,
    MaxTrain,
    Model,
    PerDevice,
    Plot,
    PrintRecipe,
    Revision,
    SamplerOption,
    Seed,
    Split,
    StoreRoot,
    Translate,
    TranslatedData,
    TrustRemoteCode,
)
from stilts.errors import StiltsError
from stilts.experiment import bundled
from stilts.experiment.grid import record
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import ChainPlan, PlannedPhase, plan_all, plan_evaluation
from stilts.experiment.recipe import FORMAT, Recipe, load_recipe
from stilts.reports.study_table import StudyTable
from stilts.runtime.callbacks import RunCallback
from stilts.runtime.runner import Outcome, Runner
from stilts.schema import describe
from stilts.store.layout import Store
from stilts.store.results import ChainResult


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
    sampler: SamplerOption = None,
    dev_aggregate: DevAggregateOption = "mean",
    adapter: AdapterOption = None,
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
        options = locals()
        per_phase = _phase_options(options)
        per_phase.check_intermediates(len(tasks) - 1, tasks[-1])
        rows, columns = per_phase.phases(tasks[:-1], tasks[-1:])
        recipe = _recipe(options, phases=[*rows, *columns], seed=seed)
        _print_or_run(recipe, options)


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
    sampler: SamplerOption = None,
    dev_aggregate: DevAggregateOption = "mean",
    adapter: AdapterOption = None,
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
        options = locals()
        per_phase = _phase_options(options)
        rows, columns = per_phase.phases(names(intermediate), names(target))
        per_phase.check_intermediates(len(rows), columns[0].name if columns else "")
        grid = {"intermediate": rows, "target": columns, "baselines": baselines}
        seed_list = [seed + offset for offset in range(seeds)]
        recipe = _recipe(options, grid=grid, **_seeds(seed_list))
        _print_or_run(recipe, options)


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
        _run(load_recipe(recipe, set_ or []), store, per_device_batch_size, force, plot=plot)


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
    max_length: MaxLength = None,
    max_eval_examples: MaxEval = None,
    layer: Layer = None,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Score MODEL on TASK without training: `stilts eval xlm-roberta-large tatoeba`.

    Tasks without training data (tatoeba, bucc2018) evaluate the encoder; other tasks need a
    model trained on them, e.g. a `stilts chain` run directory.
    """
    with user_errors():
        hyperparameters = {
            "max_length": max_length, "max_eval_examples": max_eval_examples,
            "embedding_layer": layer,
        }  # fmt: skip
        chain = plan_evaluation(
            task, model, revision=revision, data=data, trust_remote_code=trust_remote_code,
            hyperparameters={k: v for k, v in hyperparameters.items() if v is not None},
        )  # fmt: skip
        _quiet_libraries()
        outcome = Runner(Store(store)).evaluate(chain, named=model)
        console.print(_results_table(outcome.result))
        say(f"results, predictions: {outcome.run_dir}")


def _phase_options(options: dict[str, Any]) -> PhaseOptions:
    return PhaseOptions.parse(
        adapters=options["adapter"] or [],
        translate=options["translate"] or [],
        groups=options["groups"] or [],
        sampler=options["sampler"],
    )


def _seeds(seeds: list[int]) -> dict[str, Any]:
    return {"seeds": seeds} if len(seeds) > 1 else {"seed": seeds[0]}


def _recipe(options: dict[str, Any], **body: Any) -> Recipe:
    """The recipe of `chain`'s or `grid`'s options (every option written out)."""
    hyperparameters = {
        "learning_rate": options["learning_rate"],
        "epochs": options["epochs"],
        "batch_size": options["batch_size"],
        "max_length": options["max_length"],
        "max_train_examples": options["max_train_examples"],
        "max_eval_examples": options["max_eval_examples"],
        "embedding_layer": options["layer"],
    }
    model = {"id": options["model"], "revision": options["revision"]}
    if options["trust_remote_code"]:
        model["trust_remote_code"] = True
    return _validated(
        Recipe,
        {
            "stilts": FORMAT,
            "model": model,
            "data": options["data"],
            "hyperparameters": {k: v for k, v in hyperparameters.items() if v is not None},
            "evaluation": {
                "languages": names(options["languages"] or "") or None,
                "split": options["split"],
            },
            "dev_aggregate": options["dev_aggregate"],
            "translated_data": options["translated_data"],
            **body,
        },
    )


def _validated(model: Any, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise StiltsError(describe(error, model)) from None


def _print_or_run(recipe: Recipe, options: dict[str, Any]) -> None:
    if options["print_recipe"]:
        plan_all(cell.config for cell in recipe.chains())  # a recipe that would not run
        typer.echo(recipe.to_yaml(), nl=False)  # is not printed
        return
    _run(
        recipe, options["store"], options["per_device_batch_size"], options["force"],
        plot=options.get("plot", False),
    )  # fmt: skip


def _run(
    recipe: Recipe, store: Path, per_device_batch_size: int | None, force: bool, *, plot: bool
) -> None:
    """Plan every chain of `recipe`, run them (shared phases once), print the results: a
    chain's table by language, or the study's table of a grid (also written)."""
    cells = recipe.chains()
    plans = plan_all(cell.config for cell in cells)
    runs = Store(store)
    runner = Runner(runs, callbacks=[ConsoleLog()], force=force)
    if all(runner.finished(chain) is not None for chain in plans):
        outcomes = runner.run_all(plans)  # everything is read back: no torch
    else:
        outcomes = _run_with_progress(runner, plans, per_device_batch_size, grid=len(plans) > 1)
    if recipe.grid is None and len(cells) == 1:
        (outcome,) = outcomes
        console.print(_results_table(outcome.result))
        say(f"results, manifest: {outcome.run_dir}")
        return
    table = StudyTable.from_results(
        (cell.row, cell.column, outcome.result)
        for cell, outcome in zip(cells, outcomes, strict=True)
    )
    console.print(table.rich())
    reused = sum(outcome.reused for outcome in outcomes)
    run_now = len(outcomes) - reused
    say(f"{len(outcomes)} chains: {run_now} run now, {reused} read back from the store")
    written = table.write(record(runs, plans, cells), plot=plot)
    say(f"study table: {', '.join(str(path) for path in written)}")


def _run_with_progress(
    runner: Runner, plans: tuple[ChainPlan, ...], per_device_batch_size: int | None, *, grid: bool
) -> list[Outcome]:
    """Run with a progress display: Trainer's steps, and a grid's chains and phases."""
    from stilts.runtime.progress import ExperimentProgress

    _quiet_libraries()
    progress = ExperimentProgress(console, plans, runner.store, grid=grid, force=runner.force)
    with progress:
        runner.options = progress.run_options(per_device_batch_size)
        runner.add_callback(progress)
        return runner.run_all(plans)


def _quiet_libraries() -> None:
    from stilts.runtime.progress import quiet_libraries

    quiet_libraries()


class ConsoleLog(RunCallback):
    """One line per thing the runner does, as the command line shows it."""

    def on_phase_begin(self, chain: ChainPlan, phase: PlannedPhase, start: str) -> None:
        say(f"phase {phase.name}: training from {start}")

    def on_phase_wait(self, chain: ChainPlan, phase: PlannedPhase, message: str) -> None:
        say(message)

    def on_phase_reused(self, chain: ChainPlan, phase: PlannedPhase, phase_dir: Path) -> None:
        say(f"phase {phase.name}: reusing {phase_dir}")

    def on_evaluate(self, chain: ChainPlan, languages: Any) -> None:
        say(
            f"evaluating {chain.target.name} zero-shot on {len(languages)} languages "
            f"({chain.split})"
        )

    def on_run_end(
        self, chain: ChainPlan, result: ChainResult, run_dir: Path, reused: bool
    ) -> None:
        if reused:
            say(f"run {run_dir.name}: reusing its results (--force reruns it)")


def _results_table(result: ChainResult) -> Table:
    metric = result.metric
    dev = result.dev.get(result.train_language)
    caption = "★ training language" + (
        f"; {result.train_language} dev {metric}: {dev[metric]:.1f}" if dev else ""
    )
    table = Table(
        "language",
        f"{metric} ({result.split})",
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
