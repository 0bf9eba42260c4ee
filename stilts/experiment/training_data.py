"""Which rows a phase trains on: the task's own data, machine-translated copies, or some of
its named groups.

The reference study also trains intermediate tasks on machine-translated data. A task may
offer its own translated variant (`Task.translated`: MNLI's is the translated training split of
`facebook/xnli`); any task can instead read a user's translated copies in its own hub schema,
laid out as one mirror per language: ``FILES/<language>/<org>/<name>/…``, read by the task's
own loader, so the same checks apply to them as to the original.

A task may also name parts of its training rows (`Task.groups`: ANLI+'s sources, MNLI's
genres). A phase that trains on some groups with `max_train_examples` N takes an equal share
of N from each, so phases with one group and with five see the same number of rows and
differ only in how diverse they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError, did_you_mean
from stilts.tasks.data import DataLocator, HubSource

if TYPE_CHECKING:
    from stilts.tasks.task import Task, TrainingGroups, TranslatedData

GROUP_SAMPLING = "equal-share"
"""How a limited phase draws from its groups (part of the fingerprint: change it when the rule
changes)."""


@dataclass(frozen=True)
class TrainingData:
    """The training rows of a phase's task: translations (`languages`) or `groups`, or neither
    (the task's original rows). The task's train language in `languages` means its original
    rows."""

    languages: tuple[str, ...] = ()
    files: Path | None = None
    groups: tuple[str, ...] = ()

    def resolved(self, task: Task) -> tuple[str, ...]:
        return self.languages or (task.train_language,)

    def check(self, task: Task) -> None:
        """Refuse what cannot be read, before anything is trained."""
        if self.groups:
            self._check_groups(task)
            return
        foreign = [x for x in self.resolved(task) if x != task.train_language]
        if self.files is not None:
            if not self.files.is_dir():
                raise StiltsError(f"--translated-data {self.files} is not a directory")
            return
        if not foreign:
            return
        if task.translated is None:
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

    def _check_groups(self, task: Task) -> None:
        if self.languages:
            raise StiltsError(
                f"{task.name}: train on translations or on groups of its rows, not both"
            )
        if task.groups is None:
            raise StiltsError(
                f"{task.name} names no groups of its training rows to choose from (anli_plus "
                "names its sources, mnli its genres)"
            )
        for name in self.groups:
            if name not in task.groups.names:
                raise StiltsError(
                    f"{task.name} has no group {name!r}"
                    f"{did_you_mean(name, task.groups.names)}; its groups: "
                    f"{', '.join(task.groups.names)}"
                )
        repeated = sorted({name for name in self.groups if self.groups.count(name) > 1})
        if repeated:
            raise StiltsError(f"groups of {task.name}: {', '.join(repeated)} named more than once")

    def identity(self, task: Task, data: DataLocator) -> dict[str, Any] | None:
        """What decides the training rows beyond the task's own sources (for fingerprints)."""
        if self.groups:
            return {
                "groups": list(self.groups),
                "sources": [data.identity(source) for source in groups_of(task).sources],
                "sampling": GROUP_SAMPLING,
            }
        if not self.languages:
            return None
        sources = []
        for language in self.resolved(task):
            if language == task.train_language:
                continue
            locator = self.locator(language, data)
            sources += [locator.identity(s) for s in self._sources(task, language)]
        return {"languages": list(self.languages), "sources": sources}

    def sources(self, task: Task) -> tuple[HubSource, ...]:
        """Every hub source the phase reads for `task`: its own, and its translations' or
        groups'."""
        if self.groups:
            return (*task.sources, *groups_of(task).sources)
        foreign = [x for x in self.resolved(task) if x != task.train_language]
        return (*task.sources, *(s for x in foreign for s in self._sources(task, x)))

    def locator(self, language: str, data: DataLocator) -> DataLocator:
        """Where the training rows in `language` are read: the user's translated copies of
        the task's files, else where the task's own data is."""
        return DataLocator(self.files / language) if self.files is not None else data

    def _sources(self, task: Task, language: str) -> tuple[HubSource, ...]:
        if self.files is not None or task.translated is None:
            return task.sources
        return (task.translated.source(language),)


def groups_of(task: Task) -> TrainingGroups:
    """The groups of `task`, whose training data names some: `TrainingData.check` refuses
    groups of a task that has none."""
    assert task.groups is not None
    return task.groups


def translated_of(task: Task) -> TranslatedData:
    """The translations of `task`, whose training data is in a language it translates into
    itself: `TrainingData.check` refuses a language the task has no translation in."""
    assert task.translated is not None
    return task.translated


def equal_shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole shares differing by at most one (larger first)."""
    return [total // parts + (i < total % parts) for i in range(parts)]
