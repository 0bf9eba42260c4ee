"""`stilts push`: a finished run's (or phase's) model on the Hugging Face hub, with its card."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from stilts.cli.app import app, say, user_errors


@app.command()
def push(
    path: Annotated[
        Path, typer.Argument(help="A run or phase directory of the store, e.g. stilts-runs/runs/…")
    ],
    repo_id: Annotated[str, typer.Argument(help="The hub repo to push to: USER/NAME or ORG/NAME.")],
    private: Annotated[bool, typer.Option(help="Create the repo private.")] = False,
    revision: Annotated[
        str | None, typer.Option(help="The branch to push to (created if missing; default main).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Write the folder that would be uploaded (--out) and stop.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Where --dry-run writes it (default ./push-USER--NAME).")
    ] = None,
) -> None:
    """Share a trained model on the hub: its weights, tokenizer and config, and a model card
    with the chain, the data's commits, the hyperparameters and the per-language results."""
    with user_errors():
        from stilts.reports.card import Trained, check_repo_id, upload, write_folder

        check_repo_id(repo_id)
        trained = Trained.read(path)
        if dry_run:
            folder = out or Path(f"push-{repo_id.replace('/', '--')}")
            write_folder(trained, repo_id, folder)
            say(f"the folder that would be uploaded to {repo_id}: {folder}")
            return
        with tempfile.TemporaryDirectory(prefix="stilts-push-") as scratch:
            folder = write_folder(trained, repo_id, Path(scratch) / "upload")
            url = upload(folder, repo_id, private=private, revision=revision)
        say(f"pushed {path} to {url}")
