"""Predictions in the official XTREME / XTREME-R submission layout, so a user can submit them or
score them with the official scripts or `stilts score`:
``predictions/{task}/test-{language}.{tsv|json|jsonl}``.

Each head writes its own form (one label per line, one tag per line with a blank line after
each sentence, or a JSON object from question id to answer text); a task whose official
files spell labels differently (PAWS-X's "0"/"1") or take another form (XCOPA's JSON lines)
passes its own writer. `stilts.eval.official` reads every one of these forms back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datasets

Submission = tuple[str, str]
"""(file extension, file text) of one language's predictions."""
Writer = Callable[[list[Any], "datasets.Dataset"], Submission]
"""(predictions decoded by the head, the rows they belong to) -> one language's file."""


def label_lines(names: Sequence[Any] | None = None) -> Writer:
    """One prediction per line: `names[prediction]`, or the prediction itself."""

    def write(predictions: list[Any], rows: datasets.Dataset) -> Submission:
        shown = predictions if names is None else [names[p] for p in predictions]
        return "tsv", "".join(f"{value}\n" for value in shown)

    return write


def choice_objects(predictions: list[Any], rows: datasets.Dataset) -> Submission:
    """One ``{"label": INDEX}`` JSON object a line: XCOPA's official file, as google-research/
    xtreme ``third_party/run_xcopa.py`` writes it (838c13b, lines 425-429) and ``evaluate.py``
    ``read_xcopa`` reads it (lines 63-71)."""
    return "jsonl", "".join(json.dumps({"label": int(choice)}) + "\n" for choice in predictions)


def tag_lines(predictions: list[Any], rows: datasets.Dataset) -> Submission:
    """One tag per line, each sentence followed by a blank line (XTREME's tagging files)."""
    return "tsv", "".join("".join(f"{tag}\n" for tag in tags) + "\n" for tags in predictions)


def answers_json(predictions: list[Any], rows: datasets.Dataset) -> Submission:
    """A JSON object from question id to predicted answer text (SQuAD's prediction file)."""
    answers = dict(zip(rows["id"], predictions, strict=True))
    return "json", json.dumps(answers, ensure_ascii=False, indent=0) + "\n"


def path_for(task: str, language: str, extension: str) -> str:
    """Where one language's predictions go inside a run's ``predictions`` directory."""
    return f"{task}/test-{language}.{extension}"
