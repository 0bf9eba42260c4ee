"""The `stilts` command line: one module per group of commands, all on one typer app."""

from stilts.cli import analyses, experiments, store, tasks
from stilts.cli.app import app

__all__ = ["analyses", "app", "experiments", "main", "store", "tasks"]


def main() -> None:
    app()
