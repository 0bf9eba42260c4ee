"""Tagging tasks: UD-POS and PAN-X (XTREME targets) and CCG supertagging (intermediate).

UD-POS and PAN-X train on their English training sets and are tested zero-shot on every
language's test set; their hub tables store tags as a ClassLabel sequence, checked here
against the head's tag set by name, so a reordered or foreign tag set is an error rather than
silently shuffled labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.eval.tagging import chunk_f1, pos_scores
from stilts.tasks.data import DataLocator, HubSource, Role
from stilts.tasks.formats import TAGGING_DEFAULTS
from stilts.tasks.heads import TokenTagging
from stilts.tasks.plugins.xtreme import xtreme_source
from stilts.tasks.task import Loader, Task

if TYPE_CHECKING:
    import datasets

UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
    "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
PANX_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

UDPOS_LANGUAGES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ko": "Korean",
    "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian", "ta": "Tamil",
    "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ur": "Urdu",
    "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
}  # fmt: skip
"""XTREME's UD-POS languages and the language names its hub configs use (`udpos.German`)."""

PANX_LANGUAGES = (
    "ar", "he", "vi", "id", "jv", "ms", "tl", "eu", "ml", "ta", "te", "af", "nl", "en", "de",
    "el", "bn", "hi", "mr", "ur", "fa", "fr", "it", "pt", "es", "bg", "ru", "ja", "ka", "ko",
    "th", "sw", "yo", "my", "zh", "kk", "tr", "et", "fi", "hu",
)  # fmt: skip


def udpos_source(language: str) -> HubSource:
    return xtreme_source(f"udpos.{UDPOS_LANGUAGES[language]}")


def panx_source(language: str) -> HubSource:
    return xtreme_source(f"PAN-X.{language}")


def class_label_tagging_loader(
    source_for: dict[str, HubSource], tag_column: str, head: TokenTagging
) -> Loader:
    """A loader for per-language XTREME tables whose `tag_column` is a ClassLabel sequence."""

    def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        source = source_for[language]
        split = source.split(role)
        table = data.load(source, split, columns=("tokens", tag_column))
        names = getattr(getattr(table.features[tag_column], "feature", None), "names", None)
        if names is None or tuple(names) != head.labels:
            raise StiltsError(
                f"{data.where(source)} {split}: {tag_column} must be a ClassLabel sequence with "
                f"tags {', '.join(head.labels)} (found {names or table.features[tag_column]})"
            )
        return table.select_columns(["tokens", tag_column]).rename_column(tag_column, "tags")

    return load


UDPOS_HEAD = TokenTagging(labels=UPOS_TAGS)
PANX_HEAD = TokenTagging(labels=PANX_TAGS)

udpos = Task(
    name="udpos",
    summary="Universal Dependencies POS tagging: train in English, test in 33 languages",
    head=UDPOS_HEAD,
    languages=tuple(UDPOS_LANGUAGES),
    sources=tuple(udpos_source(language) for language in UDPOS_LANGUAGES),
    load=class_label_tagging_loader(
        {code: udpos_source(code) for code in UDPOS_LANGUAGES}, "pos_tags", UDPOS_HEAD
    ),
    metric=pos_scores,  # XTREME's score is seqeval 0.0.12's chunk F1, not token accuracy
    main_metric="f1",
    defaults=TAGGING_DEFAULTS,
)

panx = Task(
    name="panx",
    summary="PAN-X (WikiANN) named entities: train in English, test in 40 languages",
    head=PANX_HEAD,
    languages=PANX_LANGUAGES,
    sources=tuple(panx_source(language) for language in PANX_LANGUAGES),
    load=class_label_tagging_loader(
        {code: panx_source(code) for code in PANX_LANGUAGES}, "ner_tags", PANX_HEAD
    ),
    metric=chunk_f1,
    main_metric="f1",
    defaults=TAGGING_DEFAULTS,
)
