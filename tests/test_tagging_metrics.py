"""Hand-checked cases for seqeval-0.0.12 chunk F1 and token accuracy.

Notation: sentences are flattened with an 'O' after each, chunks are (type, begin, end) over
that flat sequence, p = correct / predicted chunks, r = correct / gold chunks.
"""

from __future__ import annotations

import pytest

from stilts.eval.tagging import chunk_f1, chunks, pos_scores, token_accuracy


def scores(f1: float, precision: float, recall: float) -> dict[str, float]:
    return {"f1": f1, "precision": precision, "recall": recall}


# ---------------------------------------------------------------- PAN-X (IOB2)


def test_panx_exact_match_is_100():
    # Both: {(PER,0,1), (LOC,3,3)}; 2/2 correct.
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    assert chunks(gold) == [("PER", 0, 1), ("LOC", 3, 3)]
    assert chunk_f1(gold, gold, "en") == scores(100.0, 100.0, 100.0)


def test_panx_wrong_boundary_gets_no_credit():
    # gold {(PER,0,1), (LOC,3,3)}; pred {(PER,0,0), (LOC,3,3)}: only LOC matches.
    # p = 1/2, r = 1/2, f1 = 2 * .5 * .5 / 1 = .5
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]
    assert chunk_f1(pred, gold, "en") == scores(50.0, 50.0, 50.0)


def test_panx_i_tag_may_start_a_chunk():
    # Non-strict: 'O' then 'I-ORG' starts a chunk, so pred is (ORG,1,2) like gold; 1/1 correct.
    gold = [["O", "B-ORG", "I-ORG"]]
    pred = [["O", "I-ORG", "I-ORG"]]
    assert chunks(pred) == [("ORG", 1, 2)]
    assert chunk_f1(pred, gold, "de") == scores(100.0, 100.0, 100.0)


def test_panx_type_change_splits_adjacent_chunks():
    # I-PER -> I-LOC: prev_type != type_ ends PER and starts LOC, so pred is
    # {(PER,0,1), (LOC,2,2)}, the same as gold's B-PER I-PER B-LOC.
    gold = [["B-PER", "I-PER", "B-LOC"]]
    pred = [["B-PER", "I-PER", "I-LOC"]]
    assert chunks(pred) == [("PER", 0, 1), ("LOC", 2, 2)]
    assert chunk_f1(pred, gold, "en") == scores(100.0, 100.0, 100.0)


def test_panx_b_after_b_of_same_type_is_two_chunks():
    assert chunks([["B-PER", "B-PER"]]) == [("PER", 0, 0), ("PER", 1, 1)]


def test_panx_sentence_boundary_closes_chunks_and_offsets_span_the_corpus():
    # Flat gold: B-PER O | O | B-LOC O  -> {(PER,0,0), (LOC,3,3)} (the 'O' at 2 is the separator).
    # Flat pred: O O | O | B-LOC O      -> {(LOC,3,3)}.
    # p = 1/1, r = 1/2, f1 = 2 * 1 * .5 / 1.5 = 2/3.
    gold = [["B-PER", "O"], ["B-LOC"]]
    pred = [["O", "O"], ["B-LOC"]]
    assert chunks(gold) == [("PER", 0, 0), ("LOC", 3, 3)]
    result = chunk_f1(pred, gold, "en")
    assert result["precision"] == 100.0
    assert result["recall"] == 50.0
    assert result["f1"] == pytest.approx(200 / 3)
    # An I- tag opening sentence 2 does not continue sentence 1's chunk.
    assert chunks([["B-PER"], ["I-PER"]]) == [("PER", 0, 0), ("PER", 2, 2)]


def test_no_chunks_anywhere_scores_zero():
    assert chunk_f1([["O", "O"]], [["O", "O"]], "en") == scores(0.0, 0.0, 0.0)


# ---------------------------------------------------------------- UD-POS (UPOS)


def test_udpos_consecutive_identical_tags_merge():
    # "NOUN" is tag 'N', type 'NOUN'. Identical neighbours do not end a chunk.
    # pred NOUN NOUN VERB -> {(NOUN,0,1), (VERB,2,2)}
    # gold NOUN VERB VERB -> {(NOUN,0,0), (VERB,1,2)}
    # correct = 0 -> p = r = f1 = 0, although 2 of 3 tokens are right.
    pred = [["NOUN", "NOUN", "VERB"]]
    gold = [["NOUN", "VERB", "VERB"]]
    assert chunks(pred) == [("NOUN", 0, 1), ("VERB", 2, 2)]
    assert chunks(gold) == [("NOUN", 0, 0), ("VERB", 1, 2)]
    assert chunk_f1(pred, gold, "en") == scores(0.0, 0.0, 0.0)
    assert token_accuracy(pred, gold, "en")["accuracy"] == pytest.approx(200 / 3)


def test_udpos_partial_credit():
    # gold DET NOUN NOUN VERB -> {(DET,0,0), (NOUN,1,2), (VERB,3,3)}
    # pred DET NOUN VERB VERB -> {(DET,0,0), (NOUN,1,1), (VERB,2,3)}
    # correct = 1 (DET); p = 1/3, r = 1/3, f1 = 1/3.
    gold = [["DET", "NOUN", "NOUN", "VERB"]]
    pred = [["DET", "NOUN", "VERB", "VERB"]]
    result = chunk_f1(pred, gold, "fr")
    assert result == pytest.approx(scores(100 / 3, 100 / 3, 100 / 3))


def test_udpos_s_initial_tags_never_merge():
    # SCONJ and SYM read as tag 'S' (IOBES single): prev_tag 'S' always ends a chunk and tag
    # 'S' always starts one, so SCONJ SCONJ is two chunks where NOUN NOUN is one.
    assert chunks([["SCONJ", "SCONJ"]]) == [("SCONJ", 0, 0), ("SCONJ", 1, 1)]
    assert chunks([["SYM", "SYM", "SYM"]]) == [("SYM", 0, 0), ("SYM", 1, 1), ("SYM", 2, 2)]
    assert chunks([["NOUN", "NOUN"]]) == [("NOUN", 0, 1)]
    # Scoring consequence. gold SCONJ SCONJ VERB -> {(SCONJ,0,0), (SCONJ,1,1), (VERB,2,2)};
    # pred SCONJ NOUN VERB -> {(SCONJ,0,0), (NOUN,1,1), (VERB,2,2)}: 2 correct of 3 and 3,
    # p = r = f1 = 2/3.
    result = chunk_f1([["SCONJ", "NOUN", "VERB"]], [["SCONJ", "SCONJ", "VERB"]], "en")
    assert result == pytest.approx(scores(200 / 3, 200 / 3, 200 / 3))
    # Same token error with NOUN in place of SCONJ: gold {(NOUN,0,1), (VERB,2,2)};
    # pred NOUN ADJ VERB -> {(NOUN,0,0), (ADJ,1,1), (VERB,2,2)}: 1 correct;
    # p = 1/3, r = 1/2, f1 = 2 * (1/3) * (1/2) / (5/6) = 2/5.
    result = chunk_f1([["NOUN", "ADJ", "VERB"]], [["NOUN", "NOUN", "VERB"]], "en")
    assert result == pytest.approx(scores(40.0, 100 / 3, 50.0))


def test_udpos_i_initial_intj_follows_iobes_rules_and_still_merges():
    # INTJ reads as tag 'I'. After 'O' (or after an S-tag) an 'I' starts a chunk, and I -> I of
    # the same type continues it, so INTJ INTJ merges exactly like NOUN NOUN.
    assert chunks([["INTJ", "INTJ"]]) == [("INTJ", 0, 1)]
    assert chunks([["SCONJ", "INTJ", "INTJ"]]) == [("SCONJ", 0, 0), ("INTJ", 1, 2)]
    # gold INTJ INTJ PUNCT -> {(INTJ,0,1), (PUNCT,2,2)}; pred INTJ PUNCT PUNCT ->
    # {(INTJ,0,0), (PUNCT,1,2)}: 0 correct.
    result = chunk_f1([["INTJ", "PUNCT", "PUNCT"]], [["INTJ", "INTJ", "PUNCT"]], "en")
    assert result == scores(0.0, 0.0, 0.0)


# ---------------------------------------------------------------- token accuracy


def test_token_accuracy_counts_every_token_across_sentences():
    # 5 tokens, 4 right (the third of sentence 1 is wrong): 4/5 = 80.
    gold = [["NP", "S\\NP", "N"], ["NP/N", "N"]]
    pred = [["NP", "S\\NP", "NP"], ["NP/N", "N"]]
    assert token_accuracy(pred, gold, "en") == {"accuracy": 80.0}


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize("metric", [chunk_f1, token_accuracy])
def test_inputs_are_validated(metric):
    with pytest.raises(ValueError, match=r"de: 1 predicted sentences, 2 gold"):
        metric([["O"]], [["O"], ["O"]], "de")
    with pytest.raises(ValueError, match=r"sentence 1 has 1 predicted tags, 2 gold"):
        metric([["O"], ["O"]], [["O"], ["O", "O"]], "de")
    with pytest.raises(ValueError, match="no sentences"):
        metric([], [], "de")
    with pytest.raises(ValueError, match="is a string"):
        metric(["B-PER"], ["B-PER"], "de")
    with pytest.raises(ValueError, match="empty tag"):
        metric([[""]], [["O"]], "de")


def test_token_accuracy_refuses_zero_tokens():
    with pytest.raises(ValueError, match="no tokens"):
        token_accuracy([[]], [[]], "en")


def test_pos_scores_report_the_official_f1_with_token_accuracy_beside_it():
    # gold NOUN NOUN VERB: chunks (NOUN 0-1), (VERB 2-2); predicted NOUN VERB VERB:
    # (NOUN 0-0), (VERB 1-2) -> no chunk matches, F1 0; tokens 0 and 2 right -> 2/3.
    scores = pos_scores([["NOUN", "VERB", "VERB"]], [["NOUN", "NOUN", "VERB"]], "en")
    assert scores["f1"] == 0.0
    assert scores["accuracy"] == pytest.approx(200 / 3)
