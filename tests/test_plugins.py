"""Entry-point discovery with real pip-installed plugin packages."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from conftest import REPO, stilts_cli

import stilts
from stilts.tasks.data import DataLocator
from stilts.testing import write_table

EXAMPLE = REPO / "docs" / "examples" / "stilts-sst2"
BROKEN = REPO / "tests" / "plugins" / "stilts-broken"
HEAVY = REPO / "tests" / "plugins" / "stilts-heavy"


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Install the documented example plugin, a broken one and one that imports a heavy
    library at its top into a throwaway site dir."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--target", str(site), str(EXAMPLE), str(BROKEN), str(HEAVY),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_stilts_tasks_lists_builtin_and_installed_plugins(plugin_path):
    listing = stilts_cli("tasks", env=plugin_path)
    assert "sst2" in listing.stdout
    assert "stilts-sst2 0.1.0" in listing.stdout
    for builtin in ("mnli", "xnli", "tatoeba"):  # a Task and an EncoderTask alike
        assert builtin in listing.stdout
    assert f"stilts {stilts.__version__}" in listing.stdout


def test_a_plugin_that_fails_to_import_is_named(plugin_path):
    listing = stilts_cli("tasks", env=plugin_path)
    assert listing.returncode == 2
    assert "'broken'" in listing.stderr
    assert "stilts-broken 0.0.1" in listing.stderr
    assert "ModuleNotFoundError" in listing.stderr
    assert "Traceback" not in listing.stderr

    chained = stilts_cli("chain", "broken", "xnli", env=plugin_path)
    assert chained.returncode == 2
    assert (
        "stilts-broken" in chained.stderr and "a_dependency_that_is_not_installed" in chained.stderr
    )
    assert "Traceback" not in chained.stderr


def test_without_the_plugin_installed_it_is_not_listed():
    listing = stilts_cli("tasks")
    assert listing.returncode == 0
    assert "sst2" not in listing.stdout


def _sst2_fixture(root: Path) -> None:
    """Learnable SST-2 rows in the GLUE sst2 schema: sentiment words decide the label."""
    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
            "idx": datasets.Value("int32"),
        }
    )
    good = ["good", "great", "wonderful", "lovely", "brilliant"]
    bad = ["bad", "awful", "terrible", "boring", "dreadful"]
    subjects = ["the film", "this movie", "the story", "the acting", "the ending", "the music"]
    for split, n in (("train", 400), ("validation", 80)):
        rows = {"sentence": [], "label": [], "idx": []}
        for i in range(n):
            label = i % 2
            word = (good if label else bad)[(i // 2) % 5]
            rows["sentence"].append(f"{subjects[(i // 10) % 6]} was {word} .")
            rows["label"].append(label)
            rows["idx"].append(i)
        write_table(root, _source(), split, datasets.Dataset.from_dict(rows, features=features))


def _source():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from stilts_sst2 import SST2
    finally:
        sys.path.remove(str(EXAMPLE))
    return SST2


def test_an_installed_plugin_task_runs_a_chain(plugin_path, tmp_path):
    _sst2_fixture(tmp_path / "data")
    run = stilts_cli(
        "chain", "sst2", "--data", str(tmp_path / "data"), "--store", str(tmp_path / "store"),
        "--epochs", "4",
        env=plugin_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = next((tmp_path / "store" / "runs").glob("sst2-*/results.json")).read_text()
    accuracy = json.loads(results)["test"]["en"]["accuracy"]
    assert accuracy > 75, accuracy


def test_debug_shows_the_import_error_behind_a_failing_plugin(plugin_path):
    plain = stilts_cli("chain", "broken", "xnli", env=plugin_path)
    debug = stilts_cli("--debug", "chain", "broken", "xnli", env=plugin_path)
    by_env = stilts_cli("chain", "broken", "xnli", env={**plugin_path, "STILTS_DEBUG": "1"})
    assert "Traceback" not in plain.stderr
    for shown in (debug, by_env):
        assert shown.returncode == 2
        assert "Traceback" in shown.stderr
        assert "stilts_broken" in shown.stderr  # the plugin's own module, where it failed
        assert shown.stderr.rstrip().splitlines()[-1].startswith("error:")


def test_discovery_scans_installed_metadata_once_per_process(monkeypatch):
    from importlib import metadata

    from stilts.tasks import registry

    scans = []
    real = metadata.entry_points

    def counted(**kwargs):
        scans.append(kwargs)
        return real(**kwargs)

    registry.refresh()
    monkeypatch.setattr(metadata, "entry_points", counted)
    for _ in range(50):
        registry.load("mnli")
        registry.find("xnli")
    assert len(scans) == 1
    registry.refresh()
    registry.entries()
    assert len(scans) == 2


def test_the_registry_loads_both_kinds_of_task_and_refuses_anything_else():
    from stilts.errors import StiltsError
    from stilts.tasks import registry
    from stilts.tasks.task import EncoderTask, Task

    assert isinstance(registry.load("tatoeba"), EncoderTask)
    assert isinstance(registry.load("xnli"), Task)
    head = registry.TaskEntry("nli", "stilts.tasks.plugins.nli:NLI_HEAD", "stilts-nli", "0.1.0")
    with pytest.raises(StiltsError) as refused:
        registry.load_entry(head)
    assert str(refused.value) == (
        "task plugin 'nli' from package stilts-nli 0.1.0 names stilts.tasks.plugins.nli.NLI_HEAD, "
        "a SequenceClassification, not a stilts Task or EncoderTask; point the entry point at "
        "one (see stilts.api)"
    )


def test_the_old_import_paths_of_the_plugin_api_still_work_and_say_where_to_go():
    """A plugin written for stilts 0.1 keeps working for one release, warned."""
    import importlib
    import sys

    import stilts.api
    import stilts.tasks.heads.tagging
    import stilts.tasks.plugins.nli
    import stilts.tasks.task

    for old, new in (
        ("stilts.heads.tagging", stilts.tasks.heads.tagging),
        ("stilts.plugins.nli", stilts.tasks.plugins.nli),
        ("stilts.task", stilts.tasks.task),
    ):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=f"{old} moved to {new.__name__}"):
            module = importlib.import_module(old)
        assert module is new  # the same classes: isinstance(task, Task) holds across paths
    from stilts.heads import SequenceClassification  # the example plugin's 0.1 imports

    assert SequenceClassification is stilts.api.SequenceClassification


GUIDE = REPO / "docs" / "writing-a-plugin.md"


def guide_blocks(language: str) -> list[str]:
    """The guide's fenced code blocks in `language`, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", GUIDE.read_text(), re.M | re.S)


def test_the_public_api_names_what_the_plugin_guide_documents():
    import stilts.api

    guide = GUIDE.read_text()
    for name in stilts.api.__all__:
        assert getattr(stilts.api, name) is not None
    undocumented = [n for n in stilts.api.__all__ if not re.search(rf"\b{re.escape(n)}\b", guide)]
    assert undocumented == []
    assert "from stilts.api import" in guide


def test_every_name_the_guide_imports_is_in_the_api():
    """The guide's Python examples import stilts only through stilts.api (and stilts.testing
    in tests), and only names those modules export."""
    import stilts.api
    import stilts.testing

    exported = {"stilts.api": stilts.api.__all__, "stilts.testing": stilts.testing.__all__}
    imported, missing, elsewhere = 0, [], []
    for block in guide_blocks("python"):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
                names = []
            elif isinstance(node, ast.ImportFrom):
                modules, names = [node.module or ""], [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module != "stilts" and not module.startswith("stilts."):
                    continue
                if module not in exported or not names:
                    elsewhere.append(module)
                    continue
                imported += len(names)
                missing += [f"{module}.{name}" for name in names if name not in exported[module]]
    assert imported > 20  # the parse found the examples
    assert elsewhere == []
    assert missing == []


def test_the_guide_shows_the_example_plugin_as_it_is():
    module = (EXAMPLE / "stilts_sst2" / "__init__.py").read_text()
    assert module in guide_blocks("python")
    assert (EXAMPLE / "pyproject.toml").read_text() in guide_blocks("toml")


def test_the_example_plugin_imports_no_heavy_library():
    """`stilts tasks` imports every plugin: the guide's example keeps that fast."""
    heavy = {"datasets", "torch", "transformers"}
    probe = f"import sys, stilts_sst2; print(sorted({heavy!r} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(REPO)])}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_guide_s_per_language_task_reads_each_language_s_files(tmp_path):
    """The guide's "Files per language" example runs as written: one source per language,
    fixtures written with `write_table` under a root given as text."""
    block = GUIDE.read_text().split("### Files per language", 1)[1]
    (code,) = re.findall(r"^```python\n(.*?)^```$", block, re.M | re.S)[:1]
    namespace: dict[str, object] = {"__name__": "reviews_plugin"}
    exec(compile(code, "reviews_plugin", "exec"), namespace)
    task, reviews = namespace["task"], namespace["reviews"]
    for language in task.languages:
        rows = {"review": [f"{language} fine", f"{language} dull"], "label": [1, 0]}
        table = datasets.Dataset.from_dict(rows)
        written = write_table(str(tmp_path), reviews(language), "test", table)
        assert written == tmp_path / "acme-nlp/reviews" / language / "test-00000-of-00001.parquet"
    read = task.read("test", "de", DataLocator(tmp_path))
    assert read["review"] == ["de fine", "de dull"]
    assert len({source.files for source in task.sources}) == 3


def test_a_source_with_a_placeholder_other_than_split_is_refused_where_it_is_built():
    from stilts.api import HubSource
    from stilts.errors import StiltsError

    with pytest.raises(StiltsError, match=r"one source per language.*Files per language"):
        HubSource(repo="acme-nlp/reviews", revision="0" * 40, files="{language}/{split}-*.parquet")


def test_a_plugin_importing_a_heavy_library_at_its_top_is_named_by_stilts_tasks(plugin_path):
    listing = stilts_cli("tasks", env=plugin_path)
    said = " ".join(listing.stdout.split())
    assert "heavy (stilts-heavy 0.0.1) imports datasets as it is imported" in said
    assert "Keep the module light" in said
    assert "sst2 (" not in said  # the example plugin is light


def test_the_suite_s_task_lists_and_light_import_checks_ignore_installed_plugins(plugin_path):
    """A plugin pip-installed beside stilts (here one importing datasets at its top) changes
    neither what the tests count as stilts' tasks nor what they measure stilts importing."""
    from test_light_imports import heavy_modules

    from stilts.tasks import registry

    assert {entry.package for entry in registry.entries().values()} == {"stilts"}
    assert heavy_modules(["tasks"], env=plugin_path) == ""
