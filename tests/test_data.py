"""Loading through DataLocator: local mirrors, label mapping, content identity."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import datasets
import pytest
import yaml
from conftest import stilts_cli
from pydantic import ValidationError

from stilts import StiltsError
from stilts.experiment.bundled import SAMPLE_DATA
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.tasks import registry
from stilts.tasks.data import (
    DEV_AS_TEST,
    DataLocator,
    HubSource,
    RoleSplits,
    is_commit,
    local_source,
)
from stilts.tasks.plugins.nli import GLUE_MNLI, XTREME_XNLI, load_mnli, load_xnli, mnli
from stilts.tasks.task import AnyTask, Task
from stilts.testing import write_table

XNLI_FEATURES = datasets.Features(
    {
        name: datasets.Value("string")
        for name in ("language", "sentence1", "sentence2", "gold_label")
    }
)


def xnli_rows(labels: list[str], language: str = "de") -> datasets.Dataset:
    n = len(labels)
    return datasets.Dataset.from_dict(
        {"language": [language] * n, "sentence1": [f"p{i}" for i in range(n)],
         "sentence2": [f"h{i}" for i in range(n)], "gold_label": labels},
        features=XNLI_FEATURES,
    )  # fmt: skip


def test_raw_xnli_contradictory_means_contradiction(tmp_path):
    write_table(
        tmp_path, XTREME_XNLI, "test", xnli_rows(["contradictory", "entailment", "neutral"])
    )
    table = load_xnli("test", "de", DataLocator(tmp_path))
    assert table["label"] == [2, 0, 1]
    assert table.column_names == ["premise", "hypothesis", "label"]


def test_a_mirror_that_still_holds_a_loading_script_reads_its_parquet_files(tmp_path):
    # `hf download google/xtreme` brings xtreme.py along; datasets >= 4 refuses to load a
    # directory holding one, so stilts must read the parquet files directly.
    write_table(tmp_path, XTREME_XNLI, "test", xnli_rows(["neutral"], language="de"))
    (tmp_path / "google" / "xtreme" / "xtreme.py").write_text("raise SystemExit('ran')\n")
    assert load_xnli("test", "de", DataLocator(tmp_path))["label"] == [1]


def test_a_language_without_rows_is_an_error(tmp_path):
    write_table(tmp_path, XTREME_XNLI, "test", xnli_rows(["neutral"], language="de"))
    with pytest.raises(StiltsError, match="no rows for language 'fr'"):
        load_xnli("test", "fr", DataLocator(tmp_path))


def test_mnli_label_set_must_match(tmp_path):
    features = datasets.Features(
        {"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
         "label": datasets.ClassLabel(names=["yes", "no"]), "idx": datasets.Value("int32")}
    )  # fmt: skip
    rows = {"premise": ["a"], "hypothesis": ["b"], "label": [0], "idx": [0]}
    write_table(tmp_path, GLUE_MNLI, "train", datasets.Dataset.from_dict(rows, features=features))
    with pytest.raises(StiltsError, match="label set"):
        load_mnli("train", "en", DataLocator(tmp_path))


def test_mnli_drops_unlabelled_rows(tmp_path):
    features = datasets.Features(
        {"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
         "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"]),
         "idx": datasets.Value("int32")}
    )  # fmt: skip
    rows = {"premise": ["a", "b"], "hypothesis": ["c", "d"], "label": [1, -1], "idx": [0, 1]}
    write_table(
        tmp_path,
        GLUE_MNLI,
        "validation_matched",
        datasets.Dataset.from_dict(rows, features=features),
    )
    assert load_mnli("dev", "en", DataLocator(tmp_path))["label"] == [1]


def test_mnli_is_english_only(tmp_path):
    english = r"^mnli has no train data in 'de'; it has train data in en$"
    with pytest.raises(StiltsError, match=english):
        mnli.read("train", "de", DataLocator(tmp_path))


def test_identity_follows_file_content(tmp_path):
    source = HubSource(repo="org/data", revision="abc", files="x/{split}-*.parquet")
    write_table(tmp_path, source, "train", xnli_rows(["neutral"]))
    before = DataLocator(tmp_path).identity(source)
    write_table(tmp_path, source, "train", xnli_rows(["entailment"]))
    after = DataLocator(tmp_path).identity(source)
    assert before["local_sha256"] != after["local_sha256"]
    assert DataLocator(None).identity(source) == {
        "repo": "org/data",
        "revision": "abc",
        "files": "x/{split}-*.parquet",
    }


def every_source(task: AnyTask) -> list[HubSource]:
    """Every table `task` may read: its own, its training groups' and its translations'."""
    sources = list(task.sources)
    if isinstance(task, Task) and task.groups is not None:
        sources += task.groups.sources
    if isinstance(task, Task) and task.translated is not None:
        sources += [task.translated.source(code) for code in task.translated.languages]
    return sources


LOCAL_ONLY = {
    "bucc2018": {"BUCC/bucc2018"},
    "ccg": {"LDC2005T13/ccgbank_1_1"},
    "lareqa": {"google-research-datasets/lareqa"},
    "mewslix": {"google-research/mewsli-x"},
    "mlm": {"stilts-mlm/text"},
    "udparse": {"UniversalDependencies/UD_English-EWT"},
}
"""The data of the installed tasks that is not on the hub (licensed, or published elsewhere)."""


@pytest.mark.parametrize("name", sorted(registry.entries()))
def test_every_source_is_pinned_to_a_commit_or_read_from_a_local_copy_only(name):
    """A branch or tag moves under a fingerprint; a commit (or a local copy's hashes) does not."""
    sources = every_source(registry.load(name))
    local = {source.repo for source in sources if source.local_only}
    assert local == LOCAL_ONLY.get(name, set())
    unpinned = [s for s in sources if not s.local_only and not is_commit(s.revision)]
    assert unpinned == []


def test_local_only_data_is_identified_by_its_files_and_needs_a_root(tmp_path):
    source = local_source("licensed/corpus", "{split}.txt", release="v1")
    (tmp_path / source.repo).mkdir(parents=True)
    (tmp_path / source.repo / "train.txt").write_text("one\n")
    before = DataLocator(tmp_path).identity(source)
    (tmp_path / source.repo / "train.txt").write_text("two\n")
    assert DataLocator(tmp_path).identity(source)["local_sha256"] != before["local_sha256"]
    no_copy = DataLocator(None).identity(source)  # what a task that can do without it reads
    assert (
        no_copy["local_sha256"] == DataLocator(tmp_path / "empty").identity(source)["local_sha256"]
    )
    expected = "^the corpus is read from a local copy only: put it at DIR/licensed/corpus and "
    with pytest.raises(StiltsError, match=expected + "pass --data DIR$"):
        DataLocator(None).local_files(source, ["train"], what="the corpus")
    with pytest.raises(StiltsError, match="licensed/corpus is read from a local copy only"):
        DataLocator(None).load(source, "train")  # never from the hub at its release label


@pytest.mark.parametrize("name", sorted(set(LOCAL_ONLY) - {"mlm"}))  # mlm falls back on Wikipedia
def test_a_task_of_local_only_data_without_a_copy_says_how_to_give_one(name):
    task = registry.load(name)
    with pytest.raises(
        StiltsError, match=r"read from a local copy only: put it at DIR/.* and pass --data DIR$"
    ):
        task.read("test", task.languages[0], DataLocator(None))


def test_each_role_reads_the_split_its_source_names(tmp_path):
    features = datasets.Features(
        {"premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
         "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"])}
    )  # fmt: skip
    for split in ("train", "validation_matched", "validation_mismatched", "validation", "test"):
        rows = {"premise": [split], "hypothesis": ["h"], "label": [0]}
        write_table(tmp_path, GLUE_MNLI, split, datasets.Dataset.from_dict(rows, features))
    data = DataLocator(tmp_path)
    # GLUE hides MNLI's test labels: the matched dev set selects, the mismatched one tests.
    read = {role: load_mnli(role, "en", data)["premise"] for role in ("train", "dev", "test")}
    assert read == {
        "train": ["train"],
        "dev": ["validation_matched"],
        "test": ["validation_mismatched"],
    }
    standard = HubSource("org/data", "abc", "{split}.parquet")
    assert [standard.split(role) for role in ("train", "dev", "test")] == [
        "train", "validation", "test"
    ]  # fmt: skip
    assert replace(standard, splits=DEV_AS_TEST).split("test") == "validation"


def test_splits_change_neither_identity_nor_equality(tmp_path):
    """Which split serves a role picks among a source's files: the fingerprinted identity,
    equality, hashing and the locator's one read of each table stay those of the files."""
    plain = HubSource(repo="org/data", revision="abc", files="x/{split}-*.parquet")
    rounds = replace(plain, splits=RoleSplits("train_r1", "dev_r1", "test_r1"))
    write_table(tmp_path, plain, "train_r1", xnli_rows(["neutral"]))
    for root in (None, tmp_path):
        assert DataLocator(root).identity(rounds) == DataLocator(root).identity(plain)
    assert rounds == plain and hash(rounds) == hash(plain)
    assert len({plain: 1, rounds: 2}) == 1
    data = DataLocator(tmp_path)
    assert data.load(plain, "train_r1") is data.load(rounds, rounds.split("train"))
    assert len(data.records()) == 1


def test_loads_are_recorded_with_a_content_hash(tmp_path):
    write_table(tmp_path, XTREME_XNLI, "test", xnli_rows(["neutral", "entailment"]))
    data = DataLocator(tmp_path)
    data.load(XTREME_XNLI, "test")
    data.load(XTREME_XNLI, "test")  # read once, recorded once
    (record,) = data.records()
    assert record["rows"] == 2 and record["split"] == "test" and len(record["sha256"]) == 64


REVIEWS = {
    "kind": "classification", "repo": "acme-nlp/reviews", "revision": "0" * 40,
    "files": "{split}.parquet", "columns": {"text": "review", "label": "verdict"},
    "labels": ["negative", "positive"],
}  # fmt: skip


def reviews_mirror(root: Path) -> Path:
    """A plugin author's own data (a declared task's), and none of the sample's datasets."""
    source = HubSource(REVIEWS["repo"], REVIEWS["revision"], REVIEWS["files"])
    rows = {"review": ["fine", "dull"], "verdict": ["positive", "negative"]}
    for split in ("train", "validation", "test"):
        write_table(root, source, split, datasets.Dataset.from_dict(rows))
    return root


def test_a_chain_reads_its_own_data_beside_the_bundled_sample(tmp_path):
    """`--data DIR --data sample` (a recipe's `data: [DIR, sample]`): each dataset comes from
    the first root holding it, so `mnli → reviews` runs on the bundled model, and mnli's
    phase, read from the sample, is the demo's own phase (reused from a store that has it)."""
    mirror = str(reviews_mirror(tmp_path / "mine"))
    both = ChainConfig.model_validate(
        {"phases": ["mnli", "reviews"], "data": [mirror, "sample"], "tasks": {"reviews": REVIEWS}}
    )
    chain = plan(both)
    demo = plan(ChainConfig(phases=["mnli", "xnli"]))
    assert chain.phases[0].fingerprint == demo.phases[0].fingerprint
    assert chain.data.where(GLUE_MNLI) == str(SAMPLE_DATA / GLUE_MNLI.repo)
    assert chain.target.task.read("test", "en", chain.data)["label"] == [1, 0]
    assert chain.data.where(chain.target.task.sources[0]) == f"{mirror}/acme-nlp/reviews"
    alone = ChainConfig.model_validate({**both.model_dump(by_alias=True), "data": [mirror]})
    assert alone.data == mirror  # one root in a list is that root, spelt as ever
    with pytest.raises(StiltsError, match="no local copy of nyu-mll/glue under"):
        plan(alone).data.load(GLUE_MNLI, "train")


def test_several_roots_first_match_wins_and_a_single_root_is_identified_as_before(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_table(first, GLUE_MNLI, "train", xnli_rows(["entailment"]))
    write_table(second, GLUE_MNLI, "train", xnli_rows(["neutral", "neutral"]))
    write_table(second, XTREME_XNLI, "test", xnli_rows(["neutral"]))
    data = DataLocator(first, [second])
    assert data.load(GLUE_MNLI, "train").num_rows == 1  # the first root's copy
    assert data.identity(GLUE_MNLI) == DataLocator(first).identity(GLUE_MNLI)
    assert data.identity(XTREME_XNLI) == DataLocator(second).identity(XTREME_XNLI)
    with_hub = DataLocator(tmp_path / "empty", [None])
    assert with_hub.identity(XTREME_XNLI) == DataLocator(None).identity(XTREME_XNLI)
    missing = HubSource("acme-nlp/absent", "0" * 40, "{split}.parquet")
    with pytest.raises(StiltsError, match=f"under {first} or {second} \\(expected {first}/"):
        data.load(missing, "train")


@pytest.mark.parametrize(
    ("data", "message"),
    [([], "lists no data root"), (["hub", "sample"], "put it last"),
     (["sample", "sample"], "names sample more than once")],
)  # fmt: skip
def test_a_bad_list_of_data_roots_is_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        ChainConfig.model_validate({"phases": ["mnli"], "data": data})


def test_the_command_line_repeats_data_as_a_recipe_lists_it(tmp_path):
    mirror = str(reviews_mirror(tmp_path))
    printed = stilts_cli(
        "chain", "mnli", "xnli", "--data", mirror, "--data", "sample", "--print-recipe"
    )
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout)["data"] == [mirror, "sample"]
