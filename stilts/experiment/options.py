"""Command-line options as a recipe: `stilts chain` and `stilts grid` build one and run it.

Options that set one value for the experiment (model, data, seed, hyperparameters…) go to
the recipe's top level. The others belong to phases, and a command line names those phases
differently from a recipe, so `PhaseOptions` hands each phase what is its own:

* ``--adapter KIND`` goes to every intermediate phase, ``--adapter PHASE=KIND`` to one phase;
* ``--translate TASK=LANGS`` and ``--groups TASK=GROUPS`` to every phase that trains TASK;
* ``--sampler`` to every multi-task phase.

An option that reaches no phase is an error: it would otherwise be silently ignored. The
recipe that results is what ``--print-recipe`` prints and what the command runs, so a command
and its printed recipe are one experiment (the same fingerprints).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from stilts.errors import StiltsError, did_you_mean
from stilts.experiment.config import PHASE_JOIN, PhaseConfig
from stilts.experiment.specs import Adapter, Sampler
from stilts.schema import describe

EVERY_INTERMEDIATE = "*"
"""The phase key of an adapter for every phase but the last (`--adapter lora`)."""


@dataclass(frozen=True)
class PhaseOptions:
    """The options of a command line that apply to some of its phases (see the module)."""

    adapters: Mapping[str, str] = field(default_factory=dict)
    """Phase name, or `EVERY_INTERMEDIATE`, -> adapter spec (``KIND[:option=value,…]``)."""
    translate: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sampler: str | None = None

    @classmethod
    def parse(
        cls,
        adapters: Iterable[str] = (),
        translate: Iterable[str] = (),
        groups: Iterable[str] = (),
        sampler: str | None = None,
    ) -> PhaseOptions:
        """The options as typed: ``--adapter [PHASE=]SPEC``, ``--translate TASK=A,B``,
        ``--groups TASK=A,B`` (each repeatable) and ``--sampler SPEC``; specs are checked here,
        the names they use against the phases in `phases`."""
        if sampler is not None:
            Sampler.parse(sampler, option="--sampler")
        example = "mnli=de,fr (or mnli=en,de to keep the English rows)"
        return cls(
            adapters=_phase_adapters(adapters),
            translate=_task_lists(translate, "--translate", "LANG", example),
            groups=_task_lists(groups, "--groups", "GROUP", "anli_plus=snli,anli_r1"),
            sampler=sampler,
        )

    def phases(
        self, intermediate: Sequence[str], targets: Sequence[str]
    ) -> tuple[list[PhaseConfig], list[PhaseConfig]]:
        """The phases named `intermediate` and `targets` (``A+B`` is one multi-task phase),
        each with the options that are its own."""
        rows = [self._phase(name, intermediate=True) for name in intermediate]
        columns = [self._phase(name, intermediate=False) for name in targets]
        self._check_used([*rows, *columns])
        return rows, columns

    def _phase(self, name: str, *, intermediate: bool) -> PhaseConfig:
        tasks = [task.strip() for task in name.split(PHASE_JOIN)]
        entry: dict[str, Any] = {"tasks": tasks}
        default = self.adapters.get(EVERY_INTERMEDIATE) if intermediate else None
        adapter = self.adapters.get(PHASE_JOIN.join(tasks), default)
        if adapter is not None:
            entry["adapter"] = adapter
        if self.sampler is not None and len(tasks) > 1:
            entry["sampler"] = self.sampler
        for key, keyed in (("translate", self.translate), ("groups", self.groups)):
            own = {task: keyed[task] for task in tasks if task in keyed}
            if own:
                entry[key] = own
        try:
            return PhaseConfig.model_validate(entry)
        except ValidationError as error:
            raise StiltsError(f"phase {name!r}: {describe(error, PhaseConfig)}") from None

    def _check_used(self, phases: Sequence[PhaseConfig]) -> None:
        names = [phase.name for phase in phases]
        tasks = {task for phase in phases for task in phase.tasks}
        for name in sorted(set(self.adapters) - {*names, EVERY_INTERMEDIATE}):
            raise StiltsError(
                f"--adapter names phase {name!r}, which this command does not have"
                f"{did_you_mean(name, names)}; its phases: {', '.join(names)}"
            )
        for option, keyed in (("--translate", self.translate), ("--groups", self.groups)):
            unknown = sorted(set(keyed) - tasks)
            if unknown:
                raise StiltsError(
                    f"{option} names {', '.join(unknown)}, which the command does not train"
                )
        if self.sampler is not None and not any(phase.multitask for phase in phases):
            raise StiltsError(
                "--sampler chooses the task of each step of a multi-task phase, and this "
                f"command has none; join tasks with {PHASE_JOIN!r}, e.g. mnli+squad"
            )

    def check_intermediates(self, intermediates: int, last: str) -> None:
        """Refuse an adapter for every intermediate phase where there is none."""
        default = self.adapters.get(EVERY_INTERMEDIATE)
        if default is not None and intermediates == 0:
            raise StiltsError(
                f"--adapter {default} is for intermediate phases and this command has none; "
                f"name the phase to train one there: --adapter {last}={default}"
            )


def _phase_adapters(values: Iterable[str]) -> dict[str, str]:
    """``--adapter [PHASE=]SPEC`` values -> phase name (`EVERY_INTERMEDIATE` when none is
    named) -> adapter spec, each spec checked."""
    parsed: dict[str, str] = {}
    for value in values:
        phase, equals, spec = value.partition("=")
        if not equals or ":" in phase:  # `lora:r=4`: the `=` belongs to an option
            phase, spec = EVERY_INTERMEDIATE, value
        phase, spec = phase.strip(), spec.strip()
        if not phase or not spec:
            raise StiltsError(
                f"--adapter {value!r}: write [PHASE=]KIND[:option=value,…], e.g. lora, "
                "mnli=lora:r=4 or mnli+mlm=ia3:handoff=stack"
            )
        if phase in parsed:
            raise StiltsError(f"--adapter gives phase {phase!r} two adapters")
        Adapter.parse(spec, option="--adapter")
        parsed[phase] = spec
    return parsed


def _task_lists(
    values: Iterable[str], option: str, item: str, example: str
) -> dict[str, tuple[str, ...]]:
    """``TASK=A,B`` values (translations, groups) -> task -> names."""
    parsed = {}
    for value in values:
        task, _, names = value.partition("=")
        listed = tuple(name.strip() for name in names.split(",") if name.strip())
        if not task.strip() or not listed:
            raise StiltsError(f"{option} {value!r}: write TASK={item}[,{item}…], e.g. {example}")
        parsed[task.strip()] = listed
    return parsed
