"""A phase's training rows: a task's own translations, a user's copies, or named groups."""

from __future__ import annotations

import shutil

import datasets
import pytest
from conftest import stilts_cli
from fixtures.nli import write_anli, write_multi_nli, write_snli, write_translated_sample

from stilts import StiltsError
from stilts.experiment.bundled import SAMPLE_DATA
from stilts.experiment.config import ChainConfig
from stilts.experiment.options import PhaseOptions
from stilts.experiment.plan import plan
from stilts.experiment.recipe import Recipe, load_recipe
from stilts.experiment.training_data import TrainingData, equal_shares
from stilts.runtime.runner import Runner
from stilts.runtime.training_rows import sampled_training_rows, training_rows
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.plugins.nli import GLUE_MNLI, MNLI_GENRES, MULTI_NLI
from stilts.testing import write_table

MNLI = registry.load("mnli")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """The bundled sample plus facebook/xnli's translated MNLI train in de and fr."""
    return write_translated_sample(tmp_path_factory.mktemp("mirror"), ("de", "fr"))


def test_the_tasks_own_translations_load_through_its_loader(mirror):
    data = DataLocator(mirror)
    english = MNLI.read("train", "en", data)
    german = training_rows(TrainingData(("de",)), MNLI, data)
    assert german.num_rows == english.num_rows
    assert german["premise"][0] == f"de {english['premise'][0]}"
    assert german["label"] == english["label"]
    both = training_rows(TrainingData(("en", "de", "fr")), MNLI, data)
    assert both.num_rows == 3 * english.num_rows
    assert both["premise"][: english.num_rows] == english["premise"]  # original first


def test_a_users_translated_copies_are_read_in_the_tasks_own_schema(tmp_path):
    english = DataLocator(SAMPLE_DATA).load(GLUE_MNLI, "train")
    copy = english.map(lambda row: {"premise": "es " + row["premise"]})
    write_table(tmp_path / "es", GLUE_MNLI, "train", copy)  # DIR/<lang>/nyu-mll/glue/…
    rows = training_rows(TrainingData(("es",), files=tmp_path), MNLI, DataLocator(SAMPLE_DATA))
    assert rows["premise"] == copy["premise"]
    assert rows["label"] == MNLI.read("train", "en", DataLocator(SAMPLE_DATA))["label"]


def test_a_task_without_translations_needs_the_users_files():
    with pytest.raises(StiltsError, match="qqp offers no translated data"):
        TrainingData(("de",)).check(registry.load("qqp"))
    with pytest.raises(StiltsError, match="no translated data in xx"):
        TrainingData(("de", "xx")).check(MNLI)


def translated(mirror, languages):
    mnli = {"tasks": ["mnli"], "translate": {"mnli": languages}}
    return ChainConfig.model_validate({"phases": [mnli, "xnli"], "data": str(mirror)})


def test_translations_change_the_phase_fingerprint_and_plain_phases_keep_theirs(mirror):
    plain = plan(ChainConfig(phases=["mnli", "xnli"], data=str(mirror)))
    default = plan(ChainConfig(phases=["mnli", "xnli"]))
    both = plan(translated(mirror, ["en", "de"]))
    assert "training_data" not in plain.phases[0].spec
    assert both.phases[0].fingerprint != plain.phases[0].fingerprint
    assert both.phases[1].spec["start"] == {"phase": both.phases[0].fingerprint}
    assert default.phases[0].spec["hyperparameters"] == plain.phases[0].spec["hyperparameters"]
    with pytest.raises(StiltsError, match="--translate names qqp"):
        PhaseOptions.parse(translate=["qqp=de"]).phases(["mnli"], ["xnli"])


def test_a_chain_trains_on_english_and_translated_rows(mirror, tmp_path):
    chain = plan(translated(mirror, ["en", "de"]))
    store = Store(tmp_path)
    result = Runner(store).run(chain).result
    record = read_json(store.phase_dir("mnli", chain.phases[0].fingerprint) / PHASE_MANIFEST)
    english = MNLI.read("train", "en", DataLocator(mirror)).num_rows
    assert record["train_rows"] == 2 * english
    assert result.dev["en"]["accuracy"] > 80


# --- named groups of training rows ------------------------------------------------------------

ANLI_PLUS = registry.load("anli_plus")


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """The bundled sample plus nyu-mll/multi_nli (MNLI with genres), ANLI and SNLI."""
    root = tmp_path_factory.mktemp("grouped")
    shutil.copytree(SAMPLE_DATA, root, dirs_exist_ok=True)
    for write in (write_multi_nli, write_anli, write_snli):
        write(root)
    return root


def test_groups_give_an_equal_share_of_the_limit_each(grouped):
    data = DataLocator(grouped)

    def pairs(table):
        return list(zip(table["premise"], table["hypothesis"], strict=True))

    anli_r1, snli = (pairs(ANLI_PLUS.groups.load(name, data)) for name in ("anli_r1", "snli"))
    two = TrainingData(groups=("anli_r1", "snli"))
    drawn = pairs(sampled_training_rows(two, ANLI_PLUS, data, 150, seed=1))
    assert len(drawn) == 150
    assert set(drawn[:75]) <= set(anli_r1) and set(drawn[75:]) <= set(snli)
    assert len(set(drawn[:75])) == 75  # drawn without replacement
    every = sampled_training_rows(two, ANLI_PLUS, data, None, seed=1)
    assert pairs(every) == anli_r1 + snli
    assert equal_shares(10, 3) == [4, 3, 3]
    assert equal_shares(6, 3) == [2, 2, 2]


def test_anli_plus_is_its_groups_together(grouped):
    data = DataLocator(grouped)
    whole = ANLI_PLUS.read("train", "en", data)
    assert (
        whole["premise"]
        == training_rows(TrainingData(groups=ANLI_PLUS.groups.names), ANLI_PLUS, data)["premise"]
    )


def test_mnli_genres_split_its_training_rows(grouped):
    data = DataLocator(grouped)
    table = data.load(MULTI_NLI, "train")
    genres = {genre: MNLI.groups.load(genre, data) for genre in MNLI_GENRES}
    for genre, rows in genres.items():
        assert rows.num_rows == table["genre"].count(genre) > 0
        assert rows.column_names == list(MNLI.head.columns)
    together = sorted(p for rows in genres.values() for p in rows["premise"])
    assert together == sorted(MNLI.read("train", "en", data)["premise"])  # GLUE's same rows


def test_a_genre_table_with_another_label_set_is_refused(tmp_path):
    table = datasets.Dataset.from_dict(
        {"premise": ["a"], "hypothesis": ["b"], "genre": ["fiction"], "label": [0]},
        features=datasets.Features({
            "premise": datasets.Value("string"), "hypothesis": datasets.Value("string"),
            "genre": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["yes", "maybe", "no"]),
        }),
    )  # fmt: skip
    write_table(tmp_path, MULTI_NLI, "train", table)
    with pytest.raises(StiltsError, match="label set"):
        MNLI.groups.load("fiction", DataLocator(tmp_path))


@pytest.mark.parametrize(
    ("task", "training", "message"),
    [
        (MNLI, TrainingData(groups=("fictoin",)), "mnli has no group 'fictoin' .*'fiction'"),
        (registry.load("qqp"), TrainingData(groups=("a",)), "qqp names no groups"),
        (MNLI, TrainingData(("de",), groups=("fiction",)), "translations or on groups"),
        (MNLI, TrainingData(groups=("slate", "slate")), "slate named more than once"),
    ],
)
def test_a_bad_choice_of_groups_is_refused(task, training, message):
    with pytest.raises(StiltsError, match=message):
        training.check(task)


def test_a_group_smaller_than_its_share_is_refused(grouped):
    with pytest.raises(StiltsError, match=r"group anli_r1 has 100 training rows, fewer than its "
                       r"share \(150\) of max_train_examples 300 over 2 groups"):  # fmt: skip
        two = TrainingData(groups=("anli_r1", "snli"))
        sampled_training_rows(two, ANLI_PLUS, DataLocator(grouped), 300, 0)


def test_groups_change_the_phase_fingerprint_and_plain_phases_keep_theirs(grouped):
    def first(groups):
        mnli = {"tasks": ["mnli"], "groups": groups}
        config = ChainConfig.model_validate({"phases": [mnli, "xnli"], "data": str(grouped)})
        return plan(config).phases[0]

    plain, one, two = (
        first({}),
        first({"mnli": ["fiction"]}),
        first({"mnli": ["fiction", "slate"]}),
    )
    assert "training_data" not in plain.spec
    assert len({plain.fingerprint, one.fingerprint, two.fingerprint}) == 3
    assert two.spec["training_data"]["groups"] == ["fiction", "slate"]
    assert two.spec["training_data"]["sources"][0]["repo"] == "nyu-mll/multi_nli"
    with pytest.raises(StiltsError, match="--groups names snli"):
        PhaseOptions.parse(groups=["snli=x"]).phases(["mnli"], ["xnli"])


def test_a_chain_trains_on_some_genres(grouped, tmp_path):
    mnli = {"tasks": ["mnli"], "groups": {"mnli": ["fiction", "government", "slate"]}}
    config = ChainConfig.model_validate(
        {"phases": [mnli], "data": str(grouped), "hyperparameters": {"max_train_examples": 1200}}
    )
    chain = plan(config)
    store = Store(tmp_path)
    result = Runner(store).run(chain).result
    record = read_json(store.phase_dir("mnli", chain.phases[0].fingerprint) / PHASE_MANIFEST)
    assert record["train_rows"] == 1200
    assert "nyu-mll/multi_nli" in {table["repo"] for table in record["data"]}
    assert result.dev["en"]["accuracy"] > 80


def test_grid_rows_and_the_command_line_carry_groups(grouped, tmp_path):
    recipe = Recipe.model_validate({
        "stilts": 1, "data": str(grouped),
        "grid": {"intermediate": [
            {"tasks": ["mnli"], "label": "one-genre", "groups": {"mnli": ["fiction"]}},
            {"tasks": ["mnli"], "label": "two-genres", "groups": {"mnli": ["fiction", "slate"]}},
        ], "target": ["xnli"]},
    })  # fmt: skip
    cells = recipe.chains()
    assert {c.row: c.config.phases[0].groups for c in cells} == {
        "none": {},
        "one-genre": {"mnli": ["fiction"]},
        "two-genres": {"mnli": ["fiction", "slate"]},
    }
    printed = stilts_cli("chain", "mnli", "xnli", "--data", str(grouped), "--groups",
                         "mnli=fiction,slate", "--print-recipe")  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    path = tmp_path / "recipe.yaml"
    path.write_text(printed.stdout)
    assert load_recipe(path).to_config().phases[0].groups == {"mnli": ["fiction", "slate"]}
    bad = stilts_cli("chain", "mnli", "xnli", "--groups", "mnli=fictoin")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: mnli has no group 'fictoin' (did you mean 'fiction'?); its groups: fiction, "
        "government, slate, telephone, travel"
    ]
