"""Experiment tracking through Trainer's own ``report_to``: a phase's training loss, its dev
curve and its final dev scores reach the tracker, here TensorBoard, offline."""

from __future__ import annotations

import pytest
from conftest import FinishedChain, own_copy
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from stilts.errors import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.experiment.precision import CPU
from stilts.runtime.engine import check_trackers
from stilts.runtime.runner import Runner
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST


def test_tensorboard_holds_the_loss_the_dev_curve_and_the_final_scores(
    mnli_xnli: FinishedChain, tmp_path
):
    settings = {"max_train_examples": 400, "max_eval_examples": 40}
    config = ChainConfig(phases=("xnli",), hyperparameters=settings, report_to=["tensorboard"])
    chain = plan(config, CPU)
    assert chain.phases[0].fingerprint == plan(config.model_copy(update={"report_to": ["none"]}),
                                               CPU).phases[0].fingerprint  # fmt: skip
    store = own_copy(mnli_xnli.store, tmp_path)  # the shared demo store keeps only the demo
    Runner(store).run(chain)
    phase = chain.phases[0]
    phase_dir = store.phase_dir(phase.name, phase.fingerprint)
    events = EventAccumulator(str(phase_dir / "logs"))
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/loss", "eval/accuracy", "eval/final/xnli/accuracy"} <= scalars
    curve = [event.step for event in events.Scalars("eval/accuracy")]
    record = read_json(phase_dir / PHASE_MANIFEST)
    assert curve == [point["step"] for point in record["selection"]["curve"]]
    (final,) = events.Scalars("eval/final/xnli/accuracy")
    assert final.value == pytest.approx(record["dev"]["en"]["accuracy"])
    assert record["training_arguments"]["run_name"] == chain.label(phase) == "xnli (seed 42)"


def test_a_tracker_trainer_does_not_know_or_lacks_is_refused():
    with pytest.raises(
        StiltsError,
        match=r"'tensorbord' is not a tracker Trainer knows \(did you mean 'tensorboard'",
    ):
        check_trackers(["tensorbord"])
    with pytest.raises(StiltsError, match=r"--report-to wandb: wandb is not installed"):
        check_trackers(["wandb"])
