"""Dependency-parsing scores (UAS, LAS) and the CoNLL-U prediction file.

Scored as the CoNLL 2018 shared task's official evaluation (``conll18_ud_eval.py``) scores a
parse over gold tokenisation, where every system word is aligned with its gold word:

* UAS: the share of words whose predicted head is the gold head;
* LAS: the share of words whose predicted head and *universal* relation are both right. Only
  the part of a DEPREL before ':' counts (``nmod:poss`` and ``nmod`` are both ``nmod``), as the
  shared task scored its LAS, so a parser is not penalised for a language-specific subtype;
* every word is scored, punctuation included (the CoNLL 2018 evaluation excludes nothing,
  unlike the CoNLL 2006/2007 scripts, which skipped punctuation);
* scores are ×100, as every stilts metric, over all words of all sentences (micro-averaged).

A sentence's parse is one ``(head, deprel)`` pair per word, in word order: the head is the
1-based index of the head word, 0 for the root.
"""

from __future__ import annotations

from collections.abc import Sequence

from stilts.eval.submission import Submission

Arc = tuple[int, str]
"""One word's (head, deprel): head 0 is the root, 1 is the first word."""


def universal(deprel: str) -> str:
    """The universal part of a UD relation: ``nmod:poss`` -> ``nmod``."""
    return deprel.split(":", 1)[0]


def attachment_scores(
    predictions: Sequence[Sequence[Arc]], references: Sequence[Sequence[Arc]], language: str
) -> dict[str, float]:
    """UAS and LAS ×100 over every word (see the module's conventions)."""
    if len(predictions) != len(references):
        raise ValueError(
            f"{language}: {len(predictions)} predicted sentences, {len(references)} gold"
        )
    words = heads = labelled = 0
    for i, (predicted, gold) in enumerate(zip(predictions, references, strict=True)):
        if len(predicted) != len(gold):
            raise ValueError(
                f"{language}: sentence {i} has {len(predicted)} predicted words, {len(gold)} gold"
            )
        for (head, deprel), (gold_head, gold_deprel) in zip(predicted, gold, strict=True):
            words += 1
            if head == gold_head:
                heads += 1
                labelled += universal(deprel) == universal(gold_deprel)
    if words == 0:
        raise ValueError(f"{language}: no words to score")
    return {"las": 100 * labelled / words, "uas": 100 * heads / words}


def conllu_lines(
    predictions: Sequence[Sequence[Arc]], sentences: Sequence[Sequence[str]]
) -> Submission:
    """Predicted parses as a CoNLL-U file: ID, FORM, HEAD and DEPREL filled, the other six
    columns ``_``, a blank line after each sentence (what ``conll18_ud_eval.py`` reads)."""
    blocks = []
    for arcs, words in zip(predictions, sentences, strict=True):
        lines = [
            f"{i}\t{word}\t_\t_\t_\t_\t{head}\t{deprel}\t_\t_\n"
            for i, (word, (head, deprel)) in enumerate(zip(words, arcs, strict=True), start=1)
        ]
        blocks.append("".join(lines) + "\n")
    return "conllu", "".join(blocks)
