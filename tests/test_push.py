"""`stilts push`: the folder a finished run uploads and its model card, checked offline.

The card is read back with huggingface_hub (its `model-index` is what the hub renders); its
results are recomputed from the run's results.json, and the recipe it embeds is planned
again: it must name the same run.
"""

from __future__ import annotations

import pytest
import yaml
from conftest import FinishedChain, stilts_cli
from huggingface_hub import ModelCard

from stilts.experiment.plan import plan
from stilts.experiment.recipe import Recipe
from stilts.reports.card import recipe_in_card
from stilts.store.files import read_json


@pytest.fixture(scope="module")
def pushed(mnli_xnli: FinishedChain, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("push") / "folder"
    ran = stilts_cli("push", str(mnli_xnli.run_dir), "lab/tiny-mnli-xnli", "--dry-run",
                     "--out", str(folder))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return folder


def test_the_folder_holds_the_model_its_card_recipe_and_results(pushed, mnli_xnli):
    model = mnli_xnli.phase_dir(1) / "model"
    assert {path.name for path in model.iterdir()} <= {path.name for path in pushed.iterdir()}
    assert (pushed / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()
    assert {"README.md", "recipe.yaml", "results.json"} <= {p.name for p in pushed.iterdir()}


def test_the_card_s_model_index_is_the_run_s_results(pushed, mnli_xnli):
    card = ModelCard.load(pushed / "README.md")
    results = read_json(mnli_xnli.run_dir / "results.json")
    metric = results["metric"]
    by_language = {r.dataset_config: r for r in card.data.eval_results}
    assert set(by_language) == set(results["test"])
    for language, scores in results["test"].items():
        found = by_language[language]
        assert (found.metric_type, found.metric_value) == (metric, scores[metric])
        assert (found.task_type, found.dataset_type, found.dataset_split) == (
            "text-classification", "google/xtreme", "test")  # fmt: skip
    assert card.data.datasets == ["google/xtreme", "nyu-mll/glue"]
    assert f"| **average** | **{results['average'][metric]:.2f}** |" in card.text


def test_the_recipe_in_the_card_plans_the_same_run(pushed, mnli_xnli):
    text = (pushed / "README.md").read_text()
    recipe = Recipe.model_validate(yaml.safe_load(recipe_in_card(text)))
    assert plan(recipe.to_config()).run_fingerprint == mnli_xnli.plan.run_fingerprint
    assert (pushed / "recipe.yaml").read_text() == recipe_in_card(text)


def test_a_push_that_cannot_reach_the_hub_says_so(mnli_xnli):
    ran = stilts_cli("push", str(mnli_xnli.run_dir), "lab/tiny", env={"HF_HUB_OFFLINE": "1"})
    assert ran.returncode == 2
    assert ran.stderr.startswith("error: cannot push to lab/tiny:"), ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [(["lab/b--c"], "is not a hub repo id"), (["lab/x", "--dry-run", "--out", "{here}"],
                                              "exists and is not empty")],
)  # fmt: skip
def test_bad_pushes_are_refused_before_anything_is_written(mnli_xnli, tmp_path, args, says):
    (tmp_path / "taken").write_text("x")
    args = [arg.replace("{here}", str(tmp_path)) for arg in args]
    ran = stilts_cli("push", str(mnli_xnli.run_dir), *args)
    assert ran.returncode == 2 and says in ran.stderr
