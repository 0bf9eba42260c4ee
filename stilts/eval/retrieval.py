"""Retrieval metrics on what a retrieval produced (pairs, rankings), ×100, with the semantics
of XTREME's official code.

They sit apart from `stilts.runtime.mining`, which produces those pairs and rankings from
embeddings, because scoring a finished submission needs only them: `stilts score` reads
another system's BUCC and Mewsli-X files without loading torch.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet

import numpy as np


def set_f1(
    predicted: AbstractSet[tuple[Hashable, Hashable]] | Sequence[tuple[Hashable, Hashable]],
    gold: AbstractSet[tuple[Hashable, ...]],
) -> dict[str, float]:
    """Pair-set F1/precision/recall ×100, as XTREME's ``bucc_f1`` (evaluate.py) and
    ``bucc_eval``: all three are 0 when no predicted pair is in the gold set."""
    predicted = set(predicted)
    correct = len(predicted & set(gold))
    if correct == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision, recall = correct / len(predicted), correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def map_at_k(
    rankings: Sequence[Sequence[Hashable]],
    relevant: Sequence[AbstractSet[Hashable]],
    k: int | None = 20,
) -> float:
    """Mean average precision at k ×100 (LAReQA and Mewsli-X in XTREME-R).

    Per query, as ``average_precision_at_k`` in google-research/xtreme
    third_party/utils_lareqa.py: the ranking is truncated to its first k entries; each entry
    that is relevant and not already seen earlier in the ranking adds (hits so far)/(rank); the
    sum is divided by ``min(len(relevant), k)`` (``len(relevant)`` when k is None). The mean is
    over queries. For Mewsli-X (one gold entity per mention) this equals the MRR@20 that
    third_party/utils_mewslix.py ``evaluate`` reports as "MRR/MAP@20"; a query with an empty
    ranking scores 0 there and here.
    """
    if len(rankings) != len(relevant):
        raise ValueError(f"{len(rankings)} rankings but {len(relevant)} relevance sets")
    if not rankings:
        raise ValueError("no queries to score")
    if k is not None and k < 1:
        raise ValueError(f"k must be positive or None, got {k}")
    scores = []
    for ranking, targets in zip(rankings, relevant, strict=True):
        if not targets:
            # XTREME divides by min(0, k) = 0 here; refuse rather than invent a value.
            raise ValueError("every query needs at least one relevant item")
        ranked = list(ranking)[:k] if k else list(ranking)
        seen: set[Hashable] = set()
        hits = score = 0.0
        for rank, item in enumerate(ranked, start=1):
            if item in targets and item not in seen:
                hits += 1
                score += hits / rank
            seen.add(item)
        scores.append(score / (min(len(targets), k) if k else len(targets)))
    return float(np.mean(scores) * 100)
