"""Recipes: a chain as a YAML file, checked whole with one-line errors, and run by `stilts run`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, XLMR_COMMIT, stilts_cli

import stilts
from stilts import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan, plan_all
from stilts.experiment.recipe import Recipe, load_recipe

HUB = f"data: hub\nmodel: {{id: FacebookAI/xlm-roberta-large, revision: {XLMR_COMMIT}}}\n"
REAL = ChainConfig.model_validate(
    {
        "phases": [
            {
                "tasks": ["mnli", "squad"],
                "hyperparameters": {"epochs": 1},
                "translate": {"mnli": ["en", "de"]},
                "sampler": "temperature:T=2",
                "adapter": "lora:r=4,handoff=stack",
            },
            {"tasks": ["xnli"], "adapter": {"kind": "ia3"}},
        ],
        "model": {"id": "FacebookAI/xlm-roberta-large", "revision": XLMR_COMMIT},
        "data": "hub",
        "seed": 7,
        "hyperparameters": {"learning_rate": 2e-5},
        "dev_aggregate": "weighted:mnli=2,squad=1",
    }
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_printed_recipe_runs_the_same_chain(tmp_path):
    recipe = load_recipe(write(tmp_path, Recipe.of_chain(REAL).to_yaml()))
    again, original = plan(recipe.to_config()), plan(REAL)
    assert [p.fingerprint for p in again.phases] == [p.fingerprint for p in original.phases]
    assert again.run_fingerprint == original.run_fingerprint
    assert again.phases[1].adapter.kind == "ia3" and again.phases[0].adapter.r == 4


def test_phase_hyperparameters_apply_to_their_phase_only():
    chain = plan(REAL)
    assert chain.phases[0].hyperparameters.epochs == 1
    assert chain.phases[1].hyperparameters.epochs == 2  # xnli's own default
    assert {m.hyperparameters.learning_rate for p in chain.phases for m in p.members} == {2e-5}


def test_set_changes_values_before_the_recipe_is_checked(tmp_path):
    path = write(tmp_path, (REPO / "recipes" / "smoke" / "mnli-xnli.yaml").read_text())
    recipe = load_recipe(path, ["seed=3", "phases.0.tasks=[mnli, mlm]", "hyperparameters.epochs=1"])
    config = recipe.to_config()
    assert config.seed == 3 and config.names == ("mnli+mlm", "xnli")
    assert config.hyperparameters.given() == {"epochs": 1.0}


@pytest.mark.parametrize("recipe", sorted((REPO / "recipes").rglob("*.yaml")), ids=str)
def test_every_shipped_recipe_is_valid(recipe):
    try:
        plan_all(cell.config for cell in load_recipe(recipe).chains())
    except StiltsError as error:  # a smoke recipe whose tasks the bundled sample lacks
        assert "the bundled sample data has no" in str(error)
        assert "--set data=DIR" in recipe.read_text()  # ...says which data it needs
        plan_all(cell.config for cell in load_recipe(recipe, ["data=hub"]).chains())


BAD = [
    (
        "stilts: 1\nphasess: []\n",
        "unknown key phasess (did you mean 'phases' or",
    ),
    ("stilts: 1\nphases: [mnli, 3]\n", "phases[1]: a phase is a task name (mnli, or mnli+squad"),
    (
        "stilts: 1\nphases: [mnli, xnli]\ngrid: {target: [xnli]}\n",
        "give phases (one chain) or grid (intermediate × target), not both",
    ),
    ("stilts: 1\ngrid: {intermediate: [mnli]}\n", "grid.target is missing"),
    (
        "stilts: 1\ngrid: {target: [xnli], intermediat: [mnli]}\n",
        "unknown key grid.intermediat (did you mean 'intermediate'?)",
    ),
    ("stilts: 1\nseed: 3\nseeds: [1]\nphases: [xnli]\n", "give seed (one) or seeds (a list)"),
    ("stilts: 1\nseeds: []\nphases: [xnli]\n", "seeds: List should have at least 1 item"),
    (
        "stilts: 1\nphases: [mnli, xnli]\nevaluation: {split: train}\n",
        "evaluation.split: Input should be 'test' or 'dev' (got 'train')",
    ),
    (
        "stilts: 1\nphases:\n- tasks: [mnli]\n  adaptr: lora\n",
        "unknown key phases[0].adaptr (did you mean 'adapter'?)",
    ),
    ("phases:\n- tasks: [mnli]\n", "stilts is missing"),
    ("stilts: 2\nphases:\n- tasks: [mnli]\n", "stilts: Input should be 1 (got 2)"),
    ("stilts: 1\nphases: []\n", "phases: List should have at least 1 item"),
    ("stilts: 1\nseed: many\nphases:\n- tasks: [mnli]\n", "seed: expected a number, not 'many'"),
    ("stilts: 1\nphases:\n- tasks: mnli\n", "phases[0].tasks: Input should be a valid list"),
    ("stilts: 1\nmodel: {revision: x}\nphases:\n- tasks: [mnli]\n", "model.id is missing"),
    ("stilts: 1\nphases: [\n", "(line 3): expected the node content"),
    ("- stilts\n", "expected a mapping of keys"),
    (
        "stilts: 1\nphases: !!python/object/apply:os.system ['touch pwned']\n",
        "could not determine a constructor",
    ),
    (
        "stilts: 1\nrequires: {stilts-udparse: '>=0.2'}\nphases:\n- tasks: [mnli]\n",
        "plugin stilts-udparse is not installed (recipe needs stilts-udparse>=0.2)",
    ),
    (
        "stilts: 1\nrequires: {stilts: '>=99'}\nphases:\n- tasks: [mnli]\n",
        f"plugin stilts {stilts.__version__} is installed, but the recipe needs stilts>=99",
    ),
    (
        "stilts: 1\nrequires: {stilts: 'new'}\nphases:\n- tasks: [mnli]\n",
        "'new' is not a version specifier",
    ),
]


@pytest.mark.parametrize(("text", "error"), BAD, ids=[error for _, error in BAD])
def test_a_malformed_recipe_is_one_line_naming_the_field(tmp_path, text, error):
    with pytest.raises(StiltsError) as raised:
        load_recipe(write(tmp_path, text))
    message = str(raised.value)
    assert error in message and "\n" not in message
    assert message.startswith(f"recipe {tmp_path / 'recipe.yaml'}")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ("seed", "write PATH=VALUE"),
        ("phases.4.tasks=[qqp]", "phases.4 is not in the recipe"),
        ("seed.x=1", "seed holds no keys"),
    ],
)
def test_a_bad_set_is_one_line(tmp_path, setting, error):
    path = write(tmp_path, "stilts: 1\nseed: 3\nphases:\n- tasks: [mnli]\n")
    with pytest.raises(StiltsError, match=error):
        load_recipe(path, [setting])


def test_a_phases_settings_must_name_its_own_tasks(tmp_path):
    path = write(
        tmp_path, "stilts: 1\nphases:\n- {tasks: [mnli], translate: {qqp: [de]}}\n- xnli\n"
    )
    with pytest.raises(
        StiltsError, match=r"phases\[0\]: translate names qqp, which the phase mnli"
    ):
        load_recipe(path)


def test_each_multitask_phase_has_its_own_sampler(tmp_path):
    """Two multi-task phases of one chain, each drawing its steps its own way."""
    path = write(
        tmp_path,
        "stilts: 1\n" + HUB + "phases:\n"
        "- {tasks: [mnli, squad], sampler: uniform}\n"
        "- {tasks: [qqp, hellaswag], sampler: {kind: temperature, T: 2}}\n- xnli\n",
    )
    chain = plan(load_recipe(path).to_config())
    assert [p.sampler.short() for p in chain.phases[:2]] == ["uniform", "temperature:T=2"]
    assert [p.spec["sampler"] for p in chain.phases[:2]] == ["uniform", "temperature:T=2"]
    same = plan(load_recipe(path, ["phases.1.sampler=uniform"]).to_config())
    assert same.phases[0].fingerprint == chain.phases[0].fingerprint
    assert same.phases[1].fingerprint != chain.phases[1].fingerprint


def test_print_recipe_then_run_it_reuses_the_demo_run(mnli_xnli, tmp_path):
    printed = stilts_cli("chain", "mnli", "xnli", "--print-recipe")
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout) == {
        "stilts": 1,
        "phases": ["mnli", "xnli"],
    }
    recipe = write(tmp_path, printed.stdout)
    ran = stilts_cli("run", str(recipe), "--store", str(mnli_xnli.store.root))
    assert ran.returncode == 0, ran.stderr
    assert "reusing its results" in ran.stdout and "training from" not in ran.stdout
    bad = stilts_cli("run", str(recipe), "--set", "phases.0.tasks=[mnlii]")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "unknown task 'mnlii'" in bad.stderr
    missing = stilts_cli("run", str(recipe), "--set", "phases.4.tasks=[qqp]")
    assert "--set 'phases.4.tasks=[qqp]': phases.4 is not" in missing.stderr  # text, not markup


@pytest.mark.parametrize(
    ("evaluation", "error"),
    [
        ("{languages: [de, sv]}", "evaluation language 'sv' is not one of xnli's (did you mean"),
        ("{split: dev}", None),
    ],
)
def test_evaluation_names_languages_of_the_target(tmp_path, evaluation, error):
    path = write(tmp_path, f"stilts: 1\nphases: [mnli, xnli]\nevaluation: {evaluation}\n")
    config = load_recipe(path).to_config()
    if error is None:
        assert plan(config).run_fingerprint != plan(config.updated(evaluation={})).run_fingerprint
    else:
        with pytest.raises(StiltsError, match=re.escape(error)):
            plan(config)


def test_a_grid_recipe_compares_labelled_variants_of_one_task(tmp_path):
    path = write(
        tmp_path,
        "stilts: 1\nseeds: [1, 2]\ngrid:\n  intermediate:\n  - mnli\n"
        "  - {tasks: [mnli], label: mnli-1k, hyperparameters: {max_train_examples: 1000}}\n"
        "  target: [xnli]\n",
    )
    cells = load_recipe(path).chains()
    assert [(c.row, c.config.seed) for c in cells] == [
        ("none", 1), ("mnli", 1), ("mnli-1k", 1), ("none", 2), ("mnli", 2), ("mnli-1k", 2),
    ]  # fmt: skip
    assert cells[2].config.phases[0].hyperparameters.given() == {"max_train_examples": 1000}
    assert cells[1].config.phases[0].hyperparameters.given() == {}
    plans = plan_all(cell.config for cell in cells)
    assert plans[1].phases[0].fingerprint != plans[2].phases[0].fingerprint


def test_each_multitask_phase_may_weigh_its_own_tasks(tmp_path):
    """A chain-wide weighted aggregate must fit every multi-task phase; two phases training
    different tasks each name their own (a dev aggregate is the phase's, like its sampler)."""
    text = (
        "stilts: 1\n" + HUB + "phases:\n"
        "- {tasks: [mnli, squad], dev_aggregate: 'weighted:mnli=2,squad=1'}\n"
        "- {tasks: [qqp, hellaswag], dev_aggregate: {kind: weighted, weights: {qqp: 1, "
        "hellaswag: 3}}}\n- xnli\n"
    )
    chain = plan(load_recipe(write(tmp_path, text)).to_config())
    assert [p.aggregate.short() for p in chain.phases[:2]] == [
        "weighted:mnli=2,squad=1", "weighted:qqp=1,hellaswag=3"
    ]  # fmt: skip
    assert chain.phases[0].aggregate({"mnli": 90.0, "squad": 60.0}) == pytest.approx(80.0)
    chain_wide = (
        "stilts: 1\n" + HUB + "dev_aggregate: 'weighted:mnli=2,squad=1'\n"
        "phases: [mnli+squad, qqp+hellaswag, xnli]\n"
    )
    with pytest.raises(StiltsError, match=r"recipe .*: the dev aggregate's weights name 'mnli'"):
        load_recipe(write(tmp_path, chain_wide))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("dev_aggregate: 'weighted:mnli=1'\nphases: [mnli, xnli]\n", "this chain has none"),
        ("phases: [mnli, xnli+pawsx]\n", "the last phase is evaluated zero-shot, so it is one"),
        ("grid: {intermediate: [mnli], target: [xnli+pawsx]}\n", r"is one task, not xnli\+pawsx"),
        ("phases: [{tasks: [mnli], dev_aggregate: mean}, xnli]\n", "dev_aggregate is for a multi"),
    ],
)
def test_a_chain_that_cannot_be_is_refused_when_the_recipe_is_read(tmp_path, text, error):
    with pytest.raises(StiltsError, match=error) as raised:
        load_recipe(write(tmp_path, "stilts: 1\n" + text))
    assert str(raised.value).startswith("recipe ") and "\n" not in str(raised.value)
