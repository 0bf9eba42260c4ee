"""Retrieval evaluation (stilts.runtime.mining) against hand-computed and constructed answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stilts.runtime import mining
from stilts.runtime.mining import (
    Candidates,
    best_threshold,
    expand_pairs,
    knn,
    map_at_k,
    mine_id_pairs,
    mine_ids,
    pairs_above,
    ratio_margin_candidates,
    set_f1,
    top1_accuracy,
    unique_embedding_rows,
    unique_sentences,
)


def unit(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def bucc_split(
    seed: int, n_pairs: int, n_src_only: int, n_tgt_only: int, dim: int = 64, noise: float = 0.08
) -> tuple[np.ndarray, np.ndarray, set[tuple[int, int]]]:
    """Sources; targets = noisy copies of the first n_pairs sources plus unrelated distractors,
    shuffled. Returns (x, y, gold index pairs)."""
    rng = np.random.default_rng(seed)
    x = unit(rng.standard_normal((n_pairs + n_src_only, dim)))
    copies = unit(x[:n_pairs] + noise * rng.standard_normal((n_pairs, dim)))
    y_ordered = np.concatenate([copies, unit(rng.standard_normal((n_tgt_only, dim)))])
    perm = rng.permutation(len(y_ordered))
    where = np.argsort(perm)  # where[old] = new position
    return x, y_ordered[perm], {(i, int(where[i])) for i in range(n_pairs)}


def same(a: Candidates, b: Candidates) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("src", "tgt", "score"))


def reference_mine(x: np.ndarray, y: np.ndarray, k: int = 4) -> list[tuple[int, int, float]]:
    """Literal rendering of XTREME mine_bitext(mode="mine", retrieval="max", margin="ratio")
    with a brute-force kNN; used on data without near-ties."""
    sims = x @ y.T
    kx, ky = min(len(y), k), min(len(x), k)
    x2y_ind = np.argsort(-sims, axis=1, kind="stable")[:, :kx]
    y2x_ind = np.argsort(-sims.T, axis=1, kind="stable")[:, :ky]
    x2y_mean = np.take_along_axis(sims, x2y_ind, axis=1).mean(axis=1)
    y2x_mean = np.take_along_axis(sims.T, y2x_ind, axis=1).mean(axis=1)

    def scores(a, b, inds, fwd_mean, bwd_mean):
        out = np.zeros(inds.shape)
        for i in range(inds.shape[0]):
            for j in range(inds.shape[1]):
                c = inds[i, j]
                out[i, j] = a[i].dot(b[c]) / ((fwd_mean[i] + bwd_mean[c]) / 2)
        return out

    fwd = scores(x, y, x2y_ind, x2y_mean, y2x_mean)
    bwd = scores(y, x, y2x_ind, y2x_mean, x2y_mean)
    fwd_best = x2y_ind[np.arange(len(x)), fwd.argmax(axis=1)]
    bwd_best = y2x_ind[np.arange(len(y)), bwd.argmax(axis=1)]
    pairs = list(
        zip(np.r_[np.arange(len(x)), bwd_best], np.r_[fwd_best, np.arange(len(y))], strict=True)
    )
    all_scores = np.r_[fwd.max(axis=1), bwd.max(axis=1)]
    seen_src, seen_tgt, out = set(), set(), []
    for i in np.argsort(-all_scores):
        s, t = pairs[i]
        if s not in seen_src and t not in seen_tgt:
            seen_src.add(s)
            seen_tgt.add(t)
            if all_scores[i] > 0:
                out.append((int(s), int(t), float(all_scores[i])))
    return out


# ---------------------------------------------------------------------------------------------
# knn


def test_knn_on_a_tiny_matrix_orders_by_similarity_then_lower_index():
    queries = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    keys = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    sims, idx = knn(queries, keys, 3)
    assert idx.tolist() == [[0, 1, 2], [2, 1, 0]]  # query 1: keys 0 and 3 tie at 0 → key 0
    np.testing.assert_allclose(sims, [[1.0, 0.6, 0.0], [1.0, 0.8, 0.0]], atol=1e-7)
    assert sims.dtype == np.float32 and idx.dtype == np.int64
    _, idx4 = knn(queries, keys, 4)
    assert idx4[1].tolist() == [2, 1, 0, 3]


def test_knn_breaks_exact_ties_to_the_lower_index_even_across_the_k_boundary():
    rng = np.random.default_rng(1)
    base = unit(rng.standard_normal((1, 16)))
    keys = np.concatenate([unit(rng.standard_normal((5, 16))), np.repeat(base, 6, axis=0)])
    sims, idx = knn(base, keys, 3)  # six identical best keys (5..10): the three lowest win
    assert idx.tolist() == [[5, 6, 7]]
    assert sims[0, 0] == sims[0, 1] == sims[0, 2]


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 96, 97, 1000])
def test_knn_does_not_depend_on_chunk_size(chunk_size):
    rng = np.random.default_rng(2)
    queries = unit(rng.standard_normal((97, 48)))
    keys = unit(rng.standard_normal((203, 48)))
    keys[150:160] = keys[3]  # exact duplicates: ties and uncertified rows
    ref_sims, ref_idx = knn(queries, keys, 6, chunk_size=len(queries))
    sims, idx = knn(queries, keys, 6, chunk_size=chunk_size)
    assert np.array_equal(idx, ref_idx)
    assert np.array_equal(sims, ref_sims)


def test_knn_is_the_brute_force_ranking_of_exact_dot_products():
    rng = np.random.default_rng(3)
    queries = unit(rng.standard_normal((40, 32)))
    keys = unit(rng.standard_normal((300, 32)))
    exact = queries.astype(np.float64) @ keys.astype(np.float64).T
    sims, idx = knn(queries, keys, 5, chunk_size=16)
    assert np.array_equal(idx, np.argsort(-exact, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(sims, np.take_along_axis(exact, idx, axis=1), atol=1e-7, rtol=0)


def test_knn_re_searches_rows_whose_candidates_cannot_be_certified(monkeypatch):
    # Forty keys within ~1e-6 of each other: far closer than float32 GEMM rounding can resolve
    # (δ ≈ 1e-5 at d=32), so the proposals cannot be certified and every row is re-searched.
    rng = np.random.default_rng(4)
    base = rng.standard_normal((1, 32))
    keys = unit(np.concatenate([base + 1e-6 * rng.standard_normal((40, 32)),
                                rng.standard_normal((60, 32))]))  # fmt: skip
    queries = unit(base + 0.3 * rng.standard_normal((5, 32)))
    calls = []
    research = mining._research

    def counting(*args, **kwargs):
        calls.append(len(args[2]))
        return research(*args, **kwargs)

    monkeypatch.setattr(mining, "_research", counting)
    sims, idx = knn(queries, keys, 4, chunk_size=2)
    assert sum(calls) == len(queries)

    canonical = (
        mining._exact_pair_dots(
            torch.from_numpy(np.repeat(queries, len(keys), axis=0)),
            torch.from_numpy(np.tile(keys, (len(queries), 1))),
        )
        .numpy()
        .reshape(len(queries), len(keys))
    )
    order = np.lexsort((np.tile(np.arange(len(keys)), (len(queries), 1)), -canonical), axis=1)
    assert np.array_equal(idx, order[:, :4])
    assert np.array_equal(sims, np.take_along_axis(canonical, order[:, :4], axis=1))


def test_knn_ignores_a_reduced_precision_matmul_setting():
    matmul = getattr(torch.backends.mkldnn, "matmul", None)
    if matmul is None or not hasattr(matmul, "fp32_precision"):
        pytest.skip("this torch has no per-backend matmul precision")
    rng = np.random.default_rng(5)
    queries, keys = unit(rng.standard_normal((30, 64))), unit(rng.standard_normal((80, 64)))
    expected = knn(queries, keys, 4)
    saved = matmul.fp32_precision
    matmul.fp32_precision = "bf16"
    try:
        got = knn(queries, keys, 4)
        assert matmul.fp32_precision == "bf16"  # restored after the call
    finally:
        matmul.fp32_precision = saved
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


def test_knn_accepts_torch_tensors_and_validates_its_arguments():
    rng = np.random.default_rng(6)
    queries, keys = unit(rng.standard_normal((4, 8))), unit(rng.standard_normal((6, 8)))
    from_numpy = knn(queries, keys, 2)
    from_torch = knn(torch.from_numpy(queries), torch.from_numpy(keys), 2)
    assert np.array_equal(from_numpy[1], from_torch[1])
    with pytest.raises(ValueError, match="between 1 and"):
        knn(queries, keys, 7)
    with pytest.raises(ValueError, match="dimension"):
        knn(queries, keys[:, :4], 2)
    with pytest.raises(ValueError, match="engine"):
        knn(queries, keys, 2, engine="annoy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        knn(np.full((1, 8), np.nan, np.float32), keys, 2)


# ---------------------------------------------------------------------------------------------
# mining


def test_mining_matches_a_literal_rendering_of_xtreme_mine_bitext():
    x, y, _ = bucc_split(seed=7, n_pairs=60, n_src_only=40, n_tgt_only=50, dim=32)
    expected = reference_mine(x, y)
    got = ratio_margin_candidates(x, y, 4, chunk_size=33)
    assert list(zip(got.src.tolist(), got.tgt.tolist(), strict=True)) == [
        (s, t) for s, t, _ in expected
    ]
    np.testing.assert_allclose(got.score, [v for _, _, v in expected], rtol=1e-5)
    assert np.all(np.diff(got.score) <= 0)


@pytest.mark.parametrize("chunk_size", [1, 3, 50, 101, 1000])
def test_mined_pairs_do_not_depend_on_chunk_size(chunk_size):
    x, y, _ = bucc_split(seed=8, n_pairs=80, n_src_only=60, n_tgt_only=70, dim=32)
    y[5:9] = y[4]  # duplicate targets: tied similarities and tied margins
    x[10:12] = x[0]
    reference = ratio_margin_candidates(x, y, chunk_size=len(x))
    assert same(ratio_margin_candidates(x, y, chunk_size=chunk_size), reference)


def test_mining_recovers_the_constructed_pairs():
    x, y, gold = bucc_split(seed=9, n_pairs=200, n_src_only=150, n_tgt_only=250)
    candidates = ratio_margin_candidates(x, y, chunk_size=64)
    mined = set(zip(candidates.src.tolist(), candidates.tgt.tolist(), strict=True))
    assert gold <= mined
    threshold, metrics = best_threshold(candidates, gold)
    assert metrics["f1"] == 100.0
    assert pairs_above(candidates, threshold) == gold


def test_dev_threshold_applied_to_test_beats_threshold_zero():
    dev_x, dev_y, dev_gold = bucc_split(seed=10, n_pairs=150, n_src_only=300, n_tgt_only=300)
    test_x, test_y, test_gold = bucc_split(seed=11, n_pairs=150, n_src_only=300, n_tgt_only=300)
    dev_threshold, _ = best_threshold(ratio_margin_candidates(dev_x, dev_y), dev_gold)
    test_candidates = ratio_margin_candidates(test_x, test_y)
    with_dev = set_f1(pairs_above(test_candidates, dev_threshold), test_gold)
    with_zero = set_f1(pairs_above(test_candidates, 0.0), test_gold)
    assert with_zero["precision"] < 50  # every unpaired source still gets a partner
    assert with_dev["f1"] > 95
    assert with_dev["f1"] > with_zero["f1"] + 25
    assert dev_threshold > 1.0


def test_mining_threshold_drops_non_positive_scores_after_the_greedy_step():
    # k=1. x1's nearest target is y1 at cos -0.1 while y1's nearest source is x0 at cos 0.5,
    # so (x1, y1) is accepted with margin -0.1 / ((-0.1 + 0.5) / 2) = -0.5; y1 → x0 (0.667)
    # loses to (x0, y0) = 1, which took x0 first.
    b = 0.15 / 0.866  # 0.5·(-0.5) + 0.866·b = -0.1
    x = unit(np.array([[1.0, 0.0, 0.0], [-0.5, b, np.sqrt(1 - 0.25 - b**2)]]))
    y = unit(np.array([[1.0, 0.0, 0.0], [0.5, 0.866, 0.0]]))
    kept = ratio_margin_candidates(x, y, k=1)
    every = ratio_margin_candidates(x, y, k=1, mining_threshold=None)
    assert every.as_dict() == {(0, 0): pytest.approx(1.0), (1, 1): pytest.approx(-0.5, abs=1e-3)}
    assert kept.as_dict() == {(0, 0): pytest.approx(1.0)}


def test_mining_rejects_unnormalised_rows():
    with pytest.raises(ValueError, match="L2-normalised"):
        ratio_margin_candidates(np.ones((3, 4), np.float32), unit(np.eye(4)))


# ---------------------------------------------------------------------------------------------
# thresholds and F1


def test_set_f1_by_hand():
    got = set_f1({("a", 1), ("b", 2), ("c", 3)}, {("a", 1), ("b", 2), ("d", 4), ("e", 5)})
    assert got == pytest.approx({"f1": 400 / 7, "precision": 200 / 3, "recall": 50.0})
    assert set_f1(set(), {("a", 1)}) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_best_threshold_by_hand():
    # Sweep: F1 .4 (th .85), .667 (th .75), .571, .75 (th .55), .667 → threshold 0.55.
    candidates = {("a", 1): 0.9, ("b", 2): 0.8, ("c", 3): 0.7, ("d", 4): 0.6, ("e", 5): 0.5}
    gold = {("a", 1), ("b", 2), ("d", 4), ("z", 9)}
    threshold, metrics = best_threshold(candidates, gold)
    assert threshold == pytest.approx(0.55)
    assert metrics == pytest.approx({"f1": 75.0, "precision": 75.0, "recall": 75.0})


def test_best_threshold_inside_a_tie_extracts_the_whole_tie_like_bucc_eval():
    # Best swept F1 (.8) is after B; the midpoint with the tied C is 0.7, so C is extracted too.
    candidates = {("A", 0): 0.9, ("B", 0): 0.7, ("C", 0): 0.7, ("D", 0): 0.5}
    threshold, metrics = best_threshold(candidates, {("A", 0), ("B", 0), ("E", 0)})
    assert threshold == 0.7
    assert metrics == pytest.approx({"f1": 200 / 3, "precision": 200 / 3, "recall": 200 / 3})


def test_best_threshold_edge_cases():
    # Optimum at the last candidate (XTREME would index past the end): its own score.
    threshold, metrics = best_threshold({(0, 0): 0.9, (1, 1): 0.8}, {(1, 1)})
    assert threshold == pytest.approx(0.8)
    assert metrics["recall"] == 100.0 and metrics["precision"] == 50.0
    # No correct candidate: threshold stays 0 and everything is zero.
    assert best_threshold({(0, 0): 0.9}, {(5, 5)}) == (0.0, {"f1": 0, "precision": 0, "recall": 0})
    # Candidates objects work the same way as dicts.
    cands = Candidates(np.array([0, 1]), np.array([0, 1]), np.array([2.0, 1.5], np.float32))
    assert best_threshold(cands, {(0, 0)})[0] == pytest.approx(1.75)


# ---------------------------------------------------------------------------------------------
# duplicate sentences


def test_unique_sentences_keep_first_occurrence_order_and_last_embedding_row():
    texts, groups = unique_sentences(["s1", "s2", "s3", "s4"], ["b", "a", "b", "c"])
    assert texts == ["b", "a", "c"]
    assert groups == {"b": ["s1", "s3"], "a": ["s2"], "c": ["s4"]}
    assert unique_embedding_rows(["b", "a", "b", "c"]).tolist() == [2, 1, 3]


def duplicate_corpus():
    rng = np.random.default_rng(12)
    hello, other = unit(rng.standard_normal((2, 32)))
    noise = rng.standard_normal((2, 32))
    src_fill = unit(rng.standard_normal((20, 32)))
    tgt_fill = unit(rng.standard_normal((20, 32)))
    x = np.concatenate([[hello, hello, other], src_fill])
    y = np.concatenate([unit([hello + 0.05 * noise[0], other + 0.05 * noise[1]]), tgt_fill])
    src_ids = ["s1", "s2", "s3"] + [f"sf{i}" for i in range(20)]
    src_sentences = ["hello", "hello", "other"] + [f"src {i}" for i in range(20)]
    tgt_ids = ["t1", "t2"] + [f"tf{i}" for i in range(20)]
    tgt_sentences = ["bonjour", "autre"] + [f"tgt {i}" for i in range(20)]
    return src_ids, src_sentences, x, tgt_ids, tgt_sentences, y


def test_duplicates_expand_to_every_id_under_jiant_policy():
    pairs = mine_id_pairs(*duplicate_corpus(), duplicates="all")
    assert {("s1", "t1"), ("s2", "t1"), ("s3", "t2")} <= set(pairs)
    assert pairs[("s1", "t1")] == pairs[("s2", "t1")]
    assert not any(src in ("s1", "s2") and tgt != "t1" for src, tgt in pairs)


def test_duplicates_are_dropped_under_xtreme_policy():
    pairs = mine_id_pairs(*duplicate_corpus())  # duplicates="xtreme" by default
    assert ("s3", "t2") in pairs
    assert not any(src in ("s1", "s2") for src, _ in pairs)


def test_mine_ids_embeds_each_distinct_sentence_once():
    src_ids, src_sentences, x, tgt_ids, tgt_sentences, y = duplicate_corpus()
    vectors = dict(zip(src_sentences, x, strict=True)) | dict(zip(tgt_sentences, y, strict=True))
    seen: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return np.stack([vectors[t] for t in texts])

    source = dict(zip(src_ids, src_sentences, strict=True))
    target = dict(zip(tgt_ids, tgt_sentences, strict=True))
    pairs = mine_ids(embed, source, target, duplicates="all")
    assert seen.count("hello") == 1
    assert pairs == mine_id_pairs(
        src_ids, src_sentences, x, tgt_ids, tgt_sentences, y, duplicates="all"
    )


def test_expand_pairs_keeps_candidate_order_and_scores():
    cands = Candidates(np.array([1, 0]), np.array([0, 1]), np.array([3.0, 2.0], np.float32))
    src_texts, src_groups = unique_sentences(["a", "b", "c"], ["x", "y", "y"])
    tgt_texts, tgt_groups = unique_sentences(["u", "v"], ["p", "q"])
    all_ids = expand_pairs(cands, src_texts, src_groups, tgt_texts, tgt_groups, duplicates="all")
    assert list(all_ids.items()) == [(("b", "u"), 3.0), (("c", "u"), 3.0), (("a", "v"), 2.0)]
    xtreme = expand_pairs(cands, src_texts, src_groups, tgt_texts, tgt_groups)
    assert xtreme == {("a", "v"): 2.0}
    with pytest.raises(ValueError, match="duplicates"):
        expand_pairs(cands, src_texts, src_groups, tgt_texts, tgt_groups, duplicates="first")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Tatoeba and mAP@k


def test_top1_accuracy_by_hand():
    english = unit(np.array([[1.0, 0.1], [0.0, 1.0], [1.0, 1.0]]))
    other = unit(np.array([[1.0, 0.0], [0.1, 1.0], [0.9, 1.0]]))
    # nearest: 0 → 0, 1 → 1, 2 → 2; gold says query 1's translation is key 2 → 2 of 3 right
    assert top1_accuracy(english, other, [0, 2, 2]) == pytest.approx({"accuracy": 200 / 3})
    with pytest.raises(ValueError, match="gold"):
        top1_accuracy(english, other, [0, 1])


def test_map_at_k_by_hand():
    rankings = [["a", "x", "b", "y"], ["x", "y", "a"]]
    relevant = [{"a", "b"}, {"a"}]
    # (1/1 + 2/3) / 2 and (1/3) / 1
    assert map_at_k(rankings, relevant) == pytest.approx(100 * ((1 + 2 / 3) / 2 + 1 / 3) / 2)
    # Truncated to [x, a, a]: a at rank 2 counts once; divisor min(|relevant|, k) = 2.
    assert map_at_k([["x", "a", "a", "c"]], [{"a", "c"}], k=3) == pytest.approx(25.0)


def test_map_at_k_divisor_and_single_gold_cases():
    many = [f"r{i}" for i in range(30)]
    assert map_at_k([many[:20]], [set(many)], k=20) == pytest.approx(100.0)  # 20 / min(30, 20)
    assert map_at_k([many[:20]], [set(many)], k=None) == pytest.approx(200 / 3)  # 20 / 30
    ranked = [f"e{i}" for i in range(25)]
    # One gold entity (Mewsli-X): AP@20 is the reciprocal rank within the top 20.
    assert map_at_k([ranked], [{"e4"}]) == pytest.approx(20.0)
    assert map_at_k([ranked], [{"e20"}]) == 0.0
    assert map_at_k([[]], [{"e0"}]) == 0.0
    with pytest.raises(ValueError, match="relevant"):
        map_at_k([ranked], [set()])


# ---------------------------------------------------------------------------------------------
# faiss engine


def test_faiss_engine_gives_the_torch_results():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(13)
    queries = unit(rng.standard_normal((120, 40)))
    keys = unit(rng.standard_normal((250, 40)))
    keys[200:205] = keys[17]  # ties
    for k in (1, 4, 9):
        t_sims, t_idx = knn(queries, keys, k, chunk_size=50)
        f_sims, f_idx = knn(queries, keys, k, chunk_size=50, engine="faiss")
        assert np.array_equal(t_idx, f_idx)
        assert np.array_equal(t_sims, f_sims)
    x, y, _ = bucc_split(seed=14, n_pairs=90, n_src_only=50, n_tgt_only=80, dim=32)
    y[3:6] = y[2]
    assert same(
        ratio_margin_candidates(x, y, chunk_size=37, engine="faiss"),
        ratio_margin_candidates(x, y, chunk_size=64),
    )
