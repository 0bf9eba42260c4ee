"""`stilts --help` and `stilts tasks` must not import the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "datasets", "peft", "accelerate")
PROBE = """
import sys
from stilts.cli import app
try:
    app({args!r})
except SystemExit as stop:
    code = stop.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["tasks"]])
def test_command_stays_light(args):
    probe = PROBE.format(args=args, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    last_line = out.stdout.splitlines()[-1]
    assert last_line.startswith("HEAVY:"), out.stdout
    assert last_line.removeprefix("HEAVY:").strip() == "", last_line
