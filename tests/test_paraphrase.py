"""Paraphrase tasks: QQP (GLUE schema) and PAWS-X (string labels, per-language configs)."""

from __future__ import annotations

import json
import shutil

import datasets
import pytest
from fixtures.paraphrase import write_pawsx_fixture

from stilts import StiltsError
from stilts.experiment.bundled import SAMPLE_DATA
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.runner import Runner
from stilts.tasks.data import DataLocator
from stilts.tasks.plugins.paraphrase import GLUE_QQP, PAWSX_LANGUAGES, pawsx, qqp
from stilts.testing import write_table


def test_string_labels_map_to_ids_per_language(tmp_path):
    write_pawsx_fixture(tmp_path)
    table = pawsx.read("test", "ko", DataLocator(tmp_path))
    assert table.column_names == ["sentence1", "sentence2", "label"]
    assert table["label"][:4] == [0, 1, 0, 1]
    assert all(s.startswith("ko ") for s in table["sentence1"])
    with pytest.raises(
        StiltsError, match=r"^pawsx has no test data in 'ru'; it has test data in de,"
    ):
        pawsx.read("test", "ru", DataLocator(tmp_path))


def test_mnli_then_pawsx_reuses_the_nli_phase_and_learns(mnli_xnli, tmp_path):
    root = tmp_path / "mirror"
    shutil.copytree(SAMPLE_DATA, root)
    write_pawsx_fixture(root)
    chain = plan(ChainConfig(phases=("mnli", "pawsx"), data=str(root)))
    assert chain.phases[0].fingerprint == mnli_xnli.plan.phases[0].fingerprint
    result = Runner(mnli_xnli.store).run(chain).result
    assert tuple(result.test) == PAWSX_LANGUAGES
    assert result.test["en"]["accuracy"] > 75
    assert result.dev["en"]["accuracy"] > 75
    run_dir = mnli_xnli.store.run_dir(("mnli", "pawsx"), chain.run_fingerprint)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [p["reused"] for p in manifest["phases"]] == [True, False]


QQP_FEATURES = datasets.Features(
    {
        "question1": datasets.Value("string"),
        "question2": datasets.Value("string"),
        "label": datasets.ClassLabel(names=["not_duplicate", "duplicate"]),
        "idx": datasets.Value("int32"),
    }
)


def test_qqp_reads_the_glue_schema_and_drops_unlabelled_rows(tmp_path):
    rows = {
        "question1": ["how old is it?", "why is the sky blue?", "who won?"],
        "question2": ["what is its age?", "what colour is grass?", "who lost?"],
        "label": [1, 0, -1],
        "idx": [0, 1, 2],
    }
    table = datasets.Dataset.from_dict(rows, features=QQP_FEATURES)
    write_table(tmp_path, GLUE_QQP, "validation", table)
    loaded = qqp.read("test", "en", DataLocator(tmp_path))  # GLUE hides test labels: dev
    assert loaded.column_names == ["question1", "question2", "label"]
    assert loaded["label"] == [1, 0]
    english = r"^qqp has no dev data in 'de'; it has dev data in en$"
    with pytest.raises(StiltsError, match=english):
        qqp.read("dev", "de", DataLocator(tmp_path))


def test_qqp_refuses_another_label_set(tmp_path):
    features = QQP_FEATURES.copy()
    features["label"] = datasets.ClassLabel(names=["same", "different"])
    rows = {"question1": ["a"], "question2": ["b"], "label": [0], "idx": [0]}
    write_table(tmp_path, GLUE_QQP, "train", datasets.Dataset.from_dict(rows, features=features))
    with pytest.raises(StiltsError, match="label set"):
        qqp.read("train", "en", DataLocator(tmp_path))
