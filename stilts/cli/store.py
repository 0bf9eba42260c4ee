"""`stilts store verify`: the store's finished artefacts checked against their manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stilts.cli.app import app, console, say, user_errors
from stilts.errors import StiltsError

store_app = typer.Typer(
    help="Look after the store of phases and runs.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(store_app, name="store")


@store_app.command("verify")
def verify(
    path: Annotated[
        Path,
        typer.Argument(
            envvar="STILTS_STORE",
            help="A store (default: $STILTS_STORE, else ./stilts-runs), or one phase, run or "
            "model directory in it.",
        ),
    ] = Path("stilts-runs"),
) -> None:
    """Check each finished phase, run and model against the sizes and sha256 hashes its
    manifest records: one line per damaged one, exit code 2 if any is."""
    with user_errors():
        from stilts.store.verify import verify as check

        found = check(path)
        for line in found.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        say(found.summary())
        if found.damaged:
            raise StiltsError(
                f"{len(found.damaged)} damaged in {path}: the next run that needs one builds "
                "it again (or delete its directory)"
            )
