"""`stilts tasks`: the installed task plugins, every one imported (a broken one named).

Listing imports each plugin: its summary, head and languages live on its `Task`, and an
import is what finds a broken plugin. So a plugin's module must stay light (the plugin guide's
"Keep the module light"); one that imports a heavy library at its top makes every
`stilts tasks` wait for it, and is named, so its author learns it from the first listing.
"""

from __future__ import annotations

import sys

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
