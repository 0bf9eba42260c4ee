"""The mlm task: its loader, its blocks, its masks, its pretrained LM head, and that it learns.

Everything runs on `fixtures.write_mlm_text`'s text (each document repeats one word of its
language's own) and a tiny XLM-R checkpoint whose tokenizer is trained on that text.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import datasets
import pytest
import torch
from fixtures.mlm import MLM_LINES, mlm_documents, write_mlm_text
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)

from stilts import StiltsError
from stilts.experiment.config import ChainConfig
from stilts.experiment.plan import plan
from stilts.runtime.features import tokenized
from stilts.runtime.options import RunOptions
from stilts.runtime.predict import evaluate_languages
from stilts.runtime.runner import Runner
from stilts.runtime.training import ModelSource
from stilts.store.layout import Store
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.heads import ROW, MaskedLanguageModel
from stilts.tasks.heads.masked_lm import IGNORED
from stilts.tasks.plugins.mlm import MULTI, TEXT, mask_seed
from stilts.testing import build_tiny_model, task_texts

HEAD = MaskedLanguageModel()
SIGMAS = 5  # bounds of the masking statistics, in standard deviations of the binomial


@dataclass(frozen=True)
class Lab:
    root: Path
    data: DataLocator
    model: Path
    tokenizer: object


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    root = tmp_path_factory.mktemp("mlm")
    write_mlm_text(root / "data")
    data = DataLocator(root / "data")
    texts = task_texts([registry.load("mlm")], data)
    model = build_tiny_model(root / "model", texts, vocab_size=400, seed=0)
    # An LM head unlike any fresh one (whose layer norm is 1 and biases 0), so that finding
    # it in a head model shows it was copied, not initialised.
    start = AutoModelForMaskedLM.from_pretrained(model)
    torch.manual_seed(2)
    with torch.no_grad():
        for name, weight in start.lm_head.named_parameters():
            if name != "decoder.weight":  # the input embedding
                weight.add_(0.1 * torch.randn_like(weight))
    start.save_pretrained(model)
    return Lab(root, data, model, AutoTokenizer.from_pretrained(model))


def file_lines(lab: Lab, language: str) -> list[str]:
    """A language's lines read straight from its file."""
    path = lab.data.root / TEXT.repo / TEXT.pattern(language)
    return path.read_text(encoding="utf-8").removesuffix("\n").split("\n")


# --- the loader ---------------------------------------------------------------------------


def test_each_language_splits_90_5_5_by_position(lab):
    mlm = registry.load("mlm")
    for language in ("en", "sw", "zh"):
        lines = file_lines(lab, language)
        assert set(lines) >= {"", "   "}  # an empty line and one of spaces: no documents
        documents = [line for line in lines if line.strip()]
        assert documents == mlm_documents(language) and len(documents) == MLM_LINES
        positions = {
            "dev": range(18, MLM_LINES, 20),
            "test": range(19, MLM_LINES, 20),
            "train": [i for i in range(MLM_LINES) if i % 20 < 18],
        }
        for role, indices in positions.items():
            # The loader's own rows of one language: the task trains on `multi`, all mixed.
            table = mlm.load(role, language, lab.data)
            assert table["text"] == [documents[i] for i in indices], (role, language)
            assert set(table["language"]) == {language}
            expected = (
                [-1] * len(indices)
                if role == "train"
                else [mask_seed(language, i) for i in indices]
            )
            assert table["mask_seed"] == expected
        assert (len(positions["train"]), len(positions["dev"])) == (36, 2)


def test_evaluation_rows_have_seeds_of_their_own(lab):
    mlm = registry.load("mlm")
    seeds = [
        seed
        for role in ("dev", "test")
        for language in mlm.languages
        for seed in mlm.read(role, language, lab.data)["mask_seed"]
    ]
    assert len(seeds) == 2 * 2 * len(mlm.languages)
    assert len(set(seeds)) == len(seeds) and min(seeds) >= 0


def test_multi_is_every_language_in_order(lab):
    mlm = registry.load("mlm")
    assert mlm.train_language == MULTI
    for role in ("train", "dev"):
        mixed = mlm.read(role, MULTI, lab.data)
        # The loader's own rows per language (training in one language is not the task's).
        alone = [mlm.load(role, language, lab.data) for language in mlm.languages]
        assert mixed["text"] == [text for table in alone for text in table["text"]]
        assert mixed["language"] == [x for table in alone for x in table["language"]]
        assert set(mixed["language"]) == set(mlm.languages)


def test_missing_text_unknown_languages_and_too_few_documents_are_clear_errors(lab, tmp_path):
    mlm = registry.load("mlm")
    shutil.copytree(lab.data.root, tmp_path, dirs_exist_ok=True)
    text = tmp_path / TEXT.repo
    (text / "de.txt").unlink()
    with pytest.raises(StiltsError, match=r"no .*mlm task's text.* files \(expected .*de\.txt"):
        mlm.read("test", "de", DataLocator(tmp_path))
    with pytest.raises(StiltsError, match=r"de\.txt"):
        mlm.read("train", MULTI, DataLocator(tmp_path))
    # Model selection is in the train language, `multi` (all mixed), or any one language.
    unknown = r"^mlm has no dev data in 'xx'; it has dev data in multi, ar, bg, "
    with pytest.raises(StiltsError, match=unknown):
        mlm.read("dev", "xx", DataLocator(tmp_path))
    (text / "fr.txt").write_text("\n".join(mlm_documents("fr")[:18]) + "\n\n   \n")
    assert mlm.load("train", "fr", DataLocator(tmp_path)).num_rows == 18  # the loader's own
    with pytest.raises(StiltsError, match="18 non-blank documents, too few for a dev set"):
        mlm.read("dev", "fr", DataLocator(tmp_path))
    shutil.rmtree(text)
    with pytest.raises(StiltsError, match=r"no mlm text for 'en'.*hf download wikimedia/wiki"):
        mlm.read("dev", "en", DataLocator(tmp_path))


# --- blocks -------------------------------------------------------------------------------


def middles(features: dict, tokenizer) -> list[list[int]]:
    """Each block's text tokens, without its <s> and </s>."""
    for block in features["input_ids"]:
        assert block[0] == tokenizer.bos_token_id and block[-1] == tokenizer.eos_token_id
    return [block[1:-1] for block in features["input_ids"]]


def test_blocks_concatenate_one_languages_documents_and_keep_the_last_short_one(lab):
    tokenizer = lab.tokenizer
    en, sw = mlm_documents("en")[:6], mlm_documents("sw")[:5]
    texts = [en[0], sw[0], en[1], "", sw[1], en[2], sw[2], en[3], sw[3], en[4], sw[4], en[5]]
    languages = ["sw" if text in sw else "en" for text in texts]
    rows = {"text": texts, "language": languages, "mask_seed": [-1] * len(texts)}
    features = HEAD.preprocess(rows, tokenizer, max_length=16)
    assert "labels" not in features  # training blocks: the collator masks them
    separator = tokenizer.sep_token_id
    blocks = middles(features, tokenizer)
    for language, documents in (("en", en), ("sw", sw)):
        stream, owners = [], []  # documents joined by </s>, as RoBERTa packs its text
        for document in documents:
            row = texts.index(document)
            pieces = ([separator] if stream else []) + tokenizer(document)["input_ids"][1:-1]
            stream += pieces
            owners += [row] * len(pieces)
        mine = [i for i, row in enumerate(features[ROW]) if languages[row] == language]
        assert [token for i in mine for token in blocks[i]] == stream  # nothing else in them
        assert all(len(blocks[i]) == 14 for i in mine[:-1])  # 16 with <s> and </s>
        assert 0 < len(blocks[mine[-1]]) <= 14  # the last, short block is kept
        # Each block names the row its first token came from.
        assert [features[ROW][i] for i in mine] == owners[::14]
    with pytest.raises(StiltsError, match="max_length 2 leaves no room"):
        HEAD.preprocess(rows, tokenizer, max_length=2)


# --- masks --------------------------------------------------------------------------------


def masked_batches(lab: Lab, fixed: bool, passes: int) -> list[tuple[dict, list[list[int]]]]:
    """(collated batch, the blocks' unmasked tokens) over every training document.

    `fixed`: the documents are given evaluation seeds, so `preprocess` masks them; else the
    training collator masks them, afresh on each pass.
    """
    table = registry.load("mlm").read("train", MULTI, lab.data)
    if fixed:
        # A seed of its own for each document on each pass (the "language" is only hashed).
        seeds = [mask_seed(f"pass {n}", i) for n in range(passes) for i in range(len(table))]
        table = datasets.concatenate_datasets([table] * passes)
        table = table.remove_columns("mask_seed").add_column("mask_seed", seeds)
    plain = tokenized(
        registry.load("mlm"), table.map(lambda r: {"mask_seed": -1}), lab.tokenizer, 64
    )
    features = tokenized(registry.load("mlm"), table, lab.tokenizer, 64)
    collator = HEAD.collator(lab.tokenizer)
    torch.manual_seed(0)
    batches = []
    for _ in range(1 if fixed else passes):
        for start in range(0, len(features), 64):
            rows = features.select(range(start, min(start + 64, len(features))))
            batch = collator([{k: v for k, v in row.items() if k != ROW} for row in rows])
            batches.append((batch, plain["input_ids"][start : start + 64]))
    return batches


def within(count: int, total: int, p: float) -> bool:
    return abs(count - total * p) <= SIGMAS * math.sqrt(total * p * (1 - p))


@pytest.mark.parametrize("fixed", [False, True], ids=["training collator", "evaluation seeds"])
def test_masking_is_15_percent_of_text_tokens_80_10_10(lab, fixed):
    tokenizer = lab.tokenizer
    special = torch.tensor(sorted(tokenizer.all_special_ids))
    vocabulary = len(tokenizer)
    text = masked = as_mask = unchanged = padded = 0
    for batch, originals in masked_batches(lab, fixed, passes=8):
        inputs, labels = batch["input_ids"], batch["labels"]
        original = torch.full_like(inputs, tokenizer.pad_token_id)
        for i, ids in enumerate(originals):
            original[i, : len(ids)] = torch.tensor(ids)
        padding = batch["attention_mask"] == 0
        padded += int(padding.sum())
        assert (original[padding] == tokenizer.pad_token_id).all()
        assert (inputs[padding] == tokenizer.pad_token_id).all()
        assert (labels[padding] == IGNORED).all()
        is_special = torch.isin(original, special)  # <s>, </s> between documents, padding
        assert (labels[is_special] == IGNORED).all()  # never masked …
        assert (inputs[is_special] == original[is_special]).all()  # … nor replaced
        chosen = labels != IGNORED
        assert (labels[chosen] == original[chosen]).all()  # the gold is the original token
        assert (inputs[~chosen] == original[~chosen]).all()
        text += int((~is_special).sum())
        masked += int(chosen.sum())
        as_mask += int((inputs[chosen] == tokenizer.mask_token_id).sum())
        unchanged += int((inputs[chosen] == original[chosen]).sum())
    randomised = masked - as_mask - unchanged
    print(
        f"{'fixed' if fixed else 'collator'}: {masked}/{text} = {masked / text:.4f} masked; "
        f"<mask> {as_mask / masked:.4f}, random {randomised / masked:.4f}, "
        f"unchanged {unchanged / masked:.4f}"
    )
    assert text > 100_000 and padded > 0
    assert within(masked, text, 0.15)
    # A random token is the <mask> token or the original one once in `vocabulary` draws.
    assert within(as_mask, masked, 0.8 + 0.1 / vocabulary)
    assert within(unchanged, masked, 0.1 + 0.1 / vocabulary)
    assert within(randomised, masked, 0.1 - 0.2 / vocabulary)


def alone(rows: dict, tokenizer) -> list[tuple[list[int], list[int]]]:
    """Each row's (masked tokens, labels) when preprocessed by itself into one block."""
    out = []
    for i in range(len(rows["text"])):
        one = {name: [values[i]] for name, values in rows.items()}
        features = HEAD.preprocess(one, tokenizer, max_length=512)
        assert len(features["input_ids"]) == 1
        out.append((features["input_ids"][0][1:-1], features["labels"][0][1:-1]))
    return out


def packed_documents(features: dict, rows: dict, tokenizer) -> dict[str, list[int]]:
    """Per language, the masked token stream and labels of its blocks, in order."""
    streams: dict[str, tuple[list[int], list[int]]] = {}
    for block, labels, row in zip(
        features["input_ids"], features["labels"], features[ROW], strict=True
    ):
        assert labels[0] == labels[-1] == IGNORED
        ids, gold = streams.setdefault(rows["language"][row], ([], []))
        ids += block[1:-1]
        gold += labels[1:-1]
    return streams


def test_evaluation_masks_are_fixed_whatever_the_batch_and_order(lab):
    tokenizer = lab.tokenizer
    table = registry.load("mlm").read("dev", MULTI, lab.data)
    rows = table.to_dict()
    first, again = (HEAD.preprocess(rows, tokenizer, max_length=32) for _ in range(2))
    assert first == again
    assert any(tokenizer.mask_token_id in block for block in first["input_ids"])

    # Each document keeps its masks whatever it is packed with: alone, or in blocks of
    # another length, the rows in another order, in batches of seven rows.
    masks = alone(rows, tokenizer)
    order = list(reversed(range(len(rows["text"]))))
    for start in range(0, len(order), 7):
        chosen = order[start : start + 7]
        batch = {name: [values[i] for i in chosen] for name, values in rows.items()}
        features = HEAD.preprocess(batch, tokenizer, max_length=20)
        for language, (ids, gold) in packed_documents(features, batch, tokenizer).items():
            expected_ids, expected_gold = [], []
            for row in chosen:
                if rows["language"][row] == language:
                    if expected_ids:
                        expected_ids.append(tokenizer.sep_token_id)
                        expected_gold.append(IGNORED)
                    expected_ids += masks[row][0]
                    expected_gold += masks[row][1]
            assert (ids, gold) == (expected_ids, expected_gold)


def test_training_blocks_are_masked_afresh_each_time(lab):
    tokenizer = lab.tokenizer
    # English training rows, from the loader itself (the task trains on `multi`, all mixed).
    rows = registry.load("mlm").load("train", "en", lab.data).select(range(20)).to_dict()
    features = HEAD.preprocess(rows, tokenizer, max_length=64)
    assert "labels" not in features  # nothing masked yet: the blocks are the plain text
    assert all(tokenizer.mask_token_id not in block for block in features["input_ids"])
    blocks = [{"input_ids": ids} for ids in features["input_ids"]]
    collator = HEAD.collator(tokenizer)
    first, second = collator(blocks), collator(blocks)
    assert not torch.equal(first["labels"], second["labels"])
    mixed = {name: values[:2] for name, values in rows.items()} | {"mask_seed": [-1, 7]}
    with pytest.raises(StiltsError, match="mixes evaluation rows"):
        HEAD.preprocess(mixed, tokenizer, max_length=64)


def test_only_masked_positions_are_scored_and_summed_per_row():
    logits = torch.full((2, 4, 5), -10.0)
    logits[0, 1, 3] = logits[0, 2, 1] = logits[1, 0, 2] = 10.0  # the model's best guesses
    labels = torch.tensor([[IGNORED, 3, 4, IGNORED], [2, IGNORED, IGNORED, IGNORED]])
    outputs = HEAD.reduce_outputs(logits, labels)
    assert outputs[:, :2].tolist() == [[2, 1], [1, 1]]  # masked, correct per block
    nll = torch.nn.functional.cross_entropy(logits[labels != IGNORED], labels[labels != IGNORED])
    assert outputs[:, 2].sum().item() == pytest.approx(3 * nll.item(), rel=1e-5)
    features = datasets.Dataset.from_dict({ROW: [1, 1]})  # both blocks start in row 1
    rows = datasets.Dataset.from_dict({"text": ["a", "b"]})
    totals = HEAD.decode(outputs.numpy(), features, rows)
    assert [t[:2] for t in totals] == [[0, 0], [3, 2]]
    scores = registry.load("mlm").metric(totals, HEAD.references(rows), "en")
    assert scores["accuracy"] == pytest.approx(100 * 2 / 3)
    assert scores["perplexity"] == pytest.approx(math.exp(nll.item()), rel=1e-5)
    with pytest.raises(StiltsError, match="no token of the rows of en was masked"):
        registry.load("mlm").metric([[0, 0, 0.0]], [None], "en")


# --- the pretrained LM head ---------------------------------------------------------------


def assert_pretrained_head(model, pretrained, encoder) -> None:
    """`model` carries `encoder`'s weights and `pretrained`'s LM head, decoder tied to input."""
    own, start = model.lm_head, pretrained.lm_head
    for name in ("dense.weight", "dense.bias", "layer_norm.weight", "layer_norm.bias", "bias"):
        assert torch.equal(own.get_parameter(name), start.get_parameter(name)), name
    embeddings = model.roberta.embeddings.word_embeddings.weight
    assert own.decoder.weight.data_ptr() == embeddings.data_ptr()  # tied: one tensor
    assert torch.equal(embeddings, encoder.embeddings.word_embeddings.weight)
    assert torch.equal(own.decoder.bias, own.bias)
    for name, weight in encoder.state_dict().items():
        if not name.startswith("pooler."):
            assert torch.equal(model.roberta.state_dict()[name], weight), name


@pytest.fixture(scope="module")
def finetuned(lab) -> Path:
    """A classification checkpoint from the start model, its encoder moved off the start."""
    model = AutoModelForSequenceClassification.from_pretrained(lab.model, num_labels=3)
    torch.manual_seed(1)
    with torch.no_grad():
        for weight in model.roberta.parameters():
            weight.add_(0.05 * torch.randn_like(weight))
    path = lab.root / "finetuned"
    model.save_pretrained(path)
    return path


def test_the_head_is_the_start_models_pretrained_one(lab):
    start = AutoModelForMaskedLM.from_pretrained(lab.model)
    encoder = AutoModel.from_pretrained(lab.model)
    model = HEAD.model_with_encoder(AutoConfig.from_pretrained(lab.model), encoder)
    assert_pretrained_head(model, start, encoder)
    assert torch.equal(model.lm_head.decoder.weight, start.lm_head.decoder.weight)


@pytest.mark.parametrize("how", ["ModelSource", "str", "Path"])
def test_a_finetuned_encoder_gets_the_head_of_the_start_model(lab, finetuned, how):
    start = AutoModelForMaskedLM.from_pretrained(lab.model)
    encoder = AutoModel.from_pretrained(finetuned)
    source = {"ModelSource": ModelSource(str(lab.model)), "str": str(lab.model), "Path": lab.model}
    config = AutoConfig.from_pretrained(finetuned)
    model = HEAD.model_with_encoder(config, encoder, lm_head_from=source[how])
    assert_pretrained_head(model, start, encoder)
    # The decoder is the fine-tuned input embedding, not the start model's.
    assert not torch.equal(model.lm_head.decoder.weight, start.lm_head.decoder.weight)


def test_a_checkpoint_without_an_lm_head_is_refused_never_given_a_fresh_one(lab, finetuned):
    config = AutoConfig.from_pretrained(finetuned)
    encoder = AutoModel.from_pretrained(finetuned)
    with pytest.raises(StiltsError, match="has no pretrained masked-LM head"):
        HEAD.model_with_encoder(config, encoder)  # its own checkpoint: a classifier
    bare = lab.root / "bare-encoder"
    encoder.save_pretrained(bare)
    with pytest.raises(StiltsError, match="has no pretrained masked-LM head"):
        HEAD.model_with_encoder(config, encoder, lm_head_from=bare)
    with pytest.raises(StiltsError, match="cannot load the masked-LM head"):
        HEAD.model_with_encoder(config, encoder, lm_head_from=lab.root / "nowhere")


# --- it learns ----------------------------------------------------------------------------


def test_a_short_mlm_phase_raises_masked_token_accuracy(lab):
    settings = {"learning_rate": 5e-3, "epochs": 15, "max_length": 64, "batch_size": 16}
    config = ChainConfig.model_validate({
        "phases": ["mlm"], "model": {"id": str(lab.model)}, "data": str(lab.data.root),
        "hyperparameters": settings,
    })  # fmt: skip
    chain = plan(config)
    phase = chain.phases[0]
    before = evaluate_languages(
        phase.task, lab.model, "dev", [MULTI], chain.data, phase.hyperparameters,
        config.seed, RunOptions(),
    ).scores[MULTI]  # fmt: skip
    store = Store(lab.root / "store")
    result = Runner(store).run(chain).result
    after = result.dev[MULTI]
    print(f"dev masked-token accuracy {before} -> {after}")
    # Untrained: about chance, one token in the vocabulary (some hundreds).
    assert before["accuracy"] < 5 < 60 < after["accuracy"]
    assert after["perplexity"] < before["perplexity"] / 10
    trained = AutoModelForMaskedLM.from_pretrained(
        store.phase_dir("mlm", phase.fingerprint) / "model"
    )
    embeddings = trained.roberta.embeddings.word_embeddings.weight
    assert trained.lm_head.decoder.weight.data_ptr() == embeddings.data_ptr()  # still tied

    # Every language is tested, and its submission file holds the counts behind its scores.
    assert tuple(result.test) == phase.task.languages
    predictions = store.run_dir(chain.config.names, chain.run_fingerprint) / "predictions"
    total = {"masked": 0, "correct": 0}
    for language, scores in result.test.items():
        lines = (predictions / "mlm" / f"test-{language}.tsv").read_text().splitlines()
        assert lines[0] == "masked_tokens\tcorrect\tnll_sum\taccuracy\tperplexity"
        masked, correct, nll, accuracy, perplexity = lines[1].split("\t")
        assert 100 * int(correct) / int(masked) == pytest.approx(scores["accuracy"])
        assert math.exp(float(nll) / int(masked)) == pytest.approx(scores["perplexity"], 1e-5)
        assert float(accuracy) == pytest.approx(scores["accuracy"], abs=1e-4)
        assert float(perplexity) == pytest.approx(scores["perplexity"], abs=1e-5)
        total["masked"] += int(masked)
        total["correct"] += int(correct)
    pooled = 100 * total["correct"] / total["masked"]
    print(f"test masked-token accuracy, all languages pooled: {pooled:.1f} of {total['masked']}")
    assert pooled > 60  # two documents a language: pooled, not per language
