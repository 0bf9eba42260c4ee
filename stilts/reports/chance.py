"""The score a model would get by guessing, to read a small result against."""

from __future__ import annotations

from stilts.tasks import registry
from stilts.tasks.heads import MultipleChoice, SequenceClassification


def chance_level(task_name: str, metric: str) -> float | None:
    """The accuracy of guessing uniformly for a classification or multiple-choice task (its
    expectation, ×100); None for other tasks and metrics, whose chance level depends on the
    data (F1 of guessed tags or spans)."""
    if metric != "accuracy":
        return None
    head = registry.load(task_name).head
    if isinstance(head, SequenceClassification):
        return 100 / len(head.labels)
    if isinstance(head, MultipleChoice):
        return 100 / head.num_choices
    return None
