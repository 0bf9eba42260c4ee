"""`stilts new-task`: the package it writes installs, is listed, passes its own test, and its task
ends a chain after mnli offline.

The end-to-end check runs each head kind as a user would, in subprocesses: the package is
pip-installed into a throwaway site dir (as tests/test_plugins.py installs the guide's
example), its fixture is written with a copy of the bundled sample into one `--data` root, and
`stilts chain mnli NAME` runs on the bundled model: a minute per head kind, so it is in the
slow tier; the fast tier checks the files written and the names refused. The chains share a
store, so mnli trains once.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, stilts_cli

from stilts.scaffold import HEADS, new_task

NAMES = {head: f"my_{head.replace('-', '_')}" for head in HEADS}
"""The task each head kind is generated as: `my_classification`, `my_multiple_choice`…"""
LANGUAGES = ["de", "en", "fr"]


def generated_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("head", HEADS)
def test_it_writes_the_documented_package(tmp_path, head):
    name = NAMES[head]
    out = tmp_path / "out"
    out.mkdir()  # an empty directory is fine
    written = new_task(name, head, out)
    assert generated_files(out) == {path.as_posix() for path in written} == {
        "pyproject.toml", "README.md", f"stilts_{name}/__init__.py",
        f"stilts_{name}/fixture.py", f"stilts_{name}/py.typed", f"tests/test_{name}.py",
    }  # fmt: skip
    pyproject = (out / "pyproject.toml").read_text()
    assert f'[project.entry-points."stilts.tasks"]\n{name} = "stilts_{name}:task"' in pyproject
    module = ast.parse((out / f"stilts_{name}" / "__init__.py").read_text())
    imported = {node.module for node in ast.walk(module) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(module)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported == {"__future__", "typing", "stilts.api", "datasets"}  # datasets: typing only
    assert f"python -m stilts_{name}.fixture data --with-sample" in (out / "README.md").read_text()
    ruff = [sys.executable, "-m", "ruff"]
    for check in ([*ruff, "check", "--no-cache", "."], [*ruff, "format", "--check", "."]):
        linted = subprocess.run(check, cwd=out, capture_output=True, text=True)
        assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["Reviews"], "task name 'Reviews' must be 1 to 32 lower-case letters"),
        (["mnli+xnli"], "task name 'mnli+xnli' must be"),
        (["r" * 33], "must be 1 to 32"),
        (["mnli"], "task 'mnli' is already installed (from stilts "),
        (["reviews", "--head", "tagger"], "unknown head kind 'tagger' (did you mean 'tagging'?)"),
    ],
    ids=["upper-case", "plus", "too-long", "installed", "head-kind"],
)
def test_bad_names_and_head_kinds_are_refused_in_one_line(tmp_path, args, error):
    refused = stilts_cli("new-task", *args, "--out", str(tmp_path / "out"))
    assert refused.returncode == 2
    assert error in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_directory_with_files_in_it_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    refused = stilts_cli("new-task", "reviews", "--out", str(tmp_path))
    assert refused.returncode == 2
    assert f"{tmp_path} already exists and is not an empty directory" in refused.stderr
    assert generated_files(tmp_path) == {"notes.txt"}


def test_out_defaults_to_stilts_name_in_the_working_directory(tmp_path):
    made = stilts_cli("new-task", "my_reviews", "--head", "qa", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "stilts-my-reviews" / "stilts_my_reviews" / "__init__.py").is_file()


@pytest.mark.slow
def test_the_generated_code_passes_mypy_strict(tmp_path):
    """With the generated pyproject's own settings; stilts is found through MYPYPATH, as an
    installed wheel would be found through its py.typed marker."""
    for head, name in NAMES.items():
        new_task(name, head, tmp_path / name)
    config = tmp_path / NAMES["classification"] / "pyproject.toml"
    files = sorted(str(path) for path in tmp_path.rglob("*.py"))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), *files],
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(REPO)},
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One --data root and one store for every kind's chain: mnli is trained once."""
    root = tmp_path_factory.mktemp("e2e")
    return root / "data", root / "store"


def run(*args: str, env: dict[str, str], cwd: Path | None = None) -> str:
    """A subprocess that must succeed; its output."""
    done = subprocess.run(
        args, capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("head", HEADS)
def test_a_generated_package_installs_passes_its_test_and_ends_a_chain(tmp_path, shared, head):
    name, (data, store) = NAMES[head], shared
    package, site = tmp_path / "package", tmp_path / "site"
    new_task(name, head, package)
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--target", str(site), str(package),
        env={},
    )  # fmt: skip
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")])}

    listing = stilts_cli("tasks", env=env)
    assert listing.returncode == 0, listing.stderr
    assert name in listing.stdout

    own_test = run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", env=env, cwd=package
    )
    assert "2 passed" in own_test

    run(sys.executable, "-m", f"stilts_{name}.fixture", str(data), "--with-sample", env=env)
    chain = stilts_cli("chain", "mnli", name, "--data", str(data), "--store", str(store), env=env)
    assert chain.returncode == 0, chain.stderr
    (results,) = (store / "runs").glob(f"mnli-{name}-*/results.json")
    assert sorted(json.loads(results.read_text())["test"]) == LANGUAGES
