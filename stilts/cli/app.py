"""The `stilts` command line's application object, consoles and error reporting.

Everything the command line imports at start-up is light (typer, rich, stilts' planning):
`stilts --help` and `stilts tasks` answer without loading torch or transformers, and a
command imports the runtime only once it has something to train or score.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from stilts import __version__
from stilts.errors import StiltsError

app = typer.Typer(
    help="Intermediate-task transfer experiments for zero-shot cross-lingual NLP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console()
errors = Console(stderr=True)

DEBUG = "STILTS_DEBUG"
"""Environment variable: when set (to anything but 0), errors come with their tracebacks."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Report a StiltsError as one line on stderr and exit with code 2; under --debug, with
    the traceback of what caused it (a plugin's own import error, say)."""
    try:
        yield
    except StiltsError as error:
        report_error(error)
        raise typer.Exit(2) from None


def report_error(error: StiltsError) -> None:
    """The error's one line on stderr, after its traceback (and its cause's) under --debug."""
    if os.environ.get(DEBUG, "0") != "0":
        from rich.traceback import Traceback  # not at start-up: it costs a tenth of --help

        errors.print(Traceback.from_exception(type(error), error, error.__traceback__))
    errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)


def say(message: str) -> None:
    """One line of what stilts is doing, dimmed."""
    console.print(f"[dim]·[/] {escape(message)}", highlight=False)


def names(text: str) -> list[str]:
    """A comma-separated option's names."""
    return [name.strip() for name in text.split(",") if name.strip()]


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help=f"Show the traceback behind an error (or set {DEBUG}=1)."),
    ] = False,
) -> None:
    if version:
        console.print(f"stilts {__version__}")
        raise typer.Exit()
    if debug:
        os.environ[DEBUG] = "1"
