"""A tiny XLM-R-shaped model with a tokenizer trained on given text: the bundled default
model, and what tests (stilts' and plugin authors', through `stilts.testing`) train on.

Shaped like a hub checkpoint (a masked-LM model with its tokenizer), so it enters a chain
through the same code path as xlm-roberta-large.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForMaskedLM

from stilts.tasks.data import DataLocator
from stilts.tasks.task import AnyTask, Task

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # XLM-R's ids 0..4
TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "max_position_embeddings": 514,  # XLM-R: 512 positions + the padding offset of 2
}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000) -> Any:
    """A tokenizer with XLM-R's special tokens and input layout, trained on `texts`.

    Text is NFKC-normalised, as by XLM-R, so offsets into the original text differ from
    offsets into the normalised one exactly as they do for the real model. Byte-pair encoding
    rather than XLM-R's unigram model: the `tokenizers` unigram trainer
    keeps little more than characters on small corpora, while BPE learns real sub-words and
    is deterministic, so the bundled model is the same on every machine.
    """
    bos, pad, eos, unk, mask = SPECIAL_TOKENS
    backend = Tokenizer(models.BPE(unk_token=unk))
    backend.normalizer = normalizers.NFKC()  # as XLM-R's sentencepiece normaliser does
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS))
    backend.train_from_iterator(texts, trainer=trainer)
    bos_id, eos_id = backend.token_to_id(bos), backend.token_to_id(eos)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, bos_id), (eos, eos_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=unk,
        pad_token=pad,
        mask_token=mask,
    )


def build_tiny_model(
    out_dir: Path, texts: Iterable[str], *, vocab_size: int = 2000, seed: int = 0, **config: Any
) -> Path:
    """Save a randomly initialised tiny XLM-R masked-LM checkpoint + tokenizer to `out_dir`.

    Shaped like a hub checkpoint (an MLM model with its tokenizer), so it enters a chain
    through the same code path as xlm-roberta-large.
    """
    tokenizer = train_tokenizer(texts, vocab_size)
    settings = {**TINY_CONFIG, **config}
    model_config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **settings,
    )
    torch.manual_seed(seed)
    model = XLMRobertaForMaskedLM(model_config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def task_texts(tasks: Iterable[AnyTask], data: DataLocator) -> Iterator[str]:
    """Every text `tasks` read, for training a tokenizer: training and dev data in the train
    language, test data in each evaluation language (some have no other split). An
    `EncoderTask`'s text is only embedded, never trained on: it adds none."""
    for task in tasks:
        if not isinstance(task, Task):
            continue
        for role in ("train", "dev"):
            yield from task.head.texts(task.read(role, task.train_language, data))
        for language in task.languages:
            yield from task.head.texts(task.read("test", language, data))
