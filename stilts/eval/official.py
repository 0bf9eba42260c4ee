"""One language's submission file scored against its label file, as the official XTREME scorer
reads and scores them, so that stilts can score any system's submission, not only its own.

Followed: google-research/xtreme ``evaluate.py`` at commit 838c13b: the readers ``read_tag``,
``read_label``, ``read_squad`` and ``read_xcopa`` (lines 31-71), ``READER_FUNCTION`` and
``METRIC_FUNCTION`` (185-212), ``evaluate_one_task`` (215-236) and ``get_suffix`` (239-245).
The metrics are stilts' own re-implementations of the official ones (`stilts.eval.metrics`,
`.tagging`, `.qa`, `.retrieval`); on the official mock suite every figure equals the official
output bit for bit (tests/test_score.py).

Where the official code would crash with a traceback or silently mis-score, a `StiltsError`
names the file and the line instead: a file that is not UTF-8 or not the format, an empty label
line, a label count that differs from the label file's (the official ``assert``, which it
skips for BUCC, Mewsli-X and QA, where a missing prediction simply scores 0), and tagged
sentences whose lengths differ from the gold (seqeval would flatten them out of step). Valid
files score exactly as there.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stilts.errors import StiltsError
from stilts.eval.metrics import accuracy
from stilts.eval.qa import mlqa_scores, squad_scores
from stilts.eval.retrieval import map_at_k, set_f1
from stilts.eval.tagging import chunk_f1

T = TypeVar("T")
FileScorer = Callable[[Path, Path, str], dict[str, float]]
"""(prediction file, label file, language) -> that language's scores ×100."""

MEWSLIX_TOP_K = 20
"""evaluate.py ``mewslix_map20`` scores the top 20 (line 114)."""


def _text(path: Path) -> str:
    """The file's text, newlines read as ``open(path)`` reads them (universal newlines)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise StiltsError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except OSError as error:
        raise StiltsError(f"{path}: cannot be read ({error.strerror})") from None


def _lines(path: Path) -> list[str]:
    """The file's lines as ``for line in open(path)`` gives them, each stripped."""
    return [line.strip() for line in io.StringIO(_text(path))]


def _json(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as error:
        raise StiltsError(f"{path}: not valid JSON (line {error.lineno}: {error.msg})") from None


def read_labels(path: Path) -> list[str]:
    """One label a line (``read_label``): XNLI, PAWS-X, Tatoeba."""
    lines = _lines(path)
    for number, line in enumerate(lines, start=1):
        if not line:
            raise StiltsError(f"{path}: line {number} is empty; each line holds one label")
    return lines


def read_tags(path: Path) -> list[list[str]]:
    """One tag a line, a blank line after each sentence (``read_tag``): UD-POS, PAN-X."""
    sentences: list[list[str]] = []
    sentence: list[str] = []
    for line in _lines(path):
        if line:
            sentence.append(line)
        else:
            sentences.append(sentence)
            sentence = []
    if sentence:
        sentences.append(sentence)
    return sentences


def read_pairs(path: Path) -> set[tuple[str, str]]:
    """One ``SOURCE_ID<TAB>TARGET_ID`` pair a line (``read_label`` and ``bucc_f1``): BUCC."""
    pairs = set()
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split("\t")
        if len(fields) != 2 or not all(fields):
            raise StiltsError(f"{path}: line {number} is {line!r}, not SOURCE_ID<TAB>TARGET_ID")
        pairs.add((fields[0], fields[1]))
    return pairs


def read_choices(path: Path) -> list[int]:
    """One ``{"label": INDEX}`` JSON object a line (``read_xcopa``; what ``run_xcopa.py``
    writes, lines 425-429): XCOPA."""
    choices = []
    for number, line in enumerate(_lines(path), start=1):
        try:
            label = json.loads(line)["label"]
        except (json.JSONDecodeError, TypeError, KeyError):
            label = None
        if type(label) is not int:
            raise StiltsError(f'{path}: line {number} is {line!r}, not {{"label": INDEX}}')
        choices.append(label)
    return choices


def read_questions(path: Path) -> list[tuple[str, list[str]]]:
    """(question id, gold answer texts) of a SQuAD-format label file (``read_squad``: its
    ``data``, or the whole file when it is the list of articles), in file order."""
    data = _json(path)
    articles = data["data"] if isinstance(data, dict) and "data" in data else data
    try:
        questions = [
            (qa["id"], [answer["text"] for answer in qa["answers"]])
            for article in articles
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        ]
    except (KeyError, TypeError) as error:
        raise StiltsError(
            f"{path}: not SQuAD-format labels (articles of paragraphs of qas with an id and "
            f"answer texts; missing {error})"
        ) from None
    for question, answers in questions:
        if not isinstance(question, str):
            raise StiltsError(f"{path}: question id {question!r} is not a string")
        if not answers or not all(isinstance(text, str) for text in answers):
            raise StiltsError(f"{path}: question {question!r} has no answer texts")
    return questions


def read_answers(path: Path) -> dict[str, str]:
    """A JSON object from question id to answer text (SQuAD's prediction file)."""
    answers = _json(path)
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise StiltsError(f"{path}: not a JSON object from question id to answer text")
    return answers


def read_rankings(path: Path) -> dict[str, list[str]]:
    """A JSON object from example id to a list of entity ids (Mewsli-X: the ranked predictions,
    or the gold as a one-item list)."""
    rankings = _json(path)
    if not isinstance(rankings, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in rankings.values()
    ):
        raise StiltsError(f"{path}: not a JSON object from example id to a list of entity ids")
    return rankings


def _same_count(prediction: Path, predicted: int, label: Path, gold: int, unit: str) -> None:
    """The official ``assert len(predictions) == len(labels)`` (evaluate.py line 232), as a
    message: zip would otherwise score only the shorter file's length."""
    if predicted != gold:
        raise StiltsError(f"{prediction}: {predicted} {unit}, but {label} has {gold}")


def _scored(prediction: Path, label: Path, score: Callable[[], T]) -> T:
    """`score()`, its ValueError (inputs a metric refuses) as a message naming the files."""
    try:
        return score()
    except ValueError as error:
        raise StiltsError(f"{prediction} against {label}: {error}") from None


def _accuracy_scorer(read: Callable[[Path], Sequence[str | int]]) -> FileScorer:
    """``accuracy`` over the labels `read` finds, one a line (XNLI, PAWS-X, Tatoeba, XCOPA)."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        predicted, gold = read(prediction), read(label)
        _same_count(prediction, len(predicted), label, len(gold), "lines")
        return _scored(prediction, label, lambda: accuracy(predicted, gold, language))

    return score


def score_tags(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """seqeval's chunk ``f1``, precision and recall (UD-POS, PAN-X)."""
    predicted, gold = read_tags(prediction), read_tags(label)
    _same_count(prediction, len(predicted), label, len(gold), "sentences")
    return _scored(prediction, label, lambda: chunk_f1(predicted, gold, language))


def score_pairs(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """``bucc_f1`` over the sets of pairs (BUCC 2018)."""
    return set_f1(read_pairs(prediction), read_pairs(label))


def _qa_scorer(metric: Callable[..., dict[str, float]]) -> FileScorer:
    """Exact match and F1 of every labelled question; one without an answer in the prediction
    file scores 0 and stays in the denominator (``evaluate`` in evaluate_squad.py and
    evaluate_mlqa.py); answers to questions not in the labels are ignored."""

    def score(prediction: Path, label: Path, language: str) -> dict[str, float]:
        answers, questions = read_answers(prediction), read_questions(label)
        predicted = [answers.get(question) for question, _ in questions]
        gold = [texts for _, texts in questions]
        return _scored(prediction, label, lambda: metric(predicted, gold, language))

    return score


def score_rankings(prediction: Path, label: Path, language: str) -> dict[str, float]:
    """``mewslix_map20``: MRR@20 against each example's one gold entity, 0 for an example
    without predictions (``utils_mewslix.evaluate``; equal to mAP@20 with one gold)."""
    rankings, gold = read_rankings(prediction), read_rankings(label)
    for example, entities in gold.items():
        if not entities:
            raise StiltsError(f"{label}: example {example!r} has no gold entity")
    examples = list(gold)
    value = _scored(
        prediction,
        label,
        lambda: map_at_k(
            [rankings.get(example, []) for example in examples],
            [{gold[example][0].strip()} for example in examples],
            k=MEWSLIX_TOP_K,
        ),
    )
    return {"map@20": value}


@dataclass(frozen=True)
class TaskFiles:
    """How the official scorer names and scores one task's per-language files."""

    suffix: str
    """``get_suffix``: json for QA and Mewsli-X, jsonl for XCOPA (XTREME-R's multiple-choice
    group), tsv for the rest."""
    score: FileScorer

    def name(self, language: str) -> str:
        """The file of `language` in the task's folder (evaluate.py lines 275-277)."""
        return f"test-{language}.{self.suffix}"


TASK_FILES: dict[str, TaskFiles] = {
    "pawsx": TaskFiles("tsv", _accuracy_scorer(read_labels)),
    "xnli": TaskFiles("tsv", _accuracy_scorer(read_labels)),
    "panx": TaskFiles("tsv", score_tags),
    "udpos": TaskFiles("tsv", score_tags),
    "bucc2018": TaskFiles("tsv", score_pairs),
    "tatoeba": TaskFiles("tsv", _accuracy_scorer(read_labels)),
    "xquad": TaskFiles("json", _qa_scorer(squad_scores)),
    "mewslix": TaskFiles("json", score_rankings),
    "mlqa": TaskFiles("json", _qa_scorer(mlqa_scores)),
    "tydiqa": TaskFiles("json", _qa_scorer(squad_scores)),
    "xcopa": TaskFiles("jsonl", _accuracy_scorer(read_choices)),
}
"""Every task whose files the official scorer reads (``READER_FUNCTION``, in its order)."""
