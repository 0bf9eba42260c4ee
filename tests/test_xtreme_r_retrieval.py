"""XTREME-R's Mewsli-X and LAReQA: local data in the official formats, mAP@20 as XTREME-R
scores it, and a chain that evaluates a tiny encoder on every official language."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from fixtures.xtreme_r_retrieval import (
    ARTICLES,
    SKIPPED_LANGUAGE,
    XQUAD_R_PASSAGES,
    article_record,
    entity_record,
    mewslix_dir,
    mewslix_example_id,
    mewslix_texts,
    skipped_question_id,
    write_lareqa,
    write_mewslix,
    write_mewslix_files,
    write_xquad_r,
    xquad_r_paragraph,
)

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.reports import benchmark as bm
from stilts.runtime.runner import Runner
from stilts.store.layout import Store
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.plugins import xtreme_r_retrieval as xr
from stilts.tasks.task import EncoderTask
from stilts.testing import build_tiny_model


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xtreme_r")
    write_mewslix(path)
    write_lareqa(path)
    return path


@pytest.fixture(scope="module")
def data(root: Path) -> DataLocator:
    return DataLocator(root)


# --- the tasks and their official language lists ---------------------------------------------


@pytest.mark.parametrize("name", ["mewslix", "lareqa"])
def test_tasks_evaluate_the_encoder_on_xtreme_rs_languages_by_map_at_20(name):
    task = registry.load(name)
    official = bm.XTREME_R.task(name)
    assert task.languages == official.languages
    assert task.main_metric == official.metric == "map@20"
    assert isinstance(task, EncoderTask)  # no training data, no metric over predictions


# --- Mewsli-X --------------------------------------------------------------------------------


def test_mewslix_loads_each_languages_mentions_of_dev_and_test(root, data):
    candidates = {
        json.loads(line)["entity_id"]
        for line in (mewslix_dir(root) / "candidate_set_entities.jsonl").read_text().splitlines()
    }
    seen = {}
    for role in ("dev", "test"):
        for language in xr.MEWSLIX_LANGUAGES:
            table = xr.load_mewslix(role, language, data)
            assert table.column_names == list(xr.MEWSLIX_COLUMNS)
            assert table.num_rows == 2 * ARTICLES
            assert table["example_id"][0] == mewslix_example_id(role, language, 0, 0)
            assert set(table["entity_id"]) <= candidates
            for row in table:
                name = row["mention"].split(":")[0]
                assert f"{{ {name} }}" in row["mention"]  # the mention, marked in its sentence
                assert "\n" not in row["mention"]
            seen[role] = seen.get(role, set()) | set(table["entity_id"])
    assert not seen["dev"] & seen["test"]  # split by gold entity, as Mewsli-X is
    with pytest.raises(StiltsError, match="no training data"):
        xr.mewslix.read("train", "en", data)
    unknown = r"^mewslix has no test data in 'fr'; it has test data in ar, de, en,"
    with pytest.raises(StiltsError, match=unknown):
        xr.mewslix.read("test", "fr", data)


def test_mewslix_texts_follow_the_official_preprocessing():
    # utils_mewslix.preprocess_mention: the mention, then its sentence only, the mention marked
    # by braces, braces already there made parentheses, newlines and double spaces normalised.
    text = "Strike news\n\nIn Helsinki, the {union}  struck\nat night. Buses stopped."
    spans = [(0, 11), (13, 55), (56, 70)]
    start = text.index("Helsinki")
    query = xr.mention_query(text, spans, start, start + 8, "Helsinki")
    assert query == "Helsinki: In { Helsinki } , the (union) struck at night."
    # A mention across a sentence break (the official code asserts there is none): whole text.
    across = xr.mention_query("A b. C d.", [(0, 4), (5, 9)], 2, 6, "b. C")
    assert across == "b. C: A { b. C } d."
    # preprocess_entity_description: the description's sentences, no title.
    description = "Helsinki is the capital.\nIt lies  on the coast. Not a sentence span"
    assert (
        xr.entity_text(description, [(0, 24), (25, 47)])
        == "Helsinki is the capital. It lies on the coast."
    )


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_mewslix_map_at_20_is_the_mrr_of_the_gold_entity(tmp_path):
    # Three entities whose descriptions embed to the three axes; three English mentions whose
    # gold entity ranks 1st, 2nd and 3rd: mAP@20 = MRR@20 = (1 + 1/2 + 1/3) / 3.
    entities = [
        entity_record(f"Q{i}", name, [f"{name} is entity {i}."])
        for i, name in enumerate(("Alpha", "Beta", "Gamma"))
    ]
    en = [
        article_record("en", 1, "One", ["We saw Alpha."], [("m1", "Alpha", "Q0")]),
        article_record("en", 2, "Two", ["We saw Beta."], [("m2", "Beta", "Q1")]),
        article_record("en", 3, "Three", ["We saw Gamma."], [("m3", "Gamma", "Q2")]),
    ]
    de = [article_record("de", 4, "Vier", ["Wir sahen Beta."], [("m4", "Beta", "Q1")])]
    write_mewslix_files(tmp_path, entities, {"test": en + de})
    vectors = {
        "Alpha is entity 0.": _unit(1, 0, 0),
        "Beta is entity 1.": _unit(0, 1, 0),
        "Gamma is entity 2.": _unit(0, 0, 1),
        "Alpha: We saw { Alpha } .": _unit(1, 0, 0),  # gold first
        "Beta: We saw { Beta } .": _unit(3, 2, 0),  # Alpha, then the gold Beta
        "Gamma: We saw { Gamma } .": _unit(3, 2, 1),  # Alpha, Beta, then the gold Gamma
        "Beta: Wir sahen { Beta } .": _unit(0, 1, 0),
    }
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return np.stack([vectors[text] for text in texts])

    data = DataLocator(tmp_path)
    scores, (extension, text) = xr.evaluate_mewslix(embed, "en", data)
    assert scores == {"map@20": pytest.approx(100 * (1 + 1 / 2 + 1 / 3) / 3)}
    assert extension == "json"
    assert json.loads(text) == {  # XTREME-R's layout: example_id -> ranked entity ids
        "m1": ["Q0", "Q1", "Q2"],
        "m2": ["Q0", "Q1", "Q2"],
        "m3": ["Q0", "Q1", "Q2"],
    }
    assert xr.evaluate_mewslix(embed, "de", data)[0] == {"map@20": 100.0}
    candidate_calls = [texts for texts in calls if "Alpha is entity 0." in texts]
    assert len(candidate_calls) == 1  # the candidate set is embedded once for all languages


def test_mewslix_keeps_only_the_top_20_entities(tmp_path):
    entities = [entity_record(f"Q{i}", f"E{i}", [f"E{i} is number {i}."]) for i in range(25)]
    article = article_record("en", 1, "T", ["About E24 today."], [("m", "E24", "Q24")])
    write_mewslix_files(tmp_path, entities, {"test": [article]})
    # Entity i sits at angle i/10 from the query; the gold one (24) is 25th: outside the top 20.
    angle = {f"E{i} is number {i}.": i / 10 for i in range(25)} | {"E24: About { E24 } today.": 0}

    def embed(texts):
        return np.stack([_unit(math.cos(angle[t]), math.sin(angle[t])) for t in texts])

    scores, (_, text) = xr.evaluate_mewslix(embed, "en", DataLocator(tmp_path))
    assert scores == {"map@20": 0.0}
    assert json.loads(text) == {"m": [f"Q{i}" for i in range(20)]}


# --- LAReQA ----------------------------------------------------------------------------------


def test_lareqa_questions_retrieve_their_answer_sentence_in_every_language(data):
    english = xr.load_lareqa("test", "en", data)
    assert english.column_names == list(xr.LAREQA_COLUMNS)
    assert english.num_rows == XQUAD_R_PASSAGES * 2 * 2
    skipped = skipped_question_id()
    for row in english:
        xling, language = row["id"].rsplit("_", 1)
        assert language == "en"
        # One answer sentence per language: {lang}_{paragraph number}_{sentence index}, the
        # same paragraph and sentence in every language (the data is parallel).
        languages = [uid.split("_")[0] for uid in row["relevant"]]
        expected = [x for x in xr.LAREQA_LANGUAGES if xling != skipped or x != SKIPPED_LANGUAGE]
        assert languages == expected
        assert len({uid.split("_", 1)[1] for uid in row["relevant"]}) == 1
    # The question whose answer no sentence break covers is skipped in that language only.
    thai = xr.load_lareqa("test", SKIPPED_LANGUAGE, data)
    assert f"{skipped}_{SKIPPED_LANGUAGE}" not in thai["id"]
    assert thai.num_rows == english.num_rows - 1
    assert xr.load_lareqa("dev", "en", data)["id"] == english["id"]  # its only split
    with pytest.raises(StiltsError, match="no training data"):
        xr.lareqa.read("train", "en", data)


def test_lareqa_map_at_20_over_the_multilingual_pool(tmp_path):
    # One parallel question per language; each language's paragraph has the answer sentence
    # ("ans") and another ("pad"). Every question ranks the 22 candidates ans-ar, pad-ar,
    # ans-de, pad-de, …: the 11 relevant ones at ranks 1, 3, …, 21, so the top 20 holds 10 of
    # them, the h-th at rank 2h-1, and AP@20 = sum(h / (2h-1)) / min(11, 20).
    for language in xr.LAREQA_LANGUAGES:
        paragraph = xquad_r_paragraph(
            [f"ans {language}.", f"pad {language}."], [("q1", f"q {language}?", 0, "ans")]
        )
        write_xquad_r(tmp_path, language, [("Title", [paragraph])])
    order = [f"{kind} {x}" for x in xr.LAREQA_LANGUAGES for kind in ("ans", "pad")]

    def embed(texts):
        rows = []
        for text in texts:
            if text.startswith("q "):
                rows.append(_unit(1, 0))
            else:  # a candidate: its sentence, then its paragraph
                rank = order.index(text.split(".")[0]) + 1
                rows.append(_unit(math.cos(rank / 10), math.sin(rank / 10)))
        return np.stack(rows)

    expected = 100 * sum(h / (2 * h - 1) for h in range(1, 11)) / 11
    assert expected == pytest.approx(55.1512, abs=1e-4)  # 6.06663 / 11
    data = DataLocator(tmp_path)
    for language in ("en", "zh"):
        scores, (extension, text) = xr.lareqa.evaluate(embed, language, data)
        assert scores == {"map@20": pytest.approx(expected)}
        assert extension == "tsv"
        (line,) = text.splitlines()
        uid, *ranked = line.split("\t")
        assert uid == f"q1_{language}"
        assert ranked[:3] == ["ar_1_0", "ar_1_1", "de_1_0"] and len(ranked) == 20


# --- missing or unusable local data ----------------------------------------------------------


def test_the_data_is_read_from_a_local_copy_only():
    for name in ("mewslix", "lareqa"):
        with pytest.raises(StiltsError, match=r"local copy only.*--data DIR"):
            registry.load(name).read("test", "en", DataLocator(None))


def test_missing_files_name_the_expected_layout(tmp_path, root):
    empty = DataLocator(tmp_path)
    with pytest.raises(
        StiltsError, match=r"google-research/mewsli-x/wikinews_mentions-test\.jsonl"
    ):
        xr.load_mewslix("test", "en", empty)
    with pytest.raises(StiltsError, match=r"google-research-datasets/lareqa/xquad-r/ar\.json"):
        xr.load_lareqa("test", "en", empty)
    # Mentions without the candidate set; one XQuAD-R language missing from the pool.
    folder = tmp_path / "google-research" / "mewsli-x"
    folder.mkdir(parents=True)
    test_file = mewslix_dir(root) / "wikinews_mentions-test.jsonl"
    (folder / test_file.name).write_bytes(test_file.read_bytes())
    with pytest.raises(StiltsError, match=r"candidate_set_entities\.jsonl"):
        xr.load_mewslix("test", "en", empty)
    write_lareqa(tmp_path)
    (tmp_path / "google-research-datasets" / "lareqa" / "xquad-r" / "zh.json").unlink()
    with pytest.raises(StiltsError, match=r"xquad-r/zh\.json"):
        xr.load_lareqa("test", "en", empty)


def test_mentions_without_article_text_say_how_to_restore_it(tmp_path, root):
    source = mewslix_dir(root)
    records = [json.loads(line) for line in (source / "wikinews_mentions-test.jsonl").open()]
    for record in records:  # as the released wikinews_mentions_no_text files are
        record["context"]["text"] = ""
    write_mewslix_files(
        tmp_path,
        [json.loads(line) for line in (source / "candidate_set_entities.jsonl").open()],
        {"test": records},
    )
    with pytest.raises(StiltsError, match=r"no_text.*get-mewsli-x\.sh"):
        xr.load_mewslix("test", "en", DataLocator(tmp_path))


# --- a chain on a tiny model -----------------------------------------------------------------


def _texts(root: Path) -> list[str]:
    """Every text of both fixtures, for the tiny model's tokenizer."""
    data = DataLocator(root)
    questions = [
        q for x in xr.LAREQA_LANGUAGES for q in xr.load_lareqa("test", x, data)["question"]
    ]
    return mewslix_texts(root) + questions


def _query_ids(name: str, language: str, data: DataLocator) -> list[str]:
    if name == "mewslix":
        return xr.load_mewslix("test", language, data)["example_id"]
    return xr.load_lareqa("test", language, data)["id"]


def _predicted_ids(path: Path) -> list[str]:
    """The query ids of a prediction file, with at most 20 ranked ids each."""
    if path.suffix == ".json":  # Mewsli-X: example_id -> ranked entity ids
        rankings = json.loads(path.read_text())
    else:  # LAReQA: question uid, then the ranked candidate uids
        rankings = {
            row[0]: row[1:] for row in (line.split("\t") for line in path.read_text().splitlines())
        }
    assert all(0 < len(ranking) <= 20 for ranking in rankings.values())
    return list(rankings)


@pytest.mark.parametrize("name", ["mewslix", "lareqa"])
def test_a_chain_evaluates_a_tiny_encoder_on_every_official_language(root, tmp_path, name):
    model = build_tiny_model(tmp_path / "model", _texts(root), vocab_size=400, seed=0)
    config = ChainConfig.model_validate({
        "phases": [name], "model": {"id": str(model)}, "data": str(root),
        "hyperparameters": {"max_length": 64},
    })  # fmt: skip
    chain = plan(config)
    store = Store(tmp_path / "store")
    result = Runner(store).run(chain).result
    assert result.dev == {}  # nothing is trained, so nothing is selected on dev
    assert tuple(result.test) == bm.XTREME_R.task(name).languages
    assert all(0 <= scores["map@20"] <= 100 for scores in result.test.values()), result.test
    if name == "mewslix":  # a mention shares its name with its entity's description, so even a
        # random encoder ranks the gold well above chance (MRR@20 among 32 entities: about 11)
        assert min(scores["map@20"] for scores in result.test.values()) > 25, result.test
    folder = store.run_dir(config.names, chain.run_fingerprint) / "predictions" / name
    extension = "json" if name == "mewslix" else "tsv"
    for language in result.test:
        path = folder / f"test-{language}.{extension}"
        assert _predicted_ids(path) == _query_ids(name, language, chain.data)
