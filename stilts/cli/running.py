"""What `stilts chain`, `grid`, `run` and `eval` do once their options are parsed: a recipe
built, planned whole, run through the one `Runner`, and its results printed.

Apart from the command definitions (`stilts.cli.experiments`), so that `stilts --help` does
not pay for pydantic, the recipe schema and the task declarations at start-up: a command
imports this module when it runs. The runtime (torch) is imported later still, only when
something is left to train or score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from stilts.cli.app import console, names, say
from stilts.cli.execution import Execution, execution
from stilts.errors import StiltsError
from stilts.experiment.grid import GridCell, record
from stilts.experiment.launcher import Launcher
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import ChainPlan, plan_all, plan_evaluation
from stilts.experiment.recipe import FORMAT, Recipe, load_recipe
from stilts.launch.job import run_job
from stilts.reports.chance import chance_level
from stilts.reports.study_table import StudyTable
from stilts.runtime.callbacks import LineLog
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Outcome, Runner
from stilts.schema import describe
from stilts.store.layout import Store
from stilts.store.lock import lock_notice
from stilts.store.results import ChainResult


def chain_recipe(tasks: list[str], options: dict[str, Any]) -> Recipe:
    """The recipe of `stilts chain TASKS… [options]`."""
    per_phase = _phase_options(options)
    per_phase.check_intermediates(len(tasks) - 1, tasks[-1])
    rows, columns = per_phase.phases(tasks[:-1], tasks[-1:])
    return _recipe(options, phases=[*rows, *columns], seed=options["seed"])


def grid_recipe(options: dict[str, Any]) -> Recipe:
    """The recipe of `stilts grid [options]`."""
    per_phase = _phase_options(options)
    intermediate, target = names(options["intermediate"]), names(options["target"])
    for option, given in (("--intermediate", intermediate), ("--target", target)):
        if not given:
            raise StiltsError(
                f"{option} names no task; give one or more, comma-separated (a target alone: "
                "stilts chain TARGET)"
            )
    rows, columns = per_phase.phases(intermediate, target)
    per_phase.check_intermediates(len(rows), columns[0].name if columns else "")
    grid = {"intermediate": rows, "target": columns, "baselines": options["baselines"]}
    seeds = [options["seed"] + offset for offset in range(options["seeds"])]
    return _recipe(options, grid=grid, **_seeds(seeds))


def run_recipe_file(path: Path, settings: list[str], how: Execution) -> None:
    """`stilts run RECIPE`, with each of `settings` (``--set PATH=VALUE``) applied first."""
    _execute(load_recipe(path, settings), how)


def evaluate_model(
    task: str,
    model: str,
    store: Path,
    *,
    revision: str | None,
    data: str | None,
    precision: str,
    trust_remote_code: bool,
    hyperparameters: dict[str, Any],
) -> None:
    """`stilts eval MODEL TASK`: score it, print the table, say where the files went."""
    chain = plan_evaluation(
        task, model, revision=revision, data=data, trust_remote_code=trust_remote_code,
        hyperparameters=hyperparameters, precision=precision,
    )  # fmt: skip
    _quiet_libraries()
    outcome = Runner(Store(store)).evaluate(chain, named=model)
    _print_results(outcome.result, outcome.run_dir, bundled=chain.config.bundled)


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
            "select": options["select"],
            "precision": options["precision"],
            "group_by_length": options["group_by_length"],
            "report_to": names(options["report_to"] or "none"),
            "translated_data": options["translated_data"],
            **body,
        },
    )


def _validated(model: Any, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise StiltsError(describe(error, model)) from None


def print_or_run(recipe: Recipe, options: dict[str, Any]) -> None:
    """``--print-recipe``: the recipe, once it plans; otherwise the experiment, run."""
    if options["print_recipe"]:
        plan_all(cell.config for cell in recipe.chains())  # a recipe that would not run
        typer.echo(recipe.to_yaml(), nl=False)  # is not printed
        return
    _execute(recipe, execution(options))


def _execute(recipe: Recipe, how: Execution) -> None:
    """Plan every chain of `recipe`; then do what `how` says with them."""
    cells = recipe.chains()
    plans = plan_all(cell.config for cell in cells)
    notice = lock_notice(how.store.root)
    if notice is not None:
        say(notice)
    if how.job is not None:  # what a launcher's job runs
        run_job(plans, how.store, how.job, how.how, say)
        return
    spec = _launcher(recipe, how)
    if how.print_jobs or how.status or spec is not None:
        from stilts.cli import launching

        if not launching.launch_or_report(recipe, plans, how, spec):
            return
    _run(recipe, cells, plans, how)


def _launcher(recipe: Recipe, how: Execution) -> Launcher | None:
    """The launcher the command line or the recipe names, with --workers and --retries."""
    given = Launcher.parse(how.launcher) if how.launcher is not None else recipe.launcher
    changes = {"workers": how.workers, "retries": how.retries}
    changes = {key: value for key, value in changes.items() if value is not None}
    if given is None:
        if changes:
            raise StiltsError(
                f"--{next(iter(changes))} is for a launcher; add --launcher local (or slurm:…)"
            )
        return None
    return Launcher.parse({**given.model_dump(exclude_unset=True), **changes})


def _run(
    recipe: Recipe, cells: Sequence[GridCell], plans: tuple[ChainPlan, ...], how: Execution
) -> None:
    """Run the chains (shared phases once; what the store holds is read back), print the
    results: a chain's table by language, or the study's table of a grid (also written)."""
    runs = how.store
    runner = Runner(runs, callbacks=[LineLog(say)], force=how.force)
    if all(runner.finished(chain) is not None for chain in plans):
        outcomes = runner.run_all(plans)  # everything is read back: no torch
    else:
        outcomes = _run_with_progress(runner, plans, how.how, grid=len(plans) > 1)
    if recipe.grid is None and len(cells) == 1:
        (outcome,) = outcomes
        _print_results(outcome.result, outcome.run_dir, bundled=plans[0].config.bundled)
        return
    table = StudyTable.from_results(
        (cell.row, cell.column, outcome.result)
        for cell, outcome in zip(cells, outcomes, strict=True)
    )
    console.print(table.rich())
    reused = sum(outcome.reused for outcome in outcomes)
    run_now = len(outcomes) - reused
    say(f"{len(outcomes)} chains: {run_now} run now, {reused} read back from the store")
    written = table.write(record(runs, plans, cells), plot=how.plot)
    say(f"study table: {', '.join(str(path) for path in written)}")


def _run_with_progress(
    runner: Runner, plans: tuple[ChainPlan, ...], how: RunOptions, *, grid: bool
) -> list[Outcome]:
    """Run with a progress display: Trainer's steps, and a grid's chains and phases."""
    from stilts.runtime.progress import ExperimentProgress

    _quiet_libraries()
    progress = ExperimentProgress(console, plans, runner.store, grid=grid, force=runner.force)
    with progress:
        runner.options = progress.run_options(how)
        runner.add_callback(progress)
        return runner.run_all(plans)


def _quiet_libraries() -> None:
    from stilts.runtime.progress import quiet_libraries

    quiet_libraries()


def _print_results(result: ChainResult, run_dir: Path, *, bundled: bool) -> None:
    """A chain's closing table and what its numbers are: the metric and split, the language
    trained in, what the average is; on the bundled model, the chance level and that the
    data is a synthetic sample; and where the files are."""
    metric = result.metric
    table = Table(
        "language",
        f"{metric} ({result.split})",
        title=f"{' → '.join(result.tasks)} · zero-shot {result.target}",
        min_width=48,
    )
    for language, scores in result.test.items():
        label = f"★ {language}" if language == result.train_language else language
        table.add_row(label, f"{scores[metric]:.1f}")
    table.add_section()
    table.add_row("[bold]average", f"[bold]{result.average:.1f}")
    console.print(table)
    dev = result.dev.get(result.train_language)
    dev_score = f" (dev {metric} {dev[metric]:.1f})" if dev else ""
    say(
        f"{metric} on each language's {result.split} set; ★ {result.train_language} is the "
        f"language trained in{dev_score}, every other is zero-shot; the average is the mean "
        f"over all {len(result.test)}, ★ included, as XTREME's"
    )
    if bundled:
        chance = chance_level(result.target, metric)
        level = f" (chance: {chance:.1f})" if chance is not None else ""
        say(
            f"bundled tiny model, synthetic sample data{level}: this shows the pipeline works, "
            "not how XLM-R transfers; --model FacebookAI/xlm-roberta-large --data hub runs "
            "the real experiment"
        )
    say(
        f"results.json, results.csv, manifest.json and predictions/ (official submission "
        f"files) in {run_dir}"
    )
