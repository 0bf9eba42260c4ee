"""The plugin contract: what a task supplies to stilts.

A task is a small frozen object, not a subclass tree: metadata (name, head, languages, the
study's hyperparameters) plus three behaviours (load, preprocess, metric). A task without
training data, which scores the encoder itself, is an `EncoderTask`: it has only what such a
task has. Built-in tasks and third-party plugins are the same kinds of object, registered under
the ``stilts.tasks`` entry point group. Whichever a plugin supplies, the core checks what is
asked of it against what it declares (`read`). This module imports nothing heavy: listing
tasks must stay fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, get_args

from stilts.errors import StiltsError, did_you_mean
from stilts.tasks.data import DataLocator, HubSource, Role

if TYPE_CHECKING:
    import datasets
    import numpy as np

    from stilts.eval.submission import Submission, Writer
    from stilts.tasks.heads import Head
    from stilts.tasks.heads.embedding import SentenceEmbedding


@dataclass(frozen=True)
class Hyperparameters:
    """A phase's training settings. Defaults are the reference study's (Phang et al. 2020).

    `batch_size` is the effective batch: per-device batch × devices × accumulation steps.
    """

    learning_rate: float = 1e-5
    batch_size: int = 32
    epochs: float = 2.0
    max_length: int = 256
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    """jiant's AdamW decay (as Trainer, not on biases and LayerNorm weights)."""
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    embedding_layer: int | None = None
    """Retrieval tasks: the hidden layer to pool (0 = embeddings); None: the study's depth."""

    def updated(self, overrides: Mapping[str, Any]) -> Hyperparameters:
        """A copy with `overrides` applied; None values mean 'keep'."""
        unknown = set(overrides) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown hyperparameters: {sorted(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Loader(Protocol):
    """A task's `load`: ``(role, language, data) -> datasets.Dataset``, the rows of `role` in
    `language`, in the head's columns, labels already mapped to the head's ids, each table
    read through `data` (a `DataLocator`), so the hub, the bundled sample and a mirror all
    serve it. stilts calls it through `Task.read`, which checks the role and language first."""

    def __call__(
        self, role: Role, language: str, data: DataLocator
    ) -> datasets.Dataset:  # pragma: no cover - protocol
        ...


Metric = Callable[[Sequence[Any], Sequence[Any], str], dict[str, float]]
"""(predictions, gold answers, language) -> named scores, ×100 as XTREME reports.

One prediction and one gold answer per row, in the form the task's head decodes them: label
ids (classification, multiple choice), tag names per word (tagging), answer text against the
list of gold texts (QA)."""


@dataclass(frozen=True)
class TranslatedData:
    """A task's own machine-translated training data, per language (see
    stilts.experiment.training_data)."""

    languages: tuple[str, ...]
    source: Callable[[str], HubSource]
    load: Loader
    """(role "train", language, data) -> the training rows in `language`, as `Task.load`'s."""


@dataclass(frozen=True)
class TrainingGroups:
    """Named parts of a task's training rows (its sources, genres…) that a phase may train
    on alone or in any combination: how diverse intermediate data is, at a fixed size, is
    one of the study's questions (see stilts.experiment.training_data)."""

    names: tuple[str, ...]
    sources: tuple[HubSource, ...]
    """Every table the groups are read from (a phase's fingerprint holds them)."""
    load: Callable[[str, DataLocator], datasets.Dataset]
    """(group, data) -> that group's training rows, in the columns `Task.load` gives."""


Embed = Callable[[Sequence[str]], "np.ndarray"]
"""Texts -> one L2-normalised sentence embedding per text, from the encoder under test."""
EncoderEvaluation = Callable[[Embed, str, DataLocator], tuple[dict[str, float], "Submission"]]
"""(embed, language, data) -> (named scores ×100, that language's submission file)."""


def _check_language(task: str, role: Role, language: str, has: tuple[str, ...]) -> None:
    """Refuse to read `role` of `task` in a language it does not declare for that role."""
    if role not in get_args(Role):
        raise StiltsError(f"{task}: there is no role {role!r} (roles: {', '.join(get_args(Role))})")
    if language not in has:
        raise StiltsError(
            f"{task} has no {role} data in {language!r}{_close_code(language, has)}; "
            f"it has {role} data in {', '.join(has)}"
        )


def _close_code(language: str, has: tuple[str, ...]) -> str:
    """A suggestion for a misspelt code (`EN`, `deu`, `zh-CN`), none for another two-letter
    code: that names another language (`fr` is not a typo of `tr`)."""
    if len(language) <= 2 and language.lower() not in has:
        return ""
    return did_you_mean(language.lower(), has)


@dataclass(frozen=True, kw_only=True)
class Task:
    """One task of a chain: trained in `train_language`, then tested in each of `languages`.

    `load(role, language, data)` returns the rows for `role` in `language` with the columns the
    head reads (see the head's `columns`), labels already mapped to the head's label ids; it
    reads through `data` so the same task reads the hub, a mirror or a fixture. Callers ask
    `read`, which checks the language first, so `load` is only asked for what the task has.
    `languages` is the official evaluation language list; training is in `train_language`.
    `preprocess`, when None, is the head's standard tokenisation.
    `submission`, when set, writes predictions as the task's official files spell them.
    `head_for_data`, when set, builds the head from the data (a tag set read off the training
    data, as for CCG); `head` then describes it before any data is read.
    """

    name: str
    summary: str
    head: Head
    languages: tuple[str, ...]
    sources: tuple[HubSource, ...]
    load: Loader
    metric: Metric
    main_metric: str
    train_language: str = "en"
    defaults: Hyperparameters = field(default_factory=Hyperparameters)
    preprocess: Callable[..., dict[str, Any]] | None = None
    head_for_data: Callable[[DataLocator], Head] | None = None
    submission: Writer | None = None
    """Writes one language's predictions in the official layout; None: the head's form."""
    translated: TranslatedData | None = None
    """The task's own machine-translated training data, if it has some."""
    groups: TrainingGroups | None = None
    """Named parts of the training rows a phase may choose from, if the task has some."""

    def languages_for(self, role: Role) -> tuple[str, ...]:
        """The languages `role` is read in: training in `train_language`; model selection
        there or in any evaluation language (a chain may score dev instead of test); testing
        in the evaluation languages."""
        if role == "train":
            return (self.train_language,)
        if role == "dev":
            return tuple(dict.fromkeys((self.train_language, *self.languages)))
        return self.languages

    def read(self, role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        """The rows of `role` in `language` from `load`, once the language is checked against
        what the task declares: every task refuses a language it lacks with the same error."""
        _check_language(self.name, role, language, self.languages_for(role))
        return self.load(role, language, data)

    def bound(self, data: DataLocator) -> Task:
        """This task with its head fixed for `data` (itself unless `head_for_data` is set)."""
        if self.head_for_data is None:
            return self
        return replace(self, head=self.head_for_data(data), head_for_data=None)

    def submission_file(self, predictions: list[Any], rows: datasets.Dataset) -> Submission:
        """(extension, text) of one language's predictions in the official submission layout."""
        write = self.submission or self.head.submission
        return write(predictions, rows)

    def tokenize(
        self, batch: dict[str, list[Any]], tokenizer: Any, max_length: int
    ) -> dict[str, Any]:
        """Turn a batch of loaded rows into model features (batched `datasets.map` function)."""
        if self.preprocess is not None:
            return self.preprocess(batch, tokenizer, max_length)
        return self.head.preprocess(batch, tokenizer, max_length)


@dataclass(frozen=True, kw_only=True)
class EncoderTask:
    """A task without training data that scores the encoder itself (retrieval: Tatoeba, BUCC,
    Mewsli-X, LAReQA), so it can only end a chain.

    It has no head to train, no training rows and no metric over predictions: its head is the
    sentence embedding, `evaluate_encoder` embeds its texts and scores them, and `load(role,
    language, data)` returns the rows of "dev" or "test" in `language` (what the evaluation
    reads), asked through `read` as a `Task`'s are.
    """

    name: str
    summary: str
    head: SentenceEmbedding
    languages: tuple[str, ...]
    sources: tuple[HubSource, ...]
    load: Loader
    evaluate_encoder: EncoderEvaluation
    main_metric: str
    defaults: Hyperparameters = field(default_factory=Hyperparameters)
    """Only `max_length` and `embedding_layer` apply: nothing is trained."""

    train_language: ClassVar[str] = "en"
    """The language results mark as the training one, and phase specs (so fingerprints)
    record, as a `Task`'s: English, the language the encoder's chain trained in."""

    def bound(self, data: DataLocator) -> EncoderTask:
        """As `Task.bound`: itself, since an encoder task's head needs no data."""
        return self

    def read(self, role: Role, language: str, data: DataLocator) -> datasets.Dataset:
        """The rows of `role` (dev or test) in `language` from `load`, once checked."""
        if role == "train":
            raise StiltsError(f"{self.name} has no training data; it evaluates the encoder")
        _check_language(self.name, role, language, self.languages)
        return self.load(role, language, data)

    def evaluate(
        self, embed: Embed, language: str, data: DataLocator
    ) -> tuple[dict[str, float], Submission]:
        """`evaluate_encoder` in `language`, once the language is checked."""
        _check_language(self.name, "test", language, self.languages)
        return self.evaluate_encoder(embed, language, data)


AnyTask = Task | EncoderTask
"""What a plugin registers: a task that trains, or one that scores the encoder itself."""
