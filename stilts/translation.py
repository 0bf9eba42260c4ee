"""Which rows a phase trains on: the task's own data, machine-translated copies, or both.

The reference study also trains intermediate tasks on machine-translated data. A task may
offer its own translated variant (`Task.translated`: MNLI's is the translated training split of
`facebook/xnli`); any task can instead read a user's translated copies in its own hub schema,
laid out as one mirror per language: ``FILES/<language>/<org>/<name>/…``, read by the task's
own loader, so the same checks apply to them as to the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stilts.data import DataLocator
from stilts.errors import StiltsError

if TYPE_CHECKING:
    import datasets

    from stilts.task import Task


@dataclass(frozen=True)
class TrainingData:
    """The training languages of a phase; the task's train language means its original rows.

    Empty `languages` is the plain phase (the original rows only).
    """

    languages: tuple[str, ...] = ()
    files: Path | None = None

    def resolved(self, task: Task) -> tuple[str, ...]:
        return self.languages or (task.train_language,)

    def check(self, task: Task) -> None:
        """Refuse what cannot be read, before anything is trained."""
        foreign = [x for x in self.resolved(task) if x != task.train_language]
        if self.files is not None:
            if not self.files.is_dir():
                raise StiltsError(f"--translated-data {self.files} is not a directory")
            return
        if foreign and task.translated is None:
            raise StiltsError(
                f"{task.name} offers no translated data of its own; give translated copies of "
                f"its files with --translated-data DIR (DIR/<language>/<org>/<dataset>/…)"
            )
        missing = [x for x in foreign if x not in task.translated.languages]
        if missing:
            raise StiltsError(
                f"{task.name} has no translated data in {', '.join(missing)} (it has "
                f"{', '.join(task.translated.languages)})"
            )

    def identity(self, task: Task, data: DataLocator) -> dict[str, Any] | None:
        """What decides the training rows beyond the task's own sources (for fingerprints)."""
        if not self.languages:
            return None
        sources = []
        for language in self.resolved(task):
            if language == task.train_language:
                continue
            locator = self._locator(language, data)
            sources += [locator.identity(s) for s in self._sources(task, language)]
        return {"languages": list(self.languages), "sources": sources}

    def rows(self, task: Task, data: DataLocator) -> datasets.Dataset:
        """Every training row of the chosen languages, original first, in one table."""
        import datasets

        tables = []
        for language in self.resolved(task):
            if language == task.train_language:
                tables.append(task.load("train", language, data))
            elif self.files is not None:  # the task's own loader over a translated mirror
                tables.append(
                    task.load("train", task.train_language, self._locator(language, data))
                )
            else:
                tables.append(task.translated.load("train", language, data))
        features = tables[0].features
        return datasets.concatenate_datasets([table.cast(features) for table in tables])

    def _locator(self, language: str, data: DataLocator) -> DataLocator:
        return DataLocator(self.files / language) if self.files is not None else data

    def _sources(self, task: Task, language: str) -> tuple:
        if self.files is not None or task.translated is None:
            return task.sources
        return (task.translated.source(language),)


def parse_translations(values: list[str]) -> dict[str, tuple[str, ...]]:
    """`--translate mnli=de,fr` (translated only) or `mnli=en,de,fr` (original and both)."""
    parsed = {}
    for value in values:
        task, _, languages = value.partition("=")
        codes = tuple(code.strip() for code in languages.split(",") if code.strip())
        if not task or not codes:
            raise StiltsError(
                f"--translate {value!r}: write TASK=LANG[,LANG…], e.g. mnli=de,fr (or mnli=en,de "
                "to keep the English rows)"
            )
        parsed[task.strip()] = codes
    return parsed
