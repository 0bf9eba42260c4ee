"""Shared fixtures: one real mnli → xnli chain on the bundled sample, reused by many tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from own_tasks import only_stilts_tasks

from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import ChainPlan, plan
from stilts.runtime.runner import Runner
from stilts.store.layout import Store
from stilts.store.results import ChainResult

REPO = Path(__file__).resolve().parents[1]
MOCK_SUITE = REPO / "tests" / "xtreme_mock_test_data"
"""The official XTREME mock test suite: labels/ and predictions/ (see its README.md)."""

# No test asks the hub: planning would otherwise ask it which commit a branch names. Set
# before huggingface_hub is first imported (it reads this once), and inherited by every
# `stilts` the tests run.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
XLMR_COMMIT = "c23d21b0620b635a76227c604d44e43a9f0ee389"
"""The commit of FacebookAI/xlm-roberta-large that the study's recipes start from."""


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is collected (some list the installed tasks as they load)."""
    only_stilts_tasks()


@dataclass(frozen=True)
class FinishedChain:
    plan: ChainPlan
    store: Store
    result: ChainResult

    def phase_dir(self, index: int) -> Path:
        phase = self.plan.phases[index]
        return self.store.phase_dir(phase.name, phase.fingerprint)

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.plan.config.names, self.plan.run_fingerprint)


@pytest.fixture(scope="session")
def mnli_xnli(tmp_path_factory: pytest.TempPathFactory) -> FinishedChain:
    """`stilts chain mnli xnli` on the bundled tiny model and sample data, as the demo runs it."""
    store = Store(tmp_path_factory.mktemp("store"))
    chain = plan(ChainConfig(phases=("mnli", "xnli")))
    return FinishedChain(chain, store, Runner(store).run(chain).result)


def own_copy(store: Store, tmp_path: Path) -> Store:
    """A copy of `store` for a test that adds to it: the session's demo store is shared, and
    tests read it as holding the demo's chain alone."""
    copy = Store(tmp_path / "store")
    shutil.copytree(store.root, copy.root)
    return copy


def stilts_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `stilts` command as a user would, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "stilts", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def run_smoke_recipe(name: str, store: Path, *settings: str) -> Path:
    """`stilts run recipes/smoke/<name>.yaml` (each of `settings` as a `--set`) into `store`,
    checked to succeed; the grid directory it wrote."""
    sets = [part for setting in settings for part in ("--set", setting)]
    recipe = REPO / "recipes" / "smoke" / f"{name}.yaml"
    ran = stilts_cli("run", str(recipe), *sets, "--store", str(store), "--no-plot")
    assert ran.returncode == 0, ran.stderr
    (grid,) = (store / "grids").iterdir()
    return grid


def analyze_cli(question: str, path: Path, *options: str) -> str:
    """`stilts analyze QUESTION PATH`, checked to succeed; what it printed (wide lines)."""
    done = stilts_cli("analyze", question, str(path), *options, env={"COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def documented_example(question: str) -> list[str]:
    """The lines of the smoke output that `docs/questions/QUESTION.md` shows: its first code
    block after the words "smoke recipe", blank lines left out."""
    text = (REPO / "docs" / "questions" / f"{question}.md").read_text(encoding="utf-8")
    after = text[text.index("smoke recipe") :]
    start = after.index("```\n") + 4
    return [line for line in after[start : after.index("```", start)].splitlines() if line]
