"""`stilts tasks`: the installed task plugins, every one imported (a broken one named)."""

from __future__ import annotations

import typer
from rich.table import Table

from stilts.cli.app import app, console, report_error, user_errors
from stilts.errors import StiltsError
from stilts.tasks import registry


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
