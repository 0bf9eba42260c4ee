"""Evaluate an encoder as it is, for tasks without training data (BUCC, Tatoeba)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from transformers import AutoModel

from stilts.experiment.precision import FULL, Resolved
from stilts.runtime.adapters import apply_stack
from stilts.runtime.arguments import process_state
from stilts.runtime.predict import Evaluation
from stilts.runtime.training import ModelSource, load_tokenizer, model_errors
from stilts.tasks.data import DataLocator
from stilts.tasks.heads.common import safetensors_only
from stilts.tasks.task import EncoderTask, Hyperparameters


def evaluate_encoder(
    task: EncoderTask,
    source: ModelSource,
    languages: Iterable[str],
    data: DataLocator,
    hp: Hyperparameters,
    precision: Resolved = FULL,
) -> Evaluation:
    """`task`'s retrieval metric per language, from sentence embeddings of `source` computed
    in `precision`."""
    started = time.perf_counter()
    tokenizer = load_tokenizer(source)
    with model_errors(source):
        encoder = AutoModel.from_pretrained(
            source.name,
            revision=source.revision,
            trust_remote_code=source.trust_remote_code,
            use_safetensors=safetensors_only(source.name),
        )
    apply_stack(encoder, source.name)  # a phase that handed on its adapters as a stack
    encoder.to(process_state().device)
    head = task.head

    def embed(texts: Sequence[str]) -> np.ndarray:
        return head.embed(encoder, tokenizer, texts, hp.max_length, hp.embedding_layer)

    scores, submissions = {}, {}
    with computing_in(precision, encoder.device):
        for language in languages:
            scores[language], submissions[language] = task.evaluate(embed, language, data)
    return Evaluation(scores, submissions, time.perf_counter() - started)


@contextmanager
def computing_in(precision: Resolved, device: torch.device) -> Iterator[None]:
    """`precision` for code outside Trainer, as Trainer's arguments give it inside: autocast
    for bf16 and fp16, TF32 matrix multiplies for tf32 (restored after)."""
    if precision in ("bf16", "fp16"):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        with torch.autocast(device.type, dtype=dtype):
            yield
        return
    before = torch.get_float32_matmul_precision()
    if precision == "tf32":
        torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)
