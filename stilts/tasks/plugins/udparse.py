"""Dependency parsing on UD English EWT (intermediate), read from a local copy of the treebank.

The treebank is the UniversalDependencies/UD_English-EWT repository on GitHub at tag r2.5, the
Universal Dependencies release XTREME's UD-POS uses, so this task and udpos see one release.
The hub has no pinned copy of these files in CoNLL-U: the ``universal_dependencies`` dataset
is UD 2.7, and its rows keep multiword-token ranges and empty nodes as words with head
``None``. So, like CCGbank, it is read from a local directory only: clone it with
``git clone --branch r2.5 https://github.com/UniversalDependencies/UD_English-EWT
DIR/UniversalDependencies/UD_English-EWT`` and pass ``--data DIR``. The official split is used
(en_ewt-ud-train / dev / test.conllu). The relation set is every DEPREL of the training file,
subtypes included, most frequent first; LAS scores universal relations (`stilts.eval.parsing`).

CoNLL-U is read as its specification says: comment lines (``#``) are skipped, a blank line
ends a sentence, multiword-token ranges (``3-4``) and empty nodes (``8.1``) are skipped, and
each word keeps its FORM, HEAD and DEPREL. Anything else is refused with the file and line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.eval.parsing import attachment_scores
from stilts.tasks.data import DataLocator, Role, RoleSplits, local_source
from stilts.tasks.heads.dependency import DependencyParsing
from stilts.tasks.task import Hyperparameters, Task

if TYPE_CHECKING:
    import datasets

UD_EWT = local_source(
    "UniversalDependencies/UD_English-EWT", "en_ewt-ud-{split}.conllu", RoleSplits(dev="dev"),
    release="r2.5",  # a GitHub tag: the copy is a clone at it
)  # fmt: skip

WHAT = "UD English EWT r2.5 CoNLL-U (github.com/UniversalDependencies/UD_English-EWT, tag r2.5)"
COLUMNS = 10  # ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC
WORD_ID = re.compile(r"[1-9][0-9]*")
HEAD = re.compile(r"0|[1-9][0-9]*")
SKIPPED_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*|[0-9]+\.[1-9][0-9]*")
"""A multiword token's range (``3-4``) or an empty node (``8.1``): not a word of the tree."""


@dataclass(frozen=True)
class Sentence:
    """One tree: per word its form, its head (1-based word index, 0 for the root), its DEPREL."""

    words: list[str]
    heads: list[int]
    deprels: list[str]


def read_conllu(path: Path) -> Iterator[Sentence]:
    """Every sentence of a CoNLL-U file (see the module's notes on what is skipped)."""
    words: list[str] = []
    heads: list[int] = []
    deprels: list[str] = []
    lines: list[int] = []  # the line of each word, for errors found at the sentence's end
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if not line.strip():
            if words:
                _check_heads(path, heads, lines)
                yield Sentence(words, heads, deprels)
                words, heads, deprels, lines = [], [], [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != COLUMNS:
            raise StiltsError(
                f"{path}:{number}: a CoNLL-U word line has {COLUMNS} tab-separated columns, "
                f"this one {len(fields)}"
            )
        word_id, form, head, deprel = fields[0], fields[1], fields[6], fields[7]
        if SKIPPED_ID.fullmatch(word_id):
            continue
        if not WORD_ID.fullmatch(word_id) or int(word_id) != len(words) + 1:
            raise StiltsError(f"{path}:{number}: word ID {word_id!r} should be {len(words) + 1}")
        if not HEAD.fullmatch(head) or deprel in ("", "_"):
            raise StiltsError(
                f"{path}:{number}: word {word_id} needs a numeric HEAD and a DEPREL, "
                f"found {head!r} and {deprel!r}"
            )
        words.append(form)
        heads.append(int(head))
        deprels.append(deprel)
        lines.append(number)


def _check_heads(path: Path, heads: list[int], lines: list[int]) -> None:
    for head, line in zip(heads, lines, strict=True):
        if head > len(heads):
            raise StiltsError(
                f"{path}:{line}: HEAD {head} is past the sentence's last word ({len(heads)})"
            )


def _sentences(data: DataLocator, role: Role) -> tuple[Sentence, ...]:
    return _sentences_under(data.root_for(UD_EWT), role)


@cache  # the relation set and every role's rows read the training file; keyed by the root
def _sentences_under(root: Path | None, role: Role) -> tuple[Sentence, ...]:
    files = DataLocator(root).local_files(UD_EWT, [UD_EWT.split(role)], what=WHAT)
    sentences = tuple(sentence for path in files for sentence in read_conllu(path))
    if not sentences:
        raise StiltsError(f"{', '.join(map(str, files))} holds no sentence")
    return sentences


def udparse_head(data: DataLocator) -> DependencyParsing:
    """The relations of the training file, most frequent first (ties by name)."""
    counts = Counter(rel for sentence in _sentences(data, "train") for rel in sentence.deprels)
    return DependencyParsing(labels=tuple(sorted(counts, key=lambda rel: (-counts[rel], rel))))


def load_udparse(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    import datasets

    sentences = _sentences(data, role)
    return datasets.Dataset.from_dict(
        {
            "tokens": [sentence.words for sentence in sentences],
            "heads": [sentence.heads for sentence in sentences],
            "deprels": [sentence.deprels for sentence in sentences],
        }
    )


udparse = Task(
    name="udparse",
    summary="Dependency parsing (LAS/UAS) on UD English EWT r2.5 (local CoNLL-U copy)",
    head=DependencyParsing(labels=()),
    head_for_data=udparse_head,
    languages=("en",),
    sources=(UD_EWT,),
    load=load_udparse,
    metric=attachment_scores,
    main_metric="las",
    # The study's intermediate-task settings, as CCG's (the study had no parsing task): rate
    # 1e-5, batch 32, 2 epochs, 256 sub-words (Hyperparameters' defaults).
    defaults=Hyperparameters(),
)
