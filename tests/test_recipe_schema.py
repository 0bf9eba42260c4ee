"""The recipe's JSON Schema for editors: `stilts recipe-schema` prints it, the copy committed
as schema/recipe.schema.json is exactly that (so it cannot go stale), every shipped recipe names
the copy in its first line and passes it, and it takes the short forms a recipe may write."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
import yaml
from conftest import REPO, stilts_cli

from stilts.experiment.recipe import json_schema, load_recipe
from stilts.experiment.specs import Selection

SCHEMA = REPO / "schema" / "recipe.schema.json"
RECIPES = sorted((REPO / "recipes").rglob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def test_the_committed_schema_is_what_the_command_prints():
    printed = stilts_cli("recipe-schema")
    assert printed.returncode == 0, printed.stderr
    assert SCHEMA.read_text(encoding="utf-8") == printed.stdout, (
        "schema/recipe.schema.json is stale: stilts recipe-schema > schema/recipe.schema.json"
    )


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_shipped_recipe_names_the_schema_and_passes_it(recipe):
    first = recipe.read_text(encoding="utf-8").splitlines()[0]
    relative = os.path.relpath(SCHEMA, recipe.parent)
    assert first == f"# yaml-language-server: $schema={relative}"
    VALIDATOR.validate(yaml.safe_load(recipe.read_text(encoding="utf-8")))
    load_recipe(recipe)  # the line is a comment to stilts


# Short forms and mappings a recipe may write for the same setting; each also loads.
ACCEPTED = [
    "phases: [mnli+squad, xnli]\n",
    "phases:\n- {tasks: [mnli, squad], sampler: 'temperature:T=2'}\n- xnli\n",
    "phases:\n- {tasks: [mnli, squad], sampler: {kind: temperature, T: 2}}\n- xnli\n",
    "phases:\n- {tasks: [mnli], adapter: 'lora:handoff=stack'}\n- xnli\n",
    "phases:\n- {tasks: [mnli], adapter: {kind: lora, target_modules: query+value}}\n- xnli\n",
    "phases: [mnli, xnli]\nselect: best:every=200,rows=500\n",
    "phases: [mnli, xnli]\ndev_aggregate: mean\nlauncher: slurm:partition=gpu,gpus=1\n",
    "phases: [mnli, xnli]\nlauncher: {kind: slurm, sbatch: {qos: high}, setup: [module load x]}\n",
]

# What the recipe model refuses for its shape alone, the schema refuses too.
REFUSED = [
    "phasess: [mnli, xnli]\n",
    "phases: [mnli, 3]\n",
    "phases: [mnli, xnli]\nevaluation: {split: train}\n",
    "phases:\n- {tasks: [mnli], adapterr: lora}\n- xnli\n",
    "phases: [mnli, xnli]\nseed: -1\n",
    "phases: [mnli, xnli]\nlauncher: {kind: pbs}\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_the_schema_takes_short_forms_and_mappings(text, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"stilts: 1\n{text}", encoding="utf-8")
    VALIDATOR.validate(yaml.safe_load(recipe.read_text(encoding="utf-8")))
    load_recipe(recipe)


@pytest.mark.parametrize("text", REFUSED)
def test_the_schema_refuses_a_wrong_shape(text):
    assert not VALIDATOR.is_valid(yaml.safe_load(f"stilts: 1\n{text}"))


def keywords(node: object, *, names: bool = False) -> set[str]:
    """Every keyword used in the schema `node`, property names left out."""
    if isinstance(node, list):
        return set().union(*(keywords(item) for item in node))
    if not isinstance(node, dict):
        return set()
    if names:  # a mapping of property (or definition) names to schemas
        return set().union(*(keywords(item) for item in node.values()))
    found = set(node)
    for key, value in node.items():
        found |= keywords(value, names=key in ("properties", "$defs"))
    return found


def test_bounds_are_json_schema_keywords():
    """pydantic writes a bound it cannot place on the type as a bare `ge`, which editors skip."""
    assert not keywords(json_schema()) & {"ge", "gt", "le", "lt", "strict", "allow_inf_nan"}


def test_a_key_s_docstring_is_its_description():
    """What an editor shows on hover, and the recipe reference prints."""
    schema = json_schema()
    assert schema["properties"]["seeds"]["description"].startswith("Run the experiment once")
    selection = schema["$defs"]["Selection"]
    assert selection["description"].startswith("Which weights a phase keeps")
    assert selection["anyOf"][0] == {"type": "string", "examples": list(Selection.EXAMPLES)}
