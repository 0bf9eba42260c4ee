"""Every command's help fits an 80-column terminal with every option named in full."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer.main

from stilts.cli import app


def commands() -> list[tuple[list[str], list[str]]]:
    """Each command's words and its options' longest names (groups' commands included)."""
    found = []

    def visit(command, words):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                visit(sub, [*words, name])
            return
        names = [max(param.opts, key=len) for param in command.params if param.opts
                 and param.param_type_name == "option"]  # fmt: skip
        found.append((words, names))

    visit(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize(
    ("words", "options"), commands(), ids=lambda v: " ".join(v) if v and v[0][0] != "-" else ""
)
def test_the_help_fits_80_columns_and_names_every_option(words, options):
    shown = subprocess.run(
        [sys.executable, "-m", "stilts", *words, "--help"], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "80"}, check=True,
    ).stdout  # fmt: skip
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    for option in options:
        assert option in shown, option
