"""Sequence-tagging metrics with the exact semantics of the official XTREME evaluation.

XTREME scores PAN-X (IOB2 NER tags) *and* UD-POS (bare UPOS tags such as "NOUN") with
``seqeval.metrics.{f1,precision,recall}_score`` from seqeval 0.0.12 (google-research/xtreme,
``evaluate.py`` and ``third_party/run_tag.py``). The chunker is re-implemented here by hand
rather than imported because:

* seqeval 0.0.12 is a dead release that pins nothing we can rely on, and
* seqeval 1.x changed the tag parser: it takes the first character as the IOB prefix and the
  rest as the type, so "NOUN" becomes prefix "N" + type "OUN" and both "CCONJ" and "SCONJ"
  become type "CONJ"; it also validates tags as IOB tags. UD-POS chunk boundaries, and so the
  published numbers, differ.

Under 0.0.12 a UPOS tag is read as tag = its first letter and type = the whole string (there is
no '-'), so runs of an identical UPOS tag merge into one chunk, while a tag whose first letter
is an IOBES letter follows the IOBES rules: "SCONJ" and "SYM" start with 'S', so each such token
is a single-token chunk and consecutive ones never merge. That quirk is reproduced on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

Chunk = tuple[str, int, int]


def _check(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], language: str
) -> None:
    """Refuse inputs the official scripts would silently mis-score (zip truncates)."""
    if len(predictions) != len(references):
        raise ValueError(
            f"{language}: {len(predictions)} predicted sentences, {len(references)} gold"
        )
    if len(references) == 0:
        raise ValueError(f"{language}: no sentences to score")
    for i, (pred, gold) in enumerate(zip(predictions, references, strict=True)):
        if isinstance(pred, str) or isinstance(gold, str):
            raise ValueError(
                f"{language}: sentence {i} is a string; expected a sequence of tags per sentence"
            )
        if len(pred) != len(gold):
            raise ValueError(
                f"{language}: sentence {i} has {len(pred)} predicted tags, {len(gold)} gold"
            )
        if any(not tag for tag in (*pred, *gold)):
            raise ValueError(f"{language}: sentence {i} contains an empty tag")


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """seqeval 0.0.12 ``end_of_chunk``: did a chunk end just before the current token?"""
    return (
        prev_tag in ("E", "S")
        or (prev_tag in ("B", "I") and tag in ("B", "S", "O"))
        or (prev_tag not in ("O", ".") and prev_type != type_)
    )


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """seqeval 0.0.12 ``start_of_chunk``: does a chunk start at the current token?"""
    return (
        tag in ("B", "S")
        or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
        or (tag not in ("O", ".") and prev_type != type_)
    )


def chunks(sentences: Sequence[Sequence[str]]) -> list[Chunk]:
    """(type, begin, end) chunks as seqeval 0.0.12 ``get_entities`` (non-strict, no suffix).

    Sentences are flattened with an 'O' after each one, so offsets run over the whole corpus and
    no chunk crosses a sentence boundary; one more 'O' closes the last chunk.
    """
    seq = [tag for sentence in sentences for tag in [*sentence, "O"]]
    prev_tag, prev_type, begin = "O", "", 0
    found: list[Chunk] = []
    for i, label in enumerate([*seq, "O"]):
        tag, type_ = label[0], label.split("-")[-1]
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            found.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return found


def chunk_f1(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], language: str
) -> dict[str, float]:
    """Micro chunk F1/precision/recall ×100 (PAN-X and UD-POS), as seqeval 0.0.12 scores them."""
    _check(predictions, references, language)
    gold = set(chunks(references))
    pred = set(chunks(predictions))
    correct = len(gold & pred)
    p = correct / len(pred) if pred else 0.0
    r = correct / len(gold) if gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"f1": f1 * 100, "precision": p * 100, "recall": r * 100}


def token_accuracy(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], language: str
) -> dict[str, float]:
    """Share of tokens whose tag is exactly right, ×100 (CCG supertagging has no chunks)."""
    _check(predictions, references, language)
    total = sum(len(sentence) for sentence in references)
    if total == 0:
        raise ValueError(f"{language}: no tokens to score")
    correct = sum(
        p == g
        for pred, gold in zip(predictions, references, strict=True)
        for p, g in zip(pred, gold, strict=True)
    )
    return {"accuracy": correct / total * 100}


def pos_scores(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]], language: str
) -> dict[str, float]:
    """UD-POS: the official chunk F1 (the task score), with token accuracy beside it, since
    that is the figure POS-tagging papers outside XTREME report."""
    return {
        **chunk_f1(predictions, references, language),
        **token_accuracy(predictions, references, language),
    }
