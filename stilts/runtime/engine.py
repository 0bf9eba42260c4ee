"""The work the runner orders: a starting model, a trained phase, a scored target.

`stilts.runtime.runner` decides what must happen and in which store directory; this module
does it, with Trainer and the models. It is imported only once something must train or be
scored, so planning and reading finished runs never load torch.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState
from transformers import PretrainedConfig, XLMRobertaConfig

from stilts import __version__
from stilts.errors import StiltsError, did_you_mean
from stilts.experiment.plan import ChainPlan, PhaseTask, PlannedPhase
from stilts.runtime.arguments import process_state
from stilts.runtime.bundled_model import materialize
from stilts.runtime.encoder import evaluate_encoder
from stilts.runtime.options import RunOptions
from stilts.runtime.phase_model import trained_architecture
from stilts.runtime.predict import Evaluation, evaluate_languages
from stilts.runtime.provenance import hardware, package_versions
from stilts.runtime.tiny_model import TINY_CONFIG
from stilts.runtime.training import ModelSource, model_config, position_limit, train_phase
from stilts.runtime.training_rows import training_rows
from stilts.store.files import write_json
from stilts.store.integrity import FILES, Damaged, check_safetensors, files_under, recorded
from stilts.store.layout import PHASE_MANIFEST, Store
from stilts.tasks.data import DataLocator
from stilts.tasks.heads import MultipleChoice, SequenceClassification
from stilts.tasks.task import AnyTask, EncoderTask, Task

__all__ = [
    "check_head",
    "check_start",
    "dev_aggregate",
    "hardware",
    "package_versions",
    "phase_model",
    "preflight",
    "process_state",
    "score",
    "set_threads",
    "start_source",
    "train",
]


def start_source(
    chain: ChainPlan,
    store: Store,
    state: PartialState,
    on_wait: Callable[[str], None],
    on_damaged: Callable[[str], None],
) -> ModelSource:
    """The chain's starting model: the hub (at the commit its phases are fingerprinted by) or
    a local directory, or the bundled tiny model, built into the store on first use (by the
    main process, the others waiting), and again if it is damaged."""
    model = chain.config.model
    if not chain.config.bundled:
        return ModelSource(model.id, chain.model_revision, model.trust_remote_code)
    with state.main_process_first():
        return ModelSource(str(materialize(store, on_wait, on_damaged)))


def set_threads(chain: ChainPlan) -> None:
    """Train and score the bundled tiny model on one torch thread, unless OMP_NUM_THREADS
    says otherwise: its matrices are too small to gain from more, and on a small machine
    with any other load, two threads made the demo 5-10 times slower (130-374 s against
    29 s, measured when the issue was filed)."""
    if chain.config.bundled and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


def check_start(chain: ChainPlan) -> None:
    """Refuse a starting model that cannot serve before anything is built or trained: weights
    of a local copy cut off or damaged (safetensors fails on them mid-load, with no file
    named), a max length beyond its positions (the embedding lookup would fail mid-phase)."""
    local = Path(chain.config.model.id).expanduser()
    if not chain.config.bundled and local.is_dir():
        for weights in sorted(local.glob("*.safetensors")):
            try:
                check_safetensors(weights)
            except Damaged as damaged:
                raise StiltsError(
                    f"{weights} is damaged ({damaged.problem}); fetch or save the model again"
                ) from None
    check_lengths(chain)
    check_trackers(chain.config.report_to)


def check_lengths(chain: ChainPlan) -> None:
    """Refuse a max length beyond the starting model's positions (the bundled model's config
    is known before it is built)."""
    model = chain.config.model
    if chain.config.bundled:
        config: PretrainedConfig = XLMRobertaConfig(**TINY_CONFIG)
    else:
        config = model_config(ModelSource(model.id, model.revision, model.trust_remote_code))
    limit = position_limit(config)
    for phase in chain.phases:
        for member in phase.members:
            if limit is not None and member.hyperparameters.max_length > limit:
                raise StiltsError(
                    f"max_length {member.hyperparameters.max_length} of {member.task.name} is "
                    f"beyond the {limit} positions of {model.id}; set max_length (--max-length, "
                    f"or hyperparameters.max_length in a recipe) to {limit} or less"
                )


def phase_model(phase_dir: Path, trust_remote_code: bool) -> ModelSource:
    """A finished phase's model, as the next phase starts from it."""
    return ModelSource(str(phase_dir / "model"), trust_remote_code=trust_remote_code)


def preflight(chain: ChainPlan) -> None:
    """Load every table the chain will read, so bad data fails before any training."""
    for phase in chain.trained:
        for member in phase.members:
            task = member.trained_task
            _check_label_ids(task, training_rows(member.training, task, chain.data), "train")
            _check_label_ids(task, task.read("dev", task.train_language, chain.data), "dev")
    target = chain.target.task
    for language in chain.languages:
        rows = target.read(chain.split, language, chain.data)
        if isinstance(target, Task):
            _check_label_ids(target, rows, f"{chain.split} ({language})")


def _check_label_ids(task: Task, rows: Any, role: str) -> None:
    """Refuse a label id outside the head's classes before it reaches the loss (an index
    error deep in torch) or the metric (a silently wrong score)."""
    head = task.head
    if isinstance(head, SequenceClassification):
        count = len(head.labels)
    elif isinstance(head, MultipleChoice):
        count = head.num_choices
    else:  # the other heads check their labels as they map them
        return
    if "label" not in rows.column_names:
        return
    labels = rows["label"]
    bad = next((i for i, label in enumerate(labels) if not 0 <= label < count), None)
    if bad is not None:
        raise StiltsError(
            f"{task.name} {role} rows: label {labels[bad]} in row {bad} is outside the "
            f"{count} classes of its head (ids 0-{count - 1}); fix the copy's label column"
        )


def train(
    chain: ChainPlan,
    phase: PlannedPhase,
    source: ModelSource,
    start: ModelSource,
    phase_dir: Path,
    options: RunOptions | None,
    state: PartialState,
) -> dict[str, Any]:
    """Train one phase, score it on its dev sets, write its manifest; return that record."""
    options = options or RunOptions()
    if state.is_main_process:  # a retrained phase is incomplete until it is rewritten
        (phase_dir / PHASE_MANIFEST).unlink(missing_ok=True)
    members = [m.bound(chain.data) for m in phase.members]
    training = train_phase(
        members, source, chain.data, phase.hyperparameters, chain.config.seed,
        phase_dir, options, sampler=phase.sampler, start=start, adapter=phase.adapter,
        selection=phase.selection, aggregate=phase.aggregate, precision=chain.precision,
        group_by_length=phase.group_by_length, report_to=chain.config.report_to,
        run_name=chain.label(phase),  # the chain up to it, which ends in its task, and the seed
    )  # fmt: skip
    dev = {m.task.name: _dev_scores(chain, m, phase_dir, options) for m in members}
    scores = {name: evaluation.scores for name, evaluation in dev.items()}
    if chain.config.tracked:  # the whole dev set, after the curve selection drew on a subset
        training.report({
            f"eval_final/{task}/{metric}": value  # eval/final/…: Trainer files it with the curve
            for task, by_language in scores.items()
            for language_scores in by_language.values()
            for metric, value in language_scores.items()
        })  # fmt: skip
    record: dict[str, Any] = {
        "task": phase.name,
        "fingerprint": phase.fingerprint,
        "spec": phase.spec,
        "started_from": source.name,
        "train_rows": training.train_rows,
        "train_loss": training.train_loss,
        "training_arguments": training.arguments,
        "parameters": training.parameters,
        "precision": chain.precision,
        "attention": training.attention,
        "selection": training.selection,
        "dev": scores[members[0].task.name] if len(members) == 1 else scores,
        "seconds": {"train": training.seconds, "dev": sum(e.seconds for e in dev.values())},
        "data": _records_for(chain.data, phase),
        "packages": package_versions(),
        "hardware": hardware(),
        "stilts": __version__,
    }
    if training.resumed_from is not None:
        record["resumed_from_step"] = training.resumed_from
    if training.steps_per_task is not None:
        record["steps_per_task"] = training.steps_per_task
    if phase.aggregate is not None:
        record["dev_aggregate"] = dev_aggregate(phase, record["dev"])
    if state.is_main_process:  # the model as published, then the manifest that marks it whole
        record[FILES] = recorded(phase_dir, files_under(phase_dir / "model"))
        write_json(phase_dir / PHASE_MANIFEST, record)
        shutil.rmtree(phase_dir / "checkpoints", ignore_errors=True)
    return record


def check_trackers(names: list[str]) -> None:
    """Refuse a tracker Trainer does not know, or one that is not installed, before
    anything trains (Trainer would fail at the phase's start)."""
    if names in (["none"], ["all"]):
        return
    from transformers.integrations.integration_utils import (
        INTEGRATION_TO_CALLBACK,
        get_available_reporting_integrations,
    )

    for name in names:
        if name not in INTEGRATION_TO_CALLBACK:
            known = sorted(INTEGRATION_TO_CALLBACK)
            raise StiltsError(
                f"--report-to {name!r} is not a tracker Trainer knows"
                f"{did_you_mean(name, known)}; it knows {', '.join(known)} (or none, all)"
            )
        if name not in get_available_reporting_integrations():
            raise StiltsError(f"--report-to {name}: {name} is not installed (pip install {name})")


def _dev_scores(
    chain: ChainPlan, member: PhaseTask, phase_dir: Path, options: RunOptions
) -> Evaluation:
    """A phase task's score on its whole training-language dev set, with the weights the phase
    kept (selection scores a subset of it during training)."""
    task = member.trained_task
    return evaluate_languages(
        task, phase_dir / "model", "dev", [task.train_language], chain.data,
        member.hyperparameters, chain.config.seed, options, precision=chain.precision,
        trust_remote_code=chain.config.model.trust_remote_code,
    )  # fmt: skip


def dev_aggregate(phase: PlannedPhase, dev: dict[str, Any]) -> dict[str, Any]:
    """A multi-task phase's dev aggregate over its tasks' main metrics."""
    assert phase.aggregate is not None
    main = {
        m.task.name: dev[m.task.name][m.task.train_language][m.task.main_metric]
        for m in phase.members
    }
    return phase.aggregate.record(main)


def score(
    chain: ChainPlan, target: AnyTask, source: ModelSource, options: RunOptions | None
) -> Evaluation:
    """The chain's target scored zero-shot in each of its languages, on `source`: the model
    the chain trained, or a task without training data's encoder."""
    hp = chain.target.hyperparameters
    if isinstance(target, EncoderTask):
        return evaluate_encoder(target, source, chain.languages, chain.data, hp, chain.precision)
    return evaluate_languages(
        target, Path(source.name), chain.split, chain.languages, chain.data, hp,
        chain.config.seed, options or RunOptions(), precision=chain.precision,
        trust_remote_code=source.trust_remote_code,
    )  # fmt: skip


def check_head(task: Task, source: ModelSource) -> None:
    """Refuse a model without `task`'s trained head: transformers would fill a missing head
    with random weights and score it."""
    found = trained_architecture(task, source)
    if not task.head.trained_in(found):
        raise StiltsError(
            f"{source.name} has no trained {task.head.kind} head for {task.name} ({found}), so "
            f"it cannot be scored on it; train one with `stilts chain … {task.name}` and "
            "evaluate that run"
        )


def _records_for(data: DataLocator, phase: PlannedPhase) -> list[dict[str, Any]]:
    repos = {source.repo for m in phase.members for source in m.training.sources(m.trained_task)}
    return [record for record in data.records() if record["repo"] in repos]
