"""The `stilts` command line: one module per group of commands, all on one typer app."""

import sys

import typer
from typer.exceptions import TyperException

from stilts.cli import analyses, experiments, push, recipes, store, tasks
from stilts.cli.app import app, console, report_usage

NO_ARGS = "NoArgsIsHelpError"
"""A group called with no command raises it, to be shown its help as `--help` would (by
name: it lives in typer's private copy of click)."""

__all__ = ["analyses", "app", "experiments", "main", "push", "recipes", "store", "tasks"]


def main(argv: list[str] | None = None) -> None:
    """`stilts` (or `stilts ARGV…`): the app, with a wrong option or argument said in one line
    as any other bad input is (click would draw a box of usage and error lines)."""
    try:
        code = app(args=argv, standalone_mode=False)
    except TyperException as error:  # typer's own click: a usage error, or help it shows
        context = getattr(error, "ctx", None)
        if context is not None and (error.exit_code == 0 or type(error).__name__ == NO_ARGS):
            console.print(context.get_help(), markup=False, highlight=False)
        else:
            command = context.command_path if context is not None else "stilts"
            report_usage(f"{error.format_message()} (see `{command} --help`)")
        sys.exit(error.exit_code)
    except typer.Abort:
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
