"""Model selection on the English dev set, as jiant ran the study, through Trainer's own loop.

A phase that selects (`Selection.best`) is evaluated every ``every`` steps and at its end on
the first ``rows`` rows of each task's training-language dev set; Trainer keeps the
best-scoring checkpoint (`load_best_model_at_end`), and `EarlyStoppingCallback` ends training
after ``patience`` evaluations without improvement. The score is the task's main metric,
computed by the same head decoding and metric as the phase's final scores, or a multi-task
phase's dev aggregate over its tasks' main metrics (jiant: `JiantMetarunner.eval_save`).

Checkpoints are written at each evaluation: Trainer can only return to a step it saved, and a
run killed mid-phase resumes with its best-so-far checkpoint, best score and patience count
(restored from ``trainer_state.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
from transformers import EarlyStoppingCallback, EvalPrediction, TrainerCallback, TrainerState

from stilts.experiment.plan import PhaseTask
from stilts.experiment.specs import DevAggregate, Selection
from stilts.runtime.features import tokenized
from stilts.runtime.multitask.stream import EVAL_LABELS, TASK_INDEX, model_inputs
from stilts.tasks.data import DataLocator
from stilts.tasks.task import Task

AGGREGATE = "dev_aggregate"
"""The name of a multi-task phase's selection score among its evaluation metrics."""


@dataclass(frozen=True)
class DevSubset:
    """The rows a task is selected on, and their model features."""

    task: Task
    rows: datasets.Dataset
    features: datasets.Dataset

    def score(self, outputs: Any) -> float:
        """The task's main metric on these rows, from the model's (reduced) outputs."""
        task = self.task
        predictions = task.head.decode(outputs, self.features, self.rows)
        scores = task.metric(predictions, task.head.references(self.rows), task.train_language)
        return scores[task.main_metric]


def dev_subset(member: PhaseTask, data: DataLocator, tokenizer: Any, rows: int) -> DevSubset:
    """The first `rows` rows of the member's training-language dev set (jiant's subset)."""
    task = member.trained_task
    table = task.read("dev", task.train_language, data)
    table = table.select(range(min(rows, table.num_rows)))
    return DevSubset(
        task, table, tokenized(task, table, tokenizer, member.hyperparameters.max_length)
    )


@dataclass(frozen=True)
class SelectionSetup:
    """What a selecting phase hands Trainer: arguments, evaluation data, scoring, callbacks."""

    arguments: dict[str, Any]
    trainer: dict[str, Any]
    """Trainer's keyword arguments: eval_dataset, compute_metrics, the per-batch reduction."""
    callbacks: tuple[TrainerCallback, ...]
    metric: str
    """The key of the selection score in Trainer's evaluation logs."""


def single_task_setup(subset: DevSubset, selection: Selection) -> SelectionSetup:
    task = subset.task

    def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
        return {task.main_metric: subset.score(prediction.predictions)}

    return _setup(
        selection,
        metric=task.main_metric,
        eval_dataset=subset.features,
        compute_metrics=compute_metrics,
        preprocess_logits_for_metrics=task.head.reduce_outputs,
    )


def multitask_setup(
    subsets: Sequence[DevSubset],
    heads: Mapping[str, Any],
    selection: Selection,
    aggregate: DevAggregate,
) -> SelectionSetup:
    """Selection on a multi-task phase's dev aggregate.

    Trainer evaluates a mapping of datasets one after another, in its order, each with the
    same `compute_metrics`; every batch carries its task's index, which Trainer hands over as a
    label (`label_names`), so the per-batch reduction and the scoring know their task. The
    last task's scoring adds the aggregate of the round's scores, under
    ``eval_<last task>_dev_aggregate``.
    """
    names = [subset.task.name for subset in subsets]
    last = names[-1]
    round_scores: dict[str, float] = {}

    def reduce_outputs(logits: Any, labels: Any) -> Any:
        task_index, own_labels = labels
        return subsets[int(task_index[0])].task.head.reduce_outputs(logits, own_labels)

    def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
        task_indices = prediction.label_ids[0]
        subset = subsets[int(task_indices[0])]
        name = subset.task.name
        round_scores[name] = subset.score(prediction.predictions)
        metrics = {subset.task.main_metric: round_scores[name]}
        if name == last:
            metrics[AGGREGATE] = aggregate({task: round_scores[task] for task in names})
            round_scores.clear()
        return metrics

    eval_dataset = {
        subset.task.name: model_inputs(subset.features, heads[subset.task.name]).add_column(
            TASK_INDEX, [index] * subset.features.num_rows
        )
        for index, subset in enumerate(subsets)
    }
    return _setup(
        selection,
        metric=f"eval_{last}_{AGGREGATE}",
        eval_dataset=eval_dataset,
        compute_metrics=compute_metrics,
        preprocess_logits_for_metrics=reduce_outputs,
        label_names=[TASK_INDEX, EVAL_LABELS],
    )


def _setup(
    selection: Selection,
    *,
    metric: str,
    eval_dataset: Any,
    compute_metrics: Callable[[EvalPrediction], dict[str, float]],
    preprocess_logits_for_metrics: Callable[[Any, Any], Any],
    label_names: list[str] | None = None,
) -> SelectionSetup:
    assert selection.every is not None and selection.patience is not None
    arguments: dict[str, Any] = {
        "eval_strategy": "steps",
        "eval_steps": selection.every,
        "save_steps": selection.every,
        "load_best_model_at_end": True,
        "metric_for_best_model": metric,
        "greater_is_better": True,  # every task's main metric is a score, ×100
    }
    if label_names is not None:
        arguments["label_names"] = label_names
    callbacks = (EarlyStoppingCallback(selection.patience),) if selection.patience else ()
    trainer = {
        "eval_dataset": eval_dataset,
        "compute_metrics": compute_metrics,
        "preprocess_logits_for_metrics": preprocess_logits_for_metrics,
    }
    key = metric if metric.startswith("eval_") else f"eval_{metric}"
    return SelectionSetup(arguments, trainer, callbacks, key)


def selection_record(
    selection: Selection, state: TrainerState, metric: str | None
) -> dict[str, Any]:
    """What phase.json says of the selection: how, the dev curve, the step whose weights were
    kept, and whether training stopped early."""
    record: dict[str, Any] = {"select": selection.short(), "steps": state.global_step}
    if metric is None:
        return {**record, "selected_step": state.global_step, "curve": []}
    curve = [
        {"step": entry["step"], "score": entry[metric]}
        for entry in state.log_history
        if metric in entry
    ]
    return {
        **record,
        "metric": metric.removeprefix("eval_"),
        "curve": curve,
        "selected_step": state.best_global_step,
        "best_score": state.best_metric,
        "stopped_early": state.global_step < state.max_steps,
    }
