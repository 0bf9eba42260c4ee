"""Model weights are read from safetensors only: a model directory holding a pickled
``pytorch_model.bin`` alone is refused in one line that says how to convert it, before
anything is trained or scored with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from conftest import stilts_cli
from safetensors.torch import load_file
from test_cli_errors import assert_user_error

from stilts.experiment.bundled import key


def pickled_copy(model_dir: Path, out: Path) -> Path:
    """`model_dir` with its weights as a pickle (what an older save_pretrained wrote)."""
    shutil.copytree(model_dir, out, ignore=shutil.ignore_patterns("*.safetensors", "*.json.tmp"))
    torch.save(load_file(model_dir / "model.safetensors"), out / "pytorch_model.bin")
    return out


def test_a_pickled_starting_model_is_refused_with_how_to_convert_it(mnli_xnli, tmp_path):
    start = mnli_xnli.store.model_dir("tiny-xlmr", key())
    model = pickled_copy(start, tmp_path / "pickled")
    store = tmp_path / "store"
    result = stilts_cli(
        "chain", "xnli", "--model", str(model), "--data", "sample", "--store", str(store)
    )
    assert_user_error(
        result, f"{model} holds its weights only as a PyTorch pickle (pytorch_model.bin)",
        "transformers.XLMRobertaForMaskedLM.from_pretrained(DIR).save_pretrained(DIR, "
        "safe_serialization=True)",
    )  # fmt: skip
    assert not list(store.glob("phases/*/phase.json")) + list(store.glob("runs/*/manifest.json"))


def test_a_pickled_trained_model_is_not_scored(mnli_xnli, tmp_path):
    model = pickled_copy(mnli_xnli.phase_dir(1) / "model", tmp_path / "pickled")
    store = tmp_path / "store"
    result = stilts_cli("eval", str(model), "xnli", "--data", "sample", "--store", str(store))
    assert_user_error(
        result, "holds its weights only as a PyTorch pickle",
        "transformers.XLMRobertaForSequenceClassification.from_pretrained(DIR)",
    )  # fmt: skip
    assert not list(store.glob("evals/*/manifest.json"))
