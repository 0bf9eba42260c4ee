"""`stilts new-task`: a pip-installable task plugin package to start from, one per head kind.

The package is what docs/writing-a-plugin.md describes: a `pyproject.toml` that registers the
task under the `stilts.tasks` entry point, a task module that imports only `stilts.api`, a
small learnable fixture in the task's schema (with a writer for a `--data` root), and a test
that trains a tiny model on it through `stilts.testing`. The files are `string.Template`s
in `templates/` (`$name`, `$package`…): a head kind's own module and fixture rows, and what
every kind shares. Generating imports nothing heavy, so the command answers at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from stilts.errors import StiltsError, did_you_mean
from stilts.tasks import registry


@dataclass(frozen=True)
class HeadKind:
    """What the templates say about a head kind, beyond its own files."""

    summary: str
    cue: str
    """What, in the fixture, decides the gold answer (completes the fixture's docstring)."""
    metric: str
    chance: str
    learned: int
    """The main metric on English test the generated test asks of the tiny model (which
    learns each fixture to 100 in its 4 epochs)."""


HEADS = {
    "classification": HeadKind(
        summary="positive or negative opinions", cue="it decides the label",
        metric="accuracy", chance="50", learned=75,
    ),
    "multiple-choice": HeadKind(
        summary="the good opinion among four", cue="the right choice is the good one",
        metric="accuracy", chance="25", learned=60,
    ),
    "tagging": HeadKind(
        summary="good and bad opinion words tagged", cue="it is tagged B-GOOD or B-BAD",
        metric="chunk F1", chance="near 0", learned=60,
    ),
    "qa": HeadKind(
        summary="what an opinion said, as an answer span", cue="it is the answer",
        metric="F1", chance="near 0", learned=50,
    ),
}  # fmt: skip
"""The head kinds `stilts new-task --head` writes, by the name the option takes."""
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""A task name that is also a Python identifier (the package is `stilts_<name>`), short
enough for the generated code's lines."""


def check_name(name: str) -> None:
    """Refuse a name that cannot be both the task's and its package's, or that is taken."""
    if not NAME.fullmatch(name):
        raise StiltsError(
            f"task name {name!r} must be 1 to 32 lower-case letters, digits and '_', starting "
            "with a letter (it names the task and its Python package stilts_<name>)"
        )
    installed = registry.entries()
    if name in installed:
        raise StiltsError(
            f"task {name!r} is already installed (from {installed[name].provider}); "
            "choose another name"
        )


def distribution(name: str) -> str:
    """The package's name on PyPI (and its directory's default): `stilts-<name>`, dashed."""
    return f"stilts-{name.replace('_', '-')}"


def new_task(name: str, head: str, out: Path) -> list[Path]:
    """Write the plugin package for task `name` with a `head` kind into `out` (which must not
    exist, or be empty); the files written, relative to `out`."""
    check_name(name)
    kind = HEADS.get(head)
    if kind is None:
        raise StiltsError(
            f"unknown head kind {head!r}{did_you_mean(head, HEADS)}; "
            f"choose one of {', '.join(HEADS)}"
        )
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise StiltsError(f"{out} already exists and is not an empty directory; choose --out")
    package = f"stilts_{name}"
    values = {
        "name": name,
        "package": package,
        "distribution": distribution(name),
        "head": head,
        "summary": kind.summary,
        "cue": kind.cue,
        "metric": kind.metric,
        "chance": kind.chance,
        "learned": str(kind.learned),
    }
    values["rows"] = _template(f"{head}/rows.py").substitute(values)
    files = {
        "pyproject.toml": "pyproject.toml",
        "README.md": "README.md",
        f"{package}/__init__.py": f"{head}/task.py",
        f"{package}/fixture.py": "fixture.py",
        f"{package}/py.typed": None,
        f"tests/test_{name}.py": "test_task.py",
    }
    for path, template in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("" if template is None else _template(template).substitute(values))
    return [Path(path) for path in files]


def _template(path: str) -> Template:
    return Template(resources.files(__package__).joinpath(f"templates/{path}.tmpl").read_text())
