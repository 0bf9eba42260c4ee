"""`stilts chain`, `stilts grid`, `stilts run` and `stilts eval`: experiments, run.

`chain` and `grid` turn their options into a recipe (`stilts.experiment.options`), which
``--print-recipe`` prints and which otherwise runs exactly as `stilts run` runs a recipe
file: planned whole first, then through the one `Runner`. Here are the commands' options;
what they do is `stilts.cli.running`, imported when a command runs, not for `--help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stilts.cli.app import app, user_errors
from stilts.cli.options import (
    AdapterOption,
    BatchSize,
    Compile,
    Data,
    DevAggregateOption,
    Epochs,
    Force,
    GradientCheckpointing,
    GroupByLength,
    Groups,
    Languages,
    LauncherOption,
    Layer,
    LearningRate,
    MaxEval,
    MaxLength,
    MaxTrain,
    Model,
    PerDevice,
    Plot,
    PrecisionOption,
    PrintJobs,
    PrintRecipe,
    ReportTo,
    Retries,
    Revision,
    SamplerOption,
    Seed,
    SelectOption,
    Split,
    Status,
    StoreRoot,
    Translate,
    TranslatedData,
    TrustRemoteCode,
    Workers,
)
from stilts.experiment import bundled


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
    precision: PrecisionOption = "auto",
    group_by_length: GroupByLength = False,
    report_to: ReportTo = None,
    compile_: Compile = False,
    gradient_checkpointing: GradientCheckpointing = False,
    translate: Translate = None,
    translated_data: TranslatedData = None,
    groups: Groups = None,
    sampler: SamplerOption = None,
    dev_aggregate: DevAggregateOption = "mean",
    select: SelectOption = None,
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
    options = dict(locals())
    with user_errors():
        from stilts.cli.running import chain_recipe, print_or_run

        print_or_run(chain_recipe(tasks, options), options)


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
    precision: PrecisionOption = "auto",
    group_by_length: GroupByLength = False,
    report_to: ReportTo = None,
    compile_: Compile = False,
    gradient_checkpointing: GradientCheckpointing = False,
    translate: Translate = None,
    translated_data: TranslatedData = None,
    groups: Groups = None,
    sampler: SamplerOption = None,
    dev_aggregate: DevAggregateOption = "mean",
    select: SelectOption = None,
    adapter: AdapterOption = None,
    languages: Languages = None,
    split: Split = "test",
    trust_remote_code: TrustRemoteCode = False,
    force: Force = False,
    print_recipe: PrintRecipe = False,
    launcher: LauncherOption = None,
    workers: Workers = None,
    retries: Retries = None,
    print_jobs: PrintJobs = False,
    status: Status = False,
) -> None:
    """Every intermediate → target chain, and each target alone, as the study's table.

    `stilts grid --intermediate mnli,squad --target xnli,pawsx --seeds 3` trains each
    intermediate phase once per seed, then every target after each of them and alone; the
    table's cells are scores (mean ± std over seeds) and their change against the target alone.
    """
    options = dict(locals())
    with user_errors():
        from stilts.cli.running import grid_recipe, print_or_run

        print_or_run(grid_recipe(options), options)


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
    compile_: Compile = False,
    gradient_checkpointing: GradientCheckpointing = False,
    force: Force = False,
    plot: Plot = True,
    launcher: LauncherOption = None,
    workers: Workers = None,
    retries: Retries = None,
    print_jobs: PrintJobs = False,
    status: Status = False,
    job: Annotated[
        str | None,
        typer.Option(help="Run one job of the experiment (an id from --print-jobs)."),
    ] = None,
) -> None:
    """Run the experiment a recipe describes (see `stilts chain --print-recipe`).

    A recipe of one chain prints its per-language table; a grid, or several seeds, prints
    the study's table and writes it (Markdown, CSV, heatmap) beside the runs.
    """
    options = dict(locals())
    with user_errors():
        from stilts.cli.execution import execution
        from stilts.cli.running import run_recipe_file

        run_recipe_file(recipe, set_ or [], execution(options))


@app.command("eval")
def evaluate(
    model: Annotated[
        str,
        typer.Argument(help="A run or phase directory, a local checkpoint, or a hub model id."),
    ],
    task: Annotated[str, typer.Argument(help="The task to score it on, in all its languages.")],
    revision: Annotated[
        str | None, typer.Option(help="Hub revision of MODEL (a branch is pinned to its commit).")
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="'sample', 'hub', or a local mirror root (as in chain).")
    ] = None,
    store: Annotated[
        Path, typer.Option(envvar="STILTS_STORE", help="Results go to STORE/evals.")
    ] = Path("stilts-runs"),
    max_length: MaxLength = None,
    max_eval_examples: MaxEval = None,
    layer: Layer = None,
    precision: PrecisionOption = "auto",
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Score MODEL on TASK without training: `stilts eval xlm-roberta-large tatoeba`.

    Tasks without training data (tatoeba, bucc2018) evaluate the encoder; other tasks need a
    model trained on them, e.g. a `stilts chain` run directory.
    """
    with user_errors():
        from stilts.cli.running import evaluate_model

        hyperparameters = {
            "max_length": max_length, "max_eval_examples": max_eval_examples,
            "embedding_layer": layer,
        }  # fmt: skip
        evaluate_model(
            task, model, store, revision=revision, data=data, precision=precision,
            trust_remote_code=trust_remote_code,
            hyperparameters={k: v for k, v in hyperparameters.items() if v is not None},
        )  # fmt: skip
