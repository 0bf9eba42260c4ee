"""What recipes and task declarations share: strict pydantic models, one-line errors.

Pydantic checks every key (``extra="forbid"`` refuses unknown keys instead of dropping them)
and its errors carry the key path and the expected values; `describe` turns them into the one
line a user reads, naming the path as it is written in YAML (``phases[0].adapter``).

The same models give the recipe's JSON Schema (`stilts recipe-schema`), which editors validate
and complete recipes with and the documentation's recipe reference is rendered from: each
field's docstring is its description there, and a model a recipe may also write as one string
says so (`takes_short_form`).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.config import JsonDict

from stilts.errors import did_you_mean


class Strict(BaseModel):
    # use_attribute_docstrings: a field's docstring is its description in the JSON Schema, so
    # an editor shows it and the recipe reference prints it (no second copy to keep in step).
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def updated(self, **changes: Any) -> Self:
        """A copy with `changes` (as a document would give them), checked like the original:
        unlike `model_copy(update=…)`, which trusts its input."""
        return self.model_validate({**self.model_dump(by_alias=True), **changes})


def takes_short_form(schema: JsonDict, model: type[Any]) -> None:
    """`json_schema_extra` of a model that a before-validator also reads from one string (a
    phase's ``mnli+squad``, a spec's ``KIND[:key=value,…]``): its JSON Schema takes that
    string besides the mapping, with the model's `EXAMPLES`, so an editor neither flags the
    short form nor hides it. The string is not parsed here: the model's own checks do that."""
    mapping = dict(schema)
    description = mapping.pop("description", None)
    schema.clear()
    schema["title"] = mapping["title"]
    if description is not None:
        schema["description"] = description
    short: JsonDict = {"type": "string", "examples": list(model.EXAMPLES)}
    schema["anyOf"] = [short, mapping]


def describe(error: ValidationError, root: type[BaseModel]) -> str:
    """A validation error of a `root` document in one line: the first problem's path and what
    is allowed (an unknown key first: a misspelt key also makes the key it meant missing)."""
    first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    location = path(first["loc"])
    if first["type"] == "extra_forbidden":
        fields = _section(root, first["loc"][:-1]).model_fields
        allowed = [field.alias or name for name, field in fields.items()]
        key = str(first["loc"][-1])
        return (
            f"unknown key {location}{did_you_mean(key, allowed)}; allowed here: "
            f"{', '.join(allowed)}"
        )
    if first["type"] == "missing":
        return f"{location} is missing"
    if first["type"] == "value_error":  # the models' own checks say what to do
        message = str(first["ctx"]["error"])
        return f"{location}: {message}" if location else message
    got = first.get("input")
    close = ""
    if first["type"] == "literal_error" and isinstance(got, str):
        close = did_you_mean(got, re.findall(r"'([^']*)'", first["ctx"]["expected"]))
    return f"{location}: {first['msg']} (got {got!r}){close}"


def path(location: tuple[Any, ...]) -> str:
    """A key path as YAML spells it: ``phases[0].tasks``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _section(root: type[BaseModel], location: tuple[Any, ...]) -> type[BaseModel]:
    """The model class at `location`: list indices and mapping keys step into their items."""
    annotation: Any = root
    for part in location:
        annotation = _bare(annotation)
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            fields = annotation.model_fields
            name = next((n for n, f in fields.items() if f.alias == part), str(part))
            annotation = fields[name].annotation
    return _bare(annotation)


def _bare(annotation: Any) -> Any:
    """`annotation` without `| None` and `Annotated[...]` wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation
