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
from pydantic import ValidationError

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import ChainPlan, plan
from stilts.runtime.runner import Runner
from stilts.schema import describe
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

    def config(self, *phases: Any, **kwargs: Any) -> ChainConfig:
        """A chain of `phases` (names, or recipe-style phase mappings) on the lab's model and
        data, with its settings (`kwargs` are any other `ChainConfig` fields)."""
        try:
            return ChainConfig.model_validate({
                "phases": phases, "model": {"id": str(self.model)}, "data": str(self.data),
                "hyperparameters": dict(self.settings), **kwargs,
            })  # fmt: skip
        except ValidationError as error:  # as a recipe or the command line would say it
            raise StiltsError(describe(error, ChainConfig)) from None

    def command(self, *names: str, **options: Any) -> ChainConfig:
        """The chain `stilts chain NAMES…` plans here, with its per-phase options (`adapters`,
        `translate`, `groups`: lists of option values; `sampler`) handed to the phases as the
        command line hands them; other keyword arguments are `ChainConfig` fields."""
        keys = ("adapters", "translate", "groups", "sampler")
        per_phase = PhaseOptions.parse(**{k: options.pop(k) for k in keys if k in options})
        per_phase.check_intermediates(len(names) - 1, names[-1])
        rows, columns = per_phase.phases(names[:-1], names[-1:])
        return self.config(*(phase.model_dump(by_alias=True) for phase in (*rows, *columns)),
                           **options)  # fmt: skip

    def shared(self) -> dict[str, Any]:
        """The settings every chain planned here shares (a grid's, say)."""
        return self.config("mnli").settings()

    def run(self, *phases: Any, **kwargs: Any) -> tuple[ChainPlan, ChainResult]:
        chain = plan(self.config(*phases, **kwargs))
        return chain, Runner(self.store).run(chain).result


def build_lab(
    root: Path, tasks: Iterable[str], settings: Mapping[str, Any], *, vocab_size: int
) -> FixtureLab:
    """Every fixture under ``root/data`` and a tiny model whose tokenizer knows `tasks`' text."""
    write_fixtures(root / "data")
    data = DataLocator(root / "data")
    bound = [registry.load(name).bound(data) for name in tasks]
    build_tiny_model(root / "model", task_texts(bound, data), vocab_size=vocab_size, seed=0)
    return FixtureLab(root, settings)
