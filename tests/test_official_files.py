"""The official XTREME / XTREME-R submission files (google-research/xtreme 838c13b,
``evaluate.py``) read and scored one language at a time: what stilts writes reads back, XCOPA's
file is the official JSON-lines file, and a garbled file is named with its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stilts.errors import StiltsError
from stilts.eval import official
from stilts.eval.submission import answers_json, choice_objects, label_lines, path_for, tag_lines
from stilts.reports.benchmark import XTREME, XTREME_R
from stilts.tasks import registry


def official_read_xcopa(file):
    """evaluate.py read_xcopa (lines 63-71), verbatim."""
    labels = []
    with open(file) as f:
        for row in f:
            data = json.loads(row)
            label = data["label"]
            labels.append(label)
    return labels


def official_accuracy(labels, predictions, language=None):
    """evaluate.py accuracy (lines 81-84), verbatim."""
    correct = sum([int(p == l) for p, l in zip(predictions, labels)])  # noqa: B905, E741
    accuracy_score = float(correct) / len(predictions)
    return {"accuracy": accuracy_score * 100}


def test_xcopa_predictions_are_the_official_jsonl_file(tmp_path: Path):
    xcopa = registry.load("xcopa")
    extension, text = xcopa.submission_file([1, 0, 1], rows=None)
    assert (extension, text) == ("jsonl", '{"label": 1}\n{"label": 0}\n{"label": 1}\n')
    path = tmp_path / path_for("xcopa", "qu", extension)
    assert path.relative_to(tmp_path).as_posix() == "xcopa/" + official.TASK_FILES["xcopa"].name(
        "qu"
    )
    path.parent.mkdir()
    path.write_text(text)
    assert official_read_xcopa(path) == official.read_choices(path) == [1, 0, 1]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(choice_objects([1, 1, 1], None)[1])
    expected = official_accuracy(official_read_xcopa(gold), official_read_xcopa(path))
    score = official.TASK_FILES["xcopa"].score
    assert score(path, gold, "qu") == expected == {"accuracy": 2 / 3 * 100}


@pytest.mark.parametrize(
    ("write", "predictions", "read", "expected"),
    [
        (label_lines(("0", "1")), [1, 0, 1], official.read_labels, ["1", "0", "1"]),
        (label_lines(("entailment", "neutral")), [1, 0], official.read_labels,
         ["neutral", "entailment"]),
        (tag_lines, [["B-PER", "I-PER", "O"], ["NOUN"]], official.read_tags,
         [["B-PER", "I-PER", "O"], ["NOUN"]]),
        (answers_json, ["Paris", ""], official.read_answers, {"q1": "Paris", "q2": ""}),
        (choice_objects, [1, 0], official.read_choices, [1, 0]),
    ],
    ids=["pawsx", "xnli", "tags", "qa", "xcopa"],
)  # fmt: skip
def test_every_stilts_submission_file_reads_back(tmp_path, write, predictions, read, expected):
    extension, text = write(predictions, {"id": ["q1", "q2"]})
    path = tmp_path / f"test-en.{extension}"
    path.write_text(text)
    assert read(path) == expected


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("test-en.tsv", "entailment\n\nneutral\n", "line 2 is empty"),
        ("test-en.tsv", b"entailment\n\xff\n", "not UTF-8 text"),
        ("pairs.tsv", "de-1\ten-1\nde-2 en-2\n", "line 2 is 'de-2 en-2', not SOURCE_ID<TAB>"),
        ("test-et.jsonl", '{"label": 1}\n{"label": true}\n', 'line 2 is \'{"label": true}\''),
        ("test-et.jsonl", '{"label": 1}\n\n', "line 2 is '', not {\"label\": INDEX}"),
        ("labels.json", '[{"paragraphs": [{"qas": [{"id": "q"}]}]}]', "missing 'answers'"),
        ("labels.json", '{"data": [{"paragraphs": [{"qas": [{"id": "q", "answers": []}]}]}]}',
         "question 'q' has no answer texts"),
        ("answers.json", '{"q": ["a"]}', "not a JSON object from question id to answer text"),
        ("answers.json", '{"q": "a",}', "not valid JSON (line 1"),
        ("rankings.json", '{"e": "Q1"}', "not a JSON object from example id to a list"),
    ],
)  # fmt: skip
def test_a_garbled_file_is_named_with_its_line(tmp_path: Path, name: str, text, needle: str):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    readers = {
        ".tsv": official.read_pairs if name == "pairs.tsv" else official.read_labels,
        ".jsonl": official.read_choices,
    }
    json_readers = {"labels.json": official.read_questions, "answers.json": official.read_answers,
                    "rankings.json": official.read_rankings}  # fmt: skip
    read = json_readers.get(name) or readers[path.suffix]
    with pytest.raises(StiltsError) as error:
        read(path)
    assert str(error.value).startswith(f"{path}: ") and needle in str(error.value)


def test_tagged_sentences_of_another_length_are_refused_not_flattened(tmp_path: Path):
    gold, predicted = tmp_path / "gold.tsv", tmp_path / "predicted.tsv"
    gold.write_text("B-PER\nI-PER\n\nO\n")
    predicted.write_text("B-PER\n\nI-PER\nO\n")  # same tags, sentence break moved
    with pytest.raises(StiltsError, match="sentence 0 has 1 predicted tags, 2 gold"):
        official.score_tags(predicted, gold, "en")


def test_an_unanswered_question_scores_zero_even_where_an_empty_answer_would_match(tmp_path):
    """SQuAD's evaluate skips a missing id (0, still counted); '' matches a gold 'the'."""
    labels = tmp_path / "labels.json"
    qas = [{"id": "a", "answers": [{"text": "the"}]}, {"id": "b", "answers": [{"text": "x"}]}]
    labels.write_text(json.dumps({"data": [{"paragraphs": [{"qas": qas}]}]}))
    unanswered, empty = tmp_path / "unanswered.json", tmp_path / "empty.json"
    unanswered.write_text('{"b": "x"}')
    empty.write_text('{"a": "", "b": "x"}')
    score = official.TASK_FILES["xquad"].score
    assert score(unanswered, labels, "en") == {"exact_match": 50.0, "f1": 50.0}
    assert score(empty, labels, "en")["exact_match"] == 100.0


def test_every_task_the_official_code_scores_has_its_files():
    officially_scored = {t.name for b in (XTREME, XTREME_R) for t in b.tasks if t.official}
    assert officially_scored == set(official.TASK_FILES)  # all but LAReQA
    suffixes = {task: files.suffix for task, files in official.TASK_FILES.items()}
    assert suffixes == {  # evaluate.py get_suffix, lines 239-245
        "pawsx": "tsv", "xnli": "tsv", "panx": "tsv", "udpos": "tsv", "bucc2018": "tsv",
        "tatoeba": "tsv", "xquad": "json", "mewslix": "json", "mlqa": "json", "tydiqa": "json",
        "xcopa": "jsonl",
    }  # fmt: skip
