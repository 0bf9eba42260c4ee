"""A phase records its whole loss and time however many runs trained it, and a phase that
trained nothing is never stored."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from transformers import TrainerCallback

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.bundled_model import materialize
from stilts.runtime.options import RunOptions
from stilts.runtime.runner import Runner
from stilts.runtime.totals import mean_loss
from stilts.runtime.training import ModelSource, train_phase
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST, Store

CONFIG = ChainConfig(phases=("xnli",), select="last", hyperparameters={"epochs": 1})
"""One short phase keeping its last weights: its final checkpoint stays until it is published."""


class Interrupted(Exception):
    """Stands for the run being killed as its phase's training ends."""


class InterruptAtTrainEnd(TrainerCallback):
    """Ends the run once Trainer has written the final checkpoint, before the phase is
    published; keeps how long the training loop took."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.began = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.seconds = time.perf_counter() - self.began
        raise Interrupted


def phase_record(store: Path) -> dict:
    (phase,) = plan(CONFIG).phases
    return read_json(Store(store).phase_dir(phase.name, phase.fingerprint) / PHASE_MANIFEST)


def test_a_phase_resumed_from_its_final_checkpoint_keeps_its_loss_and_time(tmp_path):
    """Resumed at its last step, the phase trains no step more: its loss and time are those of
    the run that trained it (not 0.0 and a fraction of a second), and its results are the same."""
    unbroken = Runner(Store(tmp_path / "unbroken")).run(plan(CONFIG)).result
    store = Store(tmp_path / "resumed")
    interrupt = InterruptAtTrainEnd()
    with pytest.raises(Interrupted):
        Runner(store, RunOptions(callbacks=(interrupt,))).run(plan(CONFIG))
    assert list(store.root.glob("phases/*/checkpoints/checkpoint-*"))  # its final checkpoint
    resumed = Runner(store).run(plan(CONFIG)).result
    record, reference = phase_record(store.root), phase_record(tmp_path / "unbroken")
    assert record["selection"]["steps"] == reference["selection"]["steps"] > 0
    assert record["train_loss"] == reference["train_loss"] > 0
    assert record["seconds"]["train"] >= 0.8 * interrupt.seconds
    assert resumed == unbroken


def test_the_mean_loss_weighs_each_logged_interval_by_its_steps():
    """Logs of a phase resumed at step 30: Trainer logs every 50 steps, and at each checkpoint
    (30, 60) and the end (70), so each interval's mean counts for its steps."""
    logs = [
        {"loss": 4.0, "step": 30},
        {"eval_accuracy": 50.0, "step": 30},
        {"loss": 2.0, "step": 50},
        {"loss": 1.0, "step": 60},
        {"loss": 0.5, "step": 70},
        {"train_loss": 9.9, "step": 70},
    ]
    assert mean_loss(logs) == pytest.approx((4.0 * 30 + 2.0 * 20 + 1.0 * 10 + 0.5 * 10) / 70)


def test_a_phase_that_trains_no_step_is_refused_and_not_published(tmp_path):
    """0 epochs: Trainer runs no optimiser step. Such a phase would be reused by its
    fingerprint as if trained; it is an error instead, and nothing is published."""
    store = Store(tmp_path)
    chain = plan(CONFIG)
    (phase,) = chain.phases
    members = [member.bound(chain.data) for member in phase.members]
    phase_dir = store.phase_dir(phase.name, phase.fingerprint)
    with pytest.raises(StiltsError, match=r"phase xnli trained 0 optimiser steps .*0 epochs"):
        train_phase(
            members, ModelSource(str(materialize(store))), chain.data,
            replace(phase.hyperparameters, epochs=0.0), chain.config.seed, phase_dir,
            RunOptions(),
        )  # fmt: skip
    assert not (phase_dir / "model").exists()
