"""A fixture lab: the fixture data, a tiny model trained on some tasks' text, and a store.

Test modules that run chains on the fixtures build one per module (`build_lab`) and plan
their chains with its settings (`FixtureLab.config`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures import write_fixtures

from stilts.experiment.chain import ChainConfig, ChainPlan, plan, run
from stilts.store.layout import Store
from stilts.store.results import ChainResult
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.testing import build_tiny_model, task_texts


@dataclass(frozen=True)
class FixtureLab:
    root: Path
    settings: Mapping[str, Any]
    """Hyperparameters of every chain planned here (a tiny model needs a large step size)."""

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def store(self) -> Store:
        return Store(self.root / "store")

    def config(self, *phases: str, **kwargs: Any) -> ChainConfig:
        return ChainConfig(
            tasks=phases, model=str(self.model), data=str(self.data), overrides=self.settings,
            **kwargs,
        )  # fmt: skip

    def run(self, *phases: str, **kwargs: Any) -> tuple[ChainPlan, ChainResult]:
        chain = plan(self.config(*phases, **kwargs))
        return chain, run(chain, self.store)


def build_lab(
    root: Path, tasks: Iterable[str], settings: Mapping[str, Any], *, vocab_size: int
) -> FixtureLab:
    """Every fixture under ``root/data`` and a tiny model whose tokenizer knows `tasks`' text."""
    write_fixtures(root / "data")
    data = DataLocator(root / "data")
    bound = [registry.load(name).bound(data) for name in tasks]
    build_tiny_model(root / "model", task_texts(bound, data), vocab_size=vocab_size, seed=0)
    return FixtureLab(root, settings)
