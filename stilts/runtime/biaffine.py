"""The biaffine dependency parser model (Dozat & Manning 2017) on a transformers encoder.

Imported only to build, train or load a parser: it needs torch and transformers at import
time. The head that declares it is `stilts.tasks.heads.dependency.DependencyParsing`.

Every position of the encoded sentence takes part, so no gather or word-level padding is
needed: position 0 (``<s>``) stands for the root, and the positions that start a word (its
first sub-word) are the words. Only those are candidate heads; only a word's first sub-word is
scored as a dependent. A word's head is given, and predicted, as the position of the head
word's first sub-word (0 for the root); `DependencyParsing` maps positions to word indices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils.generic import ModelOutput

from stilts.errors import StiltsError

SETTINGS = "biaffine_parser"
"""Config attribute holding the parser's sizes, so a saved parser describes itself."""


@dataclass
class ParserOutput(ModelOutput):
    """Arc scores (batch × dependent position × head position), and relation scores
    (batch × dependent position × relation) for each dependent's head: the gold head while
    training, the predicted one otherwise."""

    loss: torch.Tensor | None = None
    arc_logits: torch.Tensor | None = None
    label_logits: torch.Tensor | None = None


class Biaffine(nn.Module):
    """Scores ``[x;1]ᵀ U_c [y;1]`` for `channels` matrices U_c (Dozat & Manning's biaffine).

    A 1 appended to x adds a term in y alone (the prior of y being a head); appended to y, a
    term in x alone; both, also a bias. U starts at zero, so all scores start equal.
    """

    def __init__(self, size: int, channels: int, *, x_bias: bool, y_bias: bool) -> None:
        super().__init__()
        self.x_bias, self.y_bias = x_bias, y_bias
        self.weight = nn.Parameter(torch.zeros(channels, size + x_bias, size + y_bias))

    def _augmented(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.x_bias:
            x = torch.cat([x, x.new_ones(*x.shape[:-1], 1)], dim=-1)
        if self.y_bias:
            y = torch.cat([y, y.new_ones(*y.shape[:-1], 1)], dim=-1)
        return x, y

    def pairs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Every x_i with every y_j: (batch, n, size) × (batch, m, size) -> (batch, c, n, m)."""
        x, y = self._augmented(x, y)
        return torch.einsum("bxi,cij,byj->bcxy", x, self.weight, y)

    def aligned(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x_i with y_i only: (batch, n, size) twice -> (batch, n, c)."""
        x, y = self._augmented(x, y)
        return torch.einsum("bxi,cij,bxj->bxc", x, self.weight, y)


def _mlp(hidden: int, size: int, dropout: float) -> nn.Sequential:
    """Dozat & Manning's reduction of an encoder state to a head or dependent role."""
    return nn.Sequential(nn.Linear(hidden, size), nn.LeakyReLU(0.1), nn.Dropout(dropout))


class BiaffineParserModel(PreTrainedModel):
    """An encoder with a biaffine arc scorer and a biaffine relation classifier.

    The loss is the sum of two cross-entropies: over each word's candidate heads (every word
    but itself, and the root), and over the relations of the word's gold head. The encoder is
    stored under its own `base_model_prefix` (``roberta`` for XLM-R), so a saved parser is a
    checkpoint that `AutoModel.from_pretrained` reads the encoder from, as from any head model.
    """

    # Attention runs inside the encoder, whose own class checks the implementation chosen;
    # these only let that choice (sdpa, flash…) stand on the outer model.
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__(config)
        settings = getattr(config, SETTINGS, None)
        if not settings:
            raise StiltsError(f"{config.name_or_path or 'this config'} has no parser settings")
        encoder = AutoModel.from_config(config, add_pooling_layer=False)
        self.base_model_prefix = encoder.base_model_prefix
        setattr(self, self.base_model_prefix, encoder)
        hidden, dropout = config.hidden_size, settings["dropout"]
        arc, label = settings["arc_size"], settings["label_size"]
        self.dropout = nn.Dropout(dropout)
        self.arc_dependent, self.arc_head = _mlp(hidden, arc, dropout), _mlp(hidden, arc, dropout)
        self.label_dependent = _mlp(hidden, label, dropout)
        self.label_head = _mlp(hidden, label, dropout)
        self.arc = Biaffine(arc, 1, x_bias=True, y_bias=False)
        assert config.num_labels is not None  # the relations: the head's set_labels gave them
        self.label = Biaffine(label, config.num_labels, x_bias=True, y_bias=True)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        word_ids: torch.Tensor | None = None,
        head_labels: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> ParserOutput:
        """`word_ids`: per position, the index of the word it starts, else -1 (padding too).
        `head_labels`: per word start, the position of its gold head (0: root); `labels`: its
        gold relation id; -100 where not scored (later sub-words, unseen relations)."""
        if word_ids is None:
            raise ValueError("the parser needs word_ids: which positions start a word")
        states = self.dropout(self.base_model(input_ids, attention_mask=attention_mask)[0])
        arc_scores = self.arc.pairs(self.arc_dependent(states), self.arc_head(states))[:, 0]
        candidate = word_ids >= 0
        candidate[:, 0] = True  # the root
        length = input_ids.shape[1]
        itself = torch.eye(length, dtype=torch.bool, device=input_ids.device)
        excluded = ~candidate[:, None, :] | itself[None]
        arc_scores = arc_scores.masked_fill(excluded, torch.finfo(arc_scores.dtype).min)
        if self.training and head_labels is not None:
            heads = head_labels.clamp(min=0)  # a position not scored takes any head
        else:
            heads = arc_scores.argmax(dim=-1)
        head_states = self.label_head(states)
        chosen = head_states.gather(1, heads[..., None].expand(-1, -1, head_states.shape[-1]))
        label_scores = self.label.aligned(self.label_dependent(states), chosen)
        loss = None
        if head_labels is not None and labels is not None:
            cross_entropy = nn.functional.cross_entropy
            loss = cross_entropy(arc_scores.flatten(0, 1), head_labels.flatten()) + cross_entropy(
                label_scores.flatten(0, 1), labels.flatten()
            )
        return ParserOutput(loss=loss, arc_logits=arc_scores, label_logits=label_scores)


def load_parser(
    path: str, labels: tuple[str, ...], *, trust_remote_code: bool
) -> BiaffineParserModel:
    """A parser saved by `save_pretrained` (one safetensors file or an index of shards),
    checked to predict exactly `labels`."""
    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    saved = tuple(config.id2label[i] for i in range(len(config.id2label)))
    if saved != labels:
        raise StiltsError(
            f"the parser at {path} predicts {len(saved)} relations that differ from the "
            f"{len(labels)} of this task's training data; was it trained on other data?"
        )
    model = BiaffineParserModel(config)
    folder = Path(path)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    weights = {}
    for shard in shards:
        weights.update(load_file(str(folder / shard)))
    result = model.load_state_dict(weights, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise StiltsError(
            f"the parser at {path} does not fit its config: missing "
            f"{result.missing_keys[:4]}, unexpected {result.unexpected_keys[:4]}"
        )
    return model
