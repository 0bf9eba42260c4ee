"""`--launcher`, `--print-jobs` and `--status` of `stilts grid` and `stilts run`: the
experiment as jobs (`stilts.experiment.jobs`, `stilts.launch`), for the command line."""

from __future__ import annotations

import json
from collections.abc import Sequence

import typer
from rich.table import Table

from stilts.cli.app import console, say
from stilts.cli.execution import Execution
from stilts.errors import StiltsError
from stilts.experiment.jobs import job_graph
from stilts.experiment.launcher import Launcher
from stilts.experiment.plan import ChainPlan
from stilts.experiment.recipe import Recipe
from stilts.launch.arguments import job_arguments
from stilts.launch.backends import backend
from stilts.launch.folder import LaunchFolder
from stilts.launch.status import experiment_status
from stilts.launch.submitter import launch

STATE_STYLE = {"complete": "green", "running": "cyan", "failed": "red", "queued": "yellow"}


def launch_or_report(
    recipe: Recipe, plans: Sequence[ChainPlan], how: Execution, spec: Launcher | None
) -> bool:
    """Print the jobs, or the status, or launch the jobs; whether the results are then to be
    read back and printed (all jobs done)."""
    folder = LaunchFolder(how.store, recipe)
    if how.print_jobs:
        print_jobs(plans, folder, how)
        return False
    if how.status:
        print_status(plans, folder)
        return False
    assert spec is not None
    if how.force:
        raise StiltsError(
            "--force retrains in this process; with a launcher, delete the phases to redo "
            "from the store (or run without --launcher)"
        )
    _check_precision(spec, plans)
    how.store.check_writable()
    launched = launch(plans, folder, lambda session: backend(folder, spec, session), how.how, say)
    if not launched.complete:
        failed = [f"{job.name}: see {folder.submitit}/{attempt.job}_0_log.err"
                  for job, attempt in launched.failed.values()]  # fmt: skip
        blocked = f"; {len(launched.blocked)} job(s) waiting for them" if launched.blocked else ""
        raise StiltsError(
            f"{len(failed)} job(s) failed {spec.retries + 1} time(s): {'; '.join(failed)}"
            f"{blocked}; fix the cause and run the same command again (it submits only what "
            "is left)"
        )
    say(f"all jobs done ({launched.submitted} submitted now)")
    return True


def print_jobs(plans: Sequence[ChainPlan], folder: LaunchFolder, how: Execution) -> None:
    """The jobs left, as JSON: each with its id, command and the ids it waits for."""
    recipe = folder.write_recipe()
    root = how.store.root
    jobs = [
        {**job.as_dict(), "command": ["stilts", *job_arguments(recipe, root, job.id, how.how)]}
        for job in job_graph(plans, folder.store).jobs
    ]
    document = {"recipe": str(recipe), "store": str(how.store.root), "jobs": jobs}
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def print_status(plans: Sequence[ChainPlan], folder: LaunchFolder) -> None:
    standings = experiment_status(plans, folder)
    table = Table("", "phase or run", "state", "detail", title="experiment status")
    for standing in standings:
        style = STATE_STYLE.get(standing.state, "")
        state = f"[{style}]{standing.state}[/]" if style else standing.state
        table.add_row(standing.kind, standing.name, state, standing.detail)
    console.print(table)
    counts: dict[str, int] = {}
    for standing in standings:
        counts[standing.state] = counts.get(standing.state, 0) + 1
    say(", ".join(f"{count} {state}" for state, count in counts.items()))


def _check_precision(spec: Launcher, plans: Sequence[ChainPlan]) -> None:
    """A SLURM job plans its chain again on its node; its phases must be the ones planned
    here, so their precision cannot depend on which machine plans them."""
    auto = any(chain.config.precision == "auto" for chain in plans)
    if spec.kind == "slurm" and spec.cluster_gpus and auto:
        raise StiltsError(
            "--launcher slurm plans the jobs here and runs them on the cluster's GPUs, so "
            "--precision auto could mean two things; name it: --precision bf16 (A100, H100…), "
            "fp16 (V100, T4) or fp32 (a recipe: precision: bf16)"
        )
