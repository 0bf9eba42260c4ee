"""`stilts --help`, `stilts tasks`, `stilts new-task`, printing a recipe or its schema, reading
a finished run back and scoring a submission folder must not import the heavy libraries: they
answer in a second, a finished grid is only read, and a lab scoring another system's files
needs no model code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import MOCK_SUITE, REPO

HEAVY = ("torch", "transformers", "datasets", "peft", "accelerate")
PROBE = """
import sys
sys.path.insert(0, {tests!r})
from own_tasks import only_stilts_tasks
only_stilts_tasks()  # stilts' own imports, not those of a plugin installed beside it
from stilts.cli import app
try:
    app({args!r})
except SystemExit as stop:
    code = stop.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""


def heavy_modules(args: list[str], env: dict[str, str] | None = None) -> str:
    """The heavy libraries `stilts ARGS` imported, run in a fresh interpreter (`env` added to
    its environment)."""
    probe = PROBE.format(args=args, heavy=HEAVY, tests=str(REPO / "tests"))
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    last_line = out.stdout.splitlines()[-1]
    assert last_line.startswith("HEAVY:"), out.stdout
    return last_line.removeprefix("HEAVY:").strip()


@pytest.mark.parametrize(
    "args",
    [["--help"], ["tasks"], ["grid", "--intermediate", "mnli+qqp", "--target", "xnli",
                             "--adapter", "lora", "--print-recipe"],
     ["score", str(MOCK_SUITE / "predictions"), str(MOCK_SUITE / "labels")],
     ["recipe-schema"]],
    ids=["help", "tasks", "print-recipe", "score", "recipe-schema"],
)  # fmt: skip
def test_command_stays_light(args):
    assert heavy_modules(args) == ""


def test_new_task_writes_a_plugin_package_without_the_heavy_libraries(tmp_path):
    assert heavy_modules(["new-task", "reviews", "--out", str(tmp_path / "stilts-reviews")]) == ""
    assert (tmp_path / "stilts-reviews" / "stilts_reviews" / "__init__.py").is_file()


def test_a_finished_run_reads_back_without_the_heavy_libraries(mnli_xnli):
    """The demo's recipe on the store where the demo ran: nothing left to train or score."""
    recipe = str(REPO / "recipes" / "smoke" / "mnli-xnli.yaml")
    assert heavy_modules(["run", recipe, "--store", str(mnli_xnli.store.root)]) == ""


@pytest.mark.parametrize("asked", ["--status", "--print-jobs"])
def test_a_grid_s_jobs_and_status_are_read_without_the_heavy_libraries(mnli_xnli, tmp_path, asked):
    """A cluster's login node asks where a grid stands, or what is left, in a second."""
    store = tmp_path / "store"
    shutil.copytree(mnli_xnli.store.root, store)
    recipe = str(REPO / "recipes" / "smoke" / "grid.yaml")
    assert heavy_modules(["run", recipe, "--store", str(store), asked]) == ""
