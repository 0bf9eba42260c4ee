"""Masked language modelling on plain text, with the encoder's own pretrained LM head.

Text is tokenised without special tokens, the documents of one language are concatenated
(a separator token between documents, as RoBERTa/XLM-R pack their pretraining text) and cut
into blocks that fill `max_length`, as transformers' run_mlm.py does with `group_texts`:
documents (Wikipedia articles, or lines of a text file) vary from a few words to thousands of
tokens, so truncating each one would throw most long text away and pad short ones. Unlike
run_mlm.py the last, shorter block of a batch is kept (the collator pads it), so a small
evaluation set still yields blocks. A block never mixes languages.

Training masks 15 % of the non-special tokens afresh each time a block is drawn (BERT's
80 % `<mask>`, 10 % random token, 10 % unchanged), with transformers'
`DataCollatorForLanguageModeling`. Evaluation rows carry a `mask_seed` of their own (>= 0):
each such document is masked once, in `preprocess`, by the same code under a generator seeded
from it, before it is packed into blocks. Its masks are therefore a property of the document
alone: the same on every run, whatever the batch, the order of rows, the subsample, the
maximum length or the other languages evaluated alongside. A row with `mask_seed` -1
(training) is masked by the collator. Masked-token accuracy and perplexity are summed over
all masked tokens of a language.

The LM head is not trained from scratch: `model_with_encoder` copies the encoder weights from
the previous phase and the LM head (dense, layer norm, output bias; the decoder matrix is the
tied input embedding) from a pretrained masked-LM checkpoint: the chain's start model, as
jiant keeps the MLM head of the original pretrained model whatever phase came before.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stilts.errors import StiltsError
from stilts.eval.submission import Submission
from stilts.tasks.heads.common import ROW, AutoModelHead, head_model, safetensors_only

if TYPE_CHECKING:
    import datasets
    from transformers import PretrainedConfig, PreTrainedModel

IGNORED = -100  # the label id PyTorch's cross-entropy skips
MASK_SEED = "mask_seed"
"""Row column: >= 0 masks the row's document once, under that seed (evaluation)."""
DYNAMIC = -1
"""The `mask_seed` of a training row: masked afresh by the collator whenever it is drawn."""


@dataclass(frozen=True)
class MaskedLanguageModel(AutoModelHead):
    """Masked LM over `text` (rows also carry their `language` and `mask_seed`, see above)."""

    mlm_probability: float = 0.15
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    columns: tuple[str, ...] = field(default=("text", "language", MASK_SEED), init=False)
    kind: str = field(default="masked LM", init=False)
    auto_class: ClassVar[str] = "AutoModelForMaskedLM"
    head_from_start: ClassVar[bool] = True
    """The head is the pretrained one of the chain's start model, not a fresh one."""

    def describe(self) -> str:
        return f"{self.kind} ({self.mlm_probability:.0%} masked, pretrained LM head)"

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "mlm_probability": self.mlm_probability,
            "mask_replace_prob": self.mask_replace_prob,
            "random_replace_prob": self.random_replace_prob,
            "lm_head": "pretrained, from the chain's start model",
            "blocks": "documents concatenated per language, cut to max_length",
        }

    def model_with_encoder(
        self,
        config: PretrainedConfig,
        encoder: PreTrainedModel,
        *,
        lm_head_from: Any = None,
    ) -> PreTrainedModel:
        """A masked-LM model with `encoder`'s weights and a pretrained LM head.

        `lm_head_from` names the masked-LM checkpoint whose head is reused: a model name or
        directory, or a `stilts.runtime.training.ModelSource` (its revision and trust_remote_code
        are used). The chain's start model belongs here; without it, the head is read from the
        checkpoint `encoder` was loaded from (`encoder.name_or_path`, default revision), which is
        the start model only in a chain's first phase. A checkpoint without an LM head (one saved
        after a classification phase, or a bare encoder) is an error, never a fresh head.
        """
        model = head_model(self.auto_class, config, encoder)
        source = lm_head_from if lm_head_from is not None else encoder.name_or_path
        if not source:
            raise StiltsError(
                "the masked-LM head reuses a pretrained LM head, but no checkpoint to read it "
                "from was named and the encoder does not say where it was loaded from"
            )
        _copy_lm_head(model, pretrained_masked_lm(source))
        return model

    def preprocess(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        """Documents -> blocks of `max_length` tokens, per language (see the module's notes).

        Evaluation rows (`mask_seed` >= 0) come out masked, with `labels`; training rows
        without labels, for the collator to mask. One batch never mixes the two.
        """
        prefix, suffix = _special_tokens_around(tokenizer)
        budget = max_length - len(prefix) - len(suffix)
        if budget < 1:
            raise StiltsError(f"max_length {max_length} leaves no room for text in a block")
        inputs = tokenizer(batch["text"], add_special_tokens=False)["input_ids"]
        seeds = batch.get(MASK_SEED) or [DYNAMIC] * len(inputs)
        fixed = [seed >= 0 for seed in seeds]
        if any(fixed) and not all(fixed):
            raise StiltsError(
                "a batch of rows mixes evaluation rows (mask_seed >= 0) with training rows"
            )
        golds = self._fixed_masks(inputs, seeds, tokenizer) if any(fixed) else None
        separator = tokenizer.sep_token_id
        if separator is None:
            separator = tokenizer.eos_token_id
        # Per language: the token stream, its gold labels and the row each token came from.
        streams: dict[Any, tuple[list[int], list[int], list[int]]] = {}
        languages = batch.get("language") or [None] * len(inputs)
        for row, language in enumerate(languages):
            if not inputs[row]:
                continue
            stream, gold, owners = streams.setdefault(language, ([], [], []))
            if stream and separator is not None:
                stream.append(separator)
                gold.append(IGNORED)
                owners.append(row)
            stream += inputs[row]
            gold += golds[row] if golds is not None else [IGNORED] * len(inputs[row])
            owners += [row] * len(inputs[row])
        features: dict[str, list[Any]] = {"input_ids": [], ROW: []}
        if golds is not None:
            features["labels"] = []
        around = [IGNORED] * len(prefix), [IGNORED] * len(suffix)
        for stream, gold, owners in streams.values():
            for start in range(0, len(stream), budget):
                end = start + budget
                features["input_ids"].append(prefix + stream[start:end] + suffix)
                features[ROW].append(owners[start])
                if golds is not None:
                    features["labels"].append(around[0] + gold[start:end] + around[1])
        return features

    def _fixed_masks(
        self, inputs: list[list[int]], seeds: list[int], tokenizer: Any
    ) -> list[list[int]]:
        """Mask each document in place as the training collator would, under a generator
        seeded from its own seed; return its labels (the gold token where masked, else -100)."""
        import torch

        masker = self._masker(tokenizer)
        labels: list[list[int]] = []
        for ids, seed in zip(inputs, seeds, strict=True):
            if not ids:
                labels.append([])
                continue
            masker.generator = torch.Generator().manual_seed(seed)
            masked, gold = masker.torch_mask_tokens(torch.tensor([ids]))
            ids[:] = masked[0].tolist()
            labels.append(gold[0].tolist())
        return labels

    def _masker(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForLanguageModeling

        return DataCollatorForLanguageModeling(
            tokenizer,
            mlm_probability=self.mlm_probability,
            mask_replace_prob=self.mask_replace_prob,
            random_replace_prob=self.random_replace_prob,
        )

    def collator(self, tokenizer: Any) -> Any:
        return MaskingCollator(self._masker(tokenizer))

    def reduce_outputs(self, logits: Any, labels: Any) -> Any:
        """Per block: (masked tokens, correctly predicted ones, summed negative log-likelihood);
        only masked positions' logits are scored, never a blocks × positions × vocabulary copy."""
        import torch

        if isinstance(logits, tuple):
            logits = logits[0]
        masked = labels != IGNORED
        block = masked.nonzero()[:, 0]
        chosen = logits[masked].float()
        gold = labels[masked]
        nll = torch.nn.functional.cross_entropy(chosen, gold, reduction="none")
        correct = (chosen.argmax(dim=-1) == gold).float()
        zeros = torch.zeros(labels.shape[0], device=logits.device)
        return torch.stack(
            [
                masked.sum(dim=1).float(),
                zeros.index_add(0, block, correct),
                zeros.index_add(0, block, nll),
            ],
            dim=1,
        )

    def decode(self, outputs: Any, features: datasets.Dataset, rows: datasets.Dataset) -> list[Any]:
        """Per row, the sums of the blocks that start in it: [masked, correct, nll]."""
        totals = [[0, 0, 0.0] for _ in range(rows.num_rows)]
        for (masked, correct, nll), row in zip(outputs.tolist(), features[ROW], strict=True):
            totals[row][0] += round(masked)
            totals[row][1] += round(correct)
            totals[row][2] += nll
        return totals

    def references(self, rows: datasets.Dataset) -> list[Any]:
        # The gold tokens are the masked inputs themselves, already compared by `decode`.
        return [None] * rows.num_rows

    def submission(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        """No official MLM submission exists: one language's totals and scores, as a TSV."""
        masked, correct, nll = _totals(predictions)
        scores = masked_lm_scores(predictions, [], "")
        header = "masked_tokens\tcorrect\tnll_sum\taccuracy\tperplexity\n"
        line = f"{masked}\t{correct}\t{nll:.6f}\t{scores['accuracy']:.4f}\t"
        return "tsv", f"{header}{line}{scores['perplexity']:.6f}\n"

    def texts(self, rows: datasets.Dataset) -> Iterator[str]:
        yield from rows["text"]


class MaskingCollator:
    """Pads blocks; masks training blocks afresh, keeps the fixed masks of evaluation blocks."""

    def __init__(self, masker: Any) -> None:
        from transformers import DataCollatorForTokenClassification

        self.masker = masker
        self.padder = DataCollatorForTokenClassification(masker.tokenizer)  # labels: -100

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        fixed = ["labels" in feature for feature in features]
        if all(fixed):
            return self.padder(features)
        if any(fixed):
            raise ValueError("a batch mixes pre-masked evaluation blocks with training blocks")
        return self.masker(features)


def masked_lm_scores(
    predictions: Sequence[Any], references: Sequence[Any], language: str
) -> dict[str, float]:
    """Masked-token accuracy (×100) and perplexity (exp of the mean NLL per masked token)."""
    masked, correct, nll = _totals(predictions)
    if masked == 0:
        where = f" of {language}" if language else ""
        raise StiltsError(f"no token of the rows{where} was masked: too little text to score")
    return {"accuracy": 100 * correct / masked, "perplexity": math.exp(nll / masked)}


def _totals(predictions: Sequence[Any]) -> tuple[int, int, float]:
    masked = sum(p[0] for p in predictions)
    correct = sum(p[1] for p in predictions)
    return masked, correct, sum(p[2] for p in predictions)


def _special_tokens_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one text (<s> and </s>)."""
    encoded = tokenizer(["x"], is_split_into_words=True)
    words, ids = encoded.word_ids(), encoded["input_ids"]
    text = [i for i, word in enumerate(words) if word is not None]
    return ids[: text[0]], ids[text[-1] + 1 :]


def pretrained_masked_lm(source: Any) -> PreTrainedModel:
    """The masked-LM checkpoint `source`, refused when it has no LM head of its own (a fresh
    head would predict noise: the mlm task and the Fisher similarity both need a trained one)."""
    import transformers

    if isinstance(source, str | os.PathLike):
        name, revision, trust_remote_code = os.fspath(source), None, False
    else:  # a stilts.runtime.training.ModelSource
        name, revision, trust_remote_code = source.name, source.revision, source.trust_remote_code
    try:
        model, info = transformers.AutoModelForMaskedLM.from_pretrained(
            name,
            revision=revision,
            trust_remote_code=trust_remote_code,
            output_loading_info=True,
            use_safetensors=safetensors_only(name),
        )
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StiltsError(f"cannot load the masked-LM head of {name!r}: {first}") from None
    prefix = f"{model.base_model_prefix}."
    missing = sorted(k for k in info["missing_keys"] if not k.startswith(prefix))
    if missing:
        raise StiltsError(
            f"{name} has no pretrained masked-LM head (missing {', '.join(missing[:4])}): it "
            "was saved with another head or as a bare encoder; use a pretrained masked-LM "
            "checkpoint such as the chain's start model"
        )
    return model


def _copy_lm_head(model: PreTrainedModel, pretrained: PreTrainedModel) -> None:
    """Copy every weight of `pretrained` outside its base model into `model`, except those
    `model` ties to its own base model (the decoder matrix is the input embedding)."""
    prefix = f"{pretrained.base_model_prefix}."
    own = model.state_dict()
    tied = {p.data_ptr() for p in model.base_model.parameters()}
    weights = {k: v for k, v in pretrained.state_dict().items() if not k.startswith(prefix)}
    unknown = sorted(key for key in weights if key not in own)
    if unknown or not weights:
        raise StiltsError(
            f"the LM head of {pretrained.name_or_path} does not fit {type(model).__name__}"
            f"{': ' + ', '.join(unknown[:4]) if unknown else ''}"
        )
    model.load_state_dict(
        {key: value for key, value in weights.items() if own[key].data_ptr() not in tied},
        strict=False,
    )
