"""The documentation site (mkdocs.yml) builds with --strict, and holds what it promises: the
README as its home page, every page under docs/, the plugin API with each of `stilts.api`'s
names, and the recipe reference with every key of the recipe's JSON Schema."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from conftest import REPO

import stilts.api
from stilts.experiment.recipe import json_schema

DOCS = REPO / "docs"


def hook(name: str) -> ModuleType:
    """One of the site's hooks (docs/hooks/NAME.py), imported as mkdocs imports it."""
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `make test` builds it, with --strict."""
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return out


def page(site: Path, source: str) -> str:
    """The HTML built from docs/`source` (directory URLs: recipes.md -> recipes/index.html)."""
    path = Path(source).with_suffix("")
    html = site / ("index.html" if source == "index.md" else path / "index.html")
    return html.read_text(encoding="utf-8")


def test_every_page_under_docs_is_on_the_site(site):
    sources = [path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")]
    sources = [source for source in sources if not source.startswith("examples/")]
    for source in [*sources, "index.md", "reference/recipe.md", "reference/api.md"]:
        assert page(site, source)


def test_the_home_page_is_the_readme(site):
    home = page(site, "index.md")
    text = html.unescape(re.sub(r"<[^>]+>", "", home))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for heading in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE):
        assert heading.replace("`", "") in text, heading
    assert 'href="writing-a-plugin/"' in home  # README's docs/writing-a-plugin.md


def test_the_readme_s_links_lead_to_the_same_files_from_docs():
    readme = hook("readme")
    links = {
        "[a](docs/recipes.md#grids)": "[a](recipes.md#grids)",
        "[b](docs/questions/size.md)": "[b](questions/size.md)",
        "[c](bench/gpu.py)": "[c](bench/gpu.py)",  # outside docs/: the strict build reports it
        "[d](https://x.org/docs/a.md)": "[d](https://x.org/docs/a.md)",
    }
    for link, on_the_site in links.items():
        assert readme.home_page(link, REPO, DOCS) == on_the_site


def test_the_api_reference_has_every_name_of_the_plugin_api(site):
    html = page(site, "reference/api.md")
    missing = [name for name in stilts.api.__all__ if f'id="stilts.api.{name}"' not in html]
    assert not missing, f"{missing} not on the API page (a name needs a docstring to be shown)"


def test_the_recipe_reference_has_every_key_of_the_schema(site):
    schema = json_schema()
    markdown = hook("recipe_reference").reference(schema)
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL))
    models = {"Recipe": schema, **schema["$defs"]}
    assert sections.keys() == models.keys()
    for name, model in models.items():
        mapping = model["anyOf"][1] if "anyOf" in model else model
        for key in mapping["properties"]:
            assert f"\n| `{key}` |" in sections[name], f"{name}.{key}"
    assert 'id="phaseconfig"' in page(site, "reference/recipe.md")


def test_every_broken_link_fails_the_strict_build():
    """mkdocs reports a missing anchor or an unrecognised link only as INFO unless told."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    assert set(config["validation"].values()) == {"warn"}
    assert len(config["validation"]) == 5
