"""Multilingual masked language modelling (`mlm`) as an intermediate task.

The data is plain text in every language of the task (by default XNLI's 15), trained all
mixed: the task's train language is `multi`, and `load(role, "multi", data)` is every
language's rows of that role, one table (languages in the task's order, each row marked with
its language; the trainer shuffles). Evaluating one language reads that language alone.

Where the text comes from:

- a local directory, `--data DIR`: one UTF-8 file per language,
  ``DIR/stilts-mlm/text/<language>.txt``, one document per line (blank lines are skipped);
  it is used whenever ``DIR/stilts-mlm/text`` exists;
- otherwise Wikipedia, pinned: the first parquet shard of each language's 20231101 snapshot
  of `wikimedia/wikipedia` (column `text`, one article per row), read from the hub
  (`--data hub`) or from a mirror of those shards under ``DIR/wikimedia/wikipedia``.

Neither has a dev or test split, so each language's documents are split the same way for
both: of every `HELD_OUT` documents in file order, the next-to-last is dev, the last is test
and the rest train (90/5/5). Dev and test rows get a `mask_seed` of their own, drawn from
their language and position, so their masks are fixed (see `stilts.tasks.heads.masked_lm`).

`masked_lm_task(languages)` builds the same task over another set of languages (a plugin of
one's own registers it under its own name).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stilts.errors import StiltsError
from stilts.tasks.data import DataLocator, HubSource, Role, local_source
from stilts.tasks.heads.masked_lm import DYNAMIC, MASK_SEED, MaskedLanguageModel, masked_lm_scores
from stilts.tasks.plugins.nli import XNLI_LANGUAGES
from stilts.tasks.task import Hyperparameters, Task

if TYPE_CHECKING:
    import datasets

MULTI = "multi"
"""The train language of an mlm task: all of its languages, mixed."""

TEXT = local_source("stilts-mlm/text", "{split}.txt")
"""Local text, one file per language (the split is the language code): never on the hub."""
TEXT_WHAT = "the mlm task's text (one UTF-8 file per language, one document per line)"

WIKIPEDIA_SNAPSHOT = "20231101"
WIKIPEDIA = HubSource(
    repo="wikimedia/wikipedia",
    # The 20231101 snapshots as cited by several projects' pinned downloads; not checked
    # against the hub from here (no access): `hf download` refuses a wrong revision.
    revision="b04c8d1ceb2f5cd4588862100d08de323dccfbaa",
    files="{split}/train-00000-of-*.parquet",  # the split is the config, e.g. 20231101.en
)
"""Each language's first parquet shard (English: about 156k articles, 420 MB)."""

HELD_OUT = 20
"""Of every HELD_OUT documents, one is dev and one is test."""
HELD_OUT_ROLE: dict[str, int] = {"dev": HELD_OUT - 2, "test": HELD_OUT - 1}

HEAD = MaskedLanguageModel()


@dataclass(frozen=True)
class TextLoader:
    """`Task.load` of an mlm task over `languages`."""

    task: str
    languages: tuple[str, ...]

    def __call__(self, role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        import datasets

        if language == MULTI:
            tables = [self(role, code, data) for code in self.languages]
            return datasets.concatenate_datasets(tables)
        return _split(_documents(language, data, self.languages), role, language)


def _documents(language: str, data: DataLocator, languages: tuple[str, ...]) -> datasets.Dataset:
    """All non-blank documents of `language` (column `text`): local text, else Wikipedia."""
    text = data.root_for(TEXT)
    if text is not None and (text / TEXT.repo).is_dir():
        (path,) = data.local_files(TEXT, [language], what=TEXT_WHAT)
        stat = path.stat()
        return _text_file(str(path), stat.st_mtime_ns, stat.st_size)
    config = f"{WIKIPEDIA_SNAPSHOT}.{language}"
    root = data.root_for(WIKIPEDIA)
    if root is not None and not any((root / WIKIPEDIA.repo).glob(WIKIPEDIA.pattern(config))):
        raise StiltsError(
            f"no mlm text for {language!r} under {root}: put one UTF-8 file per language "
            f"at {root / TEXT.repo}/<language>.txt (one document per line), or a mirror "
            f"of Wikipedia's first shards: {wikipedia_download_hint(root, languages)}"
        )
    return _non_blank(data.load(WIKIPEDIA, config, columns=("text",)).select_columns(["text"]))


@functools.lru_cache(maxsize=256)
def _text_file(path: str, mtime_ns: int, size: int) -> datasets.Dataset:
    """The non-blank lines of a text file, read once while it is unchanged (its modification
    time and size are part of the key): a chain reads each language several times."""
    import datasets

    return _non_blank(datasets.load_dataset("text", data_files={"train": path}, split="train"))


def _non_blank(table: datasets.Dataset) -> datasets.Dataset:
    return table.filter(
        lambda texts: [bool(text.strip()) for text in texts], input_columns="text", batched=True
    )


def wikipedia_download_hint(root: object, languages: tuple[str, ...]) -> str:
    """The command that mirrors exactly the Wikipedia files an mlm task reads."""
    include = " ".join(
        f'--include "{WIKIPEDIA.pattern(f"{WIKIPEDIA_SNAPSHOT}.{code}")}"' for code in languages
    )
    return (
        f"hf download {WIKIPEDIA.repo} --repo-type dataset --revision {WIKIPEDIA.revision} "
        f"{include} --local-dir {root}/{WIKIPEDIA.repo}"
    )


def _split(table: datasets.Dataset, role: Role, language: str) -> datasets.Dataset:
    """`role`'s documents of one language, marked with it; evaluation rows get mask seeds."""
    if role == "train":
        held = set(HELD_OUT_ROLE.values())
        indices = [i for i in range(table.num_rows) if i % HELD_OUT not in held]
    else:
        indices = list(range(HELD_OUT_ROLE[role], table.num_rows, HELD_OUT))
    if not indices:
        raise StiltsError(
            f"mlm text in {language} has {table.num_rows} non-blank documents, too few for a "
            f"{role} set: dev and test are the {HELD_OUT - 1}th and {HELD_OUT}th of every "
            f"{HELD_OUT}"
        )
    rows = table.select(indices)
    seeds = (
        [DYNAMIC] * len(indices) if role == "train" else [mask_seed(language, i) for i in indices]
    )
    return rows.add_column("language", [language] * rows.num_rows).add_column(MASK_SEED, seeds)


def mask_seed(language: str, position: int) -> int:
    """The fixed mask seed of a language's document at `position` (among non-blank ones): a
    48-bit hash of both, so no two documents of any languages share masks but by chance."""
    digest = hashlib.sha256(f"{language}/{position}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def masked_lm_task(languages: tuple[str, ...] = XNLI_LANGUAGES, *, name: str = "mlm") -> Task:
    """The mlm task over `languages`, trained on all of them mixed."""
    return Task(
        name=name,
        summary=f"masked LM on plain text in {len(languages)} languages, all mixed; "
        "pretrained LM head",
        head=HEAD,
        languages=tuple(languages),
        sources=(TEXT, WIKIPEDIA),
        load=TextLoader(name, tuple(languages)),
        metric=masked_lm_scores,
        main_metric="accuracy",
        train_language=MULTI,
        # The study's settings; the caps are stilts' own (Wikipedia shards are large): 100k
        # documents a phase, 2,000 to evaluate (each language's test; dev: all mixed).
        defaults=Hyperparameters(max_train_examples=100_000, max_eval_examples=2_000),
    )


mlm = masked_lm_task()
