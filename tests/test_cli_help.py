"""Every command's help fits an 80-column terminal with every option named in full."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

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


COMMANDS = commands()


@pytest.mark.parametrize(("words", "options"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_the_help_fits_80_columns_and_names_every_option(words, options):
    shown = CliRunner().invoke(app, [*words, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    assert max(len(line) for line in shown.output.splitlines()) <= 80, shown.output
    for option in options:
        assert option in shown.output, option
