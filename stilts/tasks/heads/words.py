"""Pre-split words and their sub-words: what the word-level heads (tagging, parsing) share.

A word-level head reads one position per word, its first sub-word, as XTREME's tagging code
does; these helpers tokenise words the way every such head must, so that they agree on which
position stands for which word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def tokenizable_words(
    sentences: Sequence[Sequence[str]], tokenizer: Any
) -> list[tuple[list[str], list[int]]]:
    """Each sentence's words with the number of sub-words of each (at least 1).

    A word that tokenises to nothing (a lone zero-width space…) becomes the unknown token, as
    in XTREME, so that it still has a first sub-word and a prediction. All words of all
    sentences are tokenised in one call.
    """
    flat = [word for words in sentences for word in words]
    pieces = tokenizer(flat, add_special_tokens=False)["input_ids"] if flat else []
    result, cursor = [], 0
    for words in sentences:
        lengths = [len(ids) for ids in pieces[cursor : cursor + len(words)]]
        cursor += len(words)
        kept = [w if n else tokenizer.unk_token for w, n in zip(words, lengths, strict=True)]
        result.append((kept, [max(n, 1) for n in lengths]))
    return result


def first_subwords(word_ids: Iterable[int | None]) -> list[int]:
    """Per position of an encoding (its `word_ids()`): the index of the word whose first
    sub-word it is, or -1 (a special token, or a word's later sub-word)."""
    starts, previous = [], None
    for word in word_ids:
        starts.append(word if word is not None and word != previous else -1)
        previous = word
    return starts
