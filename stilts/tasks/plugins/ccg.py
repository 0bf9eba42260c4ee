"""CCG supertagging (English, intermediate), read from a local copy of CCGbank.

CCGbank (LDC2005T13) is licensed and not on the hub, so it is only ever read from a local
directory: link a copy of the distribution (the folder holding ``data/AUTO``) as
``DIR/LDC2005T13/ccgbank_1_1`` and pass ``--data DIR``. The standard split is used: sections
02-21 train, 00 dev, 23 test. The tag set is every supertag of the training sections, most
frequent first; a dev or test supertag that never occurs in training cannot be predicted and
counts as an error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from stilts.eval.tagging import token_accuracy
from stilts.tasks.data import DataLocator, Role, local_source
from stilts.tasks.heads import TokenTagging
from stilts.tasks.task import Hyperparameters, Task

if TYPE_CHECKING:
    import datasets

CCGBANK = local_source("LDC2005T13/ccgbank_1_1", "data/AUTO/{split}/*.auto")

WHAT = "CCGbank (LDC2005T13, licensed, not on the hub; the folder with data/AUTO)"
SECTIONS: dict[Role, tuple[str, ...]] = {
    "train": tuple(f"{n:02d}" for n in range(2, 22)),
    "dev": ("00",),
    "test": ("23",),
}
LEAF = re.compile(r"<L (\S+) \S+ \S+ (\S+) \S+>")
"""A leaf of a CCGbank AUTO derivation: `<L category POS POS word indexed-category>`."""


def read_auto(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(words, supertags) of every derivation in a CCGbank AUTO file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("("):
            leaves = LEAF.findall(line)
            yield [word for _, word in leaves], [tag for tag, _ in leaves]


def _sentences(data: DataLocator, role: Role) -> tuple[tuple[list[str], list[str]], ...]:
    return _sentences_under(data.root_for(CCGBANK), role)


@cache  # the tag set and every role's rows read the training sections; keyed by the root
def _sentences_under(root: Path | None, role: Role) -> tuple[tuple[list[str], list[str]], ...]:
    files = DataLocator(root).local_files(CCGBANK, SECTIONS[role], what=WHAT)
    return tuple(sentence for path in files for sentence in read_auto(path))


def ccg_head(data: DataLocator) -> TokenTagging:
    """The supertag set of the training sections, most frequent first (ties by name)."""
    counts = Counter(tag for _, tags in _sentences(data, "train") for tag in tags)
    return TokenTagging(labels=tuple(sorted(counts, key=lambda tag: (-counts[tag], tag))))


def load_ccg(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    import datasets

    index = {tag: i for i, tag in enumerate(ccg_head(data).labels)}
    sentences = _sentences(data, role)
    return datasets.Dataset.from_dict(
        {
            "tokens": [words for words, _ in sentences],
            "tags": [[index.get(tag, -1) for tag in tags] for _, tags in sentences],
        }
    )


ccg = Task(
    name="ccg",
    summary="CCG supertagging on CCGbank (local, licensed copy), English",
    head=TokenTagging(labels=()),
    head_for_data=ccg_head,
    languages=("en",),
    sources=(CCGBANK,),
    load=load_ccg,
    metric=token_accuracy,
    main_metric="accuracy",
    defaults=Hyperparameters(epochs=2),
)
