"""Task similarity under a pretrained encoder: what `stilts analyze similarity` measures.

Each task is represented by `examples` model inputs (sequences) built from its English
training rows, by the task's own tokenisation (`Task.tokenize`), so every head kind counts as
the model sees it in training. Two measures compare every two tasks: the cosine between the
tasks' representation centroids, and Task2Vec's Fisher similarity (the question and its
measures are described in full in `stilts.reports.analysis.similarity`, which correlates them
with the gains). Computing them runs the model, so it lives in the runtime; vectors are cached
on disk, keyed by everything that decides them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import DataCollatorForLanguageModeling

from stilts.errors import StiltsError
from stilts.experiment.revisions import model_identity
from stilts.runtime.features import subsample, tokenized
from stilts.runtime.training import ModelSource, load_tokenizer
from stilts.store.files import fingerprint, write_bytes
from stilts.tasks.data import DataLocator
from stilts.tasks.heads.masked_lm import pretrained_masked_lm
from stilts.tasks.task import AnyTask, Task

MLM_PROBABILITY = 0.15


SEED = 0
"""Draws the rows and the masks: the same vectors on every run."""


VECTORS_VERSION = 1  # bump when the computation of `TaskVectors` changes (cached files)


@dataclass(frozen=True)
class TaskVectors:
    """What the similarities compare, for one task (see the module's notes)."""

    centroid: np.ndarray
    fisher: np.ndarray
    sequences: int
    """Sequences behind the vectors: `examples`, or fewer when the training data runs out."""


def task_vectors(
    source: ModelSource,
    tasks: Sequence[AnyTask],
    data: DataLocator,
    *,
    examples: int,
    max_length: int,
    fisher_layers: int,
    cache: Path | None = None,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[str, TaskVectors]:
    """Each task's vectors, read from `cache` (a directory) when an earlier call computed them
    with the same model, data and settings; the model is loaded only if one is missing."""
    trained: list[Task] = []
    for task in tasks:
        if not isinstance(task, Task):
            raise StiltsError(f"{task.name} has no training data to compare (it is not trained)")
        trained.append(task)
    if examples < 1 or fisher_layers < 1:
        raise StiltsError("similarities need at least one example and one layer")
    settings = {"examples": examples, "max_length": max_length, "fisher_layers": fisher_layers}
    files = {}
    if cache is not None:
        model = model_identity(source.name, source.revision)  # as a chain's start
        for task in trained:
            key = fingerprint({
                "version": VECTORS_VERSION, "model": model, "task": task.name,
                "head": task.head.spec(), "data": [data.identity(s) for s in task.sources],
                **settings,
            })  # fmt: skip
            files[task.name] = cache / f"{task.name}-{key[:12]}.npz"
    found = {name: _read_vectors(path) for name, path in files.items() if path.is_file()}
    missing = [task for task in trained if task.name not in found]
    if missing:
        found.update(_compute(source, missing, data, examples, max_length, fisher_layers, log))
        for task in missing:
            if task.name in files:
                _write_vectors(files[task.name], found[task.name])
    return found


def _compute(
    source: ModelSource,
    tasks: Sequence[Task],
    data: DataLocator,
    examples: int,
    max_length: int,
    fisher_layers: int,
    log: Callable[[str], None],
) -> dict[str, TaskVectors]:
    tokenizer = load_tokenizer(source)
    model = pretrained_masked_lm(source)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # eval: no dropout, so the same inputs give the same gradients. (The ignore: transformers
    # wraps `to` with functools.wraps(Module.to), whose typeshed signature is the unbound one,
    # so mypy takes `device` for `self`.)
    model.to(device).eval()  # type: ignore[arg-type]
    parameters = _top_layers(model, fisher_layers)
    chosen = {id(parameter) for parameter in parameters}
    for parameter in model.parameters():
        parameter.requires_grad_(id(parameter) in chosen)  # no graph below the top layers
    found = {}
    for task in tasks:
        log(f"similarity: {task.name} ({examples} sequences)")
        sequences = _sequences(task, data, tokenizer, examples, max_length)
        if not sequences:
            raise StiltsError(f"{task.name}'s training rows give no sequence to compare")
        found[task.name] = TaskVectors(
            _centroid(model, tokenizer, sequences, device),
            _fisher(model, tokenizer, sequences, parameters, device),
            len(sequences),
        )
    return found


def _top_layers(model: Any, layers: int) -> list[Any]:
    """The parameters of the encoder's top `layers` transformer layers (names with
    ``layer.N.``, as BERT-family encoders number them)."""
    numbered = []
    for name, parameter in model.base_model.named_parameters():
        match = re.search(r"(?:^|\.)layers?\.(\d+)\.", name)
        if match:
            numbered.append((int(match.group(1)), parameter))
    if not numbered:
        raise StiltsError(f"{type(model).__name__} has no numbered layers to take a Fisher of")
    depth = max(index for index, _ in numbered) + 1
    if layers > depth:
        raise StiltsError(f"--fisher-layers {layers}: the encoder has {depth} layers")
    return [parameter for index, parameter in numbered if index >= depth - layers]


def _sequences(
    task: Task, data: DataLocator, tokenizer: Any, examples: int, max_length: int
) -> list[dict[str, list[int]]]:
    """The first `examples` model inputs of a seeded shuffle of the English training rows
    (more rows are drawn while they give too few: MLM rows pack into fewer blocks)."""
    rows = task.read("train", task.train_language, data)
    drawn = examples
    while True:
        features = tokenized(task, subsample(rows, drawn, SEED), tokenizer, max_length)
        names = [name for name in tokenizer.model_input_names if name in features.column_names]
        if "input_ids" not in names:
            raise StiltsError(f"{task.name}'s tokenisation gives no input_ids")
        sequences = []
        for row in features.select_columns(names):
            if row["input_ids"] and isinstance(row["input_ids"][0], list):  # one per choice
                sequences += [{n: row[n][k] for n in names} for k in range(len(row["input_ids"]))]
            else:
                sequences.append(row)
        if len(sequences) >= examples or drawn >= rows.num_rows:
            return sequences[:examples]
        drawn *= 4


def _centroid(
    model: Any, tokenizer: Any, sequences: list[dict[str, Any]], device: Any
) -> np.ndarray:
    """The mean of the sequences' unit embeddings (last layer, mean over non-padding tokens)."""
    total = torch.zeros(model.config.hidden_size, dtype=torch.float64)
    order = sorted(sequences, key=lambda s: -len(s["input_ids"]))  # little padding per batch
    with torch.inference_mode():
        for start in range(0, len(order), 32):
            inputs = tokenizer.pad(order[start : start + 32], return_tensors="pt").to(device)
            hidden = model.base_model(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
            total += torch.nn.functional.normalize(mean.float(), dim=-1).sum(dim=0).double().cpu()
    return (total / len(sequences)).numpy()


def _fisher(
    model: Any, tokenizer: Any, sequences: list[dict[str, Any]], parameters: list[Any], device: Any
) -> np.ndarray:
    """The diagonal empirical Fisher of the masked-LM loss over `parameters`, one sequence per
    gradient, averaged per output unit (a matrix's row; a vector's element)."""
    masker = DataCollatorForLanguageModeling(tokenizer, mlm_probability=MLM_PROBABILITY)
    masker.generator = torch.Generator().manual_seed(SEED)
    sums = [torch.zeros_like(p, dtype=torch.float32) for p in parameters]
    counted = 0
    for sequence in sequences:
        inputs = {name: torch.tensor([values]) for name, values in sequence.items()}
        inputs["input_ids"], labels = masker.torch_mask_tokens(inputs["input_ids"])
        if not (labels != -100).any():  # too short to mask a token: no loss to differentiate
            continue
        inputs = {name: values.to(device) for name, values in inputs.items()}
        loss = model(**inputs, labels=labels.to(device)).loss
        for total, grad in zip(sums, torch.autograd.grad(loss, parameters), strict=True):
            total += grad.float() ** 2
        counted += 1
    if not counted:
        raise StiltsError("no sequence was long enough to mask a token")
    units = [(total / counted).reshape(total.shape[0], -1).mean(dim=1) for total in sums]
    return torch.cat(units).double().cpu().numpy()


def _read_vectors(path: Path) -> TaskVectors:
    with np.load(path) as saved:
        return TaskVectors(saved["centroid"], saved["fisher"], int(saved["sequences"]))


def _write_vectors(path: Path, vectors: TaskVectors) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, centroid=vectors.centroid, fisher=vectors.fisher,
             sequences=np.array(vectors.sequences))  # fmt: skip
    write_bytes(path, buffer.getvalue())
