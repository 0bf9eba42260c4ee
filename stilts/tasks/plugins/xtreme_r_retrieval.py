"""XTREME-R's retrieval tasks without training data: Mewsli-X and LAReQA (XQuAD-R).

Both evaluate the encoder as it is (`stilts chain mnli mewslix`: after MNLI), on sentence
embeddings (see `stilts.tasks.heads.embedding`), exactly like Tatoeba and BUCC in
`stilts.tasks.plugins.retrieval`, and both report mAP@20 (×100) per language, the XTREME-R metric.
Neither is on the hub in a usable form (Mewsli-X's article text must be restored from WikiNews
dumps; XQuAD-R's sentence breaks are only in the LAReQA repository), so both are read from a
local copy: pass ``--data DIR`` with

* Mewsli-X: ``DIR/google-research/mewsli-x/`` holding ``candidate_set_entities.jsonl``,
  ``wikinews_mentions-dev.jsonl`` and ``wikinews_mentions-test.jsonl`` -- the files that
  ``get-mewsli-x.sh`` (google-research/google-research
  ``dense_representations_for_entity_retrieval/mel``) writes to ``mewsli_x/output/dataset/``
  and google-research/xtreme ``scripts/download_mewslix_data.sh`` moves to
  ``download/mewslix/``. The released ``wikinews_mentions_no_text-*.jsonl`` files lack the
  article text and are refused.
* LAReQA: ``DIR/google-research-datasets/lareqa/xquad-r/{lang}.json`` for all 11 languages --
  the GitHub repository google-research-datasets/lareqa as xtreme's
  ``scripts/download_lareqa_data.sh`` unpacks it into ``download/lareqa/``.

Official semantics followed (google-research/xtreme ``third_party/utils_mewslix.py``,
``third_party/utils_lareqa.py`` at e23cf42, ``third_party/evaluate_retrieval.py``):

* Mewsli-X: every WikiNews mention of a language (``context.language``) retrieves among all
  entities of ``candidate_set_entities.jsonl`` (about 1M; descriptions in 50 languages, not only
  English); relevant is the gold ``entity_id``. mAP@20 with one gold equals the "MRR/MAP@20" of
  ``utils_mewslix.evaluate``. Query text is ``preprocess_mention``: the mention, a colon, then
  the one sentence holding it with the mention between ``{ }`` (braces already in the sentence
  become parentheses), newlines and double spaces normalised; a mention that crosses sentence
  breaks (the official code asserts there is none) gets its whole article as context.
  Candidate text is ``preprocess_entity_description``: the description's sentences joined by
  spaces, normalised the same way (the title is not used, as in the official code).
* LAReQA: the pool is every sentence of every paragraph (of every language) that has a
  question, as ``utils_lareqa.load_data`` builds it; each question of a language retrieves
  from the whole multilingual pool, and relevant is the sentence holding the answer start in
  every language (all sentences equal to it in its paragraph). Questions whose answer start is
  in no sentence are skipped, as there. Question text is the question; candidate text is the
  sentence immediately followed by its paragraph with newlines removed
  (``(sentence + context).replace("\\n", "")``, as ``evaluate_retrieval.py`` encodes it). The
  official script prints one mAP@20 over all questions; per language it is the mean over that
  language's questions (XQuAD-R has 1190 in each, so their mean is the official number).

The official scripts truncate queries and candidates to their own lengths (Mewsli-X 64 tokens;
LAReQA 96 for questions, 256 for answers); here both sides use the task's ``max_length``.
Candidate embeddings are computed once per encoder and shared by all languages.

Predictions: Mewsli-X writes ``mewslix/test-{lang}.json``, XTREME-R's submission layout
(``mock_test_data/predictions/mewslix``): a JSON object from ``example_id`` to the top-20
entity ids. XTREME-R defines no LAReQA submission file, so ``lareqa/test-{lang}.tsv`` has one
line per question: its uid (``{question id}_{lang}``) and the top-20 candidate uids
(``{lang}_{paragraph number}_{sentence index}``, as ``utils_lareqa`` names them), tab-separated.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stilts.errors import StiltsError
from stilts.eval.submission import Submission
from stilts.tasks.data import DataLocator, Role, RoleSplits, local_source
from stilts.tasks.heads.embedding import SentenceEmbedding
from stilts.tasks.task import Embed, EncoderTask

if TYPE_CHECKING:
    import datasets
    import numpy as np

MEWSLIX_LANGUAGES = ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk")
"""Mewsli-X's WikiNews languages (``utils_mewslix.MENTION_LANGUAGES``)."""
LAREQA_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
"""XQuAD-R's languages (the ``xquad-r/`` files of google-research-datasets/lareqa)."""
TOP_K = 20
"""XTREME-R scores the top 20 retrieved items (``utils_mewslix.TOP_K``, ``k=20`` for LAReQA)."""
METRIC = f"map@{TOP_K}"

MEWSLIX_MENTIONS = local_source(
    "google-research/mewsli-x", "wikinews_mentions-{split}.jsonl", RoleSplits(dev="dev")
)
MEWSLIX_CANDIDATES = local_source("google-research/mewsli-x", "candidate_set_entities.jsonl")
MEWSLIX_WHAT = (
    "the Mewsli-X dataset (google-research/mewsli-x/{candidate_set_entities.jsonl, "
    "wikinews_mentions-dev.jsonl, wikinews_mentions-test.jsonl} with article text, as "
    "get-mewsli-x.sh or xtreme's scripts/download_mewslix_data.sh write them; not on the hub)"
)
MEWSLIX_COLUMNS = ("example_id", "mention", "entity_id")

LAREQA = local_source("google-research-datasets/lareqa", "xquad-r/{split}.json")
LAREQA_WHAT = (
    "the LAReQA XQuAD-R files (google-research-datasets/lareqa/xquad-r/{lang}.json for "
    f"{', '.join(LAREQA_LANGUAGES)}, from github.com/google-research-datasets/lareqa; not on "
    "the hub)"
)
LAREQA_COLUMNS = ("id", "question", "relevant")


def _stamp(path: Path) -> tuple[str, int, int]:
    """A file's identity for caches: path, modification time and size."""
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def _normalise(text: str) -> str:
    """Newlines to spaces, double spaces to single ones (once), as ``utils_mewslix`` does."""
    return " ".join(text.splitlines()).replace("  ", " ").strip()


# --- embeddings shared by the languages of one evaluation -----------------------------------

_SHARED: weakref.WeakKeyDictionary[Embed, dict[Any, Any]] = weakref.WeakKeyDictionary()
"""Per `embed` function (one per evaluated encoder): candidate embeddings by data identity."""


def _once_per_encoder(embed: Embed, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, cached for as long as `embed` lives, so all languages share one pool."""
    try:
        cache = _SHARED.setdefault(embed, {})
    except TypeError:  # an embed that cannot be weakly referenced: no sharing
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _top_k(queries: np.ndarray, keys: np.ndarray, ids: Sequence[str]) -> list[list[str]]:
    """The ids of the TOP_K nearest keys of each query, nearest first."""
    from stilts.runtime import mining  # torch: only when evaluating, never to list tasks

    _, nearest = mining.knn(queries, keys, k=min(TOP_K, len(ids)))
    return [[ids[j] for j in row] for row in nearest.tolist()]


# --- Mewsli-X --------------------------------------------------------------------------------

_MARKED = re.compile(r"\{(.*?)\}")


def mention_query(
    text: str, sentence_spans: Sequence[tuple[int, int]], start: int, end: int, mention: str
) -> str:
    """A mention in context as ``utils_mewslix.preprocess_mention`` writes it.

    ``"{mention}: {left} { {mention} } {right}"`` where left and right are the rest of the
    sentence holding the mention (the first span containing it), braces in them escaped to
    parentheses, then newlines and double spaces normalised.
    """
    focus = next(
        ((s, e) for s, e in sentence_spans if s <= start < e and s < end <= e), (0, len(text))
    )
    left = _MARKED.sub(r"(\1)", text[focus[0] : start])
    right = _MARKED.sub(r"(\1)", text[end : focus[1]])
    return _normalise(f"{mention}: {left} {{ {mention} }} {right}")


def entity_text(description: str, sentence_spans: Sequence[tuple[int, int]]) -> str:
    """An entity as ``utils_mewslix.preprocess_entity_description`` writes it."""
    return _normalise(" ".join(description[s:e] for s, e in sentence_spans))


def _spans(spans: Sequence[dict[str, int]]) -> list[tuple[int, int]]:
    return [(span["start"], span["end"]) for span in spans]


@functools.lru_cache(maxsize=2)
def _read_mentions(stamp: tuple[str, int, int]) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """{language: ((example_id, query text, gold entity_id), …)} of one mentions file."""
    path = stamp[0]
    found: dict[str, list[tuple[str, str, str]]] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                context, text = record["context"], record["context"]["text"]
                sentences = _spans(context["sentence_spans"])
                for mention in record["mentions"]:
                    span = mention["mention_span"]
                    start, end, surface = span["start"], span["end"], span["text"]
                    if text[start:end] != surface:
                        raise StiltsError(
                            f"{path} line {number}: mention {mention['example_id']} is "
                            f"{surface!r} but the article has {text[start:end]!r} there"
                            + (
                                " (the article text is empty: these are the released "
                                "wikinews_mentions_no_text files; restore the text with "
                                "get-mewsli-x.sh or xtreme's scripts/download_mewslix_data.sh)"
                                if not text
                                else ""
                            )
                        )
                    query = mention_query(text, sentences, start, end, surface)
                    row = (mention["example_id"], query, mention["entity_id"])
                    found.setdefault(context["language"], []).append(row)
            except (KeyError, TypeError, ValueError) as error:
                raise StiltsError(
                    f"{path} line {number} is not a Mewsli-X ContextualMentions record "
                    f"({type(error).__name__}: {error}); expected "
                    '{"context": {"language", "text", "sentence_spans", …}, "mentions": '
                    '[{"example_id", "mention_span": {"start", "end", "text"}, "entity_id"}]}'
                ) from None
    return {language: tuple(rows) for language, rows in found.items()}


def _mewslix_mentions(
    data: DataLocator, role: Role, language: str
) -> tuple[tuple[str, str, str], ...]:
    split = MEWSLIX_MENTIONS.split(role)
    (path,) = data.local_files(MEWSLIX_MENTIONS, [split], what=MEWSLIX_WHAT)
    rows = _read_mentions(_stamp(path)).get(language, ())
    if not rows:
        raise StiltsError(f"{path} has no mentions in {language!r} (context.language)")
    return rows


def _mewslix_candidate_file(data: DataLocator) -> Path:
    (path,) = data.local_files(MEWSLIX_CANDIDATES, ["test"], what=MEWSLIX_WHAT)
    return path


def _read_candidates(path: Path) -> tuple[list[str], list[str]]:
    """(entity ids, entity texts) of ``candidate_set_entities.jsonl``, in file order."""
    ids, texts = [], []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entity = json.loads(line)
                ids.append(entity["entity_id"])
                texts.append(entity_text(entity["description"], _spans(entity["sentence_spans"])))
            except (KeyError, TypeError, ValueError) as error:
                raise StiltsError(
                    f"{path} line {number} is not a Mewsli-X Entity record "
                    f"({type(error).__name__}: {error}); expected "
                    '{"entity_id", "title", "description", "sentence_spans": [{"start", "end"}], …}'
                ) from None
    if not ids:
        raise StiltsError(f"{path} has no entities")
    return ids, texts


def _mewslix_candidates(embed: Embed, data: DataLocator) -> tuple[list[str], np.ndarray]:
    path = _mewslix_candidate_file(data)

    def compute() -> tuple[list[str], np.ndarray]:
        ids, texts = _read_candidates(path)
        return ids, embed(texts)

    return _once_per_encoder(embed, ("mewslix", _stamp(path)), compute)


def load_mewslix(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    """The WikiNews mentions of `role` (dev or test) in `language`: ``example_id``, the query
    text (``mention``) and the gold ``entity_id``. Checks that the candidate set is there too;
    the evaluation reads it. (XTREME-R's fine-tuning pairs, ``wikipedia_pairs-train.jsonl``,
    are not read: the task evaluates the encoder as it is.)"""
    import datasets

    rows = _mewslix_mentions(data, role, language)
    _mewslix_candidate_file(data)
    return datasets.Dataset.from_dict(
        {column: [row[i] for row in rows] for i, column in enumerate(MEWSLIX_COLUMNS)}
    )


def evaluate_mewslix(
    embed: Embed, language: str, data: DataLocator
) -> tuple[dict[str, float], Submission]:
    from stilts.runtime import mining

    mentions = _mewslix_mentions(data, "test", language)
    ids, keys = _mewslix_candidates(embed, data)
    rankings = _top_k(embed([query for _, query, _ in mentions]), keys, ids)
    score = mining.map_at_k(rankings, [{gold} for _, _, gold in mentions], k=TOP_K)
    predictions = {
        example: ranking for (example, _, _), ranking in zip(mentions, rankings, strict=True)
    }
    return {METRIC: score}, ("json", json.dumps(predictions, ensure_ascii=False) + "\n")


# --- LAReQA (XQuAD-R) ------------------------------------------------------------------------


@dataclass(frozen=True)
class LareqaPool:
    """XQuAD-R as ``utils_lareqa.load_data`` reads it: questions per language and one
    multilingual pool of candidate sentences."""

    questions: dict[str, tuple[tuple[str, str, str], ...]]
    """{language: ((question uid, question text, xling_id), …)}, in file order."""
    candidate_ids: tuple[str, ...]
    candidate_texts: tuple[str, ...]
    relevant: dict[str, frozenset[str]]
    """xling_id (the question id shared by all languages) -> its answer sentences' uids."""


def _lareqa_paths(data: DataLocator) -> tuple[tuple[str, int, int], ...]:
    """Every language's file (the pool spans all of them), or an error naming the first
    missing one."""
    return tuple(
        _stamp(data.local_files(LAREQA, [language], what=LAREQA_WHAT)[0])
        for language in LAREQA_LANGUAGES
    )


@functools.lru_cache(maxsize=1)
def _read_lareqa(stamps: tuple[tuple[str, int, int], ...]) -> LareqaPool:
    questions: dict[str, list[tuple[str, str, str]]] = {}
    candidates: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for language, (path, _, _) in zip(LAREQA_LANGUAGES, stamps, strict=True):
        mine = questions.setdefault(language, [])
        try:
            with open(path, encoding="utf-8") as handle:
                squad = json.load(handle)
            paragraph_number = 0
            for passage in squad["data"]:
                for paragraph in passage["paragraphs"]:
                    paragraph_number += 1
                    context_id = f"{language}_{paragraph_number}"
                    context = paragraph["context"]
                    breaks = [(start, end) for start, end in paragraph["sentence_breaks"]]
                    sentences = [context[start:end] for start, end in breaks]
                    for qa in paragraph["qas"]:
                        if len(qa["answers"]) != 1:
                            raise ValueError(f"question {qa['id']} has not exactly one answer")
                        at = qa["answers"][0]["answer_start"]
                        answer = next((context[s:e] for s, e in breaks if s <= at < e), None)
                        if not answer:  # no sentence holds the answer start: skipped there too
                            continue
                        mine.append((f"{qa['id']}_{language}", qa["question"].strip(), qa["id"]))
                        for position, sentence in enumerate(sentences):
                            uid = f"{context_id}_{position}"
                            if uid not in candidates:
                                text = (sentence + context).replace("\n", "").strip()
                                candidates[uid] = text
                            if sentence == answer:
                                relevant.setdefault(qa["id"], set()).add(uid)
        except (KeyError, TypeError, ValueError) as error:
            raise StiltsError(
                f"{path} is not an XQuAD-R file ({type(error).__name__}: {error}); expected "
                'SQuAD v1.1 JSON whose paragraphs also have "sentence_breaks" '
                "(google-research-datasets/lareqa xquad-r/)"
            ) from None
        if not mine:
            raise StiltsError(f"{path} has no questions")
    return LareqaPool(
        questions={language: tuple(rows) for language, rows in questions.items()},
        candidate_ids=tuple(candidates),
        candidate_texts=tuple(candidates.values()),
        relevant={xling: frozenset(uids) for xling, uids in relevant.items()},
    )


def load_lareqa(role: Role, language: str, data: DataLocator) -> datasets.Dataset:
    """The questions of `language` (XQuAD-R's only split, for dev and test alike): ``id`` (the
    official uid), ``question`` and the uids of the ``relevant`` candidate sentences."""
    import datasets

    pool = _read_lareqa(_lareqa_paths(data))
    rows = pool.questions[language]
    return datasets.Dataset.from_dict(
        {
            "id": [uid for uid, _, _ in rows],
            "question": [text for _, text, _ in rows],
            "relevant": [sorted(pool.relevant[xling]) for _, _, xling in rows],
        }
    )


def evaluate_lareqa(
    embed: Embed, language: str, data: DataLocator
) -> tuple[dict[str, float], Submission]:
    from stilts.runtime import mining

    stamps = _lareqa_paths(data)
    pool = _read_lareqa(stamps)
    keys = _once_per_encoder(embed, ("lareqa", stamps), lambda: embed(list(pool.candidate_texts)))
    rows = pool.questions[language]
    rankings = _top_k(embed([text for _, text, _ in rows]), keys, pool.candidate_ids)
    score = mining.map_at_k(rankings, [pool.relevant[xling] for _, _, xling in rows], k=TOP_K)
    lines = "".join(
        "\t".join([uid, *ranking]) + "\n"
        for (uid, _, _), ranking in zip(rows, rankings, strict=True)
    )
    return {METRIC: score}, ("tsv", lines)


mewslix = EncoderTask(
    name="mewslix",
    summary="Mewsli-X entity retrieval (local data), 11 languages; evaluates the encoder",
    head=SentenceEmbedding(),
    languages=MEWSLIX_LANGUAGES,
    sources=(MEWSLIX_MENTIONS, MEWSLIX_CANDIDATES),
    load=load_mewslix,
    evaluate_encoder=evaluate_mewslix,
    main_metric=METRIC,
)

lareqa = EncoderTask(
    name="lareqa",
    summary="LAReQA answer retrieval on XQuAD-R (local data), 11 languages; evaluates the encoder",
    head=SentenceEmbedding(),
    languages=LAREQA_LANGUAGES,
    sources=(LAREQA,),
    load=load_lareqa,
    evaluate_encoder=evaluate_lareqa,
    main_metric=METRIC,
)
