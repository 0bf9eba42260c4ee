"""A finished phase's model directory, and how one task's model is read back from it.

A single-task phase saves its head model as transformers does; a multi-task phase saves the
shared encoder with one head per task beside it (`stilts.runtime.multitask.model`); either
may carry an adapter stack (`stilts.runtime.adapters`). Evaluation reads all of them through
`load_trained`, so it need not know which kind of phase trained the model.
"""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig, PreTrainedModel

from stilts.runtime.adapters import apply_stack, encoder_of, load_phase_model
from stilts.runtime.multitask.model import HEADS, is_multitask, load_task_model
from stilts.runtime.training import ModelSource, model_errors
from stilts.tasks.task import Task


def load_trained(
    task: Task, model_dir: Path, *, trust_remote_code: bool = False
) -> PreTrainedModel:
    """`task`'s trained model (head and adapter stack included) from the phase model at
    `model_dir`, in evaluation mode."""
    if not is_multitask(model_dir):
        return load_phase_model(task.head, model_dir, trust_remote_code=trust_remote_code)
    model = load_task_model(model_dir, task, trust_remote_code=trust_remote_code)
    apply_stack(encoder_of(model), model_dir)
    return model.eval()


def trained_architecture(task: Task, source: ModelSource) -> str:
    """The architecture of `task`'s head model in `source` (a phase model, a checkpoint or a
    hub model), as its config records it."""
    where = source.name
    if is_multitask(Path(where)):
        where = str(Path(where) / HEADS / task.name)
        if not Path(where).is_dir():
            return "a multi-task model without this task's head"
    with model_errors(source):
        config = AutoConfig.from_pretrained(
            where, revision=source.revision, trust_remote_code=source.trust_remote_code
        )
    return (config.architectures or ["an unknown architecture"])[0]
