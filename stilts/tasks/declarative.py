"""Declared tasks: a standard-format hub dataset described in a recipe, with no code.

A dataset already in one of the shapes stilts' heads read (a classified text or text pair, a
tagged word sequence, a multiple-choice row, a SQuAD-style question) needs no plugin: naming
its repo, pinned revision, parquet files, columns and label names is enough, e.g. ::

    tasks:
      reviews:
        kind: classification
        repo: acme/multilingual-reviews
        revision: 0c7d6e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819
        files: "{language}/{split}-*.parquet"
        columns: {text: review, label: stars}
        labels: [negative, positive]
        languages: [en, de, fr]

A declaration is data validated by pydantic (every key checked, nothing evaluated), and
`TaskDeclaration.build` turns it into an ordinary `stilts.tasks.task.Task` made of the built-in
heads, loading through `DataLocator`, and the metrics the built-in tasks of its kind use, so
a declared task runs, reads mirrors and is fingerprinted like an installed one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stilts.errors import StiltsError, did_you_mean
from stilts.eval.metrics import accuracy
from stilts.eval.qa import squad_scores
from stilts.eval.tagging import pos_scores
from stilts.schema import Strict, describe
from stilts.tasks.data import DataLocator, HubSource, Role, RoleSplits
from stilts.tasks.formats import QA_DEFAULTS, TAGGING_DEFAULTS, choice_rows, with_task_score
from stilts.tasks.heads import ExtractiveQA, MultipleChoice, SequenceClassification, TokenTagging
from stilts.tasks.hyperparameters import HyperparameterSettings
from stilts.tasks.task import Hyperparameters, Loader, Metric, Task

if TYPE_CHECKING:
    import datasets

Kind = Literal["classification", "tagging", "multiple_choice", "extractive_qa"]

ROLES: dict[str, dict[str, Any]] = {
    "classification": {"text": None, "label": "label"},
    "tagging": {"tokens": "tokens", "tags": "tags"},
    "multiple_choice": {"context": None, "choices": None, "label": "label"},
    "extractive_qa": {"id": "id", "context": ("context",), "question": "question",
                      "answers": "answers"},
}  # fmt: skip
"""The columns each kind reads, by role, and the column (a tuple for the roles `Columns`
lists) a role reads when the declaration names none; None: it must name one."""

MAIN_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy",),
    "multiple_choice": ("accuracy",),
    "tagging": ("f1", "accuracy"),  # chunk F1 (UD-POS, PAN-X) or token accuracy (CCG)
    "extractive_qa": ("em_f1", "f1", "exact_match"),
}
"""The scores each kind reports that may be its main metric; the first is the default."""

_METRICS: dict[str, Metric] = {
    "classification": accuracy,
    "multiple_choice": accuracy,
    "tagging": pos_scores,  # chunk F1 and token accuracy, as UD-POS reports them
    "extractive_qa": with_task_score(squad_scores),
}
_DEFAULTS = {"tagging": TAGGING_DEFAULTS, "extractive_qa": QA_DEFAULTS}
"""Hyperparameters of the built-in tasks of a kind, which a declared task of it starts from."""

_NOT_IDENTITY = ("summary", "hyperparameters")
"""Declaration keys that do not change what a phase trains: a summary is prose, and
hyperparameters enter the phase spec as the values the phase resolved (after the recipe's
and the command line's overrides)."""

REPO = re.compile(r"[\w.-]+/[\w.-]+")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A declared task's name: it names store directories and must not contain `+`."""


def _one_or_more(value: Any) -> Any:
    """`text: review` is short for `text: [review]`."""
    return [value] if isinstance(value, str) else value


ColumnNames = Annotated[
    tuple[str, ...], BeforeValidator(_one_or_more, json_schema_input_type=str | list[str])
]


class Columns(Strict):
    """The dataset's column for each role its kind reads (`ROLES`)."""

    text: ColumnNames | None = None
    """classification: the text column, or the two of a pair."""
    label: str | None = None
    """classification, multiple_choice: the label (the right choice's label)."""
    tokens: str | None = None
    """tagging: the words of a sentence (a list of strings)."""
    tags: str | None = None
    """tagging: one tag per word."""
    context: ColumnNames | None = None
    """multiple_choice: the context's columns, joined by a space; extractive_qa: the context."""
    choices: ColumnNames | None = None
    """multiple_choice: one column per choice, or one column holding the list of choices."""
    question: str | None = None
    """extractive_qa: the question."""
    id: str | None = None
    """extractive_qa: each question's id."""
    answers: str | None = None
    """extractive_qa: SQuAD's answers, {text: [...], answer_start: [...]}."""


class Splits(Strict):
    """The dataset's split for each role: training, model selection, zero-shot testing."""

    train: str = "train"
    dev: str = "validation"
    test: str = "test"


class TaskDeclaration(Strict):
    """A standard-format hub dataset as a task; see the module docstring for an example.

    Integer labels in the data are indices into `labels`, string labels are names (or
    `aliases` of names), a ClassLabel column's labels are read by name; a negative, empty or
    missing label marks an unlabelled row, which is dropped (a tag: one never predicted right).
    """

    kind: Kind
    """The head that reads it, and so the columns it needs."""
    repo: str
    """The hub dataset, ``org/name``."""
    revision: str = Field(min_length=1)
    """The commit the dataset is read at. A branch or tag moves, so planning pins it to the
    commit it names then (read from the hub) or identifies the mirror's files (--data DIR)."""
    files: str
    """Parquet files relative to the repo root, with `{split}` and, for a dataset with files
    per language, `{language}`, e.g. `"{language}/{split}-*.parquet"`."""
    columns: Columns = Field(default=Columns(), validate_default=True)
    labels: tuple[str, ...] = Field(default=(), validate_default=True)
    """Label names in label-id order (tag names for tagging, choice names for
    multiple_choice, whose choice count they give); none for extractive_qa."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """Spellings in the data -> label names, e.g. `{contradictory: contradiction}`."""
    splits: Splits = Splits()
    languages: tuple[str, ...] = Field(default=("en",), min_length=1)
    """The evaluation languages: the test split of each is scored zero-shot."""
    train_language: str = "en"
    """The language whose train and dev splits train and select the model."""
    metric: str = Field(default="", validate_default=True)
    """The main metric, one of the kind's `MAIN_METRICS`; empty: the kind's first (filled in,
    so a declaration that names the default is the same declaration)."""
    allow_null: bool = False
    """extractive_qa: some questions have no answer in their context (SQuAD 2.0)."""
    summary: str = ""
    """One line for `stilts tasks`."""
    hyperparameters: HyperparameterSettings = HyperparameterSettings()
    """The task's own defaults, over the study's."""

    @field_validator("repo")
    @classmethod
    def _repo_id(cls, repo: str) -> str:
        if not REPO.fullmatch(repo):
            raise ValueError(f"{repo!r} is not a hub dataset id such as 'org/name'")
        return repo

    @field_validator("files")
    @classmethod
    def _placeholders(cls, files: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(files) if name is not None}
        except ValueError as error:
            raise ValueError(f"{files!r} is not a file pattern ({error})") from None
        if "split" not in fields or not fields <= {"split", "language"}:
            raise ValueError(
                f"{files!r} must name the split as {{split}}, and may name the language as "
                "{language} (no other placeholder), e.g. '{language}/{split}-*.parquet'"
            )
        return files

    @field_validator("columns")
    @classmethod
    def _roles(cls, columns: Columns, info: ValidationInfo) -> Columns:
        kind = info.data.get("kind")
        if kind is None:  # the kind's own error says what is wrong
            return columns
        roles = ROLES[kind]
        given = columns.model_dump(exclude_none=True)
        for role in sorted(given.keys() - roles):
            raise ValueError(f"kind {kind} reads no {role} column (it reads {', '.join(roles)})")
        for role, default in roles.items():
            if default is None and role not in given:
                raise ValueError(f"kind {kind} must name its {role} column(s)")
        if kind == "classification" and not 1 <= len(columns.text or ()) <= 2:
            raise ValueError("text is one column, or two for a text pair")
        if kind == "extractive_qa" and len(columns.context or ("",)) != 1:
            raise ValueError("the context of a question is one column")
        named = [c for role in roles for c in _listed(given.get(role, roles[role]))]
        _unique(named, "column {} is named for more than one role")
        return columns

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        kind = info.data.get("kind")
        if kind == "extractive_qa" and labels:
            raise ValueError("kind extractive_qa has no labels: its answers are spans")
        if kind not in (None, "extractive_qa") and not labels:
            raise ValueError(f"kind {kind} must list its label names")
        return _unique(labels, "{} listed more than once")

    @field_validator("languages")
    @classmethod
    def _languages(cls, languages: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(languages, "{} listed more than once")

    @field_validator("metric")
    @classmethod
    def _main_metric(cls, metric: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind is None:
            return metric
        allowed = MAIN_METRICS[kind]
        if not metric:
            return allowed[0]
        if metric not in allowed:
            raise ValueError(
                f"the main metric of kind {kind} is one of {', '.join(allowed)}, not {metric!r}"
                f"{did_you_mean(metric, allowed)}"
            )
        return metric

    @model_validator(mode="after")
    def _consistent(self) -> TaskDeclaration:
        for alias, target in self.aliases.items():
            if target not in self.labels:
                raise ValueError(
                    f"aliases: {alias!r} stands for {target!r}, which is not one of labels "
                    f"({', '.join(self.labels)}){did_you_mean(target, self.labels)}"
                )
        choices, n = self.columns.choices or (), len(self.labels)
        if self.kind == "multiple_choice" and len(choices) > 1 and len(choices) != n:
            raise ValueError(f"columns.choices names {len(choices)} columns, and labels {n}")
        if self.kind == "multiple_choice":
            try:
                MultipleChoice(n)  # the head's own limits on the number of choices
            except ValueError as error:
                raise ValueError(f"labels: {error}") from None
        if "{language}" not in self.files and self.languages != (self.train_language,):
            raise ValueError(
                f"files {self.files!r} has no {{language}}, so the dataset has one language: "
                f"set languages to [{self.train_language}] (or add {{language}} to files)"
            )
        return self

    def column(self, role: str) -> Any:
        """The column (tuple of columns, for a list role) the data has for `role`."""
        return getattr(self.columns, role) or ROLES[self.kind][role]

    def source(self, language: str) -> HubSource:
        """The files of `language` (every language's, for a dataset without `{language}`)."""
        files = self.files.replace("{language}", language)
        return HubSource(self.repo, self.revision, files, RoleSplits(**self.splits.model_dump()))

    def head(self) -> SequenceClassification | TokenTagging | MultipleChoice | ExtractiveQA:
        if self.kind == "classification":
            return SequenceClassification(
                labels=self.labels, text_columns=self.column("text"), aliases=self.aliases
            )
        if self.kind == "tagging":
            return TokenTagging(labels=self.labels)
        if self.kind == "multiple_choice":
            return MultipleChoice(len(self.labels))
        return ExtractiveQA(allow_null=self.allow_null)

    def build(self, name: str) -> Task:
        """The task this declaration describes, named `name`."""
        read = dict.fromkeys((self.train_language, *self.languages))
        sources = dict.fromkeys(self.source(language) for language in read)
        defaults = _DEFAULTS.get(self.kind, Hyperparameters())
        return Task(
            name=name,
            summary=self.summary or f"{self.repo}: {self.kind.replace('_', ' ')}, declared",
            head=self.head(),
            languages=self.languages,
            sources=tuple(sources),
            load=self._loader(),
            metric=_METRICS[self.kind],
            main_metric=self.metric,
            train_language=self.train_language,
            defaults=defaults.updated(self.hyperparameters.given()),
        )

    def identity(self) -> dict[str, Any]:
        """What of this declaration decides what a phase trains (part of its fingerprint)."""
        return self.model_dump(mode="json", exclude_defaults=True, exclude=set(_NOT_IDENTITY))

    def _loader(self) -> Loader:
        read = {
            "classification": self._classification,
            "tagging": self._tagging,
            "multiple_choice": self._multiple_choice,
            "extractive_qa": self._questions,
        }[self.kind]

        def load(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
            source = self.source(language)
            split = source.split(role)
            return read(data, source, split, f"{data.where(source)} {source.pattern(split)}")

        return load

    def _classification(
        self, data: DataLocator, source: HubSource, split: str, where: str
    ) -> datasets.Dataset:
        text, label = self.column("text"), self.column("label")
        table = data.load(source, split, columns=(*text, label), optional=(label,))
        ids = self._label_ids(table[label], _class_names(table.features[label]), where)
        table = table.select_columns(list(text)).add_column("label", ids)
        return table.filter(lambda got: [i >= 0 for i in got], input_columns="label", batched=True)

    def _tagging(
        self, data: DataLocator, source: HubSource, split: str, where: str
    ) -> datasets.Dataset:
        tokens, tags = self.column("tokens"), self.column("tags")
        table = data.load(source, split, columns=(tokens, tags))
        for column in (tokens, tags):
            if not hasattr(table.features[column], "feature"):
                raise StiltsError(
                    f"{where}: column {column!r} must hold a list per row, one entry per word "
                    f"(found {table.features[column]})"
                )
        rows = table[tags]
        for i, (words, row) in enumerate(zip(table[tokens], rows, strict=True)):
            if len(words) != len(row):
                raise StiltsError(f"{where}: row {i} has {len(words)} words and {len(row)} tags")
        names = _class_names(table.features[tags].feature)
        flat = self._label_ids([tag for row in rows for tag in row], names, where)
        ids, start = [], 0
        for row in rows:
            ids.append(flat[start : start + len(row)])
            start += len(row)
        return _renamed(table, {tokens: "tokens"}).add_column("tags", ids)

    def _multiple_choice(
        self, data: DataLocator, source: HubSource, split: str, where: str
    ) -> datasets.Dataset:
        context, choices = self.column("context"), self.column("choices")
        label = self.column("label")
        columns = (*dict.fromkeys((*context, *choices, label)),)
        table = data.load(source, split, columns=columns, optional=(label,))
        names = _class_names(table.features[label])

        def row(values: dict[str, Any]) -> tuple[str, list[str], int]:
            listed = values[choices[0]] if len(choices) == 1 else [values[c] for c in choices]
            if len(listed) != len(self.labels):
                raise ValueError(f"{len(listed)} choices, and labels name {len(self.labels)}")
            ids = self._label_ids([values[label]], names, where)
            return " ".join(values[c] for c in context), list(listed), ids[0]

        return choice_rows(data, source, split, columns, row, optional=(label,))

    def _questions(
        self, data: DataLocator, source: HubSource, split: str, where: str
    ) -> datasets.Dataset:
        given = {_listed(self.column(role))[0]: role for role in ExtractiveQA().columns}
        table = data.load(source, split, columns=tuple(given))
        answers = table.features[self.column("answers")]
        if not isinstance(answers, dict) or not {"text", "answer_start"} <= answers.keys():
            raise StiltsError(
                f"{where}: column {self.column('answers')!r} must hold SQuAD answers "
                f"{{text: [...], answer_start: [...]}} (found {answers})"
            )
        return _renamed(table, given)

    def _label_ids(
        self, values: Sequence[Any], class_names: Sequence[str] | None, where: str
    ) -> list[int]:
        """Label ids of `values`, -1 for an unlabelled one; an unknown label is an error.

        Names map through the classification head's `label_ids`, the one name -> id mapping
        (aliases, did-you-mean errors), whatever the kind.
        """
        vocabulary = SequenceClassification(labels=self.labels, aliases=self.aliases)
        ids, named = [], {}
        for i, value in enumerate(values):
            if value is None or value == "" or (isinstance(value, int) and value < 0):
                ids.append(-1)
            elif isinstance(value, int) and class_names is None:
                if value >= len(self.labels):
                    raise StiltsError(
                        f"{where}: label {value} is not an index into labels "
                        f"(0-{len(self.labels) - 1}: {', '.join(self.labels)}); integer labels "
                        "count from 0"
                    )
                ids.append(value)
            else:
                # An int here has class names: the branch above took those without.
                named[i] = (
                    class_names[value]
                    if isinstance(value, int) and class_names is not None
                    else str(value)
                )
                ids.append(-1)
        for i, label_id in zip(
            named, vocabulary.label_ids(named.values(), where=where), strict=True
        ):
            ids[i] = label_id
        return ids


def _listed(columns: str | tuple[str, ...]) -> tuple[str, ...]:
    return (columns,) if isinstance(columns, str) else columns


def _unique(values: Sequence[str], problem: str) -> tuple[str, ...]:
    """`values` as a tuple; `problem.format(value)` is the error for a repeated value."""
    for value in values:
        if values.count(value) > 1:
            raise ValueError(problem.format(repr(value)))
    return tuple(values)


def _class_names(feature: Any) -> list[str] | None:
    """The names of a ClassLabel feature, whose integers index them (None: not a ClassLabel)."""
    return getattr(feature, "names", None)


def _renamed(table: datasets.Dataset, names: Mapping[str, str]) -> datasets.Dataset:
    """`table` with only the columns `names` keys, each renamed to its value."""
    table = table.select_columns(list(names))
    return table.rename_columns({old: new for old, new in names.items() if old != new})


def declared_task(name: str, declaration: Mapping[str, Any]) -> Task:
    """The task `name` that a recipe declares, or a one-line error naming the task and key."""
    if not NAME.fullmatch(name):
        raise StiltsError(
            f"declared task {name!r}: name it with letters, digits, '_', '.' and '-' only"
        )
    return _validated(name, declaration).build(name)


def _validated(name: str, declaration: Mapping[str, Any]) -> TaskDeclaration:
    try:
        return TaskDeclaration.model_validate(declaration)
    except ValidationError as error:
        raise StiltsError(f"declared task {name!r}: {describe(error, TaskDeclaration)}") from None
