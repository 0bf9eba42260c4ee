"""Shared fixtures: one real mnli → xnli chain on the bundled sample, reused by many tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from stilts import chain
from stilts.eval.results import ChainResult
from stilts.store import Store

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class FinishedChain:
    plan: chain.ChainPlan
    store: Store
    result: ChainResult

    def phase_dir(self, index: int) -> Path:
        phase = self.plan.phases[index]
        return self.store.phase_dir(phase.name, phase.fingerprint)

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.plan.config.tasks, self.plan.run_fingerprint)


@pytest.fixture(scope="session")
def mnli_xnli(tmp_path_factory: pytest.TempPathFactory) -> FinishedChain:
    """`stilts chain mnli xnli` on the bundled tiny model and sample data, as the demo runs it."""
    store = Store(tmp_path_factory.mktemp("store"))
    plan = chain.plan(chain.ChainConfig(tasks=("mnli", "xnli")))
    return FinishedChain(plan, store, chain.run(plan, store))


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
