"""What every head shares: building a head model on an encoder, reloading it, row bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from stilts.errors import StiltsError

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

ROW = "row"
"""Feature column: index of the loaded row a feature came from.

A head whose features are not one per row (QA and tagging windows) returns it from
`preprocess` as an index into the batch; `stilts.runtime.features` turns it into a table index, and
every other head gets it for free. Trainer drops it before the model sees a batch, because it
is not a `forward` argument.
"""


def head_model(
    auto_class: str,
    config: PretrainedConfig,
    encoder: PreTrainedModel,
    labels: Sequence[str] | None = None,
) -> PreTrainedModel:
    """A fresh `transformers.<auto_class>` model carrying `encoder`'s weights.

    Built from config and filled by hand rather than `from_pretrained(previous_phase)` because
    that would also restore the previous phase's head whenever its shape happens to match;
    each phase must start with a fresh head.
    """
    import transformers

    set_labels(config, labels)
    return with_encoder_weights(getattr(transformers, auto_class).from_config(config), encoder)


def set_labels(config: PretrainedConfig, labels: Sequence[str] | None) -> None:
    """Give `config` the head's label names, and none of the previous phase's head settings.

    The config comes from the previous phase: none of its head's settings may leak in. A head
    without label names gets transformers' default of two outputs (QA's start and end logits),
    never the previous phase's label count.
    """
    config.problem_type = None
    config.num_labels = len(labels) if labels is not None else 2
    if labels is not None:
        config.id2label = dict(enumerate(labels))
        config.label2id = {name: i for i, name in enumerate(labels)}
    else:
        config.id2label = {i: f"LABEL_{i}" for i in range(2)}
        config.label2id = {name: i for i, name in config.id2label.items()}


def with_encoder_weights(model: PreTrainedModel, encoder: PreTrainedModel) -> PreTrainedModel:
    """`model` (a fresh head model) with `encoder`'s weights in its base model.

    Extra source weights (a pooler the head model does not use) are dropped; a missing one is
    an error.
    """
    result = model.base_model.load_state_dict(encoder.state_dict(), strict=False)
    if result.missing_keys:
        raise StiltsError(
            f"the starting encoder lacks weights the {type(model).__name__} needs: "
            f"{', '.join(result.missing_keys[:5])}"
        )
    return model


def trained_model(auto_class: str, path: str, *, trust_remote_code: bool) -> PreTrainedModel:
    """A finished phase's model, its head included."""
    import transformers

    return getattr(transformers, auto_class).from_pretrained(
        path, trust_remote_code=trust_remote_code, use_safetensors=safetensors_only(path)
    )


PICKLED = ("pytorch_model.bin", "pytorch_model.bin.index.json")
SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")


def safetensors_only(name: str) -> bool:
    """True, for `from_pretrained`'s ``use_safetensors``: every model stilts loads reads its
    weights from safetensors only, never from a pickle (``pytorch_model.bin``: unpickling can
    run code). A local directory holding pickled weights alone is refused here first, with how
    to convert them (transformers would only say it found no safetensors)."""
    folder = Path(name)
    pickled = [file for file in PICKLED if (folder / file).is_file()]
    if pickled and not any((folder / file).is_file() for file in SAFETENSORS):
        architecture = _architecture(folder)
        raise StiltsError(
            f"{name} holds its weights only as a PyTorch pickle ({pickled[0]}), which stilts "
            "does not load (unpickling can run code); convert it once, on a machine you trust: "
            f"`transformers.{architecture}.from_pretrained(DIR).save_pretrained(DIR, "
            "safe_serialization=True)`"
        )
    return True


def _architecture(folder: Path) -> str:
    """The model class a directory's config names (AutoModel if it names none)."""
    try:
        return str(json.loads((folder / "config.json").read_text())["architectures"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return "AutoModel"


class AutoModelHead:
    """A head that is one of transformers' auto head classes (`auto_class`) on the encoder.

    The classification, multiple-choice, tagging and QA heads differ in their data and
    decoding, not in how their model is built, reloaded or recognised: that is done here once.
    """

    auto_class: ClassVar[str]
    """The transformers auto class of the head model, e.g. AutoModelForSequenceClassification."""
    head_from_start: ClassVar[bool] = False
    """The head is fresh in every phase (see `stilts.tasks.heads.Head.head_from_start`)."""

    def head_labels(self) -> Sequence[str] | None:
        """The names of the head's outputs (None: transformers' default for the class)."""
        return None

    def model_with_encoder(
        self, config: PretrainedConfig, encoder: PreTrainedModel
    ) -> PreTrainedModel:
        return head_model(self.auto_class, config, encoder, self.head_labels())

    def load_trained(self, path: str, *, trust_remote_code: bool = False) -> PreTrainedModel:
        return trained_model(self.auto_class, path, trust_remote_code=trust_remote_code)

    def trained_in(self, architecture: str) -> bool:
        """Whether a saved model of `architecture` (its config's) carries this head: any
        model class of the auto class's kind, e.g. XLMRobertaForSequenceClassification."""
        return architecture.endswith(self.auto_class.removeprefix("AutoModel"))
