"""A chain's scores: per language, their average, and the files they are written to."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from stilts.errors import StiltsError
from stilts.store.files import read_json, write_json, write_text
from stilts.store.integrity import Damaged, finished
from stilts.store.layout import RUN_MANIFEST

RESULTS = "results.json"


@dataclass(frozen=True)
class ChainResult:
    """Scores of the target task: English dev (model selection) and zero-shot test per language.

    `average` is the unweighted mean of the main metric over the task's language list, English
    included, as XTREME defines a task score. `test` holds the scores of `split`: the test
    sets, unless the chain asked for each language's dev set instead.
    """

    tasks: tuple[str, ...]
    target: str
    metric: str
    train_language: str
    dev: dict[str, dict[str, float]]
    test: dict[str, dict[str, float]]
    split: str = "test"

    @property
    def average(self) -> float:
        return fmean(scores[self.metric] for scores in self.test.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": list(self.tasks),
            "target": self.target,
            "metric": self.metric,
            "train_language": self.train_language,
            "dev": self.dev,
            "test": self.test,
            "split": self.split,
            "average": {self.metric: self.average},
        }

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["split", "language", "metric", "value"])
        for split, table in (("dev", self.dev), (self.split, self.test)):
            for language, scores in table.items():
                for name, value in scores.items():
                    writer.writerow([split, language, name, f"{value:.4f}"])
        writer.writerow([self.split, "average", self.metric, f"{self.average:.4f}"])
        return out.getvalue()

    @classmethod
    def read(cls, run_dir: Path) -> ChainResult:
        """The results a finished run wrote; `Damaged` if they are not results."""
        path = run_dir / RESULTS
        try:
            saved = read_json(path)
            result = cls(
                tasks=tuple(saved["chain"]),
                target=saved["target"],
                metric=saved["metric"],
                train_language=saved["train_language"],
                dev=saved["dev"],
                test=saved["test"],
                split=saved.get("split", "test"),
            )
            result.csv()  # every score a number, the main metric in every language
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise Damaged(path, f"not a run's results ({type(error).__name__}: {error})") from None
        return result

    @classmethod
    def stored(cls, run_dir: Path, *, full: bool = False) -> ChainResult | None:
        """The results of the whole run at `run_dir`; None while it is unfinished. Raises
        `Damaged` (its files checked as `stilts.store.integrity.finished` does)."""
        if finished(run_dir, RUN_MANIFEST, full=full) is None:
            return None
        return cls.read(run_dir)

    def write(self, run_dir: Path) -> list[Path]:
        """results.json and results.csv, each written atomically; their paths."""
        write_json(run_dir / RESULTS, self.as_dict())
        write_text(run_dir / "results.csv", self.csv())
        return [run_dir / RESULTS, run_dir / "results.csv"]


@dataclass(frozen=True)
class RunStart:
    """What a finished run started from: its model and the data it read, as its manifest
    records them."""

    model: str
    revision: str | None = None
    trust_remote_code: bool = False
    data: str | list[str] | None = None
    """'sample', 'hub' or a mirror directory, or several (first match wins); None: the
    default for `model`."""

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> RunStart:
        """Read off a run's manifest (stilts 0.1 wrote the model as a flat id). A hub model's
        revision is the commit the run started from, as its first phase recorded it, not the
        branch it was asked for, which may have moved since."""
        config = manifest.get("config", {})
        model = config.get("model")
        if model is None:
            raise StiltsError("a run's manifest does not record its starting model: pass --model")
        if isinstance(model, dict):
            started = manifest.get("model")
            pinned = started["start"].get("revision") if isinstance(started, dict) else None
            return cls(
                model["id"], pinned or model.get("revision"), model.get("trust_remote_code", False),
                config.get("data"),
            )  # fmt: skip
        return cls(
            model, config.get("revision"), config.get("trust_remote_code", False),
            config.get("data"),
        )  # fmt: skip
