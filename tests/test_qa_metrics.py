"""Hand-checked cases for SQuAD v1.1 and MLQA exact match / F1.

F1 per question: p = shared tokens / predicted tokens, r = shared / gold, f1 = 2pr / (p + r),
best over the gold answers; shared tokens are counted with multiplicity (Counter &).
"""

from __future__ import annotations

import pytest

from stilts.eval.qa import (
    mixed_segmentation,
    mlqa_normalize,
    mlqa_scores,
    qa_score,
    squad_normalize,
    squad_scores,
)

# ---------------------------------------------------------------- SQuAD v1.1


def test_squad_normalization_drops_case_ascii_punctuation_and_articles():
    # lower -> "the eiffel tower!"; punct -> "the eiffel tower"; articles -> " eiffel tower".
    assert squad_normalize("The Eiffel  Tower!") == "eiffel tower"
    # Articles only as whole words: "another"/"theatre" survive.
    assert squad_normalize("another theatre") == "another theatre"
    result = squad_scores(["The Eiffel Tower!"], [["eiffel tower"]], "en")
    assert result == {"exact_match": 100.0, "f1": 100.0}


def test_squad_partial_overlap_f1():
    # pred [denver, broncos, team], gold [denver, broncos] ("the" dropped): shared 2,
    # p = 2/3, r = 2/2, f1 = 2 * (2/3) * 1 / (5/3) = 4/5.
    result = squad_scores(["Denver Broncos team"], [["the Denver Broncos"]], "en")
    assert result["exact_match"] == 0.0
    assert result["f1"] == pytest.approx(80.0)


def test_squad_overlap_counts_repeated_tokens_once_per_gold_occurrence():
    # pred [new, new, york], gold [new, york]: shared = min(2,1) + 1 = 2; p = 2/3, r = 1 -> 4/5.
    assert squad_scores(["new new york"], [["New York"]], "en")["f1"] == pytest.approx(80.0)


def test_squad_takes_the_best_gold_answer():
    # pred [denver, broncos]
    #  vs "Broncos": shared 1, p = 1/2, r = 1/1, f1 = 1 / 1.5 = 2/3
    #  vs "Denver Broncos team": shared 2, p = 2/2, r = 2/3, f1 = (4/3) / (5/3) = 4/5
    # max = 4/5; no exact match.
    result = squad_scores(["Denver Broncos"], [["Broncos", "Denver Broncos team"]], "en")
    assert result["exact_match"] == 0.0
    assert result["f1"] == pytest.approx(80.0)


def test_squad_averages_over_questions():
    # q1: EM 1, F1 1. q2: EM 0, F1 4/5 (as above). Means: EM 1/2, F1 9/10.
    result = squad_scores(
        ["Paris", "Denver Broncos team"], [["paris"], ["the Denver Broncos"]], "en"
    )
    assert result == pytest.approx({"exact_match": 50.0, "f1": 90.0})


def test_squad_keeps_unicode_punctuation():
    # string.punctuation is ASCII only: "«paris»" is one token that matches nothing.
    assert squad_normalize("«Paris»") == "«paris»"
    assert squad_scores(["«Paris»"], [["Paris"]], "fr") == {"exact_match": 0.0, "f1": 0.0}
    assert squad_scores(["北京。"], [["北京"]], "zh") == {"exact_match": 0.0, "f1": 0.0}


def test_squad_unanswered_scores_zero_and_empty_gold_follows_squad2():
    # Unanswered (pred "") against a real answer: EM 0, F1 0 (no shared tokens).
    assert squad_scores([""], [["Paris"]], "en") == {"exact_match": 0.0, "f1": 0.0}
    # Empty gold list -> gold [""]: "" matches (EM 1; F1 of [] vs [] is 1), anything else 0.
    assert squad_scores([""], [[]], "en") == {"exact_match": 100.0, "f1": 100.0}
    assert squad_scores(["Paris"], [[]], "en") == {"exact_match": 0.0, "f1": 0.0}
    # A prediction that normalises to nothing counts as abstaining: "The." -> "".
    assert squad_scores(["The."], [[]], "en") == {"exact_match": 100.0, "f1": 100.0}
    # Mixed: 2 questions, 1 + 0 -> 50.
    assert squad_scores(["", ""], [[], ["Paris"]], "en") == {"exact_match": 50.0, "f1": 50.0}


@pytest.mark.parametrize("metric", [squad_scores, mlqa_scores])
def test_qa_inputs_are_validated(metric):
    with pytest.raises(ValueError, match=r"en: 1 predictions, 2 questions"):
        metric(["a"], [["a"], ["b"]], "en")
    with pytest.raises(ValueError, match="no questions"):
        metric([], [], "en")
    with pytest.raises(ValueError, match="expected a list of answers"):
        metric(["Paris"], ["Paris"], "en")


def test_mlqa_refuses_languages_it_does_not_define():
    with pytest.raises(ValueError, match="fr: MLQA normalisation is defined only for"):
        mlqa_scores(["x"], [["x"]], "fr")


def test_qa_score_is_the_mean_of_em_and_f1():
    assert qa_score({"exact_match": 50.0, "f1": 90.0}) == 70.0


# ---------------------------------------------------------------- MLQA


def test_mlqa_english_matches_squad_on_ascii():
    result = mlqa_scores(["Denver Broncos team"], [["the Denver Broncos"]], "en")
    assert result == pytest.approx(
        squad_scores(["Denver Broncos team"], [["the Denver Broncos"]], "en")
    )


def test_mlqa_strips_unicode_punctuation():
    # '«', '»' (Pi/Pf), '¿' (Po) and '。' (Po) are category P*, so MLQA drops them.
    assert mlqa_normalize("«Paris»", "en") == "paris"
    assert mlqa_scores(["«Paris»"], [["Paris"]], "en") == {"exact_match": 100.0, "f1": 100.0}
    assert mlqa_normalize("¿Dónde?", "es") == "dónde"
    assert mlqa_scores(["北京。"], [["北京"]], "zh") == {"exact_match": 100.0, "f1": 100.0}
    # Devanagari danda (U+0964, Po); Hindi has no article list.
    assert mlqa_normalize("भारत।", "hi") == "भारत"


def test_mlqa_chinese_segments_cjk_characters():
    # CJK chars stand alone; other runs are whitespace-split.
    assert mixed_segmentation("iphone 手机 2008年") == ["iphone", "手", "机", "2008", "年"]
    # lower, drop '。', segment: "2008 年 奥 运 会".
    assert mlqa_normalize("2008年奥运会。", "zh") == "2008 年 奥 运 会"
    # pred [北, 京, 市] vs gold [北, 京]: shared 2, p = 2/3, r = 1, f1 = 4/5.
    result = mlqa_scores(["北京市"], [["北京"]], "zh")
    assert result["exact_match"] == 0.0
    assert result["f1"] == pytest.approx(80.0)
    # pred [2008, 年, 奥, 运, 会] vs gold [2008, 年]: shared 2, p = 2/5, r = 1,
    # f1 = 2 * .4 / 1.4 = 4/7.
    result = mlqa_scores(["2008年奥运会。"], [["2008年"]], "zh")
    assert result["f1"] == pytest.approx(400 / 7)
    # SQuAD sees one token each ("北京市" vs "北京"): no overlap at all.
    assert squad_scores(["北京市"], [["北京"]], "zh")["f1"] == 0.0


def test_mlqa_spanish_and_german_articles():
    assert mlqa_scores(["La casa"], [["casa"]], "es") == {"exact_match": 100.0, "f1": 100.0}
    # Under English rules "la" is a token: [la, casa] vs [casa]: p = 1/2, r = 1, f1 = 2/3.
    result = mlqa_scores(["La casa"], [["casa"]], "en")
    assert result["exact_match"] == 0.0
    assert result["f1"] == pytest.approx(200 / 3)
    assert mlqa_normalize("Los perros y las gatas", "es") == "perros y gatas"
    assert mlqa_normalize("Der Hund des Nachbarn", "de") == "hund nachbarn"
    # Whole words only: "derby" keeps its "der".
    assert mlqa_normalize("Derby", "de") == "derby"
    assert mlqa_scores(["einen Hund"], [["der Hund"]], "de") == {
        "exact_match": 100.0,
        "f1": 100.0,
    }


def test_mlqa_vietnamese_articles():
    assert mlqa_normalize("cái bàn của tôi", "vi") == "bàn tôi"


def test_mlqa_arabic_article_is_removed_everywhere():
    # "ال" -> " " wherever it occurs: the definite article ("الكتاب" -> "كتاب") ...
    assert mlqa_normalize("الكتاب", "ar") == "كتاب"
    assert mlqa_scores(["الكتاب"], [["كتاب"]], "ar") == {"exact_match": 100.0, "f1": 100.0}
    # ... and, as in the official regex, inside words too: "مال" (m-a-l) -> "م".
    assert mlqa_normalize("مال", "ar") == "م"
