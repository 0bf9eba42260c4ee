"""MkDocs hook: the recipe reference page, rendered at build time from the recipe's JSON Schema.

The schema is what `stilts recipe-schema` prints, made from the pydantic models that check a
recipe, with each field's docstring as its description; so the page lists every key, its type,
default and meaning as the code has them, and there is no hand-written copy to drift. One
section per model, the recipe's own keys first, then each model in the order the keys above
lead to it; a type names the section of the model it takes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from stilts.experiment.recipe import json_schema

PAGE = "reference/recipe.md"
INTRO = """\
# Recipe reference

Every key a recipe may hold: its type, its default and what it does. This page is generated
when the site is built, from the recipe's JSON Schema (`stilts recipe-schema`, committed as
`schema/recipe.schema.json`), which the same pydantic models that check a recipe produce.
[Recipes](../recipes.md) explains how the keys work together, with examples. A key without a
default is required; a `null` default leaves the value to what its description names, and a
mapping's default lists only the keys it sets.
"""
BOUNDS = {
    "minimum": "≥ {}",
    "exclusiveMinimum": "> {}",
    "maximum": "≤ {}",
    "exclusiveMaximum": "< {}",
    "minItems": "at least {} items",
    "minLength": "at least {} characters",
}
"""JSON Schema's constraints as a reader writes them."""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the recipe reference page."""
    files.append(File.generated(config, PAGE, content=reference(json_schema())))
    return files


def reference(schema: dict[str, Any]) -> str:
    """The reference page of the recipe `schema`, in Markdown."""
    definitions: dict[str, dict[str, Any]] = schema.get("$defs", {})
    sections = [INTRO, section("Recipe", schema)]
    for name in model_order(schema):
        sections.append(section(name, definitions[name]))
    return "\n".join(sections)


def model_order(schema: dict[str, Any]) -> list[str]:
    """The models `schema` refers to, in the order its keys first lead to each (breadth first)."""
    order: list[str] = []
    queue = [schema]
    while queue:
        node = queue.pop(0)
        for name in references(node):
            if name not in order:
                order.append(name)
                queue.append(schema["$defs"][name])
    return order


def references(node: Any) -> list[str]:
    """The models `node` names (``$ref``), in document order, nested models' own left out."""
    if isinstance(node, list):
        return [name for item in node for name in references(item)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        return [node["$ref"].rpartition("/")[2]]
    return [name for key, value in node.items() if key != "$defs" for name in references(value)]


def section(name: str, model: dict[str, Any]) -> str:
    """One model's section: what it is, the string a recipe may give instead, its keys."""
    lines = [f"## {name}", ""]
    description = prose(model.get("description", ""))
    if description:
        lines += [description, ""]
    mapping = model
    if "anyOf" in model:  # a model a recipe may also write as one string
        short, mapping = model["anyOf"]
        examples = ", ".join(f"`{example}`" for example in short.get("examples", []))
        lines += [f"Written as one string ({examples}) or as a mapping of these keys:", ""]
    required = set(mapping.get("required", []))
    lines += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, field in mapping.get("properties", {}).items():
        default = "required" if key in required else f"`{json.dumps(given(field['default']))}`"
        cells = [f"`{key}`", type_of(field), default, cell(prose(field.get("description", "")))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def type_of(field: dict[str, Any]) -> str:
    """A field's type in words, linking each model to its section."""
    if "$ref" in field:
        name = field["$ref"].rpartition("/")[2]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in field:
        return " or ".join(type_of(option) for option in field["anyOf"])
    if "const" in field:
        return f"`{json.dumps(field['const'])}`"
    if "enum" in field:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in field["enum"])
    kind = field.get("type", "any")
    if kind == "array":
        text = f"list of {type_of(field.get('items', {}))}"
    elif kind == "object":
        values = field.get("additionalProperties")
        text = f"mapping of string to {type_of(values)}" if isinstance(values, dict) else "mapping"
    else:
        text = {"string": "string", "integer": "integer", "number": "number",
                "boolean": "boolean", "null": "`null`"}.get(kind, kind)  # fmt: skip
    bounds = [bound(key, field[key]) for key in BOUNDS if key in field]
    return f"{text} ({', '.join(bounds)})" if bounds else text


def bound(key: str, value: object) -> str:
    """A constraint of JSON Schema's as a reader writes it: ``minItems: 1`` is "not empty"."""
    if key in ("minItems", "minLength") and value == 1:
        return "not empty"
    return BOUNDS[key].format(value)


def given(default: Any) -> Any:
    """A default as a recipe would write it: a mapping without its keys left unset (null)."""
    if isinstance(default, dict):
        return {key: given(value) for key, value in default.items() if value is not None}
    return default


def prose(docstring: str) -> str:
    """A docstring as Markdown: each paragraph one line, reStructuredText's ``code`` as `code`."""
    paragraphs = (" ".join(part.split()) for part in docstring.split("\n\n") if part.strip())
    return "\n\n".join(re.sub(r"``(.+?)``", r"`\1`", text) for text in paragraphs)


def cell(text: str) -> str:
    """`text` fit for one table cell: one line, its pipes escaped."""
    return text.replace("\n\n", " ").replace("|", "\\|")
