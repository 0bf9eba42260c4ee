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
    rich_markup_mode=None,  # click's help: it wraps at any width and never cuts option names
)
console = Console()
errors = Console(stderr=True)

DEBUG = "STILTS_DEBUG"
"""Environment variable: when set (to anything but 0), errors come with their tracebacks."""


BUG = 1
"""Exit code of an error stilts did not foresee; a user's bad input exits with 2."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Report a StiltsError as one line on stderr and exit with code 2; under --debug, with
    the traceback of what caused it (a plugin's own import error, say).

    Any other exception that gets this far is a bug: stilts owes its user a clear message for
    every bad input, and a 150-line torch traceback is not one. It is reported as one line that
    says so (exit code 1), and in full under --debug, for the bug report.
    """
    try:
        yield
    except StiltsError as error:
        report_error(error)
        raise typer.Exit(2) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:  # the last guard: every other error is a bug
        report_error(error, bug=True)
        raise typer.Exit(BUG) from None


def report_error(error: BaseException, *, bug: bool = False) -> None:
    """The error's one line on stderr, after its traceback (and its cause's) under --debug."""
    debugging = os.environ.get(DEBUG, "0") != "0"
    if debugging:
        from rich.traceback import Traceback  # not at start-up: it costs a tenth of --help

        errors.print(Traceback.from_exception(type(error), error, error.__traceback__))
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = f"{type(error).__name__}: {text}" if bug else str(error)
    if bug and not debugging:
        message += (
            " — this is a bug in stilts (or in a plugin it ran), not your input's fault; "
            f"please report it with what `stilts --debug …` (or {DEBUG}=1) prints"
        )
    report_usage(message)


def report_usage(message: str) -> None:
    """`message` as the one `error:` line on stderr (a wrong option or argument, or any error
    `report_error` describes)."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


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
