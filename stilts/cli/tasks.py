"""`stilts tasks`: the installed task plugins, every one imported (a broken one named);
`stilts new-task`: a plugin package to start from.

Listing imports each plugin: its summary, head and languages live on its `Task`, and an
import is what finds a broken plugin. So a plugin's module must stay light (the plugin guide's
"Keep the module light"); one that imports a heavy library at its top makes every
`stilts tasks` wait for it, and is named, so its author learns it from the first listing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from stilts.cli.app import app, console, report_error, say, user_errors
from stilts.errors import StiltsError
from stilts.tasks import registry

HEAVY = ("torch", "transformers", "datasets")
"""Libraries that take a second or more to import (2 CPU cores)."""


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
    heavy: list[str] = []
    with user_errors():
        for name, entry in sorted(registry.entries().items()):
            before = [module for module in HEAVY if module in sys.modules]
            try:
                task = registry.load_entry(entry)
            except StiltsError as error:
                failures.append(error)
                continue
            pulled = [m for m in HEAVY if m in sys.modules and m not in before]
            if pulled:
                heavy.append(
                    f"{name} ({entry.provider}) imports {', '.join(pulled)} as it is imported, "
                    "which slows every `stilts tasks`: import heavy libraries inside the "
                    "functions that use them (docs/writing-a-plugin.md, Keep the module light)"
                )
            languages = f"{len(task.languages)}: {' '.join(task.languages)}"
            table.add_row(name, task.head.describe(), languages, entry.provider, task.summary)
    console.print(table)
    for note in heavy:
        say(note)
    for failure in failures:
        report_error(failure)
    if failures:
        raise typer.Exit(2)


@app.command("new-task")
def new_task(
    name: Annotated[str, typer.Argument(help="The task's name (and its package's: stilts_NAME).")],
    head: Annotated[
        str, typer.Option(help="classification, multiple-choice, tagging or qa.")
    ] = "classification",
    out: Annotated[
        Path | None, typer.Option(help="Where to write the package (default: ./stilts-NAME).")
    ] = None,
) -> None:
    """Write a task plugin package to start from: its task module, a learnable fixture and a
    test that trains a tiny model on it (see its README.md)."""
    with user_errors():
        from stilts.scaffold import distribution
        from stilts.scaffold import new_task as write

        target = out or Path(distribution(name))
        for path in write(name, head, target):
            console.print(str(target / path), highlight=False, markup=False, soft_wrap=True)
        say(f"a {head} task; next: pip install -e {target}, then see its README.md")
