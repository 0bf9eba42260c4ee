"""The plugin API: everything a task plugin imports from stilts, in one stable place.

A plugin declares a `Task` (or, for a task without training data that scores the encoder
itself, an `EncoderTask`): where its data lives (`HubSource`, read through the
`DataLocator` it is handed), its head kind (one of the heads below), its languages, the
study's hyperparameters (`Hyperparameters`) and its metric (those below follow XTREME's
official code). Errors a user can fix are `StiltsError`s. Its tests build a tiny model and
fixture tables with the helpers at the end. docs/writing-a-plugin.md describes each name.

Names here keep their meaning across minor releases; a rename keeps the old name working,
with a DeprecationWarning, for one release. Modules elsewhere in stilts may move.
"""

from stilts.errors import StiltsError, did_you_mean
from stilts.eval.metrics import accuracy
from stilts.eval.parsing import attachment_scores
from stilts.eval.qa import mlqa_scores, qa_score, squad_scores
from stilts.eval.submission import Submission, Writer, answers_json, label_lines, tag_lines
from stilts.eval.tagging import chunk_f1, pos_scores, token_accuracy
from stilts.tasks.data import DEV_AS_TEST, DataLocator, HubSource, RoleSplits
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
    Role,
    Task,
    TrainingGroups,
    TranslatedData,
)
from stilts.testing import TINY_CONFIG, build_tiny_model, task_texts, train_tokenizer, write_table

__all__ = [
    "DEV_AS_TEST",
    "ROW",
    "TINY_CONFIG",
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
    "build_tiny_model",
    "chunk_f1",
    "did_you_mean",
    "label_lines",
    "mlqa_scores",
    "pos_scores",
    "qa_score",
    "squad_scores",
    "tag_lines",
    "task_texts",
    "token_accuracy",
    "train_tokenizer",
    "write_table",
]
