"""stilts.testing: the offline model factory plugin authors build their tests on."""

from __future__ import annotations

from transformers import AutoModelForMaskedLM, AutoTokenizer

from stilts.testing import build_tiny_model, train_tokenizer

TEXTS = [
    f"the {a} {b} sleeps near the {c}"
    for a in ("red", "old", "tiny")
    for b in ("cat", "dog", "bird")
    for c in ("tree", "house", "river")
] * 20


def test_tokenizer_is_deterministic_and_xlmr_shaped():
    first, second = train_tokenizer(TEXTS, 200), train_tokenizer(TEXTS, 200)
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()
    pair = first("the red cat", "near the river")
    tokens = first.convert_ids_to_tokens(pair["input_ids"])
    assert tokens[0] == "<s>" and tokens[-1] == "</s>"
    assert tokens.count("</s>") == 3  # <s> A </s></s> B </s>, as XLM-R
    assert "▁cat" in tokens  # learned whole words, not characters only
    assert first.pad_token_id == 1 and first.mask_token == "<mask>"


def test_tiny_model_saves_like_a_hub_checkpoint(tmp_path):
    build_tiny_model(tmp_path, TEXTS, vocab_size=200)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    assert model.config.model_type == "xlm-roberta"
    assert model.config.vocab_size == len(tokenizer)
    assert (tmp_path / "model.safetensors").is_file()
    logits = model(**tokenizer("the old dog", return_tensors="pt")).logits
    assert logits.shape[-1] == len(tokenizer)
