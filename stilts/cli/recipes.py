"""`stilts recipe-schema`: the recipe's JSON Schema, for editors and other tools."""

from __future__ import annotations

import json

import typer

from stilts.cli.app import app
from stilts.experiment.recipe import json_schema


@app.command("recipe-schema")
def recipe_schema() -> None:
    """Print the recipe's JSON Schema, with which editors check and complete recipes.

    A recipe whose first line is `# yaml-language-server: $schema=PATH` is checked against the
    schema at PATH by editors that use the YAML language server (VS Code's YAML extension,
    Neovim, Helix…); schema/recipe.schema.json is this schema, and every shipped recipe names
    it."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
