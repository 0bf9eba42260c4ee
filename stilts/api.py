"""The plugin API: everything a task plugin imports from stilts, in one stable place.

A plugin declares a `Task` (or, for a task without training data that scores the encoder
itself, an `EncoderTask`): where its data lives (`HubSource`, read through the
`DataLocator` it is handed), its head kind (one of the heads below), its languages, the
study's hyperparameters (`Hyperparameters`) and its metric (those below follow XTREME's
official code). Errors a user can fix are `StiltsError`s. docs/writing-a-plugin.md describes
each name. A plugin's tests build a tiny model and fixture tables with `stilts.testing`, which
is not here because it loads torch, and a plugin module must stay light: `stilts tasks`
imports every installed plugin to list it.

Names here keep their meaning across minor releases; a rename keeps the old name working,
with a DeprecationWarning, for one release. Modules elsewhere in stilts may move.
"""

from stilts.errors import StiltsError, did_you_mean
from stilts.eval.metrics import accuracy
from stilts.eval.parsing import attachment_scores
from stilts.eval.qa import mlqa_scores, qa_score, squad_scores
from stilts.eval.submission import Submission, Writer, answers_json, label_lines, tag_lines
from stilts.eval.tagging import chunk_f1, pos_scores, token_accuracy
from stilts.tasks.data import DEV_AS_TEST, DataLocator, HubSource, Role, RoleSplits, local_source
from stilts.tasks.heads import (
    ROW,
    DependencyParsing,
    ExtractiveQA,
    Head,
    MaskedLanguageModel,
    MultipleChoice,
    SequenceClassification,
    TokenTagging,
)
from stilts.tasks.heads.embedding import SentenceEmbedding
from stilts.tasks.task import (
    Embed,
    EncoderEvaluation,
    EncoderTask,
    Hyperparameters,
    Loader,
    Metric,
    Task,
    TrainingGroups,
    TranslatedData,
)

__all__ = [
    "DEV_AS_TEST",
    "ROW",
    "DataLocator",
    "DependencyParsing",
    "Embed",
    "EncoderEvaluation",
    "EncoderTask",
    "ExtractiveQA",
    "Head",
    "HubSource",
    "Hyperparameters",
    "Loader",
    "MaskedLanguageModel",
    "Metric",
    "MultipleChoice",
    "Role",
    "RoleSplits",
    "SentenceEmbedding",
    "SequenceClassification",
    "StiltsError",
    "Submission",
    "Task",
    "TokenTagging",
    "TrainingGroups",
    "TranslatedData",
    "Writer",
    "accuracy",
    "answers_json",
    "attachment_scores",
    "chunk_f1",
    "did_you_mean",
    "label_lines",
    "local_source",
    "mlqa_scores",
    "pos_scores",
    "qa_score",
    "squad_scores",
    "tag_lines",
    "token_accuracy",
]
