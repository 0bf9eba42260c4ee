"""The `stilts` command line: one module per group of commands, all on one typer app."""

from stilts.cli import analyses, experiments, tasks
from stilts.cli.app import app

__all__ = ["analyses", "app", "experiments", "main", "tasks"]


def main() -> None:
    app()
