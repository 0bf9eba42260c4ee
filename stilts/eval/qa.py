"""Extractive-QA metrics (exact match and token F1) with the official scripts' semantics.

XTREME scores XQuAD and TyDiQA-GoldP with the SQuAD v1.1 script and MLQA with MLQA's own script
(google-research/xtreme ``evaluate.py``). Both are re-implemented here, line for line, so that
scores are comparable with published numbers without vendoring scripts that read JSON files:

* SQuAD v1.1: rajpurkar's ``evaluate-v1.1.py`` (read from the copy in seominjoon/denspi,
  ``evaluate-v1.1.py``); the empty-gold rule comes from ``evaluate-v2.0.py`` (copy read in
  qwang70/bert, ``evaluate-v2.0.py``).
* MLQA: facebookresearch/MLQA ``mlqa_evaluation_v1.py``.

Their normalisations differ: SQuAD strips only ASCII ``string.punctuation`` and English
articles; MLQA strips every Unicode punctuation character, language-specific articles, and
splits Chinese into single characters, so the two must not be swapped.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence

_ASCII_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")

# MLQA's remove_articles, verbatim. None means the language has no articles to strip. The Arabic
# pattern is written as '\sال^|ال' (a non-raw string, so '\s' reaches re unchanged); its first
# branch can never match ('^' after consumed text), so in effect every "ال" is replaced by a
# space, including inside words.
_MLQA_ARTICLES: dict[str, re.Pattern[str] | None] = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "hi": None,
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "ar": re.compile(r"\sال^|ال"),
    "zh": None,
}
_MLQA_MIXED_SEGMENTATION = frozenset({"zh"})
_CJK = re.compile(r"[\u4e00-\u9fa5]")  # MLQA's range: not the whole CJK block, on purpose.


def _is_mlqa_punct(char: str) -> bool:
    """Membership in MLQA's PUNCT set (Unicode category P* plus ASCII string.punctuation).

    MLQA builds the set over range(sys.maxunicode) at import; testing the category directly is
    equivalent (the one code point left out, U+10FFFF, is unassigned) and avoids a slow import.
    Categories come from this Python's Unicode database, which may be newer than the one the
    official numbers were produced with.
    """
    return unicodedata.category(char).startswith("P") or char in _ASCII_PUNCT


def squad_normalize(text: str) -> str:
    """SQuAD v1.1 normalize_answer: lower, drop ASCII punctuation, drop a/an/the, fix spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
    text = _SQUAD_ARTICLES.sub(" ", text)
    return " ".join(text.split())


def mixed_segmentation(text: str) -> list[str]:
    """MLQA's Chinese tokeniser: each CJK or punctuation char alone, other runs split on spaces."""
    segments: list[str] = []
    pending = ""
    for char in text:
        if _CJK.search(char) or _is_mlqa_punct(char):
            if pending != "":
                segments.extend(pending.split())
                pending = ""
            segments.append(char)
        else:
            pending += char
    if pending != "":
        segments.extend(pending.split())
    return segments


def mlqa_normalize(text: str, language: str) -> str:
    """MLQA normalize_answer: lower, drop punctuation, drop articles, re-tokenise, join."""
    if language not in _MLQA_ARTICLES:
        raise ValueError(
            f"{language}: MLQA normalisation is defined only for {sorted(_MLQA_ARTICLES)}"
        )
    text = text.lower()
    text = "".join(ch for ch in text if not _is_mlqa_punct(ch))
    articles = _MLQA_ARTICLES[language]
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = mixed_segmentation(text) if language in _MLQA_MIXED_SEGMENTATION else text.split()
    return " ".join(t for t in tokens if t.strip() != "")


def _token_f1(prediction: str, gold: str) -> float:
    """SQuAD v1.1 / MLQA f1_score on already-normalised strings (0 when nothing overlaps)."""
    pred_tokens, gold_tokens = prediction.split(), gold.split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def _score(
    predictions: Sequence[str | None],
    references: Sequence[Sequence[str]],
    language: str,
    normalize: Callable[[str], str],
) -> dict[str, float]:
    """Mean over questions of the best EM and best F1 against any gold answer, ×100; a question
    without a prediction (None) scores 0 and stays in the denominator, as the official scripts'
    "Unanswered question ... will receive score 0" (an answer "" can still match a gold that
    normalises to "")."""
    if len(predictions) != len(references):
        raise ValueError(f"{language}: {len(predictions)} predictions, {len(references)} questions")
    if len(references) == 0:
        raise ValueError(f"{language}: no questions to score")
    exact = f1 = 0.0
    for i, (prediction, golds) in enumerate(zip(predictions, references, strict=True)):
        if prediction is None:
            continue
        if not isinstance(prediction, str):
            raise ValueError(f"{language}: prediction {i} is not a string")
        if isinstance(golds, str):
            raise ValueError(
                f"{language}: gold for question {i} is a string; expected a list of answers"
            )
        pred = normalize(prediction)
        if len(golds) == 0:
            # SQuAD 2.0 (evaluate-v2.0.py): an unanswerable question's only gold is "", and the
            # F1 of two token lists where either is empty is 1 if both are empty, else 0; here
            # that coincides with exact match. Neither v1.1 nor MLQA defines it (max of []).
            exact += float(pred == "")
            f1 += float(pred == "")
            continue
        normalized = [normalize(gold) for gold in golds]
        exact += max(float(pred == gold) for gold in normalized)
        f1 += max(_token_f1(pred, gold) for gold in normalized)
    total = len(references)
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


def squad_scores(
    predictions: Sequence[str | None], references: Sequence[Sequence[str]], language: str
) -> dict[str, float]:
    """Exact match and F1 ×100 per the SQuAD v1.1 script (XQuAD, TyDiQA-GoldP).

    ``language`` only labels errors: SQuAD normalisation is the same for every language.
    A question the system did not answer is None (0, as the script scores a missing id); ""
    is an empty answer, which scores 0 unless a gold normalises to "" or the gold list is empty.
    """
    return _score(predictions, references, language, squad_normalize)


def mlqa_scores(
    predictions: Sequence[str | None], references: Sequence[Sequence[str]], language: str
) -> dict[str, float]:
    """Exact match and F1 ×100 per MLQA's mlqa_evaluation_v1.py for the answer ``language``."""
    mlqa_normalize("", language)  # Refuse an unknown language even when nothing else would.
    return _score(predictions, references, language, lambda text: mlqa_normalize(text, language))


def qa_score(scores: dict[str, float]) -> float:
    """XTREME's single QA number: the mean of exact match and F1."""
    return (scores["exact_match"] + scores["f1"]) / 2
