"""Sentence embeddings for retrieval: the layer, the pooling mask, batching without effect."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoModel, AutoTokenizer

from stilts import StiltsError
from stilts.tasks.heads.embedding import SentenceEmbedding
from stilts.testing import build_tiny_model

TEXTS = ["the cook sold the lamp", "a farmer walked to the old mill by the river and sat down"]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"), TEXTS * 20, vocab_size=200, seed=1)
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def test_the_layer_is_the_study_depth_scaled_to_the_model():
    head = SentenceEmbedding()
    assert (head.layer(24), head.layer(12), head.layer(2)) == (14, 7, 1)


def test_embeddings_are_unit_vectors_that_padding_does_not_change(encoder):
    model, tokenizer = encoder
    head = SentenceEmbedding(batch_size=2)
    together = head.embed(model, tokenizer, TEXTS, max_length=64)
    alone = np.stack([head.embed(model, tokenizer, [text], max_length=64)[0] for text in TEXTS])
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)  # the short text was padded


def test_the_pooled_mean_includes_the_special_tokens(encoder):
    import torch

    model, tokenizer = encoder
    inputs = tokenizer([TEXTS[0]], return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**inputs, output_hidden_states=True).hidden_states[1][0]
    expected = torch.nn.functional.normalize(hidden.mean(dim=0), dim=0).numpy()
    assert inputs["input_ids"][0][0] == tokenizer.bos_token_id  # <s> … </s> are pooled too
    got = SentenceEmbedding().embed(model, tokenizer, [TEXTS[0]], max_length=64)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_chosen_layer_is_used_and_a_missing_one_refused(encoder):
    model, tokenizer = encoder
    head = SentenceEmbedding()
    first, default = (head.embed(model, tokenizer, TEXTS, 64, layer) for layer in (0, None))
    assert not np.allclose(first, default)
    with pytest.raises(StiltsError, match="layer 3 does not exist"):
        head.embed(model, tokenizer, TEXTS, 64, layer=3)
